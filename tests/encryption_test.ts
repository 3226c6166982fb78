/**
 * Encryption at rest (option `encrypt`) against a real redis-server: what Redis
 * holds and what it is sent show no plaintext value; altered, swapped and
 * unknown-key values are refused with a `SessionDataError` naming the session;
 * plain sessions stored before are read; and the races, round trips and merges
 * hold with encryption on.
 */

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { SessionDataError, SmartRedisStore, type SmartRedisStoreOptions } from "../mod.ts";
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
import { CACHE_CLIENTS, cachedPair, cacheIt, waitForStats } from "./_cache_helpers.ts";
import { REENCRYPT_SCRIPT } from "../src/scripts/reencrypt_script.ts";

const K1 = { id: "k1", secret: randomBytes(32) };
const K2 = { id: "k2", secret: "a string secret of well over thirty-two characters" };
const DAY = 86400000;

/** A store of another instance on the fixture's server (its own options, the same Redis). */
function storeOn(client: object, options: Omit<SmartRedisStoreOptions, "client">): SmartRedisStore {
  return new SmartRedisStore({ client, ...options });
}

/** `set()` with plain data (express-session's `SessionData` type wants its own fields). */
function save(store: SmartRedisStore, sid: string, data: Record<string, unknown>): Promise<void> {
  return store.set(sid, data as never);
}

/** A session as express-session hands it to `set`, with a day's maxAge. */
function sessionWith(data: Record<string, unknown>): Record<string, unknown> {
  return {
    cookie: { originalMaxAge: DAY, expires: new Date(Date.now() + DAY), httpOnly: true, path: "/" },
    ...data,
  };
}

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
  await t.step("20 parallel writers", async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => browser.get(`${app.url}/set/p${i}/${i}?delay=${(i * 7) % 50}`)),
    );
    assert.ok(answers.every((answer) => answer.status === 200 && answer.body === "set"));
    const stored = await fx.store.get(browser.sid) as Record<string, unknown>;
    for (let i = 0; i < 20; i++) assert.equal(stored[`p${i}`], String(i), `p${i} was lost`);
    assert.equal(stored.visits, 1);
  });
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
  await using app = await startApp(fx.store, (app) => {
    visitRoutes(app);
    app.get("/pref/:key", async (req, res) => {
      const prefs = (req.session.prefs ?? {}) as Record<string, unknown>;
      await delay(50);
      prefs[req.params.key] = true;
      req.session.prefs = prefs;
      res.send("ok");
    });
  }, { cookie: { maxAge: DAY } });
  const browser = new Browser();
  await browser.get(app.url);
  await Promise.all(["a", "b", "c", "d"].map((key) => browser.get(`${app.url}/pref/${key}`)));
  const stored = await fx.store.get(browser.sid) as Record<string, unknown>;
  assert.deepEqual(stored.prefs, { a: true, b: true, c: true, d: true });
  assert.equal((await fx.redis.hGet(`session:${browser.sid}`, "prefs"))!.charCodeAt(0), 1);
});

