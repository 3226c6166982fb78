/**
 * End-to-end: an Express app with express-session on the store, over real HTTP,
 * against a real redis-server; every test runs under Express 4 and Express 5.
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createClient } from "redis";
import express4 from "express";
// @ts-types="@types/express"
import express5 from "express5";
import { SmartRedisStore } from "../mod.ts";
import {
  Browser,
  delay,
  Monitor,
  startApp as startAppWith,
  startRedisServer,
  storeFixture,
  test as testOnce,
  visitRoutes,
} from "./_helpers.ts";
import { parallelWritersKeepAll, slowWriteRacingLogout } from "./_races.ts";
import { loadFactor } from "./_load.ts";

const FRAMEWORKS = [["express 4", express4], ["express 5", express5]] as const;
let framework: typeof express4 = express4;

/** Registers the test once per Express major version (tests of one file run one after another). */
function test(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  for (const [label, module] of FRAMEWORKS) {
    testOnce(`${label}: ${name}`, (t) => {
      framework = module;
      return fn(t);
    });
  }
}

/** The helpers' startApp on the Express version of the running test. */
const startApp: typeof startAppWith = (store, routes, options = {}) =>
  startAppWith(store, routes, options, framework);

test("the visit counter counts 1, 2, 3 over HTTP", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, visitRoutes);
  const browser = new Browser();
  for (const n of [1, 2, 3]) {
    assert.equal((await browser.get(app.url)).body, `You visited this site ${n} times!`);
  }
  assert.deepEqual(Object.keys(await fx.redis.hGetAll(`session:${browser.sid}`)).sort(), [
    "\0exp",
    "\0ttl",
    "cookie",
    "visits",
  ]);
});

test("20 parallel requests each setting its own property lose nothing", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, visitRoutes);
  await parallelWritersKeepAll(fx.store, app.url);
});

test("parallel edits of different keys of one object are merged key by key", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, visitRoutes);
  const browser = new Browser();
  await browser.get(app.url);
  await Promise.all(["a", "b", "c"].map((key) => browser.get(`${app.url}/pref/${key}`)));
  const stored = await fx.store.get(browser.sid) as Record<string, unknown>;
  assert.deepEqual(stored.prefs, { a: true, b: true, c: true });
});

test("a slow request that writes while another destroys the session leaves it destroyed", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, visitRoutes);
  const sid = await slowWriteRacingLogout(fx.store, app.url);
  assert.deepEqual({ ...await fx.redis.hGetAll(`session:${sid}`) }, { "\0dead": "1" });
  assert.equal(await fx.store.length(), 0);
});

test("after logout the next request gets a new session id", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, visitRoutes);
  const browser = new Browser();
  await browser.get(app.url);
  await browser.get(app.url);
  const old = browser.sid;
  await browser.get(`${app.url}/logout`);
  assert.equal((await browser.get(app.url)).body, "You visited this site 1 times!");
  assert.notEqual(browser.sid, old);
});

test("round trips: a read costs 1 command, a change 2, a destroy 1", async (t) => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, visitRoutes);
  const browser = new Browser();
  await browser.get(app.url);
  await using monitor = await Monitor.start(fx.server);
  const names = (commands: string[][]) => commands.map((args) => args[0]);

  await t.step("a request that only reads its session sends one plain HGETALL", async () => {
    assert.equal((await browser.get(`${app.url}/read`)).body, "1");
    assert.deepEqual(names(await monitor.commands()), ["hgetall"]);
  });
  await t.step("a request that changes it sends two (load + commit)", async () => {
    await browser.get(app.url);
    assert.deepEqual(names(await monitor.commands()), ["hgetall", "evalsha"]);
  });
  await t.step("the commit sends only the changed property", async () => {
    await browser.get(`${app.url}/set/colour/blue`);
    const [, commit] = await monitor.commands();
    assert.ok(commit.includes("colour"), commit.join(" "));
    assert.ok(!commit.includes("cookie"), `the unchanged cookie was sent: ${commit.join(" ")}`);
    assert.ok(!commit.includes("visits"), `visits was sent: ${commit.join(" ")}`);
  });
  await t.step("destroy sends one command", async () => {
    await fx.store.destroy(browser.sid);
    assert.deepEqual(names(await monitor.commands()), ["evalsha"]);
  });
});

