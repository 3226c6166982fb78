/**
 * The local cache under faults: a Redis restart, CLIENT KILL of the cache's
 * data connection and of its invalidation connection, SCRIPT FLUSH. Each one
 * flushes the cache (or leaves it exact), and no read after recovery is stale.
 * Also: clients the cache cannot follow safely refuse the option at construction, and
 * those it can (Sentinel clients, node-redis 4) accept it.
 */
// suite: valkey too

import assert from "node:assert/strict";
import { createClient as createClient4, createCluster as createCluster4 } from "redis4";
import { createClient, createSentinel } from "redis";
import { createSentinel as createSentinel6 } from "redis6";
import { Redis } from "ioredis";
import { SmartRedisStore } from "../mod.ts";
import { connectClient, delay, type RedisServer, startRedisServer, test } from "./_helpers.ts";
import {
  CACHE_CLIENTS,
  type CachedPair,
  cachedPair,
  cacheIt,
  sessionWith,
  waitForStats,
} from "./_cache_helpers.ts";

/**
 * A changes s1's `n`; B, once it has recovered (and heard of the change, if it had s1
 * cached), reads it fresh, and again from its cache.
 */
async function changeAndCheck(pair: CachedPair, n: number): Promise<void> {
  const cached = pair.b.cacheStats().entries > 0;
  const before = pair.b.cacheStats().invalidations;
  const loaded = await pair.a.get("s1");
  await pair.a.set("s1", loaded ? { ...loaded, n } : sessionWith({ n }));
  if (cached) await waitForStats(pair.b, (stats) => stats.invalidations > before);
  await waitForStats(pair.b, (stats) => stats.tracking);
  for (let read = 0; read < 3; read++) assert.equal((await pair.b.get("s1"))?.n, n);
}

/** The ids of the connections matching `test` in CLIENT LIST. */
async function clientIds(raw: { sendCommand(args: string[]): Promise<unknown> }, test: RegExp) {
  const list = String(await raw.sendCommand(["CLIENT", "LIST"]));
  return list.split("\n").filter((line) => test.test(line)).map((line) => /id=(\d+)/.exec(line)![1]);
}

async function killClients(server: RedisServer, test: RegExp): Promise<number> {
  await using raw = await connectClient(server);
  const ids = await clientIds(raw, test);
  for (const id of ids) await raw.sendCommand(["CLIENT", "KILL", "ID", id]);
  return ids.length;
}

for (const kind of CACHE_CLIENTS) {
  test(`localCache (${kind.name}): no stale read after a fault`, async (t) => {
    await using server = await startRedisServer();
    await using pair = await cachedPair(server, kind);
    await pair.a.set("s1", sessionWith({ n: 0 }));
    let n = 0;

    await t.step("CLIENT KILL of the cache's data connection", async () => {
      await cacheIt(pair.b, "s1");
      const flushes = pair.b.cacheStats().flushes;
      // The tracked data connection: flag t (tracking on).
      assert.equal(await killClients(server, /flags=\S*t/), 1);
      // No waiting: the close (seen while A's write is on the wire) has emptied the cache.
      const loaded = await pair.a.get("s1");
      await pair.a.set("s1", { ...loaded!, n: ++n });
      assert.equal((await pair.b.get("s1"))?.n, n);
      assert.ok(pair.b.cacheStats().flushes > flushes);
      await changeAndCheck(pair, ++n);
    });

    await t.step("CLIENT KILL of the invalidation connection", async () => {
      await cacheIt(pair.b, "s1");
      const flushes = pair.b.cacheStats().flushes;
      // REDIRECT: the subscriber; RESP3 pushes: the data connection carries them.
      assert.equal(await killClients(server, kind.redirect ? /sub=1/ : /flags=\S*t/), 1);
      // No waiting: until tracking is back, reads go to Redis, fresh, though no invalidation can arrive.
      const loaded = await pair.a.get("s1");
      await pair.a.set("s1", { ...loaded!, n: ++n });
      assert.equal((await pair.b.get("s1"))?.n, n);
      assert.ok(pair.b.cacheStats().flushes > flushes);
      await changeAndCheck(pair, ++n);
    });

    await t.step("SCRIPT FLUSH", async () => {
      await cacheIt(pair.b, "s1");
      await pair.a.get("s1"); // loads nothing new, but the writes below meet NOSCRIPT
      await using raw = await connectClient(server);
      await raw.sendCommand(["SCRIPT", "FLUSH"]);
      const before = pair.b.cacheStats().invalidations;
      const loaded = await pair.a.get("s1");
      await pair.a.set("s1", { ...loaded!, n: ++n });
      await waitForStats(pair.b, (stats) => stats.invalidations > before);
      assert.equal((await pair.b.get("s1"))?.n, n);
      const mine = await pair.b.get("s1");
      await pair.b.set("s1", { ...mine!, n: ++n });
      assert.equal((await pair.b.get("s1"))?.n, n);
    });

    await t.step("a Redis restart (its data lost)", async () => {
      await cacheIt(pair.b, "s1");
      const flushes = pair.b.cacheStats().flushes;
      await server.restart();
      await waitForStats(pair.b, (stats) => stats.flushes > flushes, 10_000);
      await waitForStats(pair.b, (stats) => stats.tracking, 10_000);
      // The app's own client reconnects on its own schedule (ioredis backs off); the store needs it too.
      for (const client of [pair.clientB as { isReady?: boolean; status?: string }, pair.raw]) {
        while (!(client.isReady ?? client.status === "ready")) await delay(10);
      }
      assert.equal(await pair.b.get("s1"), null);
      assert.equal(await pair.b.get("s1"), null);
      await delay(10);
      await changeAndCheck(pair, ++n);
    });
  });
}