test("sessions stored plain are read and encrypted whole at their next commit; reencrypt() does the idle ones", async () => {
  await using fx = await storeFixture();
  await save(fx.store, "busy", sessionWith({ a: 1, b: 2 }));
  await save(fx.store, "idle", sessionWith({ c: 3 }));
  const store = storeOn(fx.client, { encrypt: { keys: [K1] } });
  const session = await store.get("busy") as Record<string, unknown>;
  assert.deepEqual([session.a, session.b], [1, 2]);
  assert.equal((await store.get("idle"))?.c, 3);
  assert.equal(await fx.redis.hGet("session:idle", "c"), "3", "a read writes nothing");
  await using monitor = await Monitor.start(fx.server);
  session.a = 10;
  await save(store, "busy", session);
  const [commit] = await monitor.commands();
  assert.ok(commit.includes("a") && commit.includes("b") && commit.includes("cookie"), commit.join(" "));
  const busy = await fx.redis.hGetAll("session:busy");
  for (const field of ["a", "b", "cookie"]) assert.ok(busy[field].startsWith("\u00011k1:"), field);
  assert.deepEqual(await store.reencrypt(), { sessions: 2, updated: 1, values: 2, unreadable: 0 });
  const idle = await fx.redis.hGetAll("session:idle");
  for (const field of ["c", "cookie"]) assert.ok(idle[field].startsWith("\u00011k1:"), field);
  assert.deepEqual(await store.reencrypt(), { sessions: 2, updated: 0, values: 0, unreadable: 0 });
  const again = await store.get("busy") as Record<string, unknown>;
  assert.deepEqual([again.a, again.b], [10, 2]);
  // A commit after that sends only what it changed again.
  await monitor.commands();
  again.b = 20;
  await save(store, "busy", again);
  const [next] = await monitor.commands();
  assert.ok(next.includes("b") && !next.includes("a") && !next.includes("cookie"), next.join(" "));
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

test("write: false reads encrypted sessions and writes plain, at each commit; reencrypt() decrypts the rest", async () => {
  await using fx = await storeFixture({ encrypt: { keys: [K1] } });
  await save(fx.store, "busy", sessionWith({ a: 1, b: 2 }));
  await save(fx.store, "idle", sessionWith({ c: 3 }));
  const off = storeOn(fx.client, { encrypt: { keys: [K1], write: false } });
  const session = await off.get("busy") as Record<string, unknown>;
  session.a = 3;
  await save(off, "busy", session);
  assert.equal(await fx.redis.hGet("session:busy", "a"), "3");
  assert.equal(await fx.redis.hGet("session:busy", "b"), "2");
  assert.equal((await fx.redis.hGet("session:idle", "c"))!.charCodeAt(0), 1);
  assert.deepEqual(await off.reencrypt(), { sessions: 2, updated: 1, values: 2, unreadable: 0 });
  const plain = storeOn(fx.client, {});
  const busy = await plain.get("busy") as Record<string, unknown>;
  assert.deepEqual([busy.a, busy.b], [3, 2]);
  assert.equal((await plain.get("idle"))?.c, 3);
});

test("key rotation under load across two store instances loses nothing and logs nobody out", async () => {
  await using fx = await storeFixture({ encrypt: { keys: [K1] } });
  const sids = Array.from({ length: 16 }, (_, i) => `rot${i}`);
  for (const sid of sids) await save(fx.store, sid, sessionWith({ visits: 0 }));
  // Step 1 of a rotation: every instance learns k2 (k1 still encrypts); step 2: k2 encrypts
  // on the instances deployed first, while the others still write k1.
  // Both count visits: concurrent increments add up (and a commit that meets a value
  // reencrypt() rewrote meanwhile merges with it like with any concurrent change).
  const merge = (field: string, { base, ours, theirs }: { base: unknown; ours: unknown; theirs: unknown }) =>
    field === "visits" ? (theirs as number) + (ours as number) - (base as number) : ours;
  const a = storeOn(fx.client, { encrypt: { keys: [K1, K2] }, merge });
  const b = storeOn(fx.redis, { encrypt: { keys: [K2, K1] }, merge });
  let loggedOut = 0;
  const worker = async (store: SmartRedisStore, tag: string, rounds: number) => {
    for (let round = 0; round < rounds; round++) {
      await Promise.all(sids.map(async (sid) => {
        const session = await store.get(sid) as Record<string, unknown> | null;
        if (!session) return void loggedOut++;
        session[`${tag}${round}`] = round; // each request its own property: a lost write shows
        session.visits = (session.visits as number) + 1;
        await save(store, sid, session);
      }));
    }
  };
  const rounds = 6;
  const load = Promise.all([worker(a, "a", rounds), worker(b, "b", rounds)]);
  await delay(20);
  const during = await b.reencrypt(); // while both write
  await load;
  assert.equal(loggedOut, 0, "a session was not found during the rotation");
  assert.equal(during.unreadable, 0);
  assert.ok(during.values > 0, "reencrypt() ran while the sessions were written");
  // Step 3: every instance encrypts with k2; reencrypt() moves what the k1 writers left.
  const after = await b.reencrypt();
  assert.equal(after.sessions, sids.length);
  assert.equal(after.unreadable, 0);
  // Step 4: k1 is dropped, and every session still reads whole.
  const only2 = storeOn(fx.client, { encrypt: { keys: [K2] } });
  for (const sid of sids) {
    const session = await only2.get(sid) as Record<string, unknown>;
    assert.ok(session, `${sid} cannot be read with k2 alone`);
    assert.equal(session.visits, 2 * rounds, `${sid} lost visits`);
    for (let round = 0; round < rounds; round++) {
      assert.equal(session[`a${round}`], round, `${sid} lost a${round}`);
      assert.equal(session[`b${round}`], round, `${sid} lost b${round}`);
    }
    const hash = await fx.redis.hGetAll(`session:${sid}`);
    for (const [field, value] of Object.entries(hash)) {
      if (field.charCodeAt(0) !== 0) assert.ok(value.startsWith("\u00011k2:"), `${sid} ${field}`);
    }
  }
});

test("an adapter encrypts for the session and property it is given; reencrypt() follows isCurrent()", async () => {
  let version = 1;
  const calls: string[] = [];
  const adapter = {
    encrypt(plain: string, { sid, field }: { sid: string; field: string }) {
      calls.push(`encrypt ${sid} ${field}`);
      return `v${version}.` + Buffer.from(JSON.stringify([sid, field, plain])).toString("base64");
    },
    decrypt(cipher: string, { sid, field }: { sid: string; field: string }) {
      const [s, f, plain] = JSON.parse(
        Buffer.from(cipher.slice(cipher.indexOf(".") + 1), "base64").toString(),
      );
      if (s !== sid || f !== field) throw new Error("context mismatch");
      return plain as string;
    },
    isCurrent: (cipher: string) => cipher.startsWith(`v${version}.`),
  };
  await using fx = await storeFixture({ encrypt: adapter });
  await save(fx.store, "s", sessionWith({ secret: "swordfish" }));
  assert.deepEqual(calls.sort(), ["encrypt s cookie", "encrypt s secret"]);
  const stored = await fx.redis.hGet("session:s", "secret");
  assert.ok(stored!.startsWith("\u0001av1."), JSON.stringify(stored));
  assert.equal((await fx.store.get("s"))?.secret, "swordfish");
  await fx.redis.hSet("session:s", "cookie", stored!);
  await assert.rejects(fx.store.get("s"), /property "cookie" cannot be decrypted \(context mismatch\)/);
  await save(fx.store, "s", sessionWith({ secret: "swordfish" }));
  version = 2;
  assert.deepEqual(await fx.store.reencrypt(), { sessions: 1, updated: 1, values: 2, unreadable: 0 });
  assert.ok((await fx.redis.hGet("session:s", "secret"))!.startsWith("\u0001av2."));
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

test("reencrypt() without the option says what it needs", async () => {
  await using fx = await storeFixture();
  await assert.rejects(fx.store.reencrypt(), (error: Error) => {
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /needs the option "encrypt"/);
    return true;
  });
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

test("the reencrypt script replaces only values still as read, keeps the expiry, and leaves a tombstone alone", async () => {
  await using fx = await storeFixture();
  const run = (key: string, args: string[]) =>
    fx.redis.sendCommand(["EVAL", REENCRYPT_SCRIPT.source, "1", key, ...args]);
  await fx.redis.hSet("session:s", { a: "old-a", b: "changed-b", "\0exp": "" });
  await fx.redis.pExpire("session:s", 60_000);
  assert.equal(await run("session:s", ["a", "old-a", "new-a", "b", "old-b", "new-b"]), 1);
  assert.deepEqual({ ...await fx.redis.hGetAll("session:s") }, { a: "new-a", b: "changed-b", "\0exp": "" });
  assert.ok(await fx.redis.pTTL("session:s") > 50_000, "the expiry is kept");
  await fx.redis.hSet("session:dead", { "\0dead": "1" });
  assert.equal(await run("session:dead", ["a", "", "new-a"]), -1);
  assert.deepEqual({ ...await fx.redis.hGetAll("session:dead") }, { "\0dead": "1" });
  assert.equal(await run("session:none", ["a", "", "new-a"]), -1);
  assert.equal(await fx.redis.exists("session:none"), 0);
});
