/**
 * Option `encrypt.plain: "refuse"` against a real redis-server: a plain value
 * or a connect-redis string written into Redis by hand is refused like a value
 * that fails decryption (on loads, lock-mode and exact-renewal loads, cached
 * reads, a commit's conflict reply, and `reencrypt()`), left in Redis as it is,
 * while `"read"` (the default) still reads it; metadata fields stay plain.
 * The faces: encryption_faces_test.ts.
 */
// suite: valkey too

import assert from "node:assert/strict";
import { SessionDataError, type SmartRedisStore } from "../mod.ts";
import { Browser, startApp, startRedisServer, storeFixture, test, visitRoutes } from "./_helpers.ts";
import { CACHE_CLIENTS, cachedPair, cacheIt, waitForStats } from "./_cache_helpers.ts";
import { DAY, K1, save, sessionWith, storeOn } from "./_encryption_helpers.ts";

const REFUSE = { keys: [K1], plain: "refuse" } as const;

/** Asserts that reading `sid` is refused as plain, naming `what` (a property, or the whole string). */
async function refusedAsPlain(store: SmartRedisStore, sid: string, what: string): Promise<void> {
  await assert.rejects(store.get(sid), (error: Error) => {
    assert.ok(error instanceof SessionDataError, String(error));
    assert.equal((error as SessionDataError).code, "ENOENT");
    assert.ok(error.message.startsWith(`Session "${sid}" ${what}`), error.message);
    assert.match(error.message, /"encrypt\.plain" is "refuse"; it was left in Redis as it is/);
    assert.match(error.message, /run reencrypt\(\) with encrypt\.plain "read" first/);
    return true;
  });
}

/** A connect-redis string session (one JSON string, a day's expiry). */
function legacyText(data: Record<string, unknown>): string {
  const cookie = { originalMaxAge: DAY, expires: new Date(Date.now() + DAY).toISOString() };
  return JSON.stringify({ cookie, ...data });
}

test('with plain: "refuse", a plain value set by hand is refused naming the property; "read" reads it', async () => {
  await using fx = await storeFixture({ encrypt: REFUSE, user: (session) => session.userId });
  await save(fx.store, "s", sessionWith({ userId: "ada", role: "user" }));
  const hash = await fx.redis.hGetAll("session:s");
  assert.equal(hash["\0user"], "ada", "metadata stays plain");
  assert.equal((await fx.store.get("s"))?.role, "user", "and is not refused");
  await fx.redis.hSet("session:s", "role", '"admin"');
  await refusedAsPlain(fx.store, "s", 'property "role" is stored plain');
  assert.equal(await fx.redis.hGet("session:s", "role"), '"admin"', "left as it was");
  const reading = storeOn(fx.client, { encrypt: { keys: [K1] } });
  assert.equal((await reading.get("s"))?.role, "admin", '"read" (the default) reads it');
});

test('with plain: "refuse", an express request on a session with a plain value gets a new session', async () => {
  await using fx = await storeFixture({ encrypt: REFUSE });
  await using app = await startApp(fx.store, visitRoutes, { cookie: { maxAge: DAY } });
  const browser = new Browser();
  await browser.get(app.url);
  assert.equal((await browser.get(app.url)).body, "You visited this site 2 times!");
  const old = browser.sid;
  await fx.redis.hSet(`session:${old}`, "visits", "99");
  assert.equal((await browser.get(app.url)).body, "You visited this site 1 times!");
  assert.notEqual(browser.sid, old);
  assert.equal(await fx.redis.hGet(`session:${old}`, "visits"), "99", "left as it was");
});

for (
  const [how, options] of [
    ["a plain read", {}],
    ["the lock's load script", { lock: true }],
    ["the load script of exact renewal", { renewAfter: 0 }],
  ] as const
) {
  test(`with plain: "refuse", a connect-redis string is refused and not converted (${how})`, async () => {
    await using fx = await storeFixture({ encrypt: REFUSE, ...options });
    const text = legacyText({ user: "ada" });
    await fx.redis.set("session:legacy", text, { PX: DAY });
    await refusedAsPlain(fx.store, "legacy", "is stored as a connect-redis string");
    assert.equal(await fx.redis.type("session:legacy"), "string");
    assert.equal(await fx.redis.get("session:legacy"), text, "left as it was");
    const reading = storeOn(fx.client, { encrypt: { keys: [K1] }, ...options });
    assert.equal((await reading.get("legacy"))?.user, "ada", '"read" reads it');
  });
}

