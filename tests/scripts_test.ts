import assert from "node:assert/strict";
import { COMMIT_SCRIPT } from "../src/scripts/commit_script.ts";
import { DESTROY_SCRIPT } from "../src/scripts/destroy_script.ts";
import { ALL_SCRIPTS } from "../src/scripts/all_scripts.ts";
import { LOAD_SCRIPT } from "../src/scripts/load_script.ts";
import { REFRESH_SCRIPT } from "../src/scripts/refresh_script.ts";
import { RELEASE_SCRIPT } from "../src/scripts/release_script.ts";
import { REPLACE_SCRIPT } from "../src/scripts/replace_script.ts";
import { type LuaScript, runScript } from "../src/scripts/script_runner.ts";
import { type Client, connectClient, type RedisServer, startRedisServer, test } from "./_helpers.ts";

const KEY = "session:s1";

/** A real Redis, a client on it, and a way to run the store's scripts through that client. */
interface ScriptFixture extends AsyncDisposable {
  redis: Client;
  server: RedisServer;
  /** Every command sent, in order. */
  sent: string[][];
  run(script: LuaScript, args: string[], key?: string): Promise<unknown>;
}

async function scriptFixture(): Promise<ScriptFixture> {
  const server = await startRedisServer();
  const redis = await connectClient(server);
  const sent: string[][] = [];
  const send = (_key: string, args: readonly string[]) => {
    sent.push([...args]);
    return redis.sendCommand([...args]);
  };
  return {
    redis,
    server,
    sent,
    run: (script, args, key = KEY) => runScript(send, script, key, args),
    async [Symbol.asyncDispose]() {
      await redis[Symbol.asyncDispose]();
      await server.kill();
    },
  };
}

/** Asserts a PTTL within `[min, max]`. */
async function assertPttl(redis: Client, min: number, max: number, key = KEY): Promise<void> {
  const pttl = await redis.pTTL(key);
  assert.ok(pttl >= min && pttl <= max, `PTTL ${pttl} not in [${min}, ${max}]`);
}

/** Redis's clock in ms, which lock deadlines are measured against. */
async function redisNow(redis: Client): Promise<number> {
  const [seconds, micros] = await redis.sendCommand(["TIME"]) as [string, string];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/** The `\0lock` field as deadline and token. */
async function lockOf(redis: Client): Promise<{ deadline: number; token: string } | null> {
  const held = await redis.hGet(KEY, "\0lock");
  if (held === null) return null;
  const colon = held.indexOf(":");
  return { deadline: Number(held.slice(0, colon)), token: held.slice(colon + 1) };
}

/** Reads a hash as a plain object (node-redis gives a null-prototype one), without `\0exp` (tested on its own). */
async function hash(redis: Client, key = KEY): Promise<Record<string, string>> {
  const { "\0exp": _, ...fields } = await redis.hGetAll(key);
  return fields;
}

/**
 * The expiry arguments of the writing scripts: pttl, the matching `\0exp`, sliding, no guard, now.
 * @param pttl The key's life ("-1" none, "0" delete).
 * @param sliding The sliding expiry to record.
 */
function expiry(pttl: string, sliding: string): string[] {
  const now = Date.now();
  return [pttl, Number(pttl) > 0 ? String(now + Number(pttl)) : "", sliding, "", String(now)];
}

/** Asserts the script rejects with a WRONGTYPE error and the list under KEY is untouched. */
async function assertWrongTypeKeepsList(fx: ScriptFixture, script: LuaScript, args: string[]): Promise<void> {
  await fx.redis.rPush(KEY, ["x", "y"]);
  await assert.rejects(fx.run(script, args), (error: Error) => {
    assert.match(error.message, /^WRONGTYPE/);
    assert.match(error.message, /list/);
    return true;
  });
  assert.equal(await fx.redis.type(KEY), "list");
  assert.deepEqual(await fx.redis.lRange(KEY, 0, -1), ["x", "y"]);
  assert.equal(await fx.redis.pTTL(KEY), -1);
}

// ---------------------------------------------------------------------------------------------------------
// load

test("load script answers null for a missing key", async () => {
  await using fx = await scriptFixture();
  assert.equal(await fx.run(LOAD_SCRIPT, [String(Date.now())]), null);
  assert.equal(await fx.redis.exists(KEY), 0);
});

test("load script answers null for a tombstone and leaves it as it is", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { "\0dead": "1", "\0ttl": "60000" });
  await fx.redis.pExpire(KEY, 3000);
  assert.equal(await fx.run(LOAD_SCRIPT, [String(Date.now())]), null);
  await assertPttl(fx.redis, 1, 3000);
});

