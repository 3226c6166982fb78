/**
 * Switching from connect-redis: sessions stored as one JSON string are read,
 * converted safely under parallel requests, and stay destroyed once destroyed;
 * copying sessions between stores writes them whole.
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createClient } from "redis";
import { SmartRedisStore } from "../mod.ts";
import type { RedisConnection } from "../src/clients/connection.ts";
import { nodeRedisConnection } from "../src/clients/node_redis.ts";
import { startDelayProxy } from "../scripts/delay_proxy.ts";
import { Browser, delay, Monitor, startApp, storeFixture, test, visitRoutes } from "./_helpers.ts";

/** A cookie as express-session stores it, `maxAge` ms long. */
function legacyCookie(maxAge = 60000) {
  return {
    originalMaxAge: maxAge,
    expires: new Date(Date.now() + maxAge).toISOString(),
    httpOnly: true,
    path: "/",
  };
}

/** Stores a session the way connect-redis does and gives a browser its signed cookie. */
async function legacySession(
  redis: { set(key: string, value: string, options: { PX: number }): Promise<unknown> },
  sid: string,
  data: Record<string, unknown>,
  life = 60000,
): Promise<Browser> {
  await redis.set(`session:${sid}`, JSON.stringify({ cookie: legacyCookie(), ...data }), { PX: life });
  const browser = new Browser();
  const signature = createHmac("sha256", "test secret").update(sid).digest("base64").replace(/=+$/, "");
  browser.cookie = `connect.sid=${encodeURIComponent(`s:${sid}.${signature}`)}`;
  return browser;
}

test("parallel requests on an unconverted connect-redis session lose none of their writes", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, visitRoutes);
  const browser = await legacySession(fx.redis, "legacy-parallel", { visits: 7 });
  const names = Array.from({ length: 10 }, (_, i) => `p${i}`);
  const answers = await Promise.all([
    ...names.map((name, i) => browser.get(`${app.url}/set/${name}/v${i}?delay=${20 * (i % 3)}`)),
    browser.get(`${app.url}/read`), // a read-only request converts it by its touch, in the middle of it all
  ]);
  assert.ok(answers.every((answer) => answer.status === 200));
  const stored = await fx.redis.hGetAll("session:legacy-parallel");
  for (const [i, name] of names.entries()) assert.equal(stored[name], `"v${i}"`, `${name} was lost`);
  assert.equal(stored.visits, "7");
  const session = await fx.store.get("legacy-parallel");
  assert.equal(session?.visits, 7);
});

test("two requests setting cart and theme on a connect-redis session both keep their write", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, visitRoutes);
  const browser = await legacySession(fx.redis, "legacy-two", {});
  await Promise.all([
    browser.get(`${app.url}/set/cart/apple?delay=50`),
    browser.get(`${app.url}/set/theme/dark`),
  ]);
  const session = await fx.store.get("legacy-two") as Record<string, unknown>;
  assert.equal(session.cart, "apple");
  assert.equal(session.theme, "dark");
});

test("a connect-redis session destroyed while a slow request runs stays destroyed after deleteExpiry", async () => {
  await using fx = await storeFixture({ deleteExpiry: 100 });
  await using app = await startApp(fx.store, visitRoutes);
  const browser = await legacySession(fx.redis, "legacy-logout", { visits: 3 });
  const slow = browser.get(`${app.url}/set/late/yes?delay=400`);
  await delay(50);
  assert.equal((await browser.get(`${app.url}/logout`)).body, "bye");
  assert.equal((await slow).status, 200);
  assert.equal(await fx.store.get("legacy-logout"), null);
  assert.equal(await fx.redis.exists("session:legacy-logout"), 0, "nothing was written back");
});

test("a connect-redis string another writer replaces meanwhile is merged, not overwritten", async () => {
  await using fx = await storeFixture();
  const sid = "legacy-rewritten";
  await legacySession(fx.redis, sid, { visits: 1, theme: "light" });
  const session = await fx.store.get(sid) as Record<string, unknown>;
  // connect-redis, still running during the switch-over, writes the session whole.
  const cookie = JSON.parse(await fx.redis.get(`session:${sid}`) as string).cookie;
  await fx.redis.set(`session:${sid}`, JSON.stringify({ cookie, visits: 2, theme: "light", lang: "fr" }), {
    PX: 60000,
  });
  session.theme = "dark";
  await fx.store.set(sid, session as never);
  const stored = await fx.store.get(sid) as Record<string, unknown>;
  assert.equal(stored.theme, "dark", "ours");
  assert.equal(stored.visits, 2, "theirs, which we did not change");
  assert.equal(stored.lang, "fr", "theirs, added meanwhile");
  assert.equal(await fx.redis.type(`session:${sid}`), "hash");
});

test("sessions copied from one store to another with all() and set() are written whole", async () => {
  await using fx = await storeFixture({ prefix: "old:" });
  const target = new SmartRedisStore({ client: fx.client, prefix: "new:", deleteExpiry: 20 });
  const cookie = { originalMaxAge: 60000, expires: new Date(Date.now() + 60000), httpOnly: true, path: "/" };
  for (const id of ["a", "b", "c"]) await fx.store.set(id, { cookie, owner: id } as never);
  const sessions = await fx.store.all();
  await delay(60); // longer than the target's deleteExpiry since the source loaded them
  for (const session of sessions) await target.set(session.id, session);
  for (const id of ["a", "b", "c"]) {
    const copied = await target.get(id) as Record<string, unknown> | null;
    assert.equal(copied?.owner, id, `session ${id} was not copied`);
  }
  assert.equal(await target.length(), 3);
});

