/**
 * Regression tests for defects found by a hostile review: cookie-only touches,
 * stale expiries, lock mode with resave, option bounds, connect and close of the
 * app's own client, node-redis 4 legacyMode.
 */

import assert from "node:assert/strict";
import { createClient } from "redis";
import { createClient as createClient4 } from "redis4";
import { createCluster as createCluster6 } from "redis6";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { Redis } from "ioredis";
import type express from "express";
import { RedisUnavailableError, SmartRedisStore } from "../mod.ts";
import { DESTROY_SCRIPT } from "../src/scripts/destroy_script.ts";
import { COMMIT_SCRIPT } from "../src/scripts/commit_script.ts";
import { runScript } from "../src/scripts/script_runner.ts";
import {
  Browser,
  delay,
  Monitor,
  startApp,
  startRedisServer,
  storeFixture,
  test,
  visitRoutes,
} from "./_helpers.ts";

const DAY = 24 * 3600 * 1000;

test("a request that changes only cookie settings has them stored by its touch", async (t) => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, (app) => {
    visitRoutes(app);
    app.get("/cookie/:name/:value", (req, res) => {
      const cookie = req.session.cookie as unknown as Record<string, unknown>;
      cookie[req.params.name] = req.params.value === "true" ? true : req.params.value;
      res.send("ok");
    });
    app.get("/forget", (req, res) => {
      req.session.cookie.maxAge = null as unknown as number; // "remember me" turned off
      res.send("ok");
    });
  }, { cookie: { maxAge: DAY } });
  const browser = new Browser();
  await browser.get(app.url);
  for (const [name, value] of [["sameSite", "strict"], ["domain", "example.test"], ["path", "/app"]]) {
    await t.step(`${name} = ${value}`, async () => {
      await browser.get(`${app.url}/cookie/${name}/${encodeURIComponent(value)}`);
      const cookie = (await fx.store.get(browser.sid))!.cookie as unknown as Record<string, unknown>;
      assert.equal(cookie[name], value);
    });
  }
  await t.step("maxAge = null with ttl equal to the old maxAge", async () => {
    await browser.get(`${app.url}/forget`);
    const cookie = (await fx.store.get(browser.sid))!.cookie;
    assert.equal(cookie.originalMaxAge, null);
    assert.equal(cookie.expires, null);
  });
});

test("a commit that did not change the cookie keeps the longer expiry another request set", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, (app) => {
    visitRoutes(app);
    app.get("/remember", (req, res) => {
      req.session.cookie.maxAge = 30 * DAY;
      res.send("remembered");
    });
  }, { cookie: { maxAge: DAY } });
  const browser = new Browser();
  await browser.get(app.url);
  const slow = browser.get(`${app.url}/set/cart/apple?delay=300`); // loaded with the 1-day cookie
  await delay(50);
  await browser.get(`${app.url}/remember`);
  await slow;
  const key = `session:${browser.sid}`;
  const pttl = await fx.redis.pTTL(key);
  assert.ok(pttl > 29 * DAY, `pttl ${pttl}: the expiry went back to one day`);
  // express-session derives originalMaxAge from the clock once more: it may come out 1 ms short.
  const sliding = Number(await fx.redis.hGet(key, "\0ttl"));
  assert.ok(Math.abs(sliding - 30 * DAY) <= 2, `\\0ttl ${sliding}`);
  const session = (await fx.store.get(browser.sid))!;
  assert.equal(session.cookie.originalMaxAge, sliding);
  assert.ok(new Date(session.cookie.expires!).getTime() > Date.now() + 29 * DAY);
  assert.equal((session as Record<string, unknown>).cart, "apple");
});

