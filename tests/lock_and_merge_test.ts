/**
 * Same-property edits: the `merge` hook and the opt-in exclusive lock, end to end
 * over HTTP against a real redis-server.
 */

import assert from "node:assert/strict";
import type express from "express";
import { createCluster } from "redis";
import { SessionLockedError, SmartRedisStore } from "../mod.ts";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import type { SmartRedisStoreOptions } from "../mod.ts";
import { Browser, delay, startApp, storeFixture, test } from "./_helpers.ts";
import { scaled } from "./_load.ts";

declare module "express-session" {
  interface SessionData {
    counter: number;
    cart: string[];
    [property: string]: unknown;
  }
}

function counterRoutes(app: express.Express): void {
  app.get("/start", (req, res) => {
    req.session.started = true;
    res.send("started");
  });
  app.get("/increment/:i", async (req, res) => {
    const counter = req.session.counter;
    await delay(15);
    req.session.counter = (counter || 0) + 1;
    req.session[`p${req.params.i}`] = true;
    res.send("ok");
  });
  app.get("/add/:item", async (req, res) => {
    const cart = [...(req.session.cart ?? [])];
    await delay(15);
    cart.push(req.params.item);
    req.session.cart = cart;
    res.send("ok");
  });
  app.get("/read", (req, res) => res.send(JSON.stringify(req.session.counter ?? null)));
  app.get("/write-slowly", async (req, res) => {
    await delay(300);
    req.session.slow = true;
    res.send("ok");
  });
  app.get("/reload", (req, res, next) => {
    req.session.reload((error) => error ? next(error) : res.send("reloaded"));
  });
}

async function twentyIncrements(options: Omit<SmartRedisStoreOptions, "client">) {
  await using fx = await storeFixture(options);
  await using app = await startApp(fx.store, counterRoutes);
  const browser = new Browser();
  await browser.get(`${app.url}/start`);
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) => browser.get(`${app.url}/increment/${i}`)),
  );
  assert.deepEqual(answers.map((answer) => answer.status), Array(20).fill(200));
  const session = await fx.store.get(browser.sid) as Record<string, unknown>;
  for (let i = 0; i < 20; i++) assert.equal(session[`p${i}`], true, `p${i} was lost`);
  return session.counter as number;
}

test("with lock: true, 20 parallel increments of one counter make 20", async () => {
  assert.equal(await twentyIncrements({ lock: true, retryTime: 10 }), 20);
});

test("with a counter merge hook and no lock, 20 parallel increments make 20", async () => {
  const merge = (field: string, { base, ours, theirs }: { base: unknown; ours: unknown; theirs: unknown }) =>
    field === "counter" ? Number(theirs ?? 0) + (Number(ours ?? 0) - Number(base ?? 0)) : ours;
  assert.equal(await twentyIncrements({ merge }), 20);
});

test("with encrypt too, the lock and the merge hook each make 20 of 20 parallel increments", async () => {
  const encrypt = { keys: [{ id: "k", secret: "a secret of thirty-two characters or more" }] };
  const merge = (field: string, { base, ours, theirs }: { base: unknown; ours: unknown; theirs: unknown }) =>
    field === "counter" ? Number(theirs ?? 0) + (Number(ours ?? 0) - Number(base ?? 0)) : ours;
  assert.equal(await twentyIncrements({ lock: true, retryTime: 10, encrypt }), 20);
  assert.equal(await twentyIncrements({ merge, encrypt }), 20);
});

test("with neither, the last writer wins the counter and other properties are still all kept", async () => {
  const counter = await twentyIncrements({});
  assert.ok(counter >= 1 && counter <= 20, `counter ${counter}`);
});

test("a cart merge hook unions concurrent additions", async () => {
  const merge = (
    field: string,
    { base, ours, theirs }: { base: unknown; ours: unknown; theirs: unknown },
  ) => {
    if (field !== "cart") return ours;
    const before = new Set(base as string[] ?? []);
    const added = (ours as string[] ?? []).filter((item) => !before.has(item));
    return [...(theirs as string[] ?? []), ...added];
  };
  await using fx = await storeFixture({ merge });
  await using app = await startApp(fx.store, counterRoutes);
  const browser = new Browser();
  await browser.get(`${app.url}/start`);
  await Promise.all(
    ["apple", "bread", "cheese", "dates"].map((item) => browser.get(`${app.url}/add/${item}`)),
  );
  const session = await fx.store.get(browser.sid);
  assert.deepEqual([...session!.cart].sort(), ["apple", "bread", "cheese", "dates"]);
});

test("a lock left by a request that died is taken over after lockExpiry", async () => {
  await using fx = await storeFixture({ lock: true, lockExpiry: 400, retryTime: 20 });
  await using app = await startApp(fx.store, counterRoutes);
  const browser = new Browser();
  await browser.get(`${app.url}/start`);
  // Another process loads the session (taking its lock) and dies before committing.
  const doomed = new SmartRedisStore({ client: fx.redis, lock: true, lockExpiry: 400 });
  assert.ok(await doomed.get(browser.sid));
  const started = Date.now();
  assert.equal((await browser.get(`${app.url}/read`)).status, 200);
  const waited = Date.now() - started;
  assert.ok(waited >= 300 && waited < 1500, `waited ${waited} ms`);
});

