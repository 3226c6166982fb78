/**
 * Encryption at rest (option `encrypt`) against a real redis-server: what Redis
 * holds and what it is sent show no plaintext value; altered, swapped and
 * unknown-key values are refused with a `SessionDataError` naming the session;
 * the races, round trips, merges, local cache, sessions per user and
 * connect-redis strings work with encryption on. Keys and their rotation:
 * encryption_rotation_test.ts.
 */
// suite: valkey too

import assert from "node:assert/strict";
import { SessionDataError } from "../mod.ts";
import { Browser, Monitor, startApp, startRedisServer, storeFixture, test, visitRoutes } from "./_helpers.ts";
import { parallelWritersKeepAll } from "./_races.ts";
import { CACHE_CLIENTS, cachedPair, cacheIt, waitForStats } from "./_cache_helpers.ts";

import { DAY, K1, K2, save, sessionWith, storeOn } from "./_encryption_helpers.ts";

test("Redis holds no plaintext value, and MONITOR shows none: every property is encrypted", async () => {
  await using fx = await storeFixture({ encrypt: { keys: [K1] } });
  await using app = await startApp(fx.store, visitRoutes, { cookie: { maxAge: DAY } });
  await using monitor = await Monitor.start(fx.server);
  const browser = new Browser();
  await browser.get(app.url);
  await browser.get(`${app.url}/set/colour/ultramarine-secret`);
  await browser.get(app.url);
  assert.equal((await browser.get(`${app.url}/read`)).body, "2");
  const hash = await fx.redis.hGetAll(`session:${browser.sid}`);
  assert.deepEqual(Object.keys(hash).sort(), ["\0exp", "\0ttl", "colour", "cookie", "visits"]);
  for (const field of ["colour", "cookie", "visits"]) {
    assert.ok(hash[field].startsWith("\u00011k1:"), `${field}: ${JSON.stringify(hash[field])}`);
    assert.match(hash[field].slice(5), /^[A-Za-z0-9+/]+=*$/, `${field}: ${JSON.stringify(hash[field])}`);
  }
  const sent = (await monitor.commands()).map((args) => args.join(" "));
  assert.ok(
    sent.some((line) => line.startsWith("evalsha") && line.includes("colour")),
    "the commit was seen",
  );
  for (const plain of ["ultramarine", "originalMaxAge", "httpOnly", '"/"']) {
    const leaks = sent.filter((line) => line.includes(plain));
    assert.deepEqual(leaks, [], `"${plain}" was sent to Redis`);
  }
  // The same session reads back whole through another store with the key.
  const other = storeOn(fx.client, { encrypt: { keys: [K1] } });
  const stored = await other.get(browser.sid);
  assert.equal(stored?.colour, "ultramarine-secret");
  assert.equal(stored?.visits, 2);
});

test("an altered value, and values swapped between sessions or properties, are refused naming the session", async (t) => {
  await using fx = await storeFixture({ encrypt: { keys: [K1] } });
  await save(fx.store, "alice", sessionWith({ role: "user", name: "Alice" }));
  await save(fx.store, "mallory", sessionWith({ role: "admin", name: "Mallory" }));
  const alice = await fx.redis.hGetAll("session:alice");
  const mallory = await fx.redis.hGetAll("session:mallory");
  const refused = async (sid: string, field: string) => {
    await assert.rejects(fx.store.get(sid), (error: Error) => {
      assert.ok(error instanceof SessionDataError, String(error));
      assert.equal((error as SessionDataError).code, "ENOENT");
      assert.ok(
        error.message.includes(`Session "${sid}" property "${field}" cannot be decrypted`),
        error.message,
      );
      return true;
    });
  };

  await t.step("a flipped bit in the ciphertext", async () => {
    const bytes = Buffer.from(alice.role.slice(alice.role.indexOf(":") + 1), "base64");
    bytes[bytes.length - 20] ^= 1;
    await fx.redis.hSet(
      "session:alice",
      "role",
      alice.role.slice(0, alice.role.indexOf(":") + 1) + bytes.toString("base64"),
    );
    await refused("alice", "role");
    await fx.redis.hSet("session:alice", "role", alice.role);
    assert.equal((await fx.store.get("alice"))?.role, "user");
  });
  await t.step("mallory's role copied into alice's session", async () => {
    await fx.redis.hSet("session:alice", "role", mallory.role);
    await refused("alice", "role");
    await fx.redis.hSet("session:alice", "role", alice.role);
  });
  await t.step("alice's name moved into her role", async () => {
    await fx.redis.hSet("session:alice", "role", alice.name);
    await refused("alice", "role");
    await fx.redis.hSet("session:alice", "role", alice.role);
  });
  await t.step("a value under a key the store does not have", async () => {
    const stranger = storeOn(fx.client, { encrypt: { keys: [K2] } });
    await assert.rejects(stranger.get("alice"), (error: Error) => {
      assert.ok(error instanceof SessionDataError);
      assert.match(error.message, /no key "k1"/);
      return true;
    });
  });
  await t.step("a store without the option says the session is encrypted", async () => {
    const plain = storeOn(fx.client, {});
    await assert.rejects(plain.get("alice"), /is encrypted; give the option "encrypt"/);
  });
  await t.step("nothing was dropped: the restored sessions read as written", async () => {
    assert.equal((await fx.store.get("alice"))?.name, "Alice");
    assert.equal((await fx.store.get("mallory"))?.role, "admin");
  });
});