test("under disableTouch too, a commit keeps the longer expiry another request set", async (t) => {
  for (
    const [name, options, remember] of [
      ["cookie maxAge", {}, "/remember"],
      ["ttl function", {
        ttl: (s: Record<string, unknown>) => s.remember ? 30 * 24 * 3600 : 3600,
      }, "/set/remember/1"],
    ] as const
  ) {
    await t.step(name, async () => {
      await using fx = await storeFixture({ disableTouch: true, ...options });
      await using app = await startApp(fx.store, (app) => {
        visitRoutes(app);
        app.get("/remember", (req, res) => {
          req.session.cookie.maxAge = 30 * DAY;
          res.send("remembered");
        });
      }, name === "cookie maxAge" ? { cookie: { maxAge: DAY } } : {});
      const browser = new Browser();
      await browser.get(app.url);
      const slow = browser.get(`${app.url}/set/cart/apple?delay=300`);
      await delay(50);
      await browser.get(`${app.url}${remember}`);
      await slow;
      const pttl = await fx.redis.pTTL(`session:${browser.sid}`);
      assert.ok(pttl > 29 * DAY, `pttl ${pttl}: the expiry went back`);
    });
  }
});

test("lock mode readonly with resave: true refuses only requests that changed something", async () => {
  await using fx = await storeFixture({ lock: { timeout: 100, onTimeout: "readonly" } });
  const errors = new Map<string, Error>();
  await using app = await startApp(fx.store, (app) => {
    visitRoutes(app);
    // express-session reports a failed save to next(err) after the response went out: taken here.
    app.use((error: Error, req: express.Request, _res: express.Response, _next: express.NextFunction) => {
      errors.set(req.path, error);
    });
  }, { resave: true });
  const browser = new Browser();
  await browser.get(app.url);
  const holder = browser.get(`${app.url}/set/a/1?delay=800`);
  await delay(50);
  const [reader, writer] = await Promise.all([
    browser.get(`${app.url}/read`),
    browser.get(`${app.url}/set/b/2`),
  ]);
  assert.equal((await holder).status, 200);
  assert.equal(reader.body, "1");
  await delay(50);
  assert.equal(errors.get("/read"), undefined, "a request that changed nothing was refused");
  assert.equal(errors.get("/set/b/2")?.name, "SessionLockedError");
  assert.equal(writer.body, "set");
});

test("with disableTTL and a cookie maxAge, a request that only reads costs one round trip", async () => {
  await using fx = await storeFixture({ disableTTL: true });
  await using app = await startApp(fx.store, visitRoutes, { cookie: { maxAge: DAY } });
  const browser = new Browser();
  await browser.get(app.url);
  assert.equal(await fx.redis.pTTL(`session:${browser.sid}`), -1);
  await using monitor = await Monitor.start(fx.server);
  for (let i = 0; i < 3; i++) assert.equal((await browser.get(`${app.url}/read`)).body, "1");
  assert.deepEqual((await monitor.commands()).map((args) => args[0]), ["hgetall", "hgetall", "hgetall"]);
});

Deno.test("millisecond options beyond what Redis or timers take are refused at construction", () => {
  const client = createClient();
  for (const option of ["deleteExpiry", "lockExpiry"]) {
    assert.throws(() => new SmartRedisStore({ client, [option]: 1e19 }), RangeError, option);
  }
  for (const option of ["commandTimeout", "retryTime"]) {
    assert.throws(() => new SmartRedisStore({ client, [option]: 2 ** 31 }), RangeError, option);
  }
  assert.throws(() => new SmartRedisStore({ client, lock: { timeout: 2 ** 31 } }), RangeError);
  assert.throws(() => new SmartRedisStore({ client, ttl: 1e17 }), RangeError);
});

test("the writing scripts check their arguments before writing anything", async () => {
  await using fx = await storeFixture();
  await fx.redis.hSet("session:s", { a: "1", "\0ttl": "", "\0exp": "" });
  const send = (_key: string, args: readonly string[]) => fx.redis.sendCommand([...args]);
  await assert.rejects(runScript(send, DESTROY_SCRIPT, "session:s", ["1e19"]), /invalid tombstone/);
  await assert.rejects(
    runScript(send, COMMIT_SCRIPT, "session:s", ["1e19", "", "", "", "1", "u", "a", "1", "2"]),
    /invalid key life/,
  );
  assert.deepEqual({ ...await fx.redis.hGetAll("session:s") }, { a: "1", "\0ttl": "", "\0exp": "" });
  assert.equal(await fx.redis.pTTL("session:s"), -1);
});