test("the sliding expiry is renewed by a request and shows in cookie.expires", async () => {
  // Every span and tolerance stretched by the load measured now: a busy machine takes longer between
  // a request and the check of what it did.
  const scale = loadFactor();
  const maxAge = Math.round(600 * scale);
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, visitRoutes, { cookie: { maxAge } });
  const browser = new Browser();
  await browser.get(app.url);
  const key = `session:${browser.sid}`;
  await delay(300 * scale);
  const before = await fx.redis.pTTL(key);
  assert.ok(before > 0 && before <= 300 * scale, `pttl ${before}`);
  await browser.get(`${app.url}/read`);
  const after = await fx.redis.pTTL(key);
  assert.ok(after > 500 * scale && after <= maxAge, `pttl after a read ${after}`);
  const stored = await fx.redis.hGet(key, "cookie");
  assert.ok(!stored!.includes("expires"), `the \\0exp field holds it, not the cookie field: ${stored}`);
  const session = await fx.store.get(browser.sid);
  const expires = new Date(session!.cookie.expires as unknown as string).getTime();
  assert.ok(
    Math.abs(expires - (Date.now() + maxAge)) < 100 * scale,
    `cookie.expires ${session!.cookie.expires}`,
  );
  await delay(700 * scale);
  assert.equal(await fx.store.get(browser.sid), null);
  assert.equal((await browser.get(`${app.url}/read`)).body, "none");
});

test("a session stored by connect-redis (a JSON string) is read and becomes a hash at its next write", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, visitRoutes);
  const sid = "legacy-session-id";
  const cookie = {
    originalMaxAge: 60000,
    expires: new Date(Date.now() + 60000).toISOString(),
    httpOnly: true,
    path: "/",
  };
  await fx.redis.set(`session:${sid}`, JSON.stringify({ cookie, visits: 41 }), { PX: 60000 });
  const browser = new Browser();
  const signature = createHmac("sha256", "test secret").update(sid).digest("base64").replace(/=+$/, "");
  browser.cookie = `connect.sid=${encodeURIComponent(`s:${sid}.${signature}`)}`;
  assert.equal((await browser.get(`${app.url}/read`)).body, "41");
  assert.equal(await fx.redis.type(`session:${sid}`), "hash", "an unmodified request converts it on touch");
  assert.equal((await browser.get(app.url)).body, "You visited this site 42 times!");
  assert.equal((await fx.redis.hGetAll(`session:${sid}`)).visits, "42");
});

test("while Redis is down requests proceed without a session instead of hanging, and recover", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, visitRoutes);
  const events: string[] = [];
  fx.store.on("disconnect", () => events.push("disconnect"));
  fx.store.on("connect", () => events.push("connect"));
  const browser = new Browser();
  await browser.get(app.url);
  await fx.server.kill();
  for (let i = 0; i < 100 && !events.includes("disconnect"); i++) await delay(20);
  const started = Date.now();
  assert.equal((await browser.get(`${app.url}/has`)).body, "no");
  assert.ok(Date.now() - started < 2000);
  await fx.server.restart();
  for (let i = 0; i < 250 && events.at(-1) !== "connect"; i++) await delay(20);
  assert.deepEqual(events, ["disconnect", "connect"]);
  assert.equal((await browser.get(`${app.url}/has`)).body, "yes");
});

