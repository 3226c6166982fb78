/**
 * The scripts on every write's path stay lean: what each runs inside Redis on
 * its common path (INFO commandstats of a real redis-server), and no Lua
 * function defined per call. bench/script_bench.ts measures what they cost.
 */

import assert from "node:assert/strict";
import { COMMIT_SCRIPT } from "../src/scripts/commit_script.ts";
import { REFRESH_SCRIPT } from "../src/scripts/refresh_script.ts";
import { RELEASE_SCRIPT } from "../src/scripts/release_script.ts";
import { type LuaScript, runScript } from "../src/scripts/script_runner.ts";
import { type Client, connectClient, startRedisServer, test } from "./_helpers.ts";

const KEY = "session:s1";
const DAY = "86400000";

/** The commands Redis ran (scripts' own included) while `work` ran, by name, with their counts. */
async function commandsRun(redis: Client, work: () => Promise<unknown>): Promise<Record<string, number>> {
  await redis.sendCommand(["CONFIG", "RESETSTAT"]);
  await work();
  const info = String(await redis.sendCommand(["INFO", "commandstats"]));
  const counts: Record<string, number> = {};
  for (const [, name, calls] of info.matchAll(/cmdstat_([\w|]+):calls=(\d+)/g)) {
    if (!name.startsWith("config")) counts[name] = Number(calls);
  }
  return counts;
}

async function withSession(
  fn: (redis: Client, run: (s: LuaScript, a: string[]) => Promise<unknown>) => Promise<void>,
) {
  await using server = await startRedisServer();
  await using redis = await connectClient(server);
  await redis.hSet(KEY, { cookie: "c", visits: "1", "\0ttl": DAY, "\0exp": String(Date.now() + 1000) });
  await redis.pExpire(KEY, 1000);
  const send = (_key: string, args: readonly string[]) => redis.sendCommand([...args]);
  await fn(redis, (script, args) => runScript(send, script, KEY, args));
}

test("a commit of one property that keeps the expiry runs one HMGET and one HSET inside Redis", async () => {
  await withSession(async (redis, run) => {
    await run(COMMIT_SCRIPT, ["", "", "", "", ""]).catch(() => {}); // cached: the count is EVALSHA's alone
    const args = ["", "", DAY, "=" + DAY, String(Date.now()), "u", "visits", "1", "2"];
    const counts = await commandsRun(
      redis,
      async () => assert.deepEqual(await run(COMMIT_SCRIPT, args), ["ok"]),
    );
    assert.deepEqual(counts, { evalsha: 1, hmget: 1, hset: 1 });
    assert.equal(await redis.hGet(KEY, "visits"), "2");
  });
});

test("a renewal by the refresh script runs HMGET, HSET and PEXPIRE inside Redis, nothing else", async () => {
  await withSession(async (redis, run) => {
    await run(REFRESH_SCRIPT, ["", "", DAY, "", "0", "", ""]);
    const now = Date.now();
    const args = [DAY, String(now + Number(DAY)), DAY, "=" + DAY, String(now), "", ""];
    const counts = await commandsRun(redis, async () => assert.equal(await run(REFRESH_SCRIPT, args), 1));
    assert.deepEqual(counts, { evalsha: 1, hmget: 1, hset: 1, pexpire: 1 });
    assert.ok(await redis.pTTL(KEY) > 1000);
  });
});

test("the release script runs HGET and HDEL inside Redis, nothing else", async () => {
  await withSession(async (redis, run) => {
    await redis.hSet(KEY, "\0lock", `${Date.now() + 5000}:tokA`);
    await run(RELEASE_SCRIPT, ["other"]);
    const counts = await commandsRun(redis, async () => assert.equal(await run(RELEASE_SCRIPT, ["tokA"]), 1));
    assert.deepEqual(counts, { evalsha: 1, hget: 1, hdel: 1 });
  });
});

Deno.test("the scripts on every write's path define no Lua function per call", () => {
  for (const script of [COMMIT_SCRIPT, REFRESH_SCRIPT, RELEASE_SCRIPT]) {
    assert.doesNotMatch(script.source, /\bfunction\b/, script.name);
  }
});
