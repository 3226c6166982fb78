/**
 * Fault behaviour against real redis-server processes that the tests start,
 * stop, flush and slow down.
 */

import assert from "node:assert/strict";
import { createClient } from "redis";
import type express from "express";
import { RedisUnavailableError, SmartRedisStore } from "../mod.ts";
import { startDelayProxy } from "../scripts/delay_proxy.ts";
import { freePort } from "../scripts/redis_server.ts";
import { Browser, connectClient, delay, startApp, startRedisServer, storeFixture, test } from "./_helpers.ts";
import { loadFactor } from "./_load.ts";

declare module "express-session" {
  interface SessionData {
    visits: number;
  }
}

function routes(app: express.Express): void {
  app.get("/", (req, res) => {
    if (!req.session) return void res.send("no session");
    req.session.visits = (req.session.visits || 0) + 1;
    res.send(String(req.session.visits));
  });
  app.get("/read", (req, res) => res.send(req.session ? String(req.session.visits ?? 0) : "no session"));
}

/** Records unhandled rejections while `work` runs. */
async function withoutUnhandledRejections(work: () => Promise<void>): Promise<void> {
  const unhandled: unknown[] = [];
  const listener = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    unhandled.push(event.reason);
  };
  globalThis.addEventListener("unhandledrejection", listener);
  try {
    await work();
    await delay(50);
  } finally {
    globalThis.removeEventListener("unhandledrejection", listener);
  }
  assert.deepEqual(unhandled, [], "no unhandled rejection");
}

test("SCRIPT FLUSH over and over while requests run fails no request", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, routes);
  const browsers = Array.from({ length: 8 }, () => new Browser());
  let flushing = true;
  let flushes = 0;
  const flusher = (async () => {
    while (flushing) {
      await fx.redis.scriptFlush();
      flushes++;
      await delay(2);
    }
  })();
  const answers = await Promise.all(browsers.map(async (browser) => {
    const bodies: string[] = [];
    for (let i = 0; i < 25; i++) bodies.push((await browser.get(app.url)).body);
    return bodies;
  }));
  flushing = false;
  await flusher;
  assert.ok(flushes > 10, `only ${flushes} flushes happened`);
  for (const bodies of answers) assert.deepEqual(bodies, Array.from({ length: 25 }, (_, i) => String(i + 1)));
});

test("a Redis restart mid-load: requests fail fast or go without a session, then the app recovers by itself", async () => {
  await withoutUnhandledRejections(async () => {
    // Every bound and every phase stretched by the load measured now, so that a busy machine
    // still sees requests both before and after the outage.
    const scale = loadFactor();
    await using fx = await storeFixture({ commandTimeout: 500 * scale });
    await using app = await startApp(fx.store, routes);
    const browsers = Array.from({ length: 6 }, () => new Browser());
    let running = true;
    let slowest = 0;
    const outcomes = new Map<string, number>();
    const drivers = browsers.map(async (browser) => {
      while (running) {
        const started = Date.now();
        const answer = await browser.get(app.url);
        slowest = Math.max(slowest, Date.now() - started);
        const outcome = answer.status === 200
          ? (answer.body === "no session" ? "no session" : "ok")
          : "failed";
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        await delay(5);
      }
    });
    await delay(300 * scale);
    await fx.server.kill();
    await delay(400 * scale);
    await fx.server.restart();
    await delay(1500 * scale);
    running = false;
    await Promise.all(drivers);
    // Saves that failed during the outage reached the app after their responses went out: expected.
    app.lateErrors.splice(0);
    assert.ok(slowest < 1500 * scale, `a request took ${slowest} ms during the outage`);
    assert.ok((outcomes.get("ok") ?? 0) > 20, `outcomes ${JSON.stringify([...outcomes])}`);
    // Recovered: every browser counts again from a fresh session (the restarted Redis kept no data).
    for (const browser of browsers) {
      const first = Number((await browser.get(app.url)).body);
      assert.equal((await browser.get(app.url)).body, String(first + 1));
    }
  });
});

test("Redis unreachable from the start: the store constructs, fails fast naming the address, requests do not hang", async () => {
  await withoutUnhandledRejections(async () => {
    const port = freePort();
    const client = createClient({ url: `redis://127.0.0.1:${port}` });
    const store = new SmartRedisStore({ client });
    await using app = await startApp(store, routes);
    try {
      let started = Date.now();
      await assert.rejects(store.get("any"), (error: Error) => {
        assert.ok(error instanceof RedisUnavailableError);
        assert.match(error.message, new RegExp(`unreachable at 127\\.0\\.0\\.1:${port}`));
        return true;
      });
      assert.ok(Date.now() - started < 1000, `get failed after ${Date.now() - started} ms`);
      const browser = new Browser();
      browser.cookie = "connect.sid=s%3Aabc.def";
      started = Date.now();
      const answer = await browser.get(`${app.url}/read`);
      assert.ok(Date.now() - started < 2500, `the request took ${Date.now() - started} ms`);
      assert.equal(answer.body, "no session");
    } finally {
      await client.destroy();
    }
  });
});