test("load script returns a hash tagged with its pttl, renewing the sliding expiry when given the time", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { cookie: "{}", n: "1", "\0ttl": "60000" });
  await fx.redis.pExpire(KEY, 1000);
  const now = Date.now();
  const reply = await fx.run(LOAD_SCRIPT, [String(now)]) as unknown[];
  assert.equal(reply[0], "hash");
  assert.equal(typeof reply[1], "number");
  assert.ok((reply[1] as number) > 59000 && (reply[1] as number) <= 60000, `pttl ${reply[1]}`);
  const pairs = reply[2] as string[];
  const fields = Object.fromEntries(
    Array.from({ length: pairs.length / 2 }, (_, i) => [pairs[2 * i], pairs[2 * i + 1]]),
  );
  assert.deepEqual(fields, { cookie: "{}", n: "1", "\0ttl": "60000", "\0exp": String(now + 60000) });
  assert.equal(await fx.redis.hGet(KEY, "\0exp"), String(now + 60000));
  await assertPttl(fx.redis, 59000, 60000);
});

test("load script only reads on '0': the expiry is not renewed", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { n: "1", "\0ttl": "60000" });
  await fx.redis.pExpire(KEY, 1000);
  const reply = await fx.run(LOAD_SCRIPT, [""]) as unknown[];
  assert.equal(reply[0], "hash");
  assert.ok((reply[1] as number) > 0 && (reply[1] as number) <= 1000, `pttl ${reply[1]}`);
  await assertPttl(fx.redis, 1, 1000);
});

test("load script does not renew a hash without a sliding expiry", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { n: "1", "\0ttl": "" });
  await fx.redis.pExpire(KEY, 1000);
  assert.equal((await fx.run(LOAD_SCRIPT, [String(Date.now())]) as unknown[])[0], "hash");
  await assertPttl(fx.redis, 1, 1000);
  await fx.redis.hDel(KEY, "\0ttl");
  assert.equal((await fx.run(LOAD_SCRIPT, [String(Date.now())]) as unknown[])[0], "hash");
  await assertPttl(fx.redis, 1, 1000);
});

test("load script reports -1 for a hash without expiry", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { n: "1" });
  assert.deepEqual(await fx.run(LOAD_SCRIPT, [String(Date.now())]), ["hash", -1, ["n", "1"]]);
});

test("load script returns a string value tagged with its pttl", async () => {
  await using fx = await scriptFixture();
  await fx.redis.set(KEY, '{"cookie":{},"n":1}', { PX: 5000 });
  const reply = await fx.run(LOAD_SCRIPT, [String(Date.now())]) as unknown[];
  assert.equal(reply.length, 3);
  assert.equal(reply[0], "string");
  assert.ok((reply[1] as number) > 4000 && (reply[1] as number) <= 5000, `pttl ${reply[1]}`);
  assert.equal(reply[2], '{"cookie":{},"n":1}');
  await fx.redis.persist(KEY);
  assert.deepEqual(await fx.run(LOAD_SCRIPT, [String(Date.now())]), ["string", -1, '{"cookie":{},"n":1}']);
});

test("load script rejects a list with a WRONGTYPE error and leaves it alone", async () => {
  await using fx = await scriptFixture();
  await assertWrongTypeKeepsList(fx, LOAD_SCRIPT, [String(Date.now())]);
});

test("load script with a token takes the lock until Redis time + ARGV[3] ms", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { n: "1" });
  const before = await redisNow(fx.redis);
  const reply = await fx.run(LOAD_SCRIPT, ["", "tokA", "5000"]) as unknown[];
  const after = await redisNow(fx.redis);
  assert.equal(reply[0], "hash");
  const lock = await lockOf(fx.redis);
  assert.equal(lock?.token, "tokA");
  assert.ok(lock!.deadline >= before + 5000 && lock!.deadline <= after + 5000, `deadline ${lock?.deadline}`);
  assert.deepEqual(reply[2], ["n", "1"], "the reply holds the fields as they were before the lock was taken");
});

