/**
 * An in-process fake Redis for the CPU benchmarks, with two faces on one
 * keyspace: the store's {@linkcode RedisConnection} (answering EVALSHA of the
 * store's scripts by running their KEYS/ARGV/reply contracts in JavaScript) and
 * the few node-redis methods connect-redis calls (get, set, expire, del).
 *
 * Replies come back as already-resolved Promises on both faces, so a benchmark
 * measures the stores' own work, not a socket. The script emulations follow the
 * Lua in `src/scripts/` step by step; the lock mode is not emulated (it throws).
 * @module
 */

import type { RedisConnection, RedisNode } from "../src/clients/connection.ts";
import { COMMIT_SCRIPT } from "../src/scripts/commit_script.ts";
import { DESTROY_SCRIPT } from "../src/scripts/destroy_script.ts";
import { LOAD_SCRIPT } from "../src/scripts/load_script.ts";
import { REFRESH_SCRIPT } from "../src/scripts/refresh_script.ts";
import { RELEASE_SCRIPT } from "../src/scripts/release_script.ts";
import { REPLACE_SCRIPT } from "../src/scripts/replace_script.ts";

const DEAD = "\0dead";
const TTL = "\0ttl";
const LOCK = "\0lock";

type Entry =
  | { kind: "hash"; fields: Map<string, string>; expiresAt: number }
  | { kind: "string"; value: string; expiresAt: number };

type Reply = unknown;
type Script = (key: string, argv: readonly string[]) => Reply;

/** The subset of a node-redis 5 client that connect-redis 9 uses for get/set/touch/destroy. */
export interface FakeNodeRedisClient {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options?: { expiration?: { type: "EX"; value: number } }): Promise<string>;
  expire(key: string, seconds: number): Promise<number>;
  del(keys: string | string[]): Promise<number>;
}

