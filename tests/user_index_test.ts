/**
 * Sessions per user, piece by piece: the index scripts' contracts against a real
 * Redis, the options, and what happens when the index cannot be written.
 */

import assert from "node:assert/strict";
import { SmartRedisStore } from "../mod.ts";
import { type LuaScript, runScript } from "../src/scripts/script_runner.ts";
import { USER_DESTROY_SCRIPT } from "../src/scripts/user_destroy_script.ts";
import { USER_INDEX_SCRIPT } from "../src/scripts/user_index_script.ts";
import { USER_MARK_SCRIPT } from "../src/scripts/user_mark_script.ts";
import { USER_PROBE_SCRIPT } from "../src/scripts/user_probe_script.ts";
import { Browser, connectClient, delay, startApp, startRedisServer, storeFixture, test } from "./_helpers.ts";
import { userRoutes } from "./_user_scenarios.ts";

const INDEX = "session:\0user:alice";

async function scripts() {
  const server = await startRedisServer();
  const redis = await connectClient(server);
  const run = (script: LuaScript, key: string, args: string[]) =>
    runScript((_key, command) => redis.sendCommand([...command]), script, key, args);
  return {
    redis,
    run,
    async [Symbol.asyncDispose]() {
      await redis[Symbol.asyncDispose]();
      await server.kill();
    },
  };
}

test("the index script adds, removes, prunes by deadline and expires the key with its last entry", async () => {
  await using fx = await scripts();
  assert.deepEqual(await fx.run(USER_INDEX_SCRIPT, INDEX, ["-1", "", "+", "a", "200", "+", "b", "5000"]), [
    "b",
    "a",
  ]);
  const pttl = await fx.redis.pTTL(INDEX);
  assert.ok(pttl > 4800 && pttl <= 5000, `PTTL ${pttl}`);
  await delay(250);
  assert.deepEqual(await fx.redis.zRange(INDEX, 0, -1), ["a", "b"], "nothing prunes between calls");
  assert.deepEqual(await fx.run(USER_INDEX_SCRIPT, INDEX, ["-1", ""]), ["b"], "a read prunes");
  assert.deepEqual(await fx.run(USER_INDEX_SCRIPT, INDEX, ["0", "", "-", "b", ""]), []);
  assert.equal(await fx.redis.exists(INDEX), 0, "an empty index is no key");
  await fx.run(USER_INDEX_SCRIPT, INDEX, ["0", "", "+", "c", "-1", "+", "d", "100"]);
  assert.equal(await fx.redis.pTTL(INDEX), -1, "an entry without expiry keeps the index");
});

test("the index script lists the others, latest first, only when a login exceeds the cap", async () => {
  await using fx = await scripts();
  const add = (sid: string, life: string) => fx.run(USER_INDEX_SCRIPT, INDEX, ["2", sid, "+", sid, life]);
  assert.deepEqual(await add("a", "1000"), []);
  assert.deepEqual(await add("b", "3000"), []);
  assert.deepEqual(await add("c", "2000"), ["b", "a"]);
  await fx.redis.set("session:\0user:bob", "not an index");
  await assert.rejects(fx.run(USER_INDEX_SCRIPT, "session:\0user:bob", ["0", ""]), /WRONGTYPE/);
});

test("the probe, destroy and mark scripts tell and respect whose session a key is", async () => {
  await using fx = await scripts();
  const session = (user: string) =>
    fx.redis.hSet("session:s", { "\0ttl": "1000", "\0user": user, "\0uat": "7" });
  await session("alice");
  await fx.redis.pExpire("session:s", 1000);
  const [state, pttl, sliding, loggedInAt] = await fx.run(USER_PROBE_SCRIPT, "session:s", [
    "alice",
  ]) as unknown[];
  assert.deepEqual([state, sliding, loggedInAt], ["live", "1000", "7"]);
  assert.ok(Number(pttl) > 900);
  assert.deepEqual(await fx.run(USER_PROBE_SCRIPT, "session:s", ["bob"]), ["other"]);
  assert.deepEqual(await fx.run(USER_PROBE_SCRIPT, "session:none", ["bob"]), ["none"]);
  assert.equal(await fx.run(USER_MARK_SCRIPT, "session:s", ["bob", "9"]), 0);
  assert.equal(await fx.run(USER_MARK_SCRIPT, "session:s", ["alice", "9"]), 1);
  assert.equal(await fx.redis.hGet("session:s", "\0uexp"), "9");

  assert.deepEqual(
    await fx.run(USER_DESTROY_SCRIPT, "session:s", ["5000", "bob", ""]),
    [0, 1, "alice"],
    "spared",
  );
  await fx.redis.hSet("session:s", "\0user", "");
  assert.deepEqual(await fx.run(USER_DESTROY_SCRIPT, "session:s", ["5000", "bob", "strict"]), [0, 1, ""]);
  assert.deepEqual(await fx.run(USER_DESTROY_SCRIPT, "session:s", ["5000", "bob", ""]), [1, 1, ""]);
  assert.deepEqual(await fx.run(USER_PROBE_SCRIPT, "session:s", ["bob"]), ["dead"]);
  assert.deepEqual(await fx.run(USER_DESTROY_SCRIPT, "session:late", ["5000", "bob", ""]), [1, 0, ""]);
  assert.equal(
    await fx.redis.hGet("session:late", "\0dead"),
    "1",
    "a login still on its way meets a tombstone",
  );
  await fx.redis.del("session:s");
  await session("alice");
  assert.deepEqual(await fx.run(USER_DESTROY_SCRIPT, "session:s", ["0", "", ""]), [1, 1, "alice"]);
  assert.equal(await fx.redis.exists("session:s"), 0);
});