test("a node-redis 4 client with legacyMode works, and a write is never reported as failed", async () => {
  await using server = await startRedisServer();
  const client = createClient4({ url: server.url, legacyMode: true });
  client.on("error", () => {});
  await client.connect();
  try {
    const store = new SmartRedisStore({ client });
    await using app = await startApp(store, visitRoutes);
    const browser = new Browser();
    for (const n of [1, 2]) {
      assert.equal((await browser.get(app.url)).body, `You visited this site ${n} times!`);
    }
    await store.set("direct", { cookie: { originalMaxAge: null, expires: null }, n: 1 } as never);
    assert.equal((await store.get("direct") as Record<string, unknown>).n, 1);
  } finally {
    await client.v4.quit();
  }
});

test("the app's own connect() works after other startup work, whenever it comes", async (t) => {
  await using server = await startRedisServer();
  await t.step("node-redis", async () => {
    const client = createClient({ url: server.url });
    client.on("error", () => {});
    const store = new SmartRedisStore({ client });
    await delay(50); // e.g. await db.connect()
    await client.connect();
    try {
      await store.set("n", { cookie: { originalMaxAge: null, expires: null }, n: 1 } as never);
      assert.equal((await store.get("n") as Record<string, unknown>).n, 1);
    } finally {
      await client.close();
    }
  });
  await t.step("ioredis with lazyConnect", async () => {
    const client = new Redis({ port: server.port, host: "127.0.0.1", lazyConnect: true });
    client.on("error", () => {});
    const store = new SmartRedisStore({ client });
    await delay(50);
    await client.connect();
    try {
      await store.set("i", { cookie: { originalMaxAge: null, expires: null }, i: 1 } as never);
      assert.equal((await store.get("i") as Record<string, unknown>).i, 1);
    } finally {
      client.disconnect();
    }
  });
});

test("an ioredis client with lazyConnect that the store connected reconnects after a Redis restart", async () => {
  await using server = await startRedisServer();
  const client = new Redis({
    port: server.port,
    host: "127.0.0.1",
    lazyConnect: true,
    retryStrategy: () => 50,
  });
  client.on("error", () => {});
  try {
    const store = new SmartRedisStore({ client });
    await store.set("a", { cookie: { originalMaxAge: null, expires: null }, n: 1 } as never);
    assert.equal(client.status, "ready");
    await server.restart();
    for (let i = 0; i < 150 && client.status !== "ready"; i++) await delay(20);
    assert.equal(client.status, "ready", "the client never reconnected");
    assert.equal(
      await store.get("a") as Record<string, unknown> | null,
      null,
      "a fresh server has no session",
    );
  } finally {
    client.disconnect();
  }
});

test("after the app closed its client, store calls fail at once saying so", async () => {
  await using server = await startRedisServer();
  const client = createClient({ url: server.url });
  client.on("error", () => {});
  await client.connect();
  const store = new SmartRedisStore({ client, commandTimeout: 2000 });
  await store.get("x");
  await client.close();
  const started = Date.now();
  await assert.rejects(store.get("x"), (error: Error) => {
    assert.ok(error instanceof RedisUnavailableError);
    assert.match(error.message, /closed/);
    return true;
  });
  assert.ok(Date.now() - started < 500, `took ${Date.now() - started} ms`);
});

test("a store's first command right after creating a node-redis 6 cluster client waits for its slots", async () => {
  await using cluster = await startRedisCluster();
  const client = createCluster6({ rootNodes: cluster.urls.map((url) => ({ url })) });
  client.on("error", () => {});
  try {
    const store = new SmartRedisStore({ client });
    await store.set("first", { cookie: { originalMaxAge: null, expires: null }, n: 1 } as never);
    assert.equal((await store.get("first") as Record<string, unknown>).n, 1);
  } finally {
    await client.close().catch(() => {});
  }
});