/** A keyspace of hashes and strings with millisecond expiry. */
export class FakeRedis {
  #keys = new Map<string, Entry>();
  #scripts = new Map<string, Script>([
    [LOAD_SCRIPT.sha, (key, argv) => this.#load(key, argv)],
    [COMMIT_SCRIPT.sha, (key, argv) => this.#commit(key, argv)],
    [REPLACE_SCRIPT.sha, (key, argv) => this.#replace(key, argv)],
    [REFRESH_SCRIPT.sha, (key, argv) => this.#refresh(key, argv)],
    [DESTROY_SCRIPT.sha, (key, argv) => this.#destroy(key, argv)],
    [RELEASE_SCRIPT.sha, (key, argv) => this.#release(key, argv)],
  ]);

  /** Stores a hash as the replace script would (a benchmark's setup, outside the timed part). */
  putHash(key: string, fields: ReadonlyMap<string, string>, ttlMs: number): void {
    const copy = new Map(fields);
    copy.set(TTL, String(ttlMs));
    this.#keys.set(key, { kind: "hash", fields: copy, expiresAt: Date.now() + ttlMs });
  }

  /** Stores a string as connect-redis's SET EX would. */
  putString(key: string, value: string, ttlMs: number): void {
    this.#keys.set(key, { kind: "string", value, expiresAt: Date.now() + ttlMs });
  }

  /** The store's view: a {@linkcode RedisConnection} that is always ready. */
  connection(): RedisConnection {
    const node: RedisNode = { send: (args) => this.#sendNode(args) };
    return {
      send: (_key, args) => this.#send(args),
      masters: () => Promise.resolve([node]),
      ready: true,
      address: "fake",
      onStateChange: () => {},
    };
  }

  /** connect-redis's view: the node-redis methods it calls. */
  nodeRedisClient(): FakeNodeRedisClient {
    return {
      get: (key) => this.#async(() => this.#getString(key)),
      set: (key, value, options) =>
        this.#async(() => {
          const seconds = options?.expiration?.value;
          this.#keys.set(key, {
            kind: "string",
            value,
            expiresAt: seconds === undefined ? -1 : Date.now() + seconds * 1000,
          });
          return "OK";
        }),
      expire: (key, seconds) =>
        this.#async(() => {
          const entry = this.#entry(key);
          if (!entry) return 0;
          if (seconds <= 0) this.#keys.delete(key);
          else entry.expiresAt = Date.now() + seconds * 1000;
          return 1;
        }),
      del: (keys) =>
        this.#async(() => {
          let count = 0;
          for (const key of typeof keys === "string" ? [keys] : keys) {
            if (this.#entry(key)) count++;
            this.#keys.delete(key);
          }
          return count;
        }),
    };
  }

  #async<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #send(args: readonly string[]): Promise<unknown> {
    return this.#async(() => {
      if (args[0] !== "EVALSHA") throw new Error(`The fake does not answer ${args[0]}`);
      const script = this.#scripts.get(args[1]);
      if (!script) throw new Error("NOSCRIPT No matching script");
      if (args[2] !== "1") throw new Error("The store's scripts take one key");
      return script(args[3], args.slice(4));
    });
  }

  #sendNode(args: readonly string[]): Promise<unknown> {
    return this.#async(() => {
      if (args[0] === "SCRIPT" && args[1] === "LOAD") return "";
      throw new Error(`The fake does not answer ${args.join(" ")}`);
    });
  }

  /** The entry under `key`, dropping it when it has expired (Redis's lazy expiry). */
  #entry(key: string): Entry | undefined {
    const entry = this.#keys.get(key);
    if (entry && entry.expiresAt >= 0 && entry.expiresAt <= Date.now()) {
      this.#keys.delete(key);
      return undefined;
    }
    return entry;
  }

  #getString(key: string): string | null {
    const entry = this.#entry(key);
    if (!entry) return null;
    if (entry.kind !== "string") throw new Error("WRONGTYPE Operation against a key holding the wrong kind");
    return entry.value;
  }

  #pttl(entry: Entry): number {
    return entry.expiresAt < 0 ? -1 : entry.expiresAt - Date.now();
  }

  /** Sets the life of a key as ARGV "pttl" says: "-1" persist, else PEXPIRE (the caller handles "0"). */
  #expire(entry: Entry, pttl: string): void {
    entry.expiresAt = pttl === "-1" ? -1 : Date.now() + Number(pttl);
  }

  // load_script.ts: ARGV renew, [token, lockExpiry]
  #load(key: string, argv: readonly string[]): Reply {
    const entry = this.#entry(key);
    if (!entry) return null;
    if (entry.kind === "string") return ["string", this.#pttl(entry), entry.value];
    if (entry.fields.has(DEAD)) return null;
    if (argv[1]) throw new Error("The fake does not emulate the lock mode");
    const sliding = entry.fields.get(TTL);
    if (argv[0] === "1" && sliding) entry.expiresAt = Date.now() + Number(sliding);
    const pairs: string[] = [];
    for (const [field, value] of entry.fields) pairs.push(field, value);
    return ["hash", this.#pttl(entry), pairs];
  }

  // commit_script.ts: ARGV pttl, sliding, kinds, then field/base/value per change, [token]
  #commit(key: string, argv: readonly string[]): Reply {
    const entry = this.#entry(key);
    if (!entry || entry.kind === "string") return ["gone"];
    const fields = entry.fields;
    if (fields.has(DEAD)) return ["dead"];
    const kinds = argv[2];
    const conflicts: unknown[] = ["conflict"];
    for (let i = 1; i <= kinds.length; i++) {
      const change = kinds[i - 1];
      if (change === "w") continue;
      const current = fields.get(argv[3 * i]);
      if ((change === "a" && current !== undefined) || (change !== "a" && current !== argv[3 * i + 1])) {
        conflicts.push(i, current === undefined ? "0" : "1", current ?? "");
      }
    }
    if (conflicts.length > 1) return conflicts;
    if (argv[0] === "0") {
      this.#keys.delete(key);
      return ["ok"];
    }
    for (let i = 1; i <= kinds.length; i++) {
      if (kinds[i - 1] === "r") fields.delete(argv[3 * i]);
      else fields.set(argv[3 * i], argv[3 * i + 2]);
    }
    fields.set(TTL, argv[1]);
    if (argv[3 * kinds.length + 3]) throw new Error("The fake does not emulate the lock mode");
    this.#expire(entry, argv[0]);
    return ["ok"];
  }

  // replace_script.ts: ARGV pttl, sliding, then field/value pairs
  #replace(key: string, argv: readonly string[]): Reply {
    const entry = this.#entry(key);
    if (entry?.kind === "hash" && entry.fields.has(DEAD)) return "dead";
    this.#keys.delete(key);
    if (argv[0] === "0") return "ok";
    const fields = new Map<string, string>();
    for (let i = 2; i < argv.length; i += 2) fields.set(argv[i], argv[i + 1]);
    fields.set(TTL, argv[1]);
    const created: Entry = { kind: "hash", fields, expiresAt: -1 };
    this.#expire(created, argv[0]);
    this.#keys.set(key, created);
    return "ok";
  }

  // refresh_script.ts: ARGV pttl, sliding, [cookie field, cookie value], [token]
  #refresh(key: string, argv: readonly string[]): Reply {
    const entry = this.#entry(key);
    if (!entry) return 0;
    if (entry.kind === "hash") {
      if (entry.fields.has(DEAD)) return 0;
      if (argv[2]) entry.fields.set(argv[2], argv[3]);
      if (argv[4]) throw new Error("The fake does not emulate the lock mode");
      entry.fields.set(TTL, argv[1]);
    }
    if (argv[0] === "0") this.#keys.delete(key);
    else this.#expire(entry, argv[0]);
    return 1;
  }

  // destroy_script.ts: ARGV tombstone ms
  #destroy(key: string, argv: readonly string[]): Reply {
    const entry = this.#entry(key);
    const live = !entry ? 0 : entry.kind === "string" ? 1 : entry.fields.has(DEAD) ? 0 : 1;
    this.#keys.delete(key);
    if (argv[0] !== "0") {
      const tombstone: Entry = { kind: "hash", fields: new Map([[DEAD, "1"]]), expiresAt: -1 };
      this.#expire(tombstone, argv[0]);
      this.#keys.set(key, tombstone);
    }
    return live;
  }

  // release_script.ts: ARGV token
  #release(key: string, argv: readonly string[]): Reply {
    const entry = this.#entry(key);
    if (entry?.kind !== "hash") return 0;
    const held = entry.fields.get(LOCK);
    if (held !== undefined && held.endsWith(":" + argv[0])) {
      entry.fields.delete(LOCK);
      return 1;
    }
    return 0;
  }
}