test("the user options are checked", async () => {
  const client = {
    send: () => Promise.resolve(null),
    masters: () => Promise.resolve([]),
    ready: false,
    address: "x",
  };
  const make = (options: object) => () =>
    new SmartRedisStore({ client: { ...client, onStateChange: () => {} }, ...options });
  assert.throws(make({ user: "userId" }), TypeError);
  assert.throws(make({ maxSessionsPerUser: 3 }), /needs the option "user"/);
  assert.throws(make({ user: () => 1, maxSessionsPerUser: 0 }), RangeError);
  const store = make({})();
  await assert.rejects(store.sessionsOf("alice"), /needs the option "user"/);
  const withUser = make({ user: () => undefined })();
  await assert.rejects(withUser.sessionsOf(""), TypeError);
  await assert.rejects(withUser.destroyUser("a", { except: 5 as unknown as string }), TypeError);
});

test("a login whose index cannot be written is undone, not left logged in and unlisted", async () => {
  await using fx = await storeFixture({ user: (session) => session.userId });
  await using app = await startApp(fx.store, userRoutes(fx.store));
  await fx.redis.set("session:\0user:mallory", "an app's own key in the way");
  const browser = new Browser();
  await browser.get(`${app.url}/visit`);
  const sid = browser.sid;
  const session = (await fx.store.get(sid))!;
  session.userId = "mallory";
  await assert.rejects(fx.store.set(sid, session), /should be the index of user "mallory"/);
  assert.equal(await fx.store.get(sid), null);
  assert.equal((await browser.get(`${app.url}/me`)).body, "nobody");
});

test("sessions stored before the user option was set are indexed at their next request", async () => {
  await using fx = await storeFixture();
  await using before = await startApp(fx.store, userRoutes(fx.store));
  const browser = new Browser();
  await browser.get(`${before.url}/login/olga`);
  const store = new SmartRedisStore({ client: fx.client, user: (session) => session.userId });
  await using after = await startApp(store, userRoutes(store));
  assert.deepEqual(await store.sessionsOf("olga"), []);
  assert.equal((await browser.get(`${after.url}/me`)).body, "olga");
  assert.deepEqual((await store.sessionsOf("olga")).map((session) => session.id), [browser.sid]);
  assert.equal(await store.destroyUser("olga"), 1);
  assert.equal((await browser.get(`${after.url}/me`)).body, "nobody");
});

test("sessions per user in lock mode: login, listing and destroyUser()", async () => {
  await using fx = await storeFixture({ user: (session) => session.userId, lock: true, retryTime: 10 });
  await using app = await startApp(fx.store, userRoutes(fx.store));
  const browsers = [new Browser(), new Browser()];
  for (const browser of browsers) await browser.get(`${app.url}/login/pat`);
  assert.equal((await browsers[0].get(`${app.url}/me`)).body, "pat");
  assert.equal(await fx.store.destroyUser("pat", { except: browsers[1].sid }), 1);
  assert.deepEqual((await fx.store.sessionsOf("pat")).map((session) => session.id), [browsers[1].sid]);
  assert.equal((await browsers[0].get(`${app.url}/me`)).body, "nobody");
  assert.equal((await browsers[1].get(`${app.url}/signout`)).body, "out");
  assert.deepEqual(await fx.store.sessionsOf("pat"), []);
  assert.equal(await fx.redis.exists("session:\0user:pat"), 0);
});

test("clear() destroys every session and empties the indexes with them", async () => {
  await using fx = await storeFixture({ user: (session) => session.userId });
  await using app = await startApp(fx.store, userRoutes(fx.store));
  for (const user of ["quinn", "quinn", "rory"]) await new Browser().get(`${app.url}/login/${user}`);
  await new Browser().get(`${app.url}/visit`);
  assert.equal(await fx.store.length(), 4);
  await fx.store.clear();
  assert.equal(await fx.store.length(), 0);
  assert.deepEqual(await fx.redis.keys("session:\0user:*"), []);
});

test("a login whose index entry landed but whose commit had not when destroyUser() ran stays logged out", async () => {
  await using fx = await storeFixture({ user: (session) => session.userId });
  const send = (_key: string, args: readonly string[]) => fx.redis.sendCommand([...args]);
  const cookie = {
    originalMaxAge: 60_000,
    expires: new Date(Date.now() + 60_000),
    httpOnly: true,
    path: "/",
  };
  // The window, step by step: the index entry lands, destroyUser() runs, then the commit lands.
  await fx.store.set("anonymous", { cookie, visits: 1 } as never);
  const loaded = (await fx.store.get("anonymous"))!;
  for (const sid of ["anonymous", "brand-new"]) {
    await runScript(send, USER_INDEX_SCRIPT, INDEX, ["0", "", "+", sid, "60000"]);
  }
  assert.equal(await fx.store.destroyUser("alice"), 0, "neither was a live session of alice yet");
  await fx.store.set("anonymous", Object.assign(loaded, { userId: "alice" }));
  await fx.store.set("brand-new", { cookie, visits: 1, userId: "alice" } as never);
  assert.equal(await fx.store.get("anonymous"), null);
  assert.equal(await fx.store.get("brand-new"), null);
  assert.deepEqual(await fx.store.sessionsOf("alice"), []);
});

test("with the user option, destroy() of a key that is not a session fails as without it", async () => {
  await using fx = await storeFixture({ user: (session) => session.userId });
  await fx.redis.lPush("session:list", "x");
  await assert.rejects(fx.store.destroy("list"), (error: Error) => error.name === "SessionDataError");
  assert.equal(await fx.redis.type("session:list"), "list");
});