test("a locked session does not slow down requests of other sessions", async () => {
  await using fx = await storeFixture({ lock: true, retryTime: 20 });
  await using app = await startApp(fx.store, counterRoutes);
  const busy = new Browser();
  const other = new Browser();
  await busy.get(`${app.url}/start`);
  await other.get(`${app.url}/start`);
  const slow = busy.get(`${app.url}/write-slowly`);
  const waiting = busy.get(`${app.url}/read`);
  await delay(30);
  const bound = scaled(250); // stretched by the load measured now
  const started = Date.now();
  for (let i = 0; i < 5; i++) assert.equal((await other.get(`${app.url}/read`)).status, 200);
  const elapsed = Date.now() - started;
  assert.ok(elapsed < bound, `5 requests of another session took ${elapsed} ms while one session was locked`);
  await Promise.all([slow, waiting]);
});

test("a request gives up with SessionLockedError after lock.timeout, or reads only when asked to", async (t) => {
  await using fx = await storeFixture({ lock: { timeout: 100 }, retryTime: 20 });
  const holder = new SmartRedisStore({ client: fx.redis, lock: true, lockExpiry: 2000 });
  await fx.store.set("held", { cookie: { originalMaxAge: null, expires: null }, n: 1 } as never);
  await t.step("error mode rejects", async () => {
    assert.ok(await holder.get("held"));
    await assert.rejects(fx.store.get("held"), (error: Error) => {
      assert.ok(error instanceof SessionLockedError);
      assert.match(error.message, /"held" stayed locked/);
      return true;
    });
  });
  await t.step("readonly mode reads, and refuses to write", async () => {
    const reader = new SmartRedisStore({ client: fx.client, lock: { timeout: 50, onTimeout: "readonly" } });
    const session = await reader.get("held") as Record<string, unknown>;
    assert.equal(session.n, 1);
    session.n = 2;
    await assert.rejects(reader.set("held", session as never), SessionLockedError);
    assert.equal(await fx.redis.hGet("session:held", "n"), "1");
  });
});

test("a request whose client went away keeps the lock until its handler ends, and its write is kept", async () => {
  await using fx = await storeFixture({ lock: true, lockExpiry: 5000, retryTime: 20 });
  await using app = await startApp(fx.store, (app) => {
    counterRoutes(app);
    app.get("/increment-slowly", async (req, res) => {
      const counter = req.session.counter;
      await delay(300);
      req.session.counter = (counter || 0) + 1;
      res.send("ok");
    });
  });
  const browser = new Browser();
  await browser.get(`${app.url}/start`);
  const aborted = new AbortController();
  const gone = fetch(`${app.url}/increment-slowly`, {
    headers: { cookie: browser.cookie },
    signal: aborted.signal,
  })
    .catch(() => "aborted");
  await delay(50);
  aborted.abort();
  assert.equal(await gone, "aborted");
  const started = Date.now();
  assert.equal((await browser.get(`${app.url}/increment/1`)).status, 200);
  const waited = Date.now() - started;
  assert.ok(waited >= 150 && waited < 2000, `waited ${waited} ms: the slow handler still held the session`);
  assert.equal((await browser.get(`${app.url}/read`)).body, "2", "neither increment was lost");
});

test("session.reload() in lock mode does not wait for its own lock", async () => {
  await using fx = await storeFixture({ lock: { timeout: 1000 }, retryTime: 20 });
  await using app = await startApp(fx.store, counterRoutes);
  const browser = new Browser();
  await browser.get(`${app.url}/start`);
  const started = Date.now();
  assert.equal((await browser.get(`${app.url}/reload`)).body, "reloaded");
  assert.ok(Date.now() - started < 500);
  assert.equal(await fx.redis.hExists(`session:${browser.sid}`, "\0lock"), 0, "the lock was released");
});

test("lock mode on a Redis Cluster: 20 parallel increments of each of three sessions make 20", async () => {
  await using cluster = await startRedisCluster();
  const client = createCluster({ rootNodes: cluster.urls.map((url) => ({ url })) });
  const store = new SmartRedisStore({ client, lock: true, retryTime: 10 });
  try {
    await using app = await startApp(store, counterRoutes);
    const browsers = Array.from({ length: 3 }, () => new Browser());
    for (const browser of browsers) await browser.get(`${app.url}/start`);
    await Promise.all(
      browsers.flatMap((browser) =>
        Array.from({ length: 20 }, (_, i) => browser.get(`${app.url}/increment/${i}`))
      ),
    );
    for (const browser of browsers) assert.equal((await browser.get(`${app.url}/read`)).body, "20");
  } finally {
    await client.close();
  }
});