test('with plain: "refuse", a plain value in a commit\'s conflict reply fails the commit and is left as it is', async () => {
  await using fx = await storeFixture({ encrypt: REFUSE });
  await save(fx.store, "s", sessionWith({ a: 1, b: 2 }));
  const session = await fx.store.get("s") as Record<string, unknown>;
  await fx.redis.hSet("session:s", "a", "5"); // changed plain since this request loaded it
  session.a = 10;
  await assert.rejects(save(fx.store, "s", session), (error: Error) => {
    assert.ok(error instanceof SessionDataError, String(error));
    assert.ok(error.message.startsWith('Session "s" property "a" is stored plain'), error.message);
    return true;
  });
  assert.equal(await fx.redis.hGet("session:s", "a"), "5", "left as it was");
});

test('with plain: "refuse" and the local cache, a cached hit with a plain value is refused too', async () => {
  await using server = await startRedisServer();
  await using pair = await cachedPair(server, CACHE_CLIENTS[0], { encrypt: REFUSE });
  const writer = storeOn(pair.raw, { encrypt: { keys: [K1] } });
  await save(writer, "s", sessionWith({ secret: "swordfish" }));
  await cacheIt(pair.b, "s");
  assert.equal((await pair.b.get("s"))?.secret, "swordfish");
  const before = pair.b.cacheStats().invalidations;
  await pair.raw.hSet("session:s", "secret", '"sardine"');
  await waitForStats(pair.b, (stats) => stats.invalidations > before);
  await refusedAsPlain(pair.b, "s", 'property "secret" is stored plain'); // read from Redis, then cached
  const hits = pair.b.cacheStats().hits;
  await refusedAsPlain(pair.b, "s", 'property "secret" is stored plain');
  assert.equal(pair.b.cacheStats().hits, hits + 1, "served from the cache, and refused all the same");
});

test('reencrypt() with plain: "refuse" leaves plain values and strings alone, counted unreadable; with "read" it migrates them', async () => {
  await using fx = await storeFixture({ encrypt: REFUSE });
  await save(fx.store, "sealed", sessionWith({ n: 1 }));
  const plain = storeOn(fx.client, {});
  await save(plain, "plain", sessionWith({ n: 2 }));
  const text = legacyText({ n: 3 });
  await fx.redis.set("session:legacy", text, { PX: DAY });
  const before = await fx.redis.hGetAll("session:plain");

  // The plain session's two values (n, cookie) and the string.
  assert.deepEqual(await fx.store.reencrypt(), { sessions: 3, updated: 0, values: 0, unreadable: 3 });
  assert.deepEqual(await fx.redis.hGetAll("session:plain"), before);
  assert.equal(await fx.redis.get("session:legacy"), text);

  const reading = storeOn(fx.client, { encrypt: { keys: [K1] } });
  assert.deepEqual(await reading.reencrypt(), { sessions: 3, updated: 2, values: 4, unreadable: 0 });
  assert.deepEqual(await fx.store.reencrypt(), { sessions: 3, updated: 0, values: 0, unreadable: 0 });
  for (const [sid, n] of [["sealed", 1], ["plain", 2], ["legacy", 3]] as const) {
    assert.equal((await fx.store.get(sid))?.n, n, sid);
  }
});

test('with plain: "refuse", ids() and length() still count refused sessions, even a string that is not JSON', async () => {
  await using fx = await storeFixture({ encrypt: REFUSE });
  await save(fx.store, "sealed", sessionWith({ n: 1 }));
  await save(fx.store, "plain", sessionWith({ n: 2 }));
  await fx.redis.hSet("session:plain", "n", "3");
  // Strings without an expiry of their own: only what they hold says whether they live.
  await fx.redis.set("session:legacy", legacyText({ n: 4 }));
  await fx.redis.set("session:junk", "not JSON");
  for (const sid of ["plain", "legacy", "junk"]) await assert.rejects(fx.store.get(sid), SessionDataError);
  assert.deepEqual((await fx.store.ids()).sort(), ["junk", "legacy", "plain", "sealed"]);
  assert.equal(await fx.store.length(), 4);
  assert.equal(await fx.redis.get("session:junk"), "not JSON", "left as it was");
});
