/**
 * The keyspace of the benchmarks' in-process fake Redis: hashes and strings with
 * millisecond expiry, expired lazily on access as Redis does, and the few
 * primitives both the plain commands and the script emulations build on.
 * @module
 */

/** One key's value and when it expires (ms since the epoch, `-1` for never). */
export type Entry =
  | { kind: "hash"; fields: Map<string, string>; expiresAt: number }
  | { kind: "string"; value: string; expiresAt: number };

/** The error Redis answers a command on a key of the wrong type with. */
export function wrongType(): Error {
  return new Error("WRONGTYPE Operation against a key holding the wrong kind of value");
}

/** Keys with millisecond expiry. */
export class Keyspace {
  #keys = new Map<string, Entry>();
  #now: number | undefined;

  /**
   * The time of the command being run (ms since the epoch), read from the clock at its first
   * use: Redis, too, reads its clock once per command (a script's commands all see one time),
   * and a command that needs no time reads none. Call {@linkcode tick} before each command.
   */
  get now(): number {
    return this.#now ??= Date.now();
  }

  /** Starts a new command: its first use of {@linkcode now} reads the clock again. */
  tick(): void {
    this.#now = undefined;
  }

  /** The entry under `key`, dropping it when it has expired. */
  get(key: string): Entry | undefined {
    const entry = this.#keys.get(key);
    if (entry && entry.expiresAt >= 0 && entry.expiresAt <= this.now) {
      this.#keys.delete(key);
      return undefined;
    }
    return entry;
  }

  /** The hash under `key`, `undefined` when missing; WRONGTYPE for a string (as HGETALL, HMGET do). */
  hash(key: string): Map<string, string> | undefined {
    const entry = this.get(key);
    if (entry?.kind === "string") throw wrongType();
    return entry?.fields;
  }

  /** Stores `entry` under `key` (SET, or a new hash). */
  set(key: string, entry: Entry): void {
    this.#keys.set(key, entry);
  }

  /** DEL: whether a live key was removed. */
  delete(key: string): boolean {
    const existed = this.get(key) !== undefined;
    this.#keys.delete(key);
    return existed;
  }

  /** HSET on `key` (created without expiry when missing), from `pairs[first..]` as field, value. */
  hset(key: string, pairs: readonly string[], first = 0): void {
    if (first + 1 >= pairs.length) return;
    let entry = this.get(key);
    if (entry?.kind === "string") throw wrongType();
    if (!entry) this.#keys.set(key, entry = { kind: "hash", fields: new Map(), expiresAt: -1 });
    for (let i = first; i + 1 < pairs.length; i += 2) entry.fields.set(pairs[i], pairs[i + 1]);
  }

  /** HDEL; like Redis, a hash left empty is deleted. */
  hdel(key: string, fields: readonly string[]): void {
    const entry = this.get(key);
    if (entry?.kind !== "hash") return;
    for (const field of fields) entry.fields.delete(field);
    if (entry.fields.size === 0) this.#keys.delete(key);
  }

  /** PTTL: `-2` missing, `-1` no expiry, else the ms left. */
  pttl(key: string): number {
    const entry = this.get(key);
    if (!entry) return -2;
    return entry.expiresAt < 0 ? -1 : entry.expiresAt - this.now;
  }

  /** PEXPIRE (a life of 0 or less deletes the key, as in Redis). */
  pexpire(key: string, ms: number): void {
    const entry = this.get(key);
    if (!entry) return;
    if (ms <= 0) this.#keys.delete(key);
    else entry.expiresAt = this.now + ms;
  }

  /** PERSIST. */
  persist(key: string): void {
    const entry = this.get(key);
    if (entry) entry.expiresAt = -1;
  }

  /** Every live key. */
  keys(): string[] {
    return [...this.#keys.keys()].filter((key) => this.get(key) !== undefined);
  }

  /** TYPE: `none`, `hash` or `string`. */
  type(key: string): "none" | "hash" | "string" {
    return this.get(key)?.kind ?? "none";
  }
}