test("load script answers 'locked' with the time left while another token holds the lock", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { n: "1", "\0ttl": "60000" });
  await fx.redis.pExpire(KEY, 1000);
  await fx.run(LOAD_SCRIPT, ["", "tokA", "5000"]);
  const held = await fx.redis.hGet(KEY, "\0lock");
  const reply = await fx.run(LOAD_SCRIPT, [String(Date.now()), "tokB", "5000"]) as unknown[];
  assert.equal(reply.length, 2);
  assert.equal(reply[0], "locked");
  assert.ok((reply[1] as number) > 4000 && (reply[1] as number) <= 5000, `ms ${reply[1]}`);
  assert.equal(await fx.redis.hGet(KEY, "\0lock"), held);
  await assertPttl(fx.redis, 1, 1000); // nothing changed: not even the expiry renewal
});

test("load script lets the token that holds the lock load again, extending it", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { n: "1" });
  await fx.run(LOAD_SCRIPT, ["", "tokA", "1000"]);
  const first = await lockOf(fx.redis);
  const reply = await fx.run(LOAD_SCRIPT, ["", "tokA", "60000"]) as unknown[];
  assert.equal(reply[0], "hash");
  const second = await lockOf(fx.redis);
  assert.equal(second?.token, "tokA");
  assert.ok(second!.deadline > first!.deadline + 50000);
});

test("load script takes over a lock whose deadline has passed", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { n: "1", "\0lock": `${(await redisNow(fx.redis)) - 1}:tokA` });
  assert.equal((await fx.run(LOAD_SCRIPT, ["", "tokB", "5000"]) as unknown[])[0], "hash");
  assert.equal((await lockOf(fx.redis))?.token, "tokB");
});

test("load script without a token reads a locked session and leaves the lock alone", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { n: "1" });
  await fx.run(LOAD_SCRIPT, ["", "tokA", "5000"]);
  const held = await fx.redis.hGet(KEY, "\0lock");
  for (const args of [[""], ["", "", "5000"]]) {
    assert.equal((await fx.run(LOAD_SCRIPT, args) as unknown[])[0], "hash");
    assert.equal(await fx.redis.hGet(KEY, "\0lock"), held);
  }
});

test("load script with a token creates nothing for a missing key or a tombstone", async () => {
  await using fx = await scriptFixture();
  assert.equal(await fx.run(LOAD_SCRIPT, [String(Date.now()), "tokA", "5000"]), null);
  assert.equal(await fx.redis.exists(KEY), 0);
  await fx.redis.hSet(KEY, { "\0dead": "1" });
  assert.equal(await fx.run(LOAD_SCRIPT, [String(Date.now()), "tokA", "5000"]), null);
  assert.deepEqual(await hash(fx.redis), { "\0dead": "1" });
});

// ---------------------------------------------------------------------------------------------------------
// commit

test("commit script writes updates, adds and removals when every base still holds", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { cookie: "c1", a: "1", b: "2", "\0ttl": "1000" });
  await fx.redis.pExpire(KEY, 1000);
  const reply = await fx.run(COMMIT_SCRIPT, [
    ...expiry("60000", "30000"),
    "uraw",
    ...["a", "1", "10"],
    ...["b", "2", ""],
    ...["c", "", "3"],
    ...["cookie", "", "c2"],
  ]);
  assert.deepEqual(reply, ["ok"]);
  assert.deepEqual(await hash(fx.redis), { cookie: "c2", a: "10", c: "3", "\0ttl": "30000" });
  await assertPttl(fx.redis, 59000, 60000);
});

test("commit script records an empty sliding expiry when there is none", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { a: "1", "\0ttl": "1000" });
  assert.deepEqual(await fx.run(COMMIT_SCRIPT, [...expiry("60000", ""), "u", "a", "1", "2"]), ["ok"]);
  assert.deepEqual(await hash(fx.redis), { a: "2", "\0ttl": "" });
});