test("localCache is refused, with the reason, by clients it cannot follow safely", () => {
  const refusals: [string, object, RegExp][] = [
    ["node-redis 4 cluster", createCluster4({ rootNodes: [{ url: "redis://127.0.0.1:1" }] }), /node-redis 4/],
    [
      "node-redis 5 Sentinel",
      createSentinel({ name: "m", sentinelRootNodes: [{ host: "127.0.0.1", port: 1 }] }),
      /node-redis 5 createSentinel\(\) client: it has no duplicate\(\)/,
    ],
    [
      "a custom connection",
      {
        send: () => Promise.resolve(null),
        masters: () => Promise.resolve([]),
        ready: true,
        address: "x",
        onStateChange() {},
      },
      /custom RedisConnection/,
    ],
  ];
  for (const [name, client, reason] of refusals) {
    assert.throws(
      () => new SmartRedisStore({ client, localCache: true }),
      (error: Error) =>
        error instanceof TypeError && reason.test(error.message) && /localCache/.test(error.message),
      name,
    );
    // Without the option the same client is accepted.
    new SmartRedisStore({ client });
  }
});

test("localCache is accepted by Sentinel clients of node-redis 6 and ioredis, and by node-redis 4", () => {
  const sentinels = [{ host: "127.0.0.1", port: 1 }];
  const accepted: [string, object][] = [
    ["node-redis 6 Sentinel", createSentinel6({ name: "m", sentinelRootNodes: sentinels })],
    ["ioredis Sentinel", new Redis({ sentinels, name: "m", lazyConnect: true })],
    ["node-redis 4", createClient4({ url: "redis://127.0.0.1:1" })],
  ];
  for (const [name, client] of accepted) {
    const stats = new SmartRedisStore({ client, localCache: true }).cacheStats();
    assert.equal(stats.mode, "local", name);
    assert.equal(stats.tracking, false, name);
  }
});

test("localCache (node-redis): a killed tracked connection empties the cache before it reconnects", async () => {
  await using server = await startRedisServer();
  await using raw = await connectClient(server);
  // Reconnecting slowly: the cache must not wait for the new connection to forget what it held.
  const client = createClient({ url: server.url, socket: { reconnectStrategy: () => 500 } });
  client.on("error", () => {});
  await client.connect();
  try {
    const a = new SmartRedisStore({ client: raw });
    const b = new SmartRedisStore({ client, localCache: true });
    await a.set("s1", sessionWith({ n: 1 }));
    await cacheIt(b, "s1");
    const flushes = b.cacheStats().flushes;
    assert.equal(await killClients(server, /flags=\S*t/), 1);
    const loaded = await a.get("s1");
    await a.set("s1", { ...loaded!, n: 2 });
    assert.equal((await b.get("s1"))?.n, 2);
    // node-redis may have reconnected and tracking be confirmed again by now: what must hold is the flush.
    assert.ok(b.cacheStats().flushes > flushes, "the cache was flushed when its connection died");
  } finally {
    await client.close();
  }
});
