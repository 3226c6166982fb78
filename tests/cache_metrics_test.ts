/**
 * The local cache's counters outside `cacheStats()`: in `stats()`, through the
 * OpenTelemetry meter (counters and gauges read at each collection), and
 * `cacheStats()` on the Koa, Hono and Fastify faces. Against a real redis-server.
 */

import assert from "node:assert/strict";
import Koa from "koa";
import { Hono } from "hono";
import { SmartRedisStore } from "../mod.ts";
import { smartRedisSession as koaSession } from "../koa.ts";
import { type SessionVariables, smartRedisSession as honoSession } from "../hono.ts";
import type { CacheStats, FastifySessionStore } from "../fastify.ts";
import { start } from "./_fastify_app.ts";
import { cacheIt, sessionWith, waitForStats } from "./_cache_helpers.ts";
import { Browser, connectClient, listenLoopback, startRedisServer, test } from "./_helpers.ts";
import { Metrics } from "./_metrics.ts";
import { until } from "./_load.ts";

const PREFIX = "smart_redis.session.cache.";

test("the cache's counters and sizes reach the meter and stats()", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using other = await connectClient(server);
  await using metrics = new Metrics();
  const store = new SmartRedisStore({
    client,
    localCache: true,
    metrics: { meterProvider: metrics.provider },
  });
  const writer = new SmartRedisStore({ client: other });
  await store.set("s1", sessionWith({ a: 1 }));
  await cacheIt(store, "s1");
  await writer.set("s1", sessionWith({ a: 2 })); // another process's write: an invalidation
  await waitForStats(store, (stats) => stats.invalidations > 0);
  await store.get("s1"); // a miss, cached again
  await cacheIt(store, "s1");
  await other.flushAll(); // the whole cache goes
  await waitForStats(store, (stats) => stats.flushes > 0 && stats.entries === 0);
  await cacheIt(store, "s1");

  const points = await metrics.read();
  const cache = store.cacheStats();
  const names: [keyof CacheStats, string][] = [
    ["hits", "hits"],
    ["misses", "misses"],
    ["invalidations", "invalidations"],
    ["flushes", "flushes"],
    ["bytes", "size"],
    ["entries", "entries"],
  ];
  for (const [field, name] of names) {
    const [point] = points.get(PREFIX + name) ?? [];
    assert.ok(point, `metric ${PREFIX + name}`);
    assert.equal(point.value, cache[field], name);
    assert.equal(point.attributes["db.system.name"], "redis");
    assert.equal(point.attributes["server.port"], server.port);
  }
  assert.ok(
    cache.hits >= 3 && cache.misses >= 2 && cache.entries === 1 && cache.bytes > 0,
    JSON.stringify(cache),
  );
  const stats = store.stats();
  assert.deepEqual(
    [stats.cacheHits, stats.cacheMisses, stats.cacheInvalidations, stats.cacheFlushes],
    [cache.hits, cache.misses, cache.invalidations, cache.flushes],
  );
});

test("without a local cache: no cache metrics, zeros in stats()", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using metrics = new Metrics();
  const store = new SmartRedisStore({ client, metrics: { meterProvider: metrics.provider } });
  await store.get("nothing");
  const names = [...(await metrics.read()).keys()];
  assert.ok(names.length > 0);
  assert.deepEqual(names.filter((name) => name.startsWith(PREFIX)), []);
  assert.equal(store.stats().cacheHits, 0);
});

test("koa and hono middleware and Fastify's request.sessionStore have cacheStats()", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const reads = async (url: string, stats: () => CacheStats) => {
    const browser = new Browser();
    await browser.get(`${url}/visit`);
    assert.ok(await until(async () => (await browser.get(`${url}/visit`), stats().hits > 0), 5000), "a hit");
    return stats();
  };

  const koa = new Koa();
  koa.keys = ["koa cache secret"];
  const koaMiddleware = koaSession({ client, signed: false, localCache: true }, koa);
  koa.use(koaMiddleware);
  koa.use((ctx) => {
    ctx.session!.seen = true;
    ctx.body = "ok";
  });
  await using koaHttp = await listenLoopback(koa);
  assert.equal((await reads(koaHttp.url, () => koaMiddleware.cacheStats())).mode, "local");

  const hono = new Hono<{ Variables: SessionVariables }>();
  const honoMiddleware = honoSession({ client, secret: "hono cache secret", localCache: true });
  hono.use(honoMiddleware);
  hono.get("/visit", (c) => {
    c.get("session").seen = true;
    return c.text("ok");
  });
  const honoHttp = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, hono.fetch);
  try {
    const url = `http://127.0.0.1:${honoHttp.addr.port}`;
    assert.equal((await reads(url, () => honoMiddleware.cacheStats())).mode, "local");
  } finally {
    await honoHttp.shutdown();
  }

  let fastifyStats = (): CacheStats => assert.fail("no request yet");
  await using fastify = await start(client, { localCache: true }, (app) => {
    app.get("/visit", (request) => {
      request.session.set("seen", true);
      fastifyStats = () =>
        (request as unknown as { sessionStore: FastifySessionStore }).sessionStore.cacheStats();
      return "ok";
    });
  });
  assert.equal((await reads(fastify.url, () => fastifyStats())).mode, "local");
});