test("a request that changes only cookie.maxAge (remember me) has it stored by its touch", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, (app) => {
    visitRoutes(app);
    app.get("/remember", (req, res) => {
      req.session.cookie.maxAge = 30 * 24 * 3600 * 1000;
      res.send("remembered");
    });
  }, { cookie: { maxAge: 60_000 } });
  const browser = new Browser();
  await browser.get(app.url);
  await browser.get(`${app.url}/remember`);
  const key = `session:${browser.sid}`;
  assert.ok(await fx.redis.pTTL(key) > 29 * 24 * 3600 * 1000, `pttl ${await fx.redis.pTTL(key)}`);
  // express-session derives originalMaxAge from the clock once more: it may come out 1 ms short.
  const sliding = Number(await fx.redis.hGet(key, "\0ttl"));
  assert.ok(Math.abs(sliding - 30 * 24 * 3600 * 1000) <= 2, `\\0ttl ${sliding}`);
  assert.equal((await fx.store.get(browser.sid))!.cookie.originalMaxAge, sliding);
});

test("a session whose stored data cannot be read gets a fresh session instead of failing the request", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, visitRoutes);
  const browser = new Browser();
  await browser.get(app.url);
  const broken = browser.sid;
  await fx.redis.hSet(`session:${broken}`, "visits", "{not json");
  const answer = await browser.get(app.url);
  assert.equal(answer.status, 200);
  assert.equal(answer.body, "You visited this site 1 times!");
  assert.notEqual(browser.sid, broken);
  assert.equal(
    await fx.redis.hGet(`session:${broken}`, "visits"),
    "{not json",
    "the unreadable data is left alone",
  );
});

test("a session stored without a cookie object gets a fresh session instead of a 500", async (t) => {
  for (const lock of [false, true]) {
    await t.step(lock ? "lock mode" : "no lock", async () => {
      await using fx = await storeFixture({ lock });
      await using app = await startApp(fx.store, visitRoutes);
      const browser = new Browser();
      await browser.get(app.url);
      const broken = browser.sid;
      const brokenCookie = browser.cookie;
      for (const cookie of [undefined, "5", "[]"]) {
        if (cookie === undefined) await fx.redis.hDel(`session:${broken}`, "cookie");
        else await fx.redis.hSet(`session:${broken}`, "cookie", cookie);
        browser.cookie = brokenCookie;
        const answer = await browser.get(app.url);
        assert.equal(answer.status, 200, `cookie ${cookie}: ${answer.body}`);
        assert.equal(answer.body, "You visited this site 1 times!");
        assert.notEqual(browser.sid, broken);
        assert.equal(await fx.redis.hGet(`session:${broken}`, "visits"), "1", "the data is left alone");
        // Lock mode: the refused load gave its lock back (the next load does not wait for it).
        assert.equal(Number(await fx.redis.hExists(`session:${broken}`, "\0lock")), 0);
      }
      await assert.rejects(fx.store.get(broken), (error: Error) => error.name === "SessionDataError");
    });
  }
});

test("with disableTTL, a request that only reads a session without maxAge still costs one command", async () => {
  await using fx = await storeFixture({ disableTTL: true });
  await using app = await startApp(fx.store, visitRoutes);
  const browser = new Browser();
  await browser.get(app.url);
  assert.equal(await fx.redis.pTTL(`session:${browser.sid}`), -1);
  await using monitor = await Monitor.start(fx.server);
  assert.equal((await browser.get(`${app.url}/read`)).body, "1");
  assert.deepEqual((await monitor.commands()).map((args) => args[0]), ["hgetall"]);
});

test("the app may still connect the client itself after creating the store", async () => {
  await using server = await startRedisServer();
  const client = createClient({ url: server.url });
  try {
    const store = new SmartRedisStore({ client });
    await client.connect();
    await using app = await startApp(store, visitRoutes);
    const browser = new Browser();
    assert.equal((await browser.get(app.url)).body, "You visited this site 1 times!");
    assert.equal((await browser.get(app.url)).body, "You visited this site 2 times!");
  } finally {
    await client.close();
  }
});

test("with resave: true, a request that changes nothing still costs one command", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, visitRoutes, {
    resave: true,
    cookie: { maxAge: 24 * 3600_000 },
  });
  const browser = new Browser();
  await browser.get(app.url);
  await using monitor = await Monitor.start(fx.server);
  assert.equal((await browser.get(`${app.url}/read`)).body, "1");
  assert.deepEqual((await monitor.commands()).map((args) => args[0]), ["hgetall"]);
});
