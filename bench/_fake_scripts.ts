/**
 * The store's Lua scripts, emulated in JavaScript for the benchmarks' fake Redis:
 * each follows its script in `src/scripts/` step by step (argument checks,
 * replies, metadata fields, expiry). tests/bench_smoke_test.ts holds them to
 * redis-server running the real Lua. Redis `TIME` is the fake's clock (`db.now`); the fake holds only
 * hashes and strings, so the scripts' "not a session" errors for other types never arise.
 * @module
 */

import { COMMIT_SCRIPT } from "../src/scripts/commit_script.ts";
import { CONVERT_SCRIPT } from "../src/scripts/convert_script.ts";
import { DESTROY_SCRIPT } from "../src/scripts/destroy_script.ts";
import { LOAD_SCRIPT } from "../src/scripts/load_script.ts";
import { REFRESH_SCRIPT } from "../src/scripts/refresh_script.ts";
import { RELEASE_SCRIPT } from "../src/scripts/release_script.ts";
import { REPLACE_SCRIPT } from "../src/scripts/replace_script.ts";
import type { LuaScript } from "../src/scripts/script_runner.ts";
import type { Keyspace } from "./_fake_keyspace.ts";

const DEAD = "\0dead";
const TTL = "\0ttl";
const LOCK = "\0lock";
const EXP = "\0exp";

/** A script's emulation: KEYS[1] and ARGV (0-based here: ARGV[1] is `argv[0]`). */
export type ScriptEmulation = (db: Keyspace, key: string, argv: readonly string[]) => unknown;

const whole = (text: string | undefined) => text !== undefined && text.length <= 16 && /^\d+$/.test(text);

/** Lua's `tonumber` for the decimal strings the scripts store: `undefined` where it gives nil. */
function luaNumber(text: string | undefined | null): number | undefined {
  if (text === undefined || text === null || !/^\s*-?\d+(\.\d+)?\s*$/.test(text)) return undefined;
  return Number(text);
}

/** `_expiry_lua.ts`: ARGV[1..5] checked, then `keep_newer_expiry` and `apply_expiry`. */
class ExpiryArgs {
  pttl: string;
  exp: string | undefined;
  sliding: string;
  #argv: readonly string[];

  constructor(argv: readonly string[]) {
    const [pttl, exp, sliding] = argv;
    // Only the key's life is checked up front (see `_expiry_lua.ts`).
    if (!(pttl === "" || pttl === "-1" || whole(pttl))) {
      throw new Error(`ERR invalid key life in ms: ${pttl}`);
    }
    this.pttl = pttl;
    this.exp = pttl === "" ? undefined : exp; // the key's expiry stays, and so does `\0exp`
    this.sliding = sliding;
    this.#argv = argv;
  }