test("commit script with pttl '-1' removes the expiry", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { "\0ttl": "", a: "1" });
  await fx.redis.pExpire(KEY, 5000);
  assert.deepEqual(await fx.run(COMMIT_SCRIPT, [...expiry("-1", ""), "u", "a", "1", "2"]), ["ok"]);
  assert.equal(await fx.redis.pTTL(KEY), -1);
  assert.equal(await fx.redis.hGet(KEY, "a"), "2");
});

test("commit script writes nothing and returns the current values of conflicting fields", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { cookie: "c1", a: "5", b: "2", d: "4", "\0ttl": "1000" });
  await fx.redis.pExpire(KEY, 1000);
  const reply = await fx.run(COMMIT_SCRIPT, [
    ...expiry("60000", "60000"),
    "wuuur",
    ...["cookie", "", "c2"],
    ...["a", "1", "10"], // someone changed a: 1 → 5
    ...["b", "2", "20"], // unchanged: fine
    ...["gone", "7", "8"], // someone removed it
    ...["d", "3", ""], // someone changed d before we removed it
  ]);
  assert.deepEqual(reply, ["conflict", 2, "1", "5", 4, "0", "", 5, "1", "4"]);
  assert.deepEqual(await hash(fx.redis), { cookie: "c1", a: "5", b: "2", d: "4", "\0ttl": "1000" });
  await assertPttl(fx.redis, 1, 1000);
});

test("commit script treats 'a' on a field that now exists as a conflict", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { "\0ttl": "", a: "theirs" });
  assert.deepEqual(await fx.run(COMMIT_SCRIPT, [...expiry("60000", ""), "a", "a", "", "ours"]), [
    "conflict",
    1,
    "1",
    "theirs",
  ]);
  assert.equal(await fx.redis.hGet(KEY, "a"), "theirs");
});

test("commit script adds a field that is still absent", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { "\0ttl": "", b: "1" });
  assert.deepEqual(await fx.run(COMMIT_SCRIPT, [...expiry("60000", ""), "a", "a", "", "ours"]), ["ok"]);
  assert.equal(await fx.redis.hGet(KEY, "a"), "ours");
});

test("commit script never reports a conflict on a 'w' field", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { "\0ttl": "", cookie: "changed by someone else" });
  assert.deepEqual(
    await fx.run(COMMIT_SCRIPT, [...expiry("60000", ""), "w", "cookie", "what we loaded", "ours"]),
    [
      "ok",
    ],
  );
  assert.equal(await fx.redis.hGet(KEY, "cookie"), "ours");
});

test("commit script answers 'dead' for a tombstone and writes nothing", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { "\0dead": "1" });
  await fx.redis.pExpire(KEY, 3000);
  assert.deepEqual(
    await fx.run(COMMIT_SCRIPT, [...expiry("60000", "60000"), "aw", "a", "", "1", "cookie", "", "c"]),
    [
      "dead",
    ],
  );
  assert.deepEqual(await hash(fx.redis), { "\0dead": "1" });
  await assertPttl(fx.redis, 1, 3000);
});

test("commit script answers 'gone' for a missing key and creates nothing", async () => {
  await using fx = await scriptFixture();
  assert.deepEqual(await fx.run(COMMIT_SCRIPT, [...expiry("60000", ""), "u", "a", "1", "2"]), ["gone"]);
  assert.equal(await fx.redis.exists(KEY), 0);
});

test("commit script answers 'gone' for a string value and leaves it alone", async () => {
  await using fx = await scriptFixture();
  await fx.redis.set(KEY, "legacy");
  assert.deepEqual(await fx.run(COMMIT_SCRIPT, [...expiry("60000", ""), "u", "a", "1", "2"]), ["gone"]);
  assert.equal(await fx.redis.get(KEY), "legacy");
});

test("commit script with pttl '0' deletes the session", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { "\0ttl": "", a: "1", cookie: "c" });
  assert.deepEqual(await fx.run(COMMIT_SCRIPT, [...expiry("0", ""), "w", "cookie", "", "c2"]), ["ok"]);
  assert.equal(await fx.redis.exists(KEY), 0);
});

test("commit script with pttl '0' still checks its bases first", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { "\0ttl": "", a: "5" });
  assert.deepEqual(await fx.run(COMMIT_SCRIPT, [...expiry("0", ""), "u", "a", "1", "2"]), [
    "conflict",
    1,
    "1",
    "5",
  ]);
  assert.equal(await fx.redis.hGet(KEY, "a"), "5");
});