test("an express request on a tampered session gets a new session instead of failing", async () => {
  await using fx = await storeFixture({ encrypt: { keys: [K1] } });
  await using app = await startApp(fx.store, visitRoutes, { cookie: { maxAge: DAY } });
  const browser = new Browser();
  await browser.get(app.url);
  const old = browser.sid;
  const visits = await fx.redis.hGet(`session:${old}`, "visits");
  await fx.redis.hSet(`session:${old}`, "visits", visits!.slice(0, -4) + "AAA=");
  assert.equal((await browser.get(app.url)).body, "You visited this site 1 times!");
  assert.notEqual(browser.sid, old);
  assert.equal(
    await fx.redis.hGet(`session:${old}`, "visits"),
    visits!.slice(0, -4) + "AAA=",
    "left as it was",
  );
});

test("with encryption on, 20 parallel writers keep all 20, and a read costs 1 command, a change 2, a destroy 1", async (t) => {
  await using fx = await storeFixture({ encrypt: { keys: [K1] } });
  await using app = await startApp(fx.store, visitRoutes, { cookie: { maxAge: DAY } });
  const browser = new Browser();
  await browser.get(app.url);
  await t.step("20 parallel writers", () => parallelWritersKeepAll(fx.store, app.url));
  await using monitor = await Monitor.start(fx.server);
  const names = (commands: string[][]) => commands.map((args) => args[0]);
  await t.step("a read sends one HGETALL", async () => {
    assert.equal((await browser.get(`${app.url}/read`)).body, "1");
    assert.deepEqual(names(await monitor.commands()), ["hgetall"]);
  });
  await t.step("a change sends two, and only the changed property", async () => {
    await browser.get(`${app.url}/set/colour/blue`);
    const commands = await monitor.commands();
    assert.deepEqual(names(commands), ["hgetall", "evalsha"]);
    assert.ok(
      commands[1].includes("colour") && !commands[1].includes("p3") && !commands[1].includes("cookie"),
    );
  });
  await t.step("a destroy sends one", async () => {
    await fx.store.destroy(browser.sid);
    assert.deepEqual(names(await monitor.commands()), ["evalsha"]);
  });
});

test("with encryption on, parallel edits of one object are merged key by key", async () => {
  await using fx = await storeFixture({ encrypt: { keys: [K1] } });
  await using app = await startApp(fx.store, visitRoutes, { cookie: { maxAge: DAY } });
  const browser = new Browser();
  await browser.get(app.url);
  await Promise.all(["a", "b", "c", "d"].map((key) => browser.get(`${app.url}/pref/${key}`)));
  const stored = await fx.store.get(browser.sid) as Record<string, unknown>;
  assert.deepEqual(stored.prefs, { a: true, b: true, c: true, d: true });
  assert.equal((await fx.redis.hGet(`session:${browser.sid}`, "prefs"))!.charCodeAt(0), 1);
});

