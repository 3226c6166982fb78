/**
 * The user ids apps really send, through every sessions-per-user path: a live
 * session is always listed under exactly its user, and "log out everywhere"
 * reaches it. Ids Redis cannot store as given (lone UTF-16 surrogates) are refused.
 */

import assert from "node:assert/strict";
import { storeFixture, test } from "./_helpers.ts";

type Data = Record<string, unknown>;

const cookie = () => ({ originalMaxAge: 600_000, expires: new Date(Date.now() + 600_000).toISOString() });

const IDS: unknown[] = [
  42,
  0,
  -7.5,
  "042", // not 42: a number and its string are one user
  "x".repeat(2000),
  "Zoë 🎉 日本語",
  "a:b",
  "\0user:a",
  "a\0b",
  "{tag}",
  "a b\r\n",
  "*?[]",
  "__proto__",
  "constructor",
  "toString",
  "\u{10FFFF}",
];

test("every user id apps send: a live session is listed under exactly its user, and destroyUser reaches it", async () => {
  await using fx = await storeFixture({ user: (session) => session.userId });
  const sids = IDS.map((_, i) => `u${i}`);
  for (const [i, id] of IDS.entries()) {
    await fx.store.set(sids[i], { cookie: cookie(), userId: id, n: 1 } as never);
  }
  for (const [i, id] of IDS.entries()) {
    const user = String(id);
    // Read back and committed again: the same user, so no user switch (the login time stays).
    const loggedInAt = await fx.redis.hGet(`session:${sids[i]}`, "\0uat");
    const loaded = await fx.store.get(sids[i]) as Data;
    loaded.n = 2;
    await fx.store.set(sids[i], loaded as never);
    assert.equal(
      await fx.redis.hGet(`session:${sids[i]}`, "\0user"),
      user,
      `${JSON.stringify(id)} stored as given`,
    );
    assert.equal(
      await fx.redis.hGet(`session:${sids[i]}`, "\0uat"),
      loggedInAt,
      `${JSON.stringify(id)}: no new login`,
    );
    assert.deepEqual((await fx.store.sessionsOf(id as string)).map((session) => session.id), [sids[i]]);
  }
  // Each user's "log out everywhere" takes its own session and no other.
  for (const [i, id] of IDS.entries()) {
    assert.equal(await fx.store.destroyUser(id as string), 1, JSON.stringify(id));
    assert.equal(await fx.store.get(sids[i]), null);
    for (const sid of sids.slice(i + 1)) {
      assert.ok(await fx.store.get(sid), `${sid} outlived ${JSON.stringify(id)}'s logout`);
    }
  }
});

test("a user id with a lone UTF-16 surrogate is refused with a TypeError at the request, nothing written", async () => {
  await using fx = await storeFixture({ user: (session) => session.userId });
  for (const id of ["ab\uD800", "ab\uDC00", "\uDC00\uD800"]) {
    await assert.rejects(fx.store.set("new", { cookie: cookie(), userId: id } as never), (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /lone UTF-16 surrogate/);
      return true;
    });
    assert.equal(await fx.redis.exists("session:new"), 0);
    await assert.rejects(fx.store.sessionsOf(id), TypeError);
    await assert.rejects(fx.store.destroyUser(id), TypeError);
  }
  // A logged-in session switching to such an id keeps what it had.
  await fx.store.set("s", { cookie: cookie(), userId: "ann", n: 1 } as never);
  const loaded = await fx.store.get("s") as Data;
  loaded.userId = "ann\uD800";
  loaded.n = 2;
  await assert.rejects(fx.store.set("s", loaded as never), TypeError);
  assert.equal(await fx.redis.hGet("session:s", "n"), "1");
  assert.deepEqual((await fx.store.sessionsOf("ann")).map((session) => session.id), ["s"]);
  // Well-formed pairs are fine.
  await fx.store.set("p", { cookie: cookie(), userId: "ab\uD83C\uDF89" } as never);
  assert.deepEqual((await fx.store.sessionsOf("ab🎉")).map((session) => session.id), ["p"]);
});
