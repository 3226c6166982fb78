/**
 * The scripts rewrite a session hash in place (write first, remove after) rather
 * than delete and rewrite it, so that in a Redis Cluster slot being migrated the
 * key never vanishes midway. What they leave is what a delete and rewrite left.
 */

import assert from "node:assert/strict";
import { runScript } from "../src/scripts/script_runner.ts";
import { DESTROY_SCRIPT } from "../src/scripts/destroy_script.ts";
import { REPLACE_SCRIPT } from "../src/scripts/replace_script.ts";
import { USER_DESTROY_SCRIPT } from "../src/scripts/user_destroy_script.ts";
import { USER_INDEX_SCRIPT } from "../src/scripts/user_index_script.ts";
import type { LuaScript } from "../src/scripts/script_runner.ts";
import { connectClient, startRedisServer, test } from "./_helpers.ts";

const KEY = "session:s";

async function fixture() {
  const server = await startRedisServer();
  const redis = await connectClient(server);
  return {
    redis,
    run: (script: LuaScript, args: string[], key = KEY) =>
      runScript((_key, command) => redis.sendCommand([...command]), script, key, args),
    async [Symbol.asyncDispose]() {
      await redis[Symbol.asyncDispose]();
      await server.kill();
    },
  };
}

/** A session hash with the metadata a live session can carry, expiring in 100 s. */
async function fullSession(redis: Awaited<ReturnType<typeof fixture>>["redis"]): Promise<void> {
  await redis.hSet(KEY, {
    cookie: "{}",
    n: "1",
    "\0ttl": "100000",
    "\0exp": "1",
    "\0lock": "9:t",
    "\0user": "ann",
    "\0uat": "5",
    "\0uexp": "-1",
  });
  await redis.pExpire(KEY, 100_000);
}

test("destroy script leaves a hash holding only its tombstone, with the tombstone's life", async () => {
  await using fx = await fixture();
  for (const script of [DESTROY_SCRIPT, USER_DESTROY_SCRIPT]) {
    await fullSession(fx.redis);
    await fx.run(script, script === DESTROY_SCRIPT ? ["5000"] : ["5000", "", ""]);
    assert.deepEqual({ ...await fx.redis.hGetAll(KEY) }, { "\0dead": "1" });
    const pttl = await fx.redis.pTTL(KEY);
    assert.ok(pttl > 4000 && pttl <= 5000, `tombstone life ${pttl}`);
    // Destroyed again: still the tombstone alone, living the new life.
    await fx.run(script, script === DESTROY_SCRIPT ? ["9000"] : ["9000", "", ""]);
    assert.deepEqual({ ...await fx.redis.hGetAll(KEY) }, { "\0dead": "1" });
    assert.ok(await fx.redis.pTTL(KEY) > 8000);
    await fx.redis.del(KEY);
  }
});

test("replace script rewrites a hash in place: stale fields and metadata go, a '-1' life drops the old expiry", async () => {
  await using fx = await fixture();
  await fullSession(fx.redis);
  const now = String(Date.now());
  assert.equal(await fx.run(REPLACE_SCRIPT, ["-1", "", "", "", now, "cookie", '{"a":1}', "m", "2"]), "ok");
  assert.deepEqual({ ...await fx.redis.hGetAll(KEY) }, {
    cookie: '{"a":1}',
    m: "2",
    "\0ttl": "",
    "\0exp": "",
  });
  assert.equal(await fx.redis.pTTL(KEY), -1);
  // The same user written again keeps its login time; the other user fields are the new ones.
  await fullSession(fx.redis);
  const args = ["60000", String(Date.now() + 60000), "60000", "", now, "cookie", "{}"];
  assert.equal(await fx.run(REPLACE_SCRIPT, [...args, "\0user", "ann", "\0uat", "9", "\0uexp", "7"]), "ok");
  const stored = await fx.redis.hGetAll(KEY);
  assert.deepEqual([stored["\0user"], stored["\0uat"], stored["\0uexp"], stored["\0lock"], stored.n], [
    "ann",
    "5",
    "7",
    undefined,
    undefined,
  ]);
  const pttl = await fx.redis.pTTL(KEY);
  assert.ok(pttl > 59000 && pttl <= 60000);
});

test("user index script applies additions before removals and leaves an emptied index alone", async () => {
  await using fx = await fixture();
  const index = "session:\0user:ann";
  const run = (args: string[]) => fx.run(USER_INDEX_SCRIPT, args, index);
  assert.deepEqual(await run(["-1", "", "+", "a", "60000", "+", "b", "60000"]), ["b", "a"]);
  // Removing every entry: the key goes, and the reply is empty.
  assert.deepEqual(await run(["-1", "", "-", "a", "", "-", "b", ""]), []);
  assert.equal(await fx.redis.exists(index), 0);
  // Removing from a missing index writes nothing.
  assert.deepEqual(await run(["-1", "", "-", "a", ""]), []);
  assert.equal(await fx.redis.exists(index), 0);
  // A removal listed before an addition of the same entry: additions apply first.
  assert.deepEqual(await run(["-1", "", "-", "c", "", "+", "c", "60000", "+", "d", "60000"]), ["d"]);
  const pttl = await fx.redis.pTTL(index);
  assert.ok(pttl > 59000 && pttl <= 60001, `index life ${pttl}`);
});