test("a command slower than commandTimeout fails with a clear error and leaves no half-written session", async () => {
  await using server = await startRedisServer();
  await using proxy = startDelayProxy(server.port, 0);
  await using client = await connectClient({ ...server, url: proxy.url });
  await using redis = await connectClient(server);
  const store = new SmartRedisStore({ client, commandTimeout: 100 });
  await store.set("slow", { cookie: { originalMaxAge: null }, a: 1, b: 1 } as never);
  const session = await store.get("slow") as unknown as Record<string, unknown>;
  session.a = 2;
  session.b = 2;
  proxy.delay = 150;
  const started = Date.now();
  await assert.rejects(store.set("slow", session as never), (error: Error) => {
    assert.ok(error instanceof RedisUnavailableError);
    assert.match(error.message, /did not answer EVALSHA within 100 ms \(option "commandTimeout"\)/);
    return true;
  });
  assert.ok(Date.now() - started < 250);
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const { a, b } = await redis.hGetAll("session:slow");
    seen.add(`${a}${b}`);
    await delay(20);
  }
  assert.ok([...seen].every((pair) => pair === "11" || pair === "22"), `half-written states: ${[...seen]}`);
  proxy.delay = 0;
});

test("a request that outlives the tombstone still cannot bring a destroyed session back", async () => {
  await using fx = await storeFixture({ deleteExpiry: 100 });
  await fx.store.set(
    "outlived",
    { cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) } } as never,
  );
  const slow = await fx.store.get("outlived") as unknown as Record<string, unknown>;
  await fx.store.destroy("outlived");
  await delay(250); // the tombstone is gone now
  slow.late = true;
  await fx.store.set("outlived", slow as never);
  assert.equal(await fx.redis.exists("session:outlived"), 0);
  assert.equal(await fx.store.get("outlived"), null);
});

test("a session that expired while its request ran is written back whole by the commit", async () => {
  await using fx = await storeFixture();
  const cookie = { originalMaxAge: 300, expires: new Date(Date.now() + 300) };
  await fx.store.set("expiring", { cookie, kept: 1 } as never);
  const session = await fx.store.get("expiring") as unknown as Record<string, unknown>;
  await delay(400); // expired in Redis
  session.cookie = { originalMaxAge: 300, expires: new Date(Date.now() + 300) };
  session.added = 2;
  await fx.store.set("expiring", session as never);
  const stored = await fx.redis.hGetAll("session:expiring");
  assert.equal(stored.kept, "1");
  assert.equal(stored.added, "2");
});

test("ttl: () => Infinity keeps sessions without an expiry, and they load again and again", async () => {
  await using fx = await storeFixture({ ttl: () => Infinity });
  await fx.store.set("forever", { cookie: { originalMaxAge: null, expires: null }, user: "ada" } as never);
  for (let i = 0; i < 3; i++) {
    assert.equal((await fx.store.get("forever") as unknown as { user: string }).user, "ada");
    assert.equal(await fx.redis.pTTL("session:forever"), -1);
  }
});

test("a fractional deleteExpiry is rounded up to whole milliseconds and destroy works", async () => {
  await using fx = await storeFixture({ deleteExpiry: 1500.5 });
  await fx.store.set("fraction", { cookie: { originalMaxAge: null, expires: null } } as never);
  await fx.store.destroy("fraction");
  const pttl = await fx.redis.pTTL("session:fraction");
  assert.ok(pttl > 1400 && pttl <= 1501, `tombstone pttl ${pttl}`);
});

test("a destroyed session stays destroyed even when it would have expired soon after", async () => {
  await using fx = await storeFixture({ deleteExpiry: 200 });
  const cookie = { originalMaxAge: 1500, expires: new Date(Date.now() + 1500) };
  await fx.store.set("short", { cookie, user: "ada" } as never);
  const slow = await fx.store.get("short") as unknown as Record<string, unknown>;
  await fx.store.destroy("short");
  await delay(700); // the tombstone is gone, the session's own expiry not yet reached
  slow.user = "eve";
  await fx.store.set("short", slow as never);
  assert.equal(await fx.redis.exists("session:short"), 0);
});

test("a session evicted (or lost in a failover) while its request ran is written back whole", async () => {
  await using fx = await storeFixture();
  await fx.store.set(
    "evicted",
    { cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }, a: 1 } as never,
  );
  const session = await fx.store.get("evicted") as unknown as Record<string, unknown>;
  await fx.redis.del("session:evicted");
  session.b = 2;
  await fx.store.set("evicted", session as never);
  const stored = await fx.redis.hGetAll("session:evicted");
  assert.equal(stored.a, "1");
  assert.equal(stored.b, "2");
});

test("with disableTouch, a set() that changes nothing still renews the expiry, as a write does", async () => {
  await using fx = await storeFixture({ disableTouch: true });
  await fx.store.set(
    "still",
    { cookie: { originalMaxAge: 2000, expires: new Date(Date.now() + 2000) } } as never,
  );
  await delay(500);
  const session = await fx.store.get("still") as unknown as { cookie: { expires: unknown } };
  session.cookie.expires = new Date(Date.now() + 2000); // express-session's rolling touch
  await fx.store.set("still", session as never);
  assert.ok(await fx.redis.pTTL("session:still") > 1900);
});

test("a client the app has closed is not reopened by the store", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const store = new SmartRedisStore({ client, commandTimeout: 300 });
  await store.set("x", { cookie: { originalMaxAge: null } } as never);
  await client.close();
  await assert.rejects(store.get("x"), RedisUnavailableError);
  await delay(50);
  assert.equal(client.isOpen, false);
});

test("with Redis down from the start, the store reports 'disconnect' before any request", async () => {
  const client = createClient({ url: `redis://127.0.0.1:${freePort()}` });
  try {
    const store = new SmartRedisStore({ client });
    const events: string[] = [];
    store.on("disconnect", () => events.push("disconnect"));
    for (let i = 0; i < 100 && events.length === 0; i++) await delay(10);
    assert.deepEqual(events, ["disconnect"]);
  } finally {
    await client.destroy();
  }
});