  keepNewer(stored: string | undefined): boolean {
    const guard = this.#argv[3];
    if (guard[0] !== "=" || stored === undefined || stored === guard.slice(1)) return false;
    this.sliding = stored;
    const ms = whole(stored) ? Number(stored) : undefined;
    if (this.pttl !== "" && ms !== undefined && ms > 0) {
      const now = luaNumber(this.#argv[4]);
      if (now === undefined) throw new Error(`ERR invalid time in ms: ${this.#argv[4]}`);
      if (this.pttl !== "-1") this.pttl = stored;
      this.exp = (now + ms).toFixed(0);
    } else {
      this.pttl = "";
      this.exp = undefined;
    }
    return true;
  }

  apply(db: Keyspace, key: string): void {
    if (this.pttl === "-1") db.persist(key);
    else if (this.pttl !== "") db.pexpire(key, Number(this.pttl));
  }
}

/** Lock mode: whether `held` (`deadline:token`) is held by `token`. */
const heldBy = (held: string | undefined, token: string) => held !== undefined && held.endsWith(":" + token);

function load(db: Keyspace, key: string, argv: readonly string[]): unknown {
  if (argv[0] !== "" && !whole(argv[0])) throw new Error(`ERR invalid time: ${argv[0]}`);
  const entry = db.get(key);
  if (entry?.kind === "string") return ["string", db.pttl(key), entry.value];
  if (!entry) return null;
  const fields: string[] = [];
  let sliding: string | undefined;
  let lock: string | undefined;
  let at = -1;
  let indexDeadline: number | undefined;
  for (const [name, value] of entry.fields) {
    fields.push(name, value);
    if (name.charCodeAt(0) === 0) {
      if (name === DEAD) return null;
      if (name === TTL) sliding = value;
      else if (name === LOCK) lock = value;
      else if (name === EXP) at = fields.length - 1;
      else if (name === "\0uexp") indexDeadline = luaNumber(value);
    }
  }
  if (argv[1]) {
    const now = db.now;
    if (lock !== undefined) {
      const colon = lock.indexOf(":");
      const deadline = Number(lock.slice(0, colon));
      if (deadline > now && lock.slice(colon + 1) !== argv[1]) return ["locked", deadline - now];
    }
    entry.fields.set(LOCK, `${(now + Number(argv[2])).toFixed(0)}:${argv[1]}`);
  }
  const ms = luaNumber(sliding ?? "");
  if (
    argv[0] !== "" && ms !== undefined && ms > 0 && indexDeadline !== undefined && indexDeadline >= 0 &&
    Number(argv[0]) + ms * 1.5 > indexDeadline
  ) {
    return ["hash", db.pttl(key), fields, "extend"];
  }
  if (argv[0] !== "" && ms !== undefined && ms > 0) {
    const exp = (Number(argv[0]) + ms).toFixed(0);
    db.pexpire(key, ms);
    entry.fields.set(EXP, exp);
    if (at >= 0) fields[at] = exp;
    else fields.push(EXP, exp);
    return ["hash", ms, fields];
  }
  return ["hash", db.pttl(key), fields];
}

function commit(db: Keyspace, key: string, argv: readonly string[]): unknown {
  const expiry = new ExpiryArgs(argv);
  const kinds = argv[5];
  const n = kinds.length;
  const token = argv[3 * n + 6];
  const entry = db.get(key);
  if (entry?.kind === "string") return ["gone"];
  const current = (name: string) => entry?.fields.get(name);
  if (current(DEAD) !== undefined) return ["dead"];
  const storedSliding = current(TTL);
  if (storedSliding === undefined) return ["gone"];
  const conflicts: unknown[] = ["conflict"];
  for (let i = 1; i <= n; i++) {
    const change = kinds[i - 1];
    if (change === "w") continue;
    const value = current(argv[3 * i + 3]);
    if ((change === "a" && value !== undefined) || (change !== "a" && value !== argv[3 * i + 4])) {
      conflicts.push(i, value === undefined ? "0" : "1", value ?? "");
    }
  }
  if (conflicts.length > 1) return conflicts;
  const storedExp = current(EXP);
  const held = current(LOCK);
  const kept = expiry.keepNewer(storedSliding);
  if (expiry.pttl === "0") {
    db.delete(key);
    return ["ok"];
  }
  const sets: string[] = [];
  const removals: string[] = [];
  if (storedSliding !== expiry.sliding) sets.push(TTL, expiry.sliding);
  if (expiry.exp !== undefined && storedExp !== expiry.exp) sets.push(EXP, expiry.exp);
  for (let i = 1; i <= n; i++) {
    if (kinds[i - 1] === "r") removals.push(argv[3 * i + 3]);
    else sets.push(argv[3 * i + 3], argv[3 * i + 5]);
  }
  if (token && heldBy(held, token)) removals.push(LOCK);
  db.hset(key, sets);
  db.hdel(key, removals);
  expiry.apply(db, key);
  return kept ? ["ok", expiry.sliding, expiry.exp ?? storedExp ?? ""] : ["ok"];
}

function refresh(db: Keyspace, key: string, argv: readonly string[]): unknown {
  const expiry = new ExpiryArgs(argv);
  const entry = db.get(key);
  if (!entry) return 0;
  if (entry.kind === "string") {
    if (expiry.pttl === "0") db.delete(key);
    else expiry.apply(db, key);
    return 1;
  }
  const { fields } = entry;
  if (fields.has(DEAD)) return 0;
  const storedSliding = fields.get(TTL);
  const storedExp = fields.get(EXP);
  const held = fields.get(LOCK);
  const kept = expiry.keepNewer(storedSliding);
  if (expiry.pttl === "0") {
    db.delete(key);
    return 1;
  }
  const sets: string[] = [];
  if (argv[5] !== "") sets.push(argv[5], argv[6]);
  for (let i = 8; i + 1 < argv.length; i += 2) sets.push(argv[i], argv[i + 1]);
  if (storedSliding !== expiry.sliding) sets.push(TTL, expiry.sliding);
  if (expiry.exp !== undefined && storedExp !== expiry.exp) sets.push(EXP, expiry.exp);
  db.hset(key, sets);
  if (argv[7] && heldBy(held, argv[7])) db.hdel(key, [LOCK]);
  expiry.apply(db, key);
  return kept ? [1, expiry.sliding, expiry.exp ?? storedExp ?? ""] : 1;
}

function replace(db: Keyspace, key: string, argv: readonly string[]): unknown {
  const expiry = new ExpiryArgs(argv);
  const entry = db.get(key);
  if (entry?.kind === "hash" && entry.fields.has(DEAD)) return "dead";
  if (expiry.pttl === "0") {
    db.delete(key);
    return "ok";
  }
  // The hash rewritten whole, in place as the script does (a string is replaced): metadata, the
  // pairs from ARGV[6], then the fields it held that the write has not (the same names: none).
  const fields = entry?.kind === "hash" ? entry.fields : new Map<string, string>();
  fields.set(TTL, expiry.sliding).set(EXP, expiry.exp ?? "");
  for (let i = 5; i + 1 < argv.length; i += 2) fields.set(argv[i], argv[i + 1]);
  if (fields.size > 2 + (argv.length - 5) / 2) {
    for (const name of fields.keys()) {
      if (name !== TTL && name !== EXP && !argv.some((arg, i) => i >= 5 && i % 2 === 1 && arg === name)) {
        fields.delete(name);
      }
    }
  }
  const forever = expiry.pttl === "-1" || expiry.pttl === "";
  db.set(key, { kind: "hash", fields, expiresAt: forever ? -1 : db.now + Number(expiry.pttl) });
  return "ok";
}

function convert(db: Keyspace, key: string, argv: readonly string[]): unknown {
  const [, now, sliding, renewal, renewedExp] = argv;
  if (
    !whole(now) || !(sliding === "" || whole(sliding)) || !(renewal === "" || whole(renewal)) ||
    !(renewal === "" || whole(renewedExp))
  ) {
    throw new Error(
      `ERR invalid arguments (now, sliding, pttl, exp): ${now}, ${sliding}, ${renewal}, ${renewedExp}`,
    );
  }
  const entry = db.get(key);
  if (entry?.kind !== "string") return "other";
  if (entry.value !== argv[0]) return ["changed", entry.value];
  let pttl = db.pttl(key);
  let exp = "";
  if (renewal !== "" && renewal !== "0") {
    pttl = Number(renewal);
    exp = renewedExp;
  } else if (pttl > 0) {
    exp = (Number(now) + pttl).toFixed(0);
  }
  db.delete(key);
  db.hset(key, [TTL, sliding, EXP, exp]);
  db.hset(key, argv, 5);
  if (pttl > 0) db.pexpire(key, pttl);
  return "converted";
}

function destroy(db: Keyspace, key: string, argv: readonly string[]): unknown {
  if (!whole(argv[0])) throw new Error(`ERR invalid tombstone life in ms: ${argv[0]}`);
  const entry = db.get(key);
  const live = !entry ? 0 : entry.kind === "string" ? 1 : entry.fields.has(DEAD) ? 0 : 1;
  // DEL, then HSET and PEXPIRE of the tombstone (a life of 0: no tombstone).
  if (argv[0] === "0") db.delete(key);
  else {db.set(key, {
      kind: "hash",
      fields: new Map<string, string>().set(DEAD, "1"),
      expiresAt: db.now + Number(argv[0]),
    });}
  return live;
}

function release(db: Keyspace, key: string, argv: readonly string[]): unknown {
  const entry = db.get(key);
  if (entry?.kind !== "hash") return 0;
  if (!heldBy(entry.fields.get(LOCK), argv[0])) return 0;
  db.hdel(key, [LOCK]);
  return 1;
}

/** Every emulated script, by the script it stands for. */
export const SCRIPT_EMULATIONS: ReadonlyMap<LuaScript, ScriptEmulation> = new Map([
  [LOAD_SCRIPT, load],
  [COMMIT_SCRIPT, commit],
  [REFRESH_SCRIPT, refresh],
  [REPLACE_SCRIPT, replace],
  [CONVERT_SCRIPT, convert],
  [DESTROY_SCRIPT, destroy],
  [RELEASE_SCRIPT, release],
]);
