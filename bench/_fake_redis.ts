/**
 * An in-process fake Redis for the CPU benchmarks, with two faces on one
 * keyspace: the store's {@linkcode RedisConnection}, answering the plain
 * commands the store sends (HGETALL, HMGET, GET, PTTL, INFO) and EVALSHA/EVAL
 * of its scripts (emulated in `_fake_scripts.ts`), and the node-redis methods
 * connect-redis calls (get, set, expire, del).
 *
 * Replies come back as already-resolved Promises on both faces, so a benchmark
 * measures the stores' own work, not a socket. A command the fake does not know
 * fails loudly, so a store that starts sending something new shows up here first.
 * tests/bench_smoke_test.ts holds the fake to a real redis-server.
 * @module
 */

import type { RedisConnection, RedisNode } from "../src/clients/connection.ts";
import { ALL_SCRIPTS } from "../src/scripts/all_scripts.ts";
import { type Entry, Keyspace, wrongType } from "./_fake_keyspace.ts";
import { SCRIPT_EMULATIONS, type ScriptEmulation } from "./_fake_scripts.ts";

/** The subset of a node-redis 5/6 client that connect-redis 9/10 uses for get/set/touch/destroy. */
export interface FakeNodeRedisClient {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options?: { expiration?: { type: "EX"; value: number } }): Promise<string>;
  expire(key: string, seconds: number): Promise<number>;
  del(keys: string | string[]): Promise<number>;
}

/** What INFO memory says: no maxmemory, so Redis never evicts (the store asks before rewriting a gone key). */
const INFO_MEMORY = "# Memory\r\nmaxmemory:0\r\nmaxmemory_human:0B\r\nmaxmemory_policy:noeviction\r\n";

/** A keyspace of hashes and strings with millisecond expiry. */
export class FakeRedis {
  #db = new Keyspace();
  #bySha = new Map<string, ScriptEmulation>();
  #bySource = new Map<string, ScriptEmulation>();
  #log: string[] | undefined;

  constructor() {
    for (const script of ALL_SCRIPTS) {
      const emulation = SCRIPT_EMULATIONS.get(script);
      // Sessions per user is not benchmarked on the fake: its scripts stay unknown here.
      if (!emulation && script.name.startsWith("user ")) continue;
      if (!emulation) throw new Error(`The fake Redis has no emulation of the ${script.name} script`);
      this.#bySha.set(script.sha, emulation);
      this.#bySource.set(script.source, emulation);
    }
  }

  /** Stores a string as connect-redis's SET EX would. */
  putString(key: string, value: string, ttlMs: number): void {
    this.#db.set(key, { kind: "string", value, expiresAt: Date.now() + ttlMs });
  }

  /**
   * Records the commands both faces are sent from now on (`EVALSHA <script name>` for
   * scripts), until {@linkcode stopRecording}.
   */
  record(): void {
    this.#log = [];
  }

  /** Stops recording and returns what was sent since {@linkcode record}. */
  stopRecording(): string[] {
    const log = this.#log ?? [];
    this.#log = undefined;
    return log;
  }

  /** The store's view: a {@linkcode RedisConnection} that is always ready. */
  connection(): RedisConnection {
    const node: RedisNode = { send: (args) => this.#settle(() => this.#node(args)) };
    return {
      send: (_key, args) => this.#settle(() => this.#command(args)),
      masters: () => Promise.resolve([node]),
      ready: true,
      address: "fake",
      onStateChange: () => {},
    };
  }

  /** connect-redis's view: the node-redis methods it calls. */
  nodeRedisClient(): FakeNodeRedisClient {
    const db = this.#db;
    return {
      get: (key) =>
        this.#settle(() => {
          this.#log?.push("GET");
          return this.#get(key);
        }),
      set: (key, value, options) =>
        this.#settle(() => {
          this.#log?.push("SET");
          const seconds = options?.expiration?.value;
          const expiresAt = seconds === undefined ? -1 : db.now + seconds * 1000;
          db.set(key, { kind: "string", value, expiresAt });
          return "OK";
        }),
      expire: (key, seconds) =>
        this.#settle(() => {
          this.#log?.push("EXPIRE");
          if (!db.get(key)) return 0;
          db.pexpire(key, seconds * 1000);
          return 1;
        }),
      del: (keys) =>
        this.#settle(() => {
          this.#log?.push("DEL");
          let count = 0;
          for (const key of typeof keys === "string" ? [keys] : keys) if (db.delete(key)) count++;
          return count;
        }),
    };
  }

  /**
   * Runs one command as Redis would, synchronously (RESP2 replies; errors throw).
   * Knows the store's commands (SCAN only with a prefix pattern), plus SET key value [PX ms] to set
   * up a test.
   * @param args The command and its arguments.
   * @returns The reply.
   */
  command(args: readonly string[]): unknown {
    this.#db.tick();
    return this.#command(args);
  }

  #command(args: readonly string[]): unknown {
    const db = this.#db;
    const name = args[0].toUpperCase();
    if (name === "EVALSHA" || name === "EVAL") {
      const script = name === "EVAL" ? this.#bySource.get(args[1]) : this.#bySha.get(args[1]);
      if (!script) throw new Error("NOSCRIPT No matching script. Please use EVAL.");
      if (args[2] !== "1") throw new Error("The store's scripts take one key");
      this.#log?.push(`${name} ${ALL_SCRIPTS.find((s) => SCRIPT_EMULATIONS.get(s) === script)!.name}`);
      return script(db, args[3], args.slice(4));
    }
    this.#log?.push(name);
    switch (name) {
      case "HGETALL": {
        const pairs: string[] = [];
        for (const [field, value] of db.hash(args[1]) ?? []) pairs.push(field, value);
        return pairs;
      }
      case "HMGET": {
        const fields = db.hash(args[1]);
        return args.slice(2).map((field) => fields?.get(field) ?? null);
      }
      case "PTTL":
        return db.pttl(args[1]);
      case "GET":
        return this.#get(args[1]);
      case "SET": {
        const px = args[3]?.toUpperCase() === "PX" ? Number(args[4]) : undefined;
        const entry: Entry = { kind: "string", value: args[2], expiresAt: -1 };
        db.set(args[1], entry);
        if (px !== undefined) db.pexpire(args[1], px);
        return "OK";
      }
      case "SCAN": {
        // The store's pattern: a prefix (glob characters escaped), then "*"; one page holds every key.
        const match = args.findIndex((arg) => arg.toUpperCase() === "MATCH");
        const pattern = match < 0 ? "*" : args[match + 1];
        if (!pattern.endsWith("*") || /(^|[^\\])[*?[]/.test(pattern.slice(0, -1))) {
          throw new Error(`ERR the fake Redis matches only prefix patterns, not ${pattern}`);
        }
        const prefix = pattern.slice(0, -1).replace(/\\(.)/g, "$1");
        return ["0", db.keys().filter((key) => key.startsWith(prefix))];
      }
      case "INFO":
        return INFO_MEMORY;
      default:
        throw new Error(`ERR the fake Redis does not answer ${args[0]}`);
    }
  }

  #node(args: readonly string[]): unknown {
    if (args[0] === "SCRIPT" && args[1] === "LOAD") {
      return ALL_SCRIPTS.find((script) => script.source === args[2])?.sha ?? "";
    }
    return this.#command(args);
  }

  #get(key: string): string | null {
    const entry = this.#db.get(key);
    if (!entry) return null;
    if (entry.kind !== "string") throw wrongType();
    return entry.value;
  }

  #settle<T>(work: () => T): Promise<T> {
    try {
      this.#db.tick();
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