test("commit script rejects a list with a WRONGTYPE error and leaves it alone", async () => {
  await using fx = await scriptFixture();
  await assertWrongTypeKeepsList(fx, COMMIT_SCRIPT, [...expiry("60000", ""), "a", "a", "", "1"]);
});

test("commit script releases the lock its token holds once it writes", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { "\0ttl": "", a: "1" });
  await fx.run(LOAD_SCRIPT, ["", "tokA", "5000"]);
  assert.deepEqual(await fx.run(COMMIT_SCRIPT, [...expiry("60000", ""), "u", "a", "1", "2", "tokA"]), ["ok"]);
  assert.deepEqual(await hash(fx.redis), { a: "2", "\0ttl": "" });
});

test("commit script with no changes still releases the lock and renews the expiry", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { "\0ttl": "", a: "1" });
  await fx.run(LOAD_SCRIPT, ["", "tokA", "5000"]);
  assert.deepEqual(await fx.run(COMMIT_SCRIPT, [...expiry("60000", "60000"), "", "tokA"]), ["ok"]);
  assert.deepEqual(await hash(fx.redis), { a: "1", "\0ttl": "60000" });
  await assertPttl(fx.redis, 59000, 60000);
});

test("commit script leaves a lock held by another token", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { "\0ttl": "", a: "1" });
  await fx.run(LOAD_SCRIPT, ["", "tokB", "5000"]);
  const held = await fx.redis.hGet(KEY, "\0lock");
  assert.deepEqual(await fx.run(COMMIT_SCRIPT, [...expiry("60000", ""), "u", "a", "1", "2", "tokA"]), ["ok"]);
  assert.equal(await fx.redis.hGet(KEY, "a"), "2");
  assert.equal(await fx.redis.hGet(KEY, "\0lock"), held);
  // A token that is only a suffix of the holder's does not match either.
  assert.deepEqual(await fx.run(COMMIT_SCRIPT, [...expiry("60000", ""), "", "okB"]), ["ok"]);
  assert.equal(await fx.redis.hGet(KEY, "\0lock"), held);
});

test("commit script keeps its lock when it meets a conflict", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { "\0ttl": "", a: "5" });
  await fx.run(LOAD_SCRIPT, ["", "tokA", "5000"]);
  const held = await fx.redis.hGet(KEY, "\0lock");
  assert.deepEqual(await fx.run(COMMIT_SCRIPT, [...expiry("60000", ""), "u", "a", "1", "2", "tokA"]), [
    "conflict",
    1,
    "1",
    "5",
  ]);
  assert.equal(await fx.redis.hGet(KEY, "\0lock"), held);
});

// ---------------------------------------------------------------------------------------------------------
// replace

test("replace script turns a string value into a hash with expiry", async () => {
  await using fx = await scriptFixture();
  await fx.redis.set(KEY, '{"cookie":{},"old":1}');
  assert.equal(await fx.run(REPLACE_SCRIPT, [...expiry("60000", "60000"), "cookie", "{}", "n", "1"]), "ok");
  assert.equal(await fx.redis.type(KEY), "hash");
  assert.deepEqual(await hash(fx.redis), { cookie: "{}", n: "1", "\0ttl": "60000" });
  await assertPttl(fx.redis, 59000, 60000);
});

test("replace script drops the fields the new session does not have", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { cookie: "old", stale: "1", "\0ttl": "5" });
  await fx.redis.pExpire(KEY, 100000);
  assert.equal(await fx.run(REPLACE_SCRIPT, [...expiry("60000", ""), "cookie", "new"]), "ok");
  assert.deepEqual(await hash(fx.redis), { cookie: "new", "\0ttl": "" });
  await assertPttl(fx.redis, 59000, 60000);
});

test("replace script creates a missing session", async () => {
  await using fx = await scriptFixture();
  assert.equal(await fx.run(REPLACE_SCRIPT, [...expiry("60000", "60000"), "cookie", "c"]), "ok");
  assert.deepEqual(await hash(fx.redis), { cookie: "c", "\0ttl": "60000" });
});

