/**
 * Sessions per user: the index follows the user a session is logged in as through
 * merges and failed commits, and users with thousands of sessions are handled by
 * every client.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { SmartRedisStore } from "../mod.ts";
import { ioRedisSend } from "../src/clients/ioredis.ts";
import { delay, startRedisServer, storeFixture, test } from "./_helpers.ts";
import { scaled } from "./_load.ts";

const cookie = () => ({
  originalMaxAge: 60_000,
  expires: new Date(Date.now() + 60_000),
  httpOnly: true,
  path: "/",
});

// deno-lint-ignore no-explicit-any
type Any = any;

test("a merge hook that keeps an earlier login leaves the session indexed under that user", async () => {
  await using fx = await storeFixture({
    user: (session: Any) => session.userId,
    merge: (_field: string, { theirs }: { theirs: unknown }) => theirs, // the first login wins
  });
  await fx.store.set("s1", { cookie: cookie(), visits: 1 } as never);
  const first: Any = await fx.store.get("s1");
  const second: Any = await fx.store.get("s1");
  first.userId = "alice";
  await fx.store.set("s1", first);
  second.userId = "bob";
  await fx.store.set("s1", second);
  assert.equal((await fx.store.get("s1") as Any).userId, "alice");
  assert.equal(await fx.redis.hGet("session:s1", "\0user"), "alice");
  assert.deepEqual((await fx.store.sessionsOf("alice")).map((s) => s.id), ["s1"]);
  assert.deepEqual(await fx.store.sessionsOf("bob"), []);
  assert.equal(await fx.store.destroyUser("alice"), 1);
  assert.equal(await fx.store.get("s1"), null);
});

test("a logout whose commit fails leaves the session listed under the user it is still logged in as", async () => {
  await using fx = await storeFixture({ user: (session: Any) => session.userId, conflictRetries: 0 });
  await fx.store.set("s1", { cookie: cookie(), userId: "alice", cart: 0 } as never);
  const logout: Any = await fx.store.get("s1");
  const other: Any = await fx.store.get("s1");
  other.cart = 1;
  await fx.store.set("s1", other);
  delete logout.userId;
  logout.cart = 2; // conflicts with the other request's cart, and no retry is allowed
  await assert.rejects(fx.store.set("s1", logout), (error: Error) => error.name === "SessionConflictError");
  assert.equal((await fx.store.get("s1") as Any).userId, "alice");
  assert.deepEqual((await fx.store.sessionsOf("alice")).map((s) => s.id), ["s1"]);
});

test("ioredis: a user with thousands of sessions is listed and logged out everywhere", async () => {
  await using server = await startRedisServer();
  const redis = new Redis({ host: "127.0.0.1", port: server.port, lazyConnect: true });
  await redis.connect();
  try {
    // 2 500 sessions written at once: the default 2 s stretched by the load measured now.
    const store = new SmartRedisStore({
      client: redis,
      user: (session: Any) => session.userId,
      commandTimeout: scaled(2000),
    });
    const count = 2500;
    await Promise.all(
      Array.from(
        { length: count },
        (_, i) => store.set(`s${i}`, { cookie: cookie(), userId: "bot" } as never),
      ),
    );
    assert.equal((await store.sessionsOf("bot")).length, count);
    assert.equal(await store.destroyUser("bot"), count);
    assert.deepEqual(await store.sessionsOf("bot"), []);
    assert.equal(await redis.exists("session:\0user:bot"), 0, "the emptied index key is left behind");
  } finally {
    redis.disconnect();
  }
});

test("ioredis: a command with 200 000 arguments is sent, not a stack overflow", async () => {
  await using server = await startRedisServer();
  const redis = new Redis({ host: "127.0.0.1", port: server.port, lazyConnect: true });
  await redis.connect();
  try {
    const keys = Array.from({ length: 200_000 }, (_, i) => `k${i}`);
    assert.equal(await ioRedisSend(redis as never)(["DEL", ...keys]), 0);
  } finally {
    redis.disconnect();
  }
});

test("an entry written while the session had no expiry goes once the session gets one and expires", async () => {
  // "Remember me" through a ttl function: no expiry while remembered, one second otherwise.
  await using fx = await storeFixture({
    user: (session: Any) => session.userId,
    ttl: (session: Any) => session.remember ? Infinity : 1,
  });
  const browserCookie = { originalMaxAge: null, expires: null, httpOnly: true, path: "/" };
  await fx.store.set("s1", { cookie: browserCookie, userId: "alice", remember: true } as never);
  const index = "session:\0user:alice";
  assert.equal(await fx.redis.pTTL(index), -1);
  const loaded: Any = await fx.store.get("s1");
  loaded.remember = false; // unticked: the session now lives 1 s
  await fx.store.set("s1", loaded);
  const pttl = await fx.redis.pTTL(index);
  assert.ok(pttl > 0 && pttl <= 3100, `the index lives ${pttl} ms, though its only session lives 1 s`);
  await delay(pttl + 100);
  assert.equal(await fx.redis.exists("session:s1"), 0);
  assert.equal(await fx.redis.exists(index), 0, "the index outlived its last session");
});

test("a whole write of the same user keeps the login time; another user's login sets a new one", async () => {
  await using fx = await storeFixture({ user: (session: Any) => session.userId });
  await fx.store.set("s1", { cookie: cookie(), userId: "alice", visits: 1 } as never);
  const [first] = await fx.store.sessionsOf("alice");
  await delay(50);
  // A plain object, no snapshot: as app code's store.set(sid, data) writes it.
  await fx.store.set("s1", { cookie: cookie(), userId: "alice", visits: 2 } as never);
  const [second] = await fx.store.sessionsOf("alice");
  assert.equal(second.loggedInAt, first.loggedInAt, "a save that kept the user moved its login time");
  await fx.store.set("s1", { cookie: cookie(), userId: "bob", visits: 3 } as never);
  const [bob] = await fx.store.sessionsOf("bob");
  assert.ok(bob.loggedInAt! > first.loggedInAt!, "a switch to another user is a new login");
});

test("maxSessionsPerUser 1: a login whose commit lands after a parallel login's check does not exceed the limit", async () => {
  // A slow commit: here a conflict whose merge takes a moment (any slow write does the same,
  // e.g. the session's node farther away than the index's on a cluster).
  let release = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  await using fx = await storeFixture({
    user: (session: Any) => session.userId,
    maxSessionsPerUser: 1,
    merge: async (_field: string, { ours }: { ours: unknown }) => {
      await gate;
      return ours;
    },
  });
  await fx.store.set("laptop", { cookie: cookie(), cart: 0 } as never);
  const laptop: Any = await fx.store.get("laptop");
  const other: Any = await fx.store.get("laptop");
  other.cart = 5;
  await fx.store.set("laptop", other); // makes the laptop's login commit conflict on "cart"
  laptop.cart = 1;
  laptop.userId = "alice";
  const slowLogin = fx.store.set("laptop", laptop); // index entry lands, commit waits in the merge
  await delay(100);
  await fx.store.set("phone", { cookie: cookie(), userId: "alice" } as never); // a parallel login
  release();
  await slowLogin;
  const live = (await fx.store.sessionsOf("alice")).map((s) => s.id);
  const alive = [];
  for (const sid of ["laptop", "phone"]) {
    if ((await fx.store.get(sid) as Any)?.userId === "alice") alive.push(sid);
  }
  assert.ok(
    alive.length <= 1,
    `alice has ${alive.length} live sessions (${alive}) with maxSessionsPerUser 1`,
  );
  assert.ok(live.length <= 1, `sessionsOf lists ${live}`);
});

test("a failed write does not leave a live session's index entry shorter than the session", async () => {
  let finite = false;
  await using fx = await storeFixture({
    user: (session: Any) => session.userId,
    ttl: () => finite ? 1 : Infinity,
    conflictRetries: 0,
  });
  await fx.store.set("s1", { cookie: { originalMaxAge: null }, userId: "alice", x: 1 } as never);
  assert.equal(await fx.redis.pTTL("session:s1"), -1);
  finite = true; // the ttl function now gives this session an expiry
  const loaded = await fx.store.get("s1") as Any;
  await fx.redis.hSet("session:s1", "x", "2"); // another request's change of the same property
  loaded.x = 3;
  await assert.rejects(fx.store.set("s1", loaded), /could not be committed/);
  // The session still has no expiry, so it is live for ever...
  assert.equal(await fx.redis.pTTL("session:s1"), -1);
  await new Promise((resolve) => setTimeout(resolve, 3500));
  assert.notEqual(await fx.store.get("s1"), null);
  // ...and its user must still find (and be able to destroy) it.
  assert.deepEqual((await fx.store.sessionsOf("alice")).map((s) => s.id), ["s1"], "live session unlisted");
  assert.equal(await fx.store.destroyUser("alice"), 1, "destroyUser missed a live session");
});
