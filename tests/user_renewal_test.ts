/**
 * Sessions per user and lazy renewal: the index entry of a session is extended
 * by the write that renews the session, and its deadline never falls behind the
 * session's real expiry, whichever way the session is renewed; the scripts'
 * parts of that contract.
 */

import assert from "node:assert/strict";
import { type LuaScript, runScript } from "../src/scripts/script_runner.ts";
import { LOAD_SCRIPT } from "../src/scripts/load_script.ts";
import { REFRESH_SCRIPT } from "../src/scripts/refresh_script.ts";
import { USER_DESTROY_SCRIPT } from "../src/scripts/user_destroy_script.ts";
import { USER_INDEX_SCRIPT } from "../src/scripts/user_index_script.ts";
import { Browser, delay, startApp, storeFixture, test } from "./_helpers.ts";
import { userRoutes } from "./_user_scenarios.ts";

const INDEX = "session:\0user:alice";

test("user scripts: arguments checked before any write, deadlines only move later, load and refresh", async () => {
  await using fx = await storeFixture();
  const run = (script: LuaScript, key: string, args: string[]) =>
    runScript((_key, command) => fx.redis.sendCommand([...command]), script, key, args);
  await assert.rejects(run(USER_INDEX_SCRIPT, INDEX, ["0", "", "+", "a", "100", "+", "b", "soon"]), /ERR/);
  await assert.rejects(run(USER_INDEX_SCRIPT, INDEX, ["0", "", "?", "a", ""]), /ERR/);
  assert.equal(await fx.redis.exists(INDEX), 0, "a bad operation after a good one wrote nothing");
  await fx.redis.hSet("session:s", "a", "1");
  await assert.rejects(run(USER_DESTROY_SCRIPT, "session:s", ["5 s", "", ""]), /ERR invalid tombstone/);
  assert.equal(await fx.redis.hGet("session:s", "a"), "1");

  await run(USER_INDEX_SCRIPT, INDEX, ["0", "", "+", "a", "60000"]);
  const later = Number(await fx.redis.zScore(INDEX, "a"));
  await run(USER_INDEX_SCRIPT, INDEX, ["0", "", "+", "a", "1000"]);
  assert.equal(Number(await fx.redis.zScore(INDEX, "a")), later, "a shorter life moved the deadline earlier");
  await run(USER_INDEX_SCRIPT, INDEX, ["0", "", "-", "a", "", "+", "a", "1000"]);
  assert.ok(Number(await fx.redis.zScore(INDEX, "a")) < later, "a removed entry comes back at its new life");

  // The load leaves a renewal that would use up half the index headroom to the write that extends it.
  const now = Date.now();
  await fx.redis.hSet("session:u", {
    "\0ttl": "1000",
    "\0exp": String(now + 500),
    "\0uexp": String(now + 1400),
  });
  await fx.redis.pExpire("session:u", 500);
  const kept = await run(LOAD_SCRIPT, "session:u", [String(now)]) as unknown[];
  assert.equal(kept[3], "extend");
  assert.ok(Number(kept[1]) <= 500, "renewed anyway");
  await fx.redis.hSet("session:u", "\0uexp", String(now + 3000));
  const renewed = await run(LOAD_SCRIPT, "session:u", [String(now)]) as unknown[];
  assert.deepEqual([renewed[0], renewed[1], renewed[3]], ["hash", 1000, undefined]);

  // The refresh script stores extra pairs after the lock token.
  const expiry = ["1000", String(now + 1000), "1000", "", String(now)];
  assert.equal(await run(REFRESH_SCRIPT, "session:u", [...expiry, "", "", "", "\0uexp", "42"]), 1);
  assert.equal(await fx.redis.hGet("session:u", "\0uexp"), "42");
});

/** Whether the index entry outlives the session itself, now. */
async function covered(fx: Awaited<ReturnType<typeof storeFixture>>, user: string, sid: string) {
  const [score, pttl] = await Promise.all([
    fx.redis.zScore(`session:\0user:${user}`, sid),
    fx.redis.pTTL(`session:${sid}`),
  ]);
  return { ok: score !== null && pttl > 0 && score >= Date.now() + pttl, score, pttl };
}