test("replace script with pttl '-1' writes without expiry", async () => {
  await using fx = await scriptFixture();
  await fx.redis.set(KEY, "legacy", { PX: 5000 });
  assert.equal(await fx.run(REPLACE_SCRIPT, [...expiry("-1", ""), "cookie", "c"]), "ok");
  assert.equal(await fx.redis.pTTL(KEY), -1);
});

test("replace script with pttl '0' deletes the session", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { cookie: "old" });
  assert.equal(await fx.run(REPLACE_SCRIPT, [...expiry("0", ""), "cookie", "c"]), "ok");
  assert.equal(await fx.redis.exists(KEY), 0);
});

test("replace script refuses to overwrite a tombstone", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { "\0dead": "1" });
  await fx.redis.pExpire(KEY, 3000);
  assert.equal(await fx.run(REPLACE_SCRIPT, [...expiry("60000", "60000"), "cookie", "c", "n", "1"]), "dead");
  assert.deepEqual(await hash(fx.redis), { "\0dead": "1" });
  await assertPttl(fx.redis, 1, 3000);
});

test("replace script rejects a list with a WRONGTYPE error and leaves it alone", async () => {
  await using fx = await scriptFixture();
  await assertWrongTypeKeepsList(fx, REPLACE_SCRIPT, [...expiry("60000", ""), "cookie", "c"]);
});

// ---------------------------------------------------------------------------------------------------------
// refresh

test("refresh script renews the expiry and stores the cookie", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { cookie: "old", n: "1", "\0ttl": "1000" });
  await fx.redis.pExpire(KEY, 1000);
  assert.equal(await fx.run(REFRESH_SCRIPT, [...expiry("60000", "30000"), "cookie", "new"]), 1);
  assert.deepEqual(await hash(fx.redis), { cookie: "new", n: "1", "\0ttl": "30000" });
  await assertPttl(fx.redis, 59000, 60000);
});

test("refresh script without a cookie only renews the expiry", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { cookie: "old", "\0ttl": "1000" });
  await fx.redis.pExpire(KEY, 1000);
  assert.equal(await fx.run(REFRESH_SCRIPT, [...expiry("60000", ""), "", ""]), 1);
  assert.deepEqual(await hash(fx.redis), { cookie: "old", "\0ttl": "" });
  await assertPttl(fx.redis, 59000, 60000);
});

test("refresh script with '-1' removes the expiry and with '0' deletes", async (t) => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { cookie: "c" });
  await fx.redis.pExpire(KEY, 1000);
  await t.step("-1 persists", async () => {
    assert.equal(await fx.run(REFRESH_SCRIPT, [...expiry("-1", ""), "", ""]), 1);
    assert.equal(await fx.redis.pTTL(KEY), -1);
  });
  await t.step("0 deletes", async () => {
    assert.equal(await fx.run(REFRESH_SCRIPT, [...expiry("0", ""), "", ""]), 1);
    assert.equal(await fx.redis.exists(KEY), 0);
  });
});

test("refresh script answers 0 for a missing key and creates nothing", async () => {
  await using fx = await scriptFixture();
  assert.equal(await fx.run(REFRESH_SCRIPT, [...expiry("60000", "60000"), "cookie", "c"]), 0);
  assert.equal(await fx.redis.exists(KEY), 0);
});

test("refresh script answers 0 for a tombstone and writes nothing", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { "\0dead": "1" });
  await fx.redis.pExpire(KEY, 3000);
  assert.equal(await fx.run(REFRESH_SCRIPT, [...expiry("60000", "60000"), "cookie", "c"]), 0);
  assert.deepEqual(await hash(fx.redis), { "\0dead": "1" });
  await assertPttl(fx.redis, 1, 3000);
});

test("refresh script renews a string value without changing it", async () => {
  await using fx = await scriptFixture();
  await fx.redis.set(KEY, "legacy", { PX: 1000 });
  assert.equal(await fx.run(REFRESH_SCRIPT, [...expiry("60000", "60000"), "cookie", "c"]), 1);
  assert.equal(await fx.redis.get(KEY), "legacy");
  await assertPttl(fx.redis, 59000, 60000);
});

test("refresh script rejects a list with a WRONGTYPE error and leaves it alone", async () => {
  await using fx = await scriptFixture();
  await assertWrongTypeKeepsList(fx, REFRESH_SCRIPT, [...expiry("60000", ""), "cookie", "c"]);
});

