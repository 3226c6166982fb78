/**
 * The script microbenchmark's cases: every script the store runs, each on one
 * path called the same way on every call, with the data it needs in Redis; the
 * floor (a script that only returns `{'ok'}`) and the commit's reference row.
 * @module
 */

import { COMMIT_SCRIPT } from "../src/scripts/commit_script.ts";
import { CONVERT_SCRIPT } from "../src/scripts/convert_script.ts";
import { DESTROY_SCRIPT } from "../src/scripts/destroy_script.ts";
import { LOAD_SCRIPT } from "../src/scripts/load_script.ts";
import { REFRESH_SCRIPT } from "../src/scripts/refresh_script.ts";
import { RELEASE_SCRIPT } from "../src/scripts/release_script.ts";
import { REPLACE_SCRIPT } from "../src/scripts/replace_script.ts";
import { defineScript, type LuaScript } from "../src/scripts/script_runner.ts";
import { USER_DESTROY_SCRIPT } from "../src/scripts/user_destroy_script.ts";
import { USER_INDEX_SCRIPT } from "../src/scripts/user_index_script.ts";
import { USER_MARK_SCRIPT } from "../src/scripts/user_mark_script.ts";
import { USER_PROBE_SCRIPT } from "../src/scripts/user_probe_script.ts";

/** The floor: Redis's cost of running any script with these arguments. */
export const TRIVIAL_SCRIPT: LuaScript = defineScript("trivial", "return {'ok'}");

/**
 * The least a compare-and-set can run: the commit's HMGET and HSET from Lua, nothing compared.
 * Its row shows what of the commit's cost is the two commands, not the commit's own Lua.
 */
export const BARE_CAS_SCRIPT: LuaScript = defineScript(
  "bare read and write",
  `redis.call('HMGET', KEYS[1], '\\0dead', '\\0ttl', ARGV[7])
redis.call('HSET', KEYS[1], ARGV[7], ARGV[9])
return {'ok'}`,
);

/** The session key every case but the user index uses. */
export const KEY = "session:bench";
/** Sessions per user: the user's index of sessions, a key of its own. */
const INDEX_KEY = "session-user:alice";
/** A day in ms: the sessions' maxAge. */
export const DAY = "86400000";

/** One script on one path, called the same way on every round. */
export interface ScriptCase {
  /** What is measured. */
  name: string;
  script: LuaScript;
  /** Its only key. @default {KEY} */
  key?: string;
  /** Commands run once before the calls. */
  setup: string[][];
  /** Commands sent before call i (plain commands, counted apart from the script). */
  prepare?: (i: number) => string[][];
  /** The script's ARGV at call i. */
  args: (i: number, now: number) => string[];
  /** The goal: at most this many times the floor, if the case has one. */
  goal?: number;
}

/** A small session's fields and values, as our store keeps them in its hash. */
export const SESSION = [
  "cookie",
  '{"originalMaxAge":86400000,"expires":"2026-12-06T12:00:00.000Z","httpOnly":true,"path":"/"}',
  "user",
  '"alice"',
  "visits",
  "0",
];
const LIVE = ["HSET", KEY, ...SESSION, "\0ttl", DAY, "\0exp", "1796000000000"];
/** Sessions per user: a live session of alice, logged in at some time, kept by her index until some time. */
const LIVE_OF_ALICE = [...LIVE, "\0user", "alice", "\0uat", "1795000000000", "\0uexp", "1797000000000"];
/** The same session as connect-redis stores it: one JSON string. */
export const WHOLE = JSON.stringify({ cookie: JSON.parse(SESSION[1]), user: "alice", visits: 0 });

/** The expiry arguments (`_expiry_lua.ts`) of a write that renews, or (`keep`) leaves the expiry. */
export function expiry(now: number, keep: boolean): string[] {
  return keep
    ? ["", "", DAY, "=" + DAY, String(now)]
    : [DAY, String(now + Number(DAY)), DAY, "=" + DAY, String(now)];
}