for (const renewAfter of [0.01, 0]) {
  test(`an active session, idle or not, stays listed, its entry never behind its expiry (renewAfter ${renewAfter})`, async () => {
    await using fx = await storeFixture({ user: (session) => session.userId, renewAfter });
    await using app = await startApp(fx.store, userRoutes(fx.store), { cookie: { maxAge: 600 } });
    const browser = new Browser();
    await browser.get(`${app.url}/login/vera`);
    // Short pauses, then pauses beyond half the headroom: the extension is written with the renewal, or first.
    for (const pause of [50, 50, 50, 400, 50, 500, 50, 50, 450, 50]) {
      await delay(pause);
      assert.equal((await browser.get(`${app.url}/me`)).body, "vera");
      const state = await covered(fx, "vera", browser.sid);
      assert.ok(state.ok, `after a ${pause} ms pause: ${JSON.stringify(state)} at ${Date.now()}`);
    }
    assert.deepEqual((await fx.store.sessionsOf("vera")).map((session) => session.id), [browser.sid]);
  });
}

test("an extension sent with the renewal that fails is retried: the session's record of it is set back", async () => {
  await using fx = await storeFixture({ user: (session) => session.userId });
  // maxAge 3 s: the entry (3 + 3 + 1 s) is extended after 2.5 s of the session's life, and still covers
  // a renewal until 3 s: within that window the extension travels with the renewal.
  await using app = await startApp(fx.store, userRoutes(fx.store), { cookie: { maxAge: 3000 } });
  const browser = new Browser();
  await browser.get(`${app.url}/login/walt`);
  const recorded = await fx.redis.hGet(`session:${browser.sid}`, "\0uexp");
  const entry = await fx.redis.zScore("session:\0user:walt", browser.sid);
  await fx.redis.rename("session:\0user:walt", "saved");
  await fx.redis.set("session:\0user:walt", "an app's own key in the way");
  await delay(2700);
  assert.equal((await browser.get(`${app.url}/me`)).body, "walt", "the request itself succeeds");
  assert.equal(
    await fx.redis.hGet(`session:${browser.sid}`, "\0uexp"),
    recorded,
    "the record was not set back",
  );
  await fx.redis.rename("saved", "session:\0user:walt");
  const pttl = await fx.redis.pTTL(`session:${browser.sid}`);
  assert.ok(pttl > 2900, `renewed: ${pttl}`);
  // The next request whose renewal is due retries, and this time the entry moves.
  await delay(100);
  assert.equal((await browser.get(`${app.url}/me`)).body, "walt");
  assert.ok(Number(await fx.redis.zScore("session:\0user:walt", browser.sid)) > entry! + 2000);
  assert.notEqual(await fx.redis.hGet(`session:${browser.sid}`, "\0uexp"), recorded);
  assert.ok((await covered(fx, "walt", browser.sid)).ok);
});

test("an extension the renewal cannot wait for fails the touch and leaves the session as it was", async () => {
  await using fx = await storeFixture({ user: (session) => session.userId });
  await using app = await startApp(fx.store, userRoutes(fx.store), { cookie: { maxAge: 600 } });
  const browser = new Browser();
  await browser.get(`${app.url}/login/xena`);
  const sid = browser.sid;
  const recorded = Number(await fx.redis.hGet(`session:${sid}`, "\0uexp"));
  await fx.redis.set("session:\0user:xena", "an app's own key in the way");
  // maxAge 600 ms: the entry (0.6 + 0.6 + 1 s) is extended after 1.3 s of activity, when it no longer
  // covers a renewal with 1 s to spare: the index goes first, and its failure stops the renewal.
  // (Over HTTP, express-session touches after the response is sent: the store's own API shows the error.)
  const started = Date.now();
  let failure: unknown;
  while (Date.now() - started < 1800 && failure === undefined) {
    const session = await fx.store.get(sid);
    assert.ok(session, "the session expired while active");
    session.cookie.expires = new Date(Date.now() + 600); // what express-session's touch does first
    failure = await fx.store.touch(sid, session).then(() => undefined, (error) => error);
    await delay(150);
  }
  assert.match(String(failure), /should be the index of user "xena"/);
  const exp = Number(await fx.redis.hGet(`session:${sid}`, "\0exp"));
  assert.ok(exp + 300 <= recorded, `renewed to ${exp}, past its entry's ${recorded}`);
});
