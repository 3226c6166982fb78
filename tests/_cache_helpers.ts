/**
 * Helpers of the local-cache tests: the clients a cached store runs on, two
 * stores on one Redis (A writes, B caches), and waiting for B to hear of A's write.
 */

import assert from "node:assert/strict";
import { createClient } from "redis";
import { createClient as createClient6 } from "redis6";
import { createClient as createClient4 } from "redis4";
import { Redis } from "ioredis";
import { Redis as Redis6 } from "ioredis6";
// @ts-types="@types/express-session"
import type { SessionData } from "express-session";
import { SmartRedisStore } from "../mod.ts";
import type { CacheStats, SmartRedisStoreOptions } from "../mod.ts";
import { connectClient, delay, type RedisServer } from "./_helpers.ts";
import { until } from "./_load.ts";

/** A client kind the cache supports, and how to make one (connected) for a server. */
export interface CacheClientKind {
  name: string;
  /** Invalidations arrive on a connection of their own (REDIRECT) rather than with the replies. */
  redirect: boolean;
  create(url: string): Promise<{ client: object; close(): Promise<void> }>;
}

function nodeRedis(make: typeof createClient, options: object = {}) {
  return async (url: string) => {
    const client = make({ url, ...options });
    client.on("error", () => {});
    await client.connect();
    // node-redis 4 has quit(), not close().
    const close = () => (client as unknown as { quit(): Promise<unknown> }).quit();
    return { client, close: async () => void (client.isOpen && await (client.close ?? close).call(client)) };
  };
}

function ioRedis(make: typeof Redis, options: object = {}) {
  return async (url: string) => {
    const { port } = new URL(url);
    const client = new make({ host: "127.0.0.1", port: Number(port), ...options });
    client.on("error", () => {});
    await new Promise((resolve) => client.once("ready", resolve));
    return { client, close: () => Promise.resolve(client.disconnect()) };
  };
}

/** Every client kind with a local cache of the store's own. */
export const CACHE_CLIENTS: CacheClientKind[] = [
  { name: "node-redis 5", redirect: false, create: nodeRedis(createClient) },
  {
    name: "node-redis 6",
    redirect: false,
    create: nodeRedis(createClient6 as unknown as typeof createClient),
  },
  { name: "ioredis 5", redirect: true, create: ioRedis(Redis) },
  {
    name: "node-redis 4",
    redirect: true,
    create: nodeRedis(createClient4 as unknown as typeof createClient),
  },
  { name: "ioredis 6", redirect: true, create: ioRedis(Redis6 as unknown as typeof Redis) },
];

/** Two stores on one Redis: A without a cache, B with one. */
export interface CachedPair extends AsyncDisposable {
  a: SmartRedisStore;
  b: SmartRedisStore;
  /** B's client (the app's; the cache has connections of its own). */
  clientB: object;
  /** A's client, for raw commands. */
  raw: Awaited<ReturnType<typeof connectClient>>;
}

/**
 * Starts A and B on `server`.
 * @param kind B's client.
 * @param options B's extra options.
 */
export async function cachedPair(
  server: RedisServer,
  kind: CacheClientKind,
  options: Omit<SmartRedisStoreOptions, "client"> = {},
): Promise<CachedPair> {
  const clientA = await connectClient(server);
  const b = await kind.create(server.url);
  const store = new SmartRedisStore({ client: b.client, localCache: true, ...options });
  return {
    a: new SmartRedisStore({ client: clientA }),
    b: store,
    clientB: b.client,
    raw: clientA,
    async [Symbol.asyncDispose]() {
      await clientA[Symbol.asyncDispose]();
      await b.close();
    },
  };
}

/**
 * Waits until `condition` holds of the store's cache stats, up to `limit` ms.
 * @returns The milliseconds waited.
 */
export async function waitForStats(
  store: SmartRedisStore,
  condition: (stats: CacheStats) => boolean,
  limit = 5000,
): Promise<number> {
  const started = performance.now();
  while (!condition(store.cacheStats())) {
    const waited = performance.now() - started;
    assert.ok(waited < limit, `cache stats still ${JSON.stringify(store.cacheStats())} after ${limit} ms`);
    await delay(waited < 20 ? 0 : 2);
  }
  return performance.now() - started;
}

/** Reads a session until the cache has confirmed tracking and then served it once. */
export async function cacheIt(store: SmartRedisStore, sid: string): Promise<void> {
  await store.get(sid); // the first read opens the cache's connections
  await waitForStats(store, (stats) => stats.tracking);
  const before = store.cacheStats().hits;
  await store.get(sid);
  await store.get(sid);
  assert.ok(store.cacheStats().hits > before, `the second read of ${sid} was not a hit`);
}

/** A session with a cookie that lives an hour. */
export function sessionWith(data: Record<string, unknown>): SessionData {
  const cookie = { originalMaxAge: 3_600_000, expires: new Date(Date.now() + 3_600_000) };
  return { cookie, ...data } as unknown as SessionData;
}

/**
 * Reads `sids` through `store` until every one is a hit (on a cluster: each master's
 * tracking confirmed, each copy held).
 */
export async function cacheAll(store: SmartRedisStore, sids: readonly string[]): Promise<void> {
  const served = await until(async () => {
    for (const sid of sids) await store.get(sid);
    const hits = store.cacheStats().hits;
    for (const sid of sids) await store.get(sid);
    return store.cacheStats().hits - hits === sids.length;
  }, 10_000);
  assert.ok(served, `not every read became a hit: ${JSON.stringify(store.cacheStats())}`);
}
