/**
 * OpenTelemetry metrics: the SDK's in-memory exporter sees the store's counters
 * and round-trip times move as a scripted scenario predicts, on the
 * express-session store and on the Koa face; without `@opentelemetry/api` the
 * store works and measures nothing. Against a real redis-server.
 */

import assert from "node:assert/strict";
import Koa from "koa";
import type { SessionData } from "express-session";
import { SmartRedisStore } from "../mod.ts";
import { smartRedisSession } from "../koa.ts";
import { Telemetry } from "../src/observe/telemetry.ts";
import { Browser, connectClient, listenLoopback, startRedisServer, test } from "./_helpers.ts";
import { scaled } from "./_load.ts";
import { Metrics } from "./_metrics.ts";

const PREFIX = "smart_redis.session.";

test("express store: counters and round-trip times move as the scenario predicts", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using metrics = new Metrics();
  const store = new SmartRedisStore({ client, metrics: { meterProvider: metrics.provider } });
  const cookie = { originalMaxAge: 60000, expires: new Date(Date.now() + 60000) };
  await store.set("s1", { cookie, a: 1 } as unknown as SessionData); // a commit (create)
  const loaded = (await store.get("s1")) as SessionData & { a: number }; // a load
  const stale = (await store.get("s1")) as SessionData & { a: number }; // a load
  loaded.a = 2;
  await store.set("s1", loaded); // a commit (update)
  await store.touch("s1", (await store.get("s1"))!); // a load, a touch (no write)
  await store.destroy("s1"); // a destroy
  stale.a = 3;
  await store.set("s1", stale); // blocked by the tombstone
  const expected = { loads: 3, commits: 2, touches: 1, renewals: 0, destroys: 1, blocked: 1, merges: 0 };
  for (const [name, count] of Object.entries(expected)) {
    const metric = PREFIX + name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
    assert.equal(await metrics.counter(metric), count, metric);
    assert.equal(store.stats()[name as keyof typeof expected], count, `stats().${name}`);
  }
  const durations = (await metrics.read()).get("db.client.operation.duration")!;
  const calls = (operation: string, script?: string) =>
    durations.filter((point) =>
      point.attributes["db.operation.name"] === operation &&
      point.attributes["db.stored_procedure.name"] === script
    ).reduce((sum, point) => sum + (point.value as { count: number }).count, 0);
  assert.equal(calls("HGETALL"), 3, "one plain read per load");
  assert.equal(calls("EVALSHA", "commit"), 2, "the update and the blocked write");
  assert.equal(calls("EVALSHA", "replace"), 1, "the first, whole write");
  assert.equal(calls("EVALSHA", "destroy"), 1);
  for (const point of durations) {
    assert.equal(point.attributes["db.system.name"], "redis");
    assert.equal(point.attributes["server.address"], "127.0.0.1");
    assert.equal(point.attributes["server.port"], server.port);
    const { sum, count } = point.value as { sum: number; count: number };
    assert.ok(sum > 0 && sum / count < 10, `seconds per round trip: ${sum / count}`);
  }
});

test("koa: counters move over HTTP as the scenario predicts", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using metrics = new Metrics();
  const app = new Koa();
  app.keys = ["koa metrics secret"];
  const middleware = smartRedisSession({
    client,
    signed: false,
    metrics: { meterProvider: metrics.provider },
  }, app);
  app.use(middleware);
  app.use((ctx) => {
    if (ctx.path === "/logout") ctx.session = null;
    else if (ctx.path === "/visit") ctx.session!.visits = ((ctx.session!.visits as number) ?? 0) + 1;
    ctx.body = "ok";
  });
  await using http = await listenLoopback(app);
  const browser = new Browser();
  await browser.get(`${http.url}/visit`); // no cookie yet: a commit (create), no load
  await browser.get(`${http.url}/visit`); // a load, a commit (update)
  await browser.get(`${http.url}/read`); // a load, a touch
  await browser.get(`${http.url}/logout`); // a load, a destroy
  assert.equal(await metrics.counter(PREFIX + "loads"), 3);
  assert.equal(await metrics.counter(PREFIX + "commits"), 2);
  assert.equal(await metrics.counter(PREFIX + "touches"), 1);
  assert.equal(await metrics.counter(PREFIX + "destroys"), 1);
  assert.deepEqual(middleware.stats(), {
    loads: 3,
    commits: 2,
    touches: 1,
    renewals: 0,
    destroys: 1,
    merges: 0,
    conflicts: 0,
    blocked: 0,
    lockWaits: 0,
    expirations: 0,
    cacheHits: 0,
    cacheMisses: 0,
    cacheInvalidations: 0,
    cacheFlushes: 0,
  });
});

test("without @opentelemetry/api the store measures nothing and works", async () => {
  const missing = () => Promise.reject(new TypeError('Cannot find module "@opentelemetry/api"'));
  const telemetry = new Telemetry(true, "127.0.0.1:6379", missing);
  await telemetry.ready;
  assert.equal(telemetry.active, false);
  telemetry.count("loads");
  telemetry.roundTrip("HGETALL", undefined, 0.001);
  telemetry.lockWait(0.01);
});

test("metrics: true reports to the global meter provider of @opentelemetry/api", async () => {
  const { metrics: api } = await import("@opentelemetry/api");
  await using metrics = new Metrics();
  assert.ok(api.setGlobalMeterProvider(metrics.provider));
  try {
    await using server = await startRedisServer();
    await using client = await connectClient(server);
    const store = new SmartRedisStore({ client });
    await store.get("nothing");
    await new Promise((resolve) => setTimeout(resolve, 0));
    await store.get("nothing");
    assert.ok(await metrics.counter(PREFIX + "loads") >= 1);
  } finally {
    api.disable();
  }
});

test("metrics: true takes the global meter provider registered before the store was created, not one registered later", async () => {
  const { metrics: api } = await import("@opentelemetry/api");
  await using metrics = new Metrics();
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const store = new SmartRedisStore({ client });
  // The store looks for the meter a moment after it is created, once @opentelemetry/api has loaded.
  await new Promise((resolve) => setTimeout(resolve, scaled(100)));
  assert.ok(api.setGlobalMeterProvider(metrics.provider));
  try {
    await store.get("nothing"); // the store's first operation
    await store.get("nothing");
    assert.equal(await metrics.counter(PREFIX + "loads"), 0);
  } finally {
    api.disable();
  }
});

test('option "metrics" is checked', async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  assert.throws(() => new SmartRedisStore({ client, metrics: "yes" as never }), /Option "metrics" must be/);
  assert.throws(() => new SmartRedisStore({ client, metrics: { meterProvider: {} } as never }), TypeError);
});