test("lock mode serializes read-modify-writes on a session still stored by connect-redis", async () => {
  await using fx = await storeFixture({ lock: true });
  await using app = await startApp(fx.store, (app) => {
    app.get("/inc", async (req, res) => {
      const n = Number(req.session.n ?? 0);
      await delay(150);
      req.session.n = n + 1;
      res.send(String(n + 1));
    });
  });
  const browser = await legacySession(fx.redis, "legacy-locked", { n: 0 });
  const answers = await Promise.all([browser.get(`${app.url}/inc`), browser.get(`${app.url}/inc`)]);
  assert.deepEqual(answers.map((answer) => answer.body).sort(), ["1", "2"]);
  assert.equal(await fx.redis.hGet("session:legacy-locked", "n"), "2");
});

test("under disableTouch a connect-redis session is converted at its first read, keeping its expiry", async () => {
  await using fx = await storeFixture({ disableTouch: true });
  await using app = await startApp(fx.store, (app) => {
    visitRoutes(app);
    app.get("/strict", (req, res) => {
      req.session.cookie.sameSite = "strict";
      res.send("ok");
    });
  });
  const browser = await legacySession(fx.redis, "legacy-untouched", { visits: 5 });
  assert.equal((await browser.get(`${app.url}/read`)).body, "5");
  assert.equal(await fx.redis.type("session:legacy-untouched"), "hash");
  assert.equal((await browser.get(`${app.url}/strict`)).body, "ok");
  const cookie = (await fx.store.get("legacy-untouched"))!.cookie as { sameSite?: string };
  assert.equal(cookie.sameSite, "strict", "the cookie-only change was lost");
  const pttl = await fx.redis.pTTL("session:legacy-untouched");
  assert.ok(pttl > 0 && pttl <= 60000, `disableTouch, yet the expiry moved to ${pttl} ms`);
});

test("the first read-only request on a connect-redis session converts it with two extra round trips", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, visitRoutes);
  const browser = await legacySession(fx.redis, "legacy-counted", { visits: 1 }, 30000); // renewal due
  await using monitor = await Monitor.start(fx.server);
  assert.equal((await browser.get(`${app.url}/read`)).body, "1");
  // HGETALL (refused: a string), GET + PTTL sent together, the conversion with the renewal folded in.
  assert.deepEqual((await monitor.commands()).map((args) => args[0]), ["hgetall", "get", "pttl", "evalsha"]);
  assert.equal((await browser.get(`${app.url}/read`)).body, "1");
  assert.deepEqual((await monitor.commands()).map((args) => args[0]), ["hgetall"]);
  assert.ok(await fx.redis.pTTL("session:legacy-counted") > 50000, "the due renewal was not folded in");
});

test("a read that meets a connect-redis string converted between its HGETALL and GET reads the hash", async () => {
  await using fx = await storeFixture();
  await fx.redis.set("session:legacy-race", JSON.stringify({ cookie: legacyCookie(), userId: "alice" }), {
    PX: 60000,
  });
  const converter = new SmartRedisStore({ client: fx.redis });
  // The real adapter, but another app process converts the session right after this
  // process's HGETALL was refused (the window of one round trip).
  const real = nodeRedisConnection(fx.client);
  let raced = false;
  const connection: RedisConnection = {
    get ready() {
      return real.ready;
    },
    address: real.address,
    masters: () => real.masters(),
    onStateChange: (listener) => real.onStateChange(listener),
    async send(key, args) {
      try {
        return await real.send(key, args);
      } catch (error) {
        if (!raced && args[0] === "HGETALL") {
          raced = true;
          await converter.touch("legacy-race", (await converter.get("legacy-race"))!);
          assert.equal(await fx.redis.type("session:legacy-race"), "hash");
        }
        throw error;
      }
    },
  };
  const store = new SmartRedisStore({ client: connection });
  const session = await store.get("legacy-race");
  assert.ok(raced);
  assert.equal(session?.userId, "alice", "the converted session was reported missing");
});

test("parallel reads of connect-redis sessions one hop away all find them while they are converted", async () => {
  await using fx = await storeFixture();
  await using proxy = startDelayProxy(fx.server.port, 3);
  const client = createClient({ url: proxy.url });
  client.on("error", () => {});
  await client.connect();
  try {
    await using app = await startApp(new SmartRedisStore({ client }), visitRoutes);
    let missed = 0;
    for (let round = 0; round < 5; round++) {
      const browser = await legacySession(fx.redis, `legacy-hop-${round}`, { visits: 7 });
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => delay(i).then(() => browser.get(`${app.url}/read`))),
      );
      missed += answers.filter((answer) => answer.body !== "7").length;
    }
    assert.equal(missed, 0, `${missed} of 100 requests found no session`);
  } finally {
    await client.close();
  }
});

test("a ttl function decides the expiry over the cookie's maxAge, as in connect-redis", async () => {
  await using fx = await storeFixture({
    ttl: (session) => (session as { remember?: boolean }).remember ? 30 * 24 * 3600 : 5,
  });
  await fx.store.set("ttl-fn", { cookie: legacyCookie(3600_000), remember: false } as never);
  const pttl = await fx.redis.pTTL("session:ttl-fn");
  assert.ok(pttl > 0 && pttl <= 5000, `the ttl function said 5 s, the key lives ${pttl} ms`);
  await fx.store.set("ttl-fn", { cookie: legacyCookie(3600_000), remember: true } as never);
  assert.ok(await fx.redis.pTTL("session:ttl-fn") > 29 * 24 * 3600_000);
  const expires = new Date((await fx.store.get("ttl-fn"))!.cookie.expires!).getTime();
  assert.ok(expires > Date.now() + 29 * 24 * 3600_000, "get shows the expiry the ttl function gave");
});