test("refresh script stores no cookie when the cookie name is empty", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { cookie: "old", "\0ttl": "1000" });
  assert.equal(await fx.run(REFRESH_SCRIPT, [...expiry("60000", "60000"), "", ""]), 1);
  assert.deepEqual(await hash(fx.redis), { cookie: "old", "\0ttl": "60000" });
  await assertPttl(fx.redis, 59000, 60000);
});

test("refresh script releases the lock its token holds, and only that one", async (t) => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { cookie: "old" });
  await fx.run(LOAD_SCRIPT, ["", "tokA", "5000"]);
  const held = await fx.redis.hGet(KEY, "\0lock");
  await t.step("another token leaves it", async () => {
    assert.equal(await fx.run(REFRESH_SCRIPT, [...expiry("60000", ""), "cookie", "c1", "tokB"]), 1);
    assert.equal(await fx.redis.hGet(KEY, "\0lock"), held);
  });
  await t.step("the holder's token releases it", async () => {
    assert.equal(await fx.run(REFRESH_SCRIPT, [...expiry("60000", ""), "cookie", "c2", "tokA"]), 1);
    assert.deepEqual(await hash(fx.redis), { cookie: "c2", "\0ttl": "" });
  });
});

// ---------------------------------------------------------------------------------------------------------
// destroy

test("destroy script replaces a live session by a tombstone that lives deleteExpiry ms", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { cookie: "c", n: "1", "\0ttl": "60000" });
  await fx.redis.pExpire(KEY, 60000);
  assert.equal(await fx.run(DESTROY_SCRIPT, ["5000"]), 1);
  assert.deepEqual(await hash(fx.redis), { "\0dead": "1" });
  await assertPttl(fx.redis, 4000, 5000);
});

test("destroy script tombstones a string value", async () => {
  await using fx = await scriptFixture();
  await fx.redis.set(KEY, "legacy");
  assert.equal(await fx.run(DESTROY_SCRIPT, ["5000"]), 1);
  assert.deepEqual(await hash(fx.redis), { "\0dead": "1" });
  await assertPttl(fx.redis, 4000, 5000);
});

test("destroy script leaves a tombstone for a missing session too, answering 0", async () => {
  await using fx = await scriptFixture();
  assert.equal(await fx.run(DESTROY_SCRIPT, ["5000"]), 0);
  assert.deepEqual(await hash(fx.redis), { "\0dead": "1" });
  await assertPttl(fx.redis, 4000, 5000);
});

test("destroy script answers 0 for a tombstone and renews it", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { "\0dead": "1" });
  await fx.redis.pExpire(KEY, 100);
  assert.equal(await fx.run(DESTROY_SCRIPT, ["5000"]), 0);
  assert.deepEqual(await hash(fx.redis), { "\0dead": "1" });
  await assertPttl(fx.redis, 4000, 5000);
});

test("destroy script with '0' deletes without a tombstone", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { cookie: "c" });
  assert.equal(await fx.run(DESTROY_SCRIPT, ["0"]), 1);
  assert.equal(await fx.redis.exists(KEY), 0);
});

test("destroy script rejects a list with a WRONGTYPE error and leaves it alone", async () => {
  await using fx = await scriptFixture();
  await assertWrongTypeKeepsList(fx, DESTROY_SCRIPT, ["5000"]);
});

// ---------------------------------------------------------------------------------------------------------
// release

test("release script gives up the lock its token holds and nothing else", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { cookie: "c", n: "1", "\0ttl": "60000" });
  await fx.redis.pExpire(KEY, 3000);
  await fx.run(LOAD_SCRIPT, ["", "tokA", "5000"]);
  assert.equal(await fx.run(RELEASE_SCRIPT, ["tokA"]), 1);
  assert.deepEqual(await hash(fx.redis), { cookie: "c", n: "1", "\0ttl": "60000" });
  await assertPttl(fx.redis, 1, 3000);
  assert.equal(await fx.run(RELEASE_SCRIPT, ["tokA"]), 0);
});