/** The cases, goals with them: what the hot path may cost, in floors. */
export const SCRIPT_CASES: readonly ScriptCase[] = [
  {
    name: "commit: one property changed, expiry kept",
    script: COMMIT_SCRIPT,
    setup: [["DEL", KEY], LIVE],
    args: (i, now) => [...expiry(now, true), "u", "visits", String(i), String(i + 1)],
    goal: 1.6,
  },
  {
    name: "reference: the commit's HMGET + HSET alone, nothing checked",
    script: BARE_CAS_SCRIPT,
    setup: [["DEL", KEY], LIVE],
    args: (i, now) => [...expiry(now, true), "u", "visits", String(i), String(i + 1)],
  },
  {
    name: "commit: one property changed, expiry renewed",
    script: COMMIT_SCRIPT,
    setup: [["DEL", KEY], LIVE],
    args: (i, now) => [...expiry(now + i, false), "u", "visits", String(i), String(i + 1)],
  },
  {
    name: "refresh: renewal of an unchanged session",
    script: REFRESH_SCRIPT,
    setup: [["DEL", KEY], LIVE],
    args: (i, now) => [...expiry(now + i, false), "", "", ""],
  },
  {
    name: "load: exact renewal (renewAfter 0)",
    script: LOAD_SCRIPT,
    setup: [["DEL", KEY], LIVE],
    args: (i, now) => [String(now + i)],
  },
  {
    name: "release: a lock the token holds",
    script: RELEASE_SCRIPT,
    setup: [["DEL", KEY], LIVE],
    prepare: () => [["HSET", KEY, "\0lock", "1796000000000:tok"]],
    args: () => ["tok"],
  },
  {
    name: "replace: a new small session",
    script: REPLACE_SCRIPT,
    setup: [["DEL", KEY]],
    prepare: () => [["DEL", KEY]],
    args: (_i, now) => [DAY, String(now + Number(DAY)), DAY, "", String(now), ...SESSION],
  },
  {
    name: "destroy: a live session",
    script: DESTROY_SCRIPT,
    setup: [["DEL", KEY]],
    prepare: () => [LIVE],
    args: () => ["5000"],
  },
  {
    name: "load: taking a free lock (lock mode)",
    script: LOAD_SCRIPT,
    setup: [["DEL", KEY], LIVE],
    prepare: () => [["HDEL", KEY, "\0lock"]],
    args: (i) => ["", `token${i}`, "5000"],
  },
  {
    name: "convert: a connect-redis string to a hash",
    script: CONVERT_SCRIPT,
    setup: [["DEL", KEY]],
    prepare: () => [["DEL", KEY], ["SET", KEY, WHOLE, "PX", DAY]],
    args: (_i, now) => [WHOLE, String(now), DAY, "", "", ...SESSION],
  },
  {
    name: "user index: a login's entry added to its user's index",
    script: USER_INDEX_SCRIPT,
    key: INDEX_KEY,
    setup: [["DEL", INDEX_KEY], ["ZADD", INDEX_KEY, "1797000000000", "other"]],
    prepare: () => [["ZREM", INDEX_KEY, "bench"]],
    args: () => ["0", "bench", "+", "bench", DAY],
  },
  {
    name: "user destroy: a live session of the user",
    script: USER_DESTROY_SCRIPT,
    setup: [["DEL", KEY]],
    prepare: () => [["DEL", KEY], LIVE_OF_ALICE],
    args: () => ["5000", "alice", "strict"],
  },
  {
    name: "user probe: a live session of the user",
    script: USER_PROBE_SCRIPT,
    setup: [["DEL", KEY], LIVE_OF_ALICE],
    args: () => ["alice"],
  },
  {
    name: "user mark: the index entry's new deadline recorded",
    script: USER_MARK_SCRIPT,
    setup: [["DEL", KEY], LIVE_OF_ALICE],
    args: (i, now) => ["alice", String(now + Number(DAY) + i)],
  },
];