test("a commit that encrypts the plain values it loaded never undoes another request's change of them", async () => {
  await using fx = await storeFixture();
  await save(fx.store, "s", sessionWith({ a: 1, b: 2 }));
  const encrypting = storeOn(fx.client, { encrypt: { keys: [K1] } });
  const mine = await encrypting.get("s") as Record<string, unknown>;
  const theirs = await fx.store.get("s") as Record<string, unknown>;
  theirs.b = 20; // committed (plain) between this request's load and its commit
  await save(fx.store, "s", theirs);
  mine.a = 10;
  await save(encrypting, "s", mine);
  const read = await encrypting.get("s") as Record<string, unknown>;
  assert.deepEqual([read.a, read.b], [10, 20]);
  assert.ok((await fx.redis.hGet("session:s", "a"))!.startsWith("\u00011k1:"));
  assert.equal(await fx.redis.hGet("session:s", "b"), "20", "left to the next commit or reencrypt()");
  assert.equal(
    encrypting.stats().merges,
    0,
    "the moved value is no change of this request's: nothing to merge",
  );
});

test("with sessions per user, the user's fields stay plain for the scripts and the index works as without encryption", async () => {
  await using fx = await storeFixture({ encrypt: { keys: [K1] }, user: (session) => session.userId });
  await save(fx.store, "s1", sessionWith({ userId: "ada" }));
  await save(fx.store, "s2", sessionWith({ userId: "ada" }));
  const hash = await fx.redis.hGetAll("session:s1");
  assert.equal(hash["\0user"], "ada");
  assert.ok(hash.userId.startsWith("\u00011k1:"));
  assert.deepEqual((await fx.store.sessionsOf("ada")).map((session) => session.id).sort(), ["s1", "s2"]);
  assert.equal(await fx.store.destroyUser("ada", { except: "s1" }), 1);
  assert.equal((await fx.store.get("s1"))?.userId, "ada");
  assert.equal(await fx.store.get("s2"), null);
});

test("a session stored by connect-redis (a plain JSON string) is read, and converted to an encrypted hash at its next write", async () => {
  await using fx = await storeFixture({ encrypt: { keys: [K1] } });
  const cookie = { originalMaxAge: DAY, expires: new Date(Date.now() + DAY).toISOString() };
  await fx.redis.set("session:legacy", JSON.stringify({ cookie, user: "ada", n: 1 }), { PX: DAY });
  const session = await fx.store.get("legacy") as Record<string, unknown>;
  assert.deepEqual([session.user, session.n], ["ada", 1]);
  session.n = 2;
  await save(fx.store, "legacy", session);
  const hash = await fx.redis.hGetAll("session:legacy");
  for (const field of ["cookie", "user", "n"]) assert.ok(hash[field].startsWith("\u00011k1:"), field);
  const again = await fx.store.get("legacy") as Record<string, unknown>;
  assert.deepEqual([again.user, again.n], ["ada", 2]);
});

test("with the local cache, a hit is decrypted like a read, and a value altered in Redis is refused", async () => {
  await using server = await startRedisServer();
  await using pair = await cachedPair(server, CACHE_CLIENTS[0], { encrypt: { keys: [K1] } });
  const writer = storeOn(pair.raw, { encrypt: { keys: [K1] } });
  await save(writer, "s", sessionWith({ secret: "swordfish" }));
  await cacheIt(pair.b, "s");
  const hits = pair.b.cacheStats().hits;
  assert.equal((await pair.b.get("s"))?.secret, "swordfish");
  assert.equal(pair.b.cacheStats().hits, hits + 1, "served from the cache");
  const stored = await pair.raw.hGet("session:s", "secret");
  assert.ok(stored!.startsWith("\u00011k1:"), "the cache holds what Redis holds: the encrypted value");
  const before = pair.b.cacheStats().invalidations;
  await pair.raw.hSet("session:s", "secret", (await pair.raw.hGet("session:s", "cookie"))!);
  await waitForStats(pair.b, (stats) => stats.invalidations > before);
  await assert.rejects(pair.b.get("s"), /Session "s" property "secret" cannot be decrypted/);
});