test("release script answers 0 and keeps a lock held by another token", async () => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { n: "1" });
  await fx.run(LOAD_SCRIPT, ["", "tokB", "5000"]);
  const held = await fx.redis.hGet(KEY, "\0lock");
  for (const token of ["tokA", "okB", "B"]) {
    assert.equal(await fx.run(RELEASE_SCRIPT, [token]), 0, token);
    assert.equal(await fx.redis.hGet(KEY, "\0lock"), held, token);
  }
});

test("release script answers 0 for a missing key, a string or a list, changing nothing", async () => {
  await using fx = await scriptFixture();
  assert.equal(await fx.run(RELEASE_SCRIPT, ["tokA"]), 0);
  assert.equal(await fx.redis.exists(KEY), 0);
  await fx.redis.set(KEY, "legacy");
  assert.equal(await fx.run(RELEASE_SCRIPT, ["tokA"]), 0);
  assert.equal(await fx.redis.get(KEY), "legacy");
  await fx.redis.del(KEY);
  await fx.redis.rPush(KEY, "x");
  assert.equal(await fx.run(RELEASE_SCRIPT, ["tokA"]), 0);
  assert.deepEqual(await fx.redis.lRange(KEY, 0, -1), ["x"]);
});

// ---------------------------------------------------------------------------------------------------------
// the runner

test("runScript() uses EVALSHA once the script is cached", async () => {
  await using fx = await scriptFixture();
  await fx.run(LOAD_SCRIPT, [""]);
  fx.sent.length = 0;
  assert.equal(await fx.run(LOAD_SCRIPT, [""]), null);
  assert.deepEqual(fx.sent, [["EVALSHA", LOAD_SCRIPT.sha, "1", KEY, ""]]);
});

test("runScript() falls back to EVAL after SCRIPT FLUSH, then uses EVALSHA again", async (t) => {
  await using fx = await scriptFixture();
  await fx.redis.hSet(KEY, { "\0ttl": "", n: "1" });
  await fx.run(LOAD_SCRIPT, [""]);
  await fx.redis.scriptFlush();
  assert.deepEqual(await fx.redis.scriptExists(LOAD_SCRIPT.sha), [0]);
  fx.sent.length = 0;

  await t.step("the first call after the flush still works, through EVAL", async () => {
    assert.deepEqual(await fx.run(LOAD_SCRIPT, [""]), ["hash", -1, ["\0ttl", "", "n", "1"]]);
    assert.deepEqual(fx.sent.map((args) => args[0]), ["EVALSHA", "EVAL"]);
    assert.deepEqual(fx.sent[1], ["EVAL", LOAD_SCRIPT.source, "1", KEY, ""]);
  });
  await t.step("the next call is an EVALSHA hit", async () => {
    fx.sent.length = 0;
    assert.deepEqual(await fx.run(LOAD_SCRIPT, [""]), ["hash", -1, ["\0ttl", "", "n", "1"]]);
    assert.deepEqual(fx.sent.map((args) => args[0]), ["EVALSHA"]);
  });
});

test("runScript() does not retry with EVAL on errors other than NOSCRIPT", async () => {
  await using fx = await scriptFixture();
  await fx.redis.lPush(KEY, "x");
  await fx.run(DESTROY_SCRIPT, ["5000"]).catch(() => {});
  fx.sent.length = 0;
  await assert.rejects(fx.run(DESTROY_SCRIPT, ["5000"]), /WRONGTYPE/);
  assert.deepEqual(fx.sent.map((args) => args[0]), ["EVALSHA"]);
});

test("runScript() rejects with the send function's error when it is not NOSCRIPT", async () => {
  const failure = new Error("connection lost");
  const calls: string[] = [];
  const send = (_key: string, args: readonly string[]) => {
    calls.push(args[0]);
    return Promise.reject(failure);
  };
  await assert.rejects(runScript(send, LOAD_SCRIPT, KEY, ["1"]), (error) => error === failure);
  assert.deepEqual(calls, ["EVALSHA"]);
});

test("each script's sha is the SHA1 of its source and the names are distinct", async () => {
  const scripts = ALL_SCRIPTS;
  assert.equal(scripts.length, 11);
  await using fx = await scriptFixture();
  for (const script of scripts) {
    assert.equal(await fx.redis.scriptLoad(script.source), script.sha, script.name);
  }
  assert.equal(new Set(scripts.map((script) => script.name)).size, scripts.length);
});
