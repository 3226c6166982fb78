/**
 * The app every HTTP benchmark loads: Express 4 with express-session on one of
 * three stores, the same routes for each. One process per store; one port per
 * Redis address given (loopback, delay proxy), each with its own client (both
 * Redis stores on the same node-redis release, see `_peers.ts`). It runs under
 * Deno: connect-redis 10 declares Node ≥ 22, and the machine's Node is older.
 *
 * ```sh
 * deno run -A bench/_app_server.ts '{"store":"ours","redis":["redis://127.0.0.1:6379"]}'
 * ```
 *
 * Prints `{"ports":[...]}` once listening; exits when its stdin closes, so it
 * never outlives the benchmark that started it.
 * @module
 */

import express from "express";
// @ts-types="@types/express-session"
import session from "express-session";
import { createClient, RedisStore } from "./_peers.ts";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SmartRedisStore } from "../mod.ts";
import { MAX_AGE } from "./_sessions.ts";
import { COMMIT_SCRIPT } from "../src/scripts/commit_script.ts";
import { BARE_CAS_SCRIPT, TRIVIAL_SCRIPT } from "./_script_cases.ts";
import type { LuaScript } from "../src/scripts/script_runner.ts";

/**
 * The stores the HTTP benchmarks compare; `ours-cached` is ours with its local cache (option
 * `localCache`); `ours-user` is ours with sessions per user (option `user`), whose round trips
 * are counted too. `ours-trivial-commit` and `ours-bare-commit` are Redis's floors in place: ours
 * with its commit script replaced by one that only returns `{'ok'}`, or by the commit's HMGET and
 * HSET alone (nothing checked). The store then believes every change written: floors, never stores.
 */
export type StoreName =
  | "ours"
  | "ours-cached"
  | "ours-user"
  | "ours-trivial-commit"
  | "ours-bare-commit"
  | "connect-redis"
  | "floor";

/** What `_app_server.ts` takes as its one argument (JSON). */
export interface AppConfig {
  store: StoreName;
  /** One Redis URL per port to open (ignored by the floor store, which opens as many ports). */
  redis: string[];
  /** Store `ours` with the option `encrypt` (one key), for bench/encryption_bench.ts. */
  encrypt?: boolean;
  /** With `encrypt`: its `remember` (0: every read decrypts). */
  remember?: number;
}

/** The floors in place: the script each runs instead of the commit. */
const COMMIT_FLOORS: Partial<Record<StoreName, LuaScript>> = {
  "ours-trivial-commit": TRIVIAL_SCRIPT,
  "ours-bare-commit": BARE_CAS_SCRIPT,
};

/** The key of `encrypt: true`: a fixed benchmark secret. */
const BENCH_KEY = { id: "bench", secret: "a benchmark secret, thirty-two characters or more" };

declare module "express-session" {
  interface SessionData {
    user: { id: number; name: string; roles: string[] };
    visits: number;
    [property: string]: unknown;
  }
}

/**
 * The floor: what express-session costs with a store that does no I/O at all.
 * A Map of JSON strings (as express-session's MemoryStore keeps them), answering
 * on the microtask queue.
 */
class FloorStore extends session.Store {
  #sessions = new Map<string, string>();
  override get(sid: string, callback: (error: unknown, data?: session.SessionData | null) => void): void {
    const json = this.#sessions.get(sid);
    queueMicrotask(() => callback(null, json === undefined ? null : JSON.parse(json)));
  }
  override set(sid: string, data: session.SessionData, callback?: (error?: unknown) => void): void {
    this.#sessions.set(sid, JSON.stringify(data));
    queueMicrotask(() => callback?.());
  }
  override touch(_sid: string, _data: session.SessionData, callback?: () => void): void {
    queueMicrotask(() => callback?.());
  }
  override destroy(sid: string, callback?: (error?: unknown) => void): void {
    this.#sessions.delete(sid);
    queueMicrotask(() => callback?.());
  }
}

/** Commits per contention writer, counted when the store reports the write done. */
const writes = { ok: {} as Record<string, number>, errors: 0 };
let requests = 0;
let failures = 0;

/** Wraps `set` to count the contention route's successful commits per writer (`?w=`). */
function countingWrites(store: session.Store): session.Store {
  const set = store.set.bind(store);
  store.set = (sid, data, callback) => {
    const writer = (data as { req?: { query?: { w?: string } } }).req?.query?.w;
    return set(sid, data, (error?: unknown) => {
      if (writer !== undefined) {
        if (error) writes.errors++;
        else writes.ok[writer] = (writes.ok[writer] ?? 0) + 1;
      }
      callback?.(error);
    });
  };
  return store;
}

async function makeStore(config: AppConfig, url: string, floor: FloorStore): Promise<session.Store> {
  if (config.store === "floor") return floor;
  const client = createClient({ url });
  client.on("error", (error) => console.error(`redis client: ${error}`));
  await client.connect();
  if (config.store === "ours-user") {
    const user = (data: Record<string, unknown>) => (data.user as { id?: number } | undefined)?.id;
    return new SmartRedisStore({ client, user }) as unknown as session.Store;
  }
  if (config.store === "ours-cached") {
    return new SmartRedisStore({ client, localCache: true }) as unknown as session.Store;
  }
  return config.store === "ours" || COMMIT_FLOORS[config.store]
    ? new SmartRedisStore({
      client,
      encrypt: config.encrypt ? { keys: [BENCH_KEY], remember: config.remember } : undefined,
    }) as unknown as session.Store
    : new RedisStore({ client: client as never }) as unknown as session.Store;
}

function makeApp(store: session.Store): express.Express {
  const app = express();
  app.get("/__count", (_req, res) => {
    res.json({ requests, failures });
  });
  app.get("/__cache", (_req, res) => {
    res.json((store as { cacheStats?(): unknown }).cacheStats?.() ?? null);
  });
  app.get("/__writes", (req, res) => {
    res.json(writes);
    if (req.query.reset) {
      writes.ok = {};
      writes.errors = 0;
    }
  });
  app.use((_req, _res, next) => {
    requests++;
    next();
  });
  app.use(session({
    name: "sid",
    secret: "benchmark secret",
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: MAX_AGE },
    store,
  }));
  app.get("/login", (req, res) => {
    req.session.user = { id: 4711, name: "Ada Lovelace", roles: ["admin"] };
    req.session.visits = 0;
    res.send("ok");
  });
  app.get("/read", (req, res) => {
    if (!req.session.user) res.status(404).send("no session");
    else res.send(req.session.user.name);
  });
  app.get("/write", (req, res) => {
    if (!req.session.user) return void res.status(404).send("no session");
    req.session.visits = (req.session.visits ?? 0) + 1;
    res.send(String(req.session.visits));
  });
  app.get("/contend", (req, res) => {
    if (!req.session.user) return void res.status(404).send("no session");
    const own = `w${req.query.w}`;
    req.session[own] = ((req.session[own] as number | undefined) ?? 0) + 1;
    req.session.shared = ((req.session.shared as number | undefined) ?? 0) + 1;
    res.send("ok");
  });
  app.get("/logout", (req, res, next) => {
    req.session.destroy((error) => error ? next(error) : res.send("bye"));
  });
  app.get("/peek", (req, res) => {
    res.json(req.session);
  });
  app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    failures++;
    if (!res.headersSent) res.status(500).send(`error: ${error.message}`);
  });
  return app;
}

async function main(config: AppConfig): Promise<void> {
  const commitFloor = COMMIT_FLOORS[config.store];
  if (commitFloor) Object.assign(COMMIT_SCRIPT, { source: commitFloor.source, sha: commitFloor.sha });
  const floor = new FloorStore();
  const ports: number[] = [];
  for (const url of config.redis) {
    const store = countingWrites(await makeStore(config, url, floor));
    const server: Server = await new Promise((resolve) => {
      const listening = makeApp(store).listen(0, "127.0.0.1", () => resolve(listening));
    });
    server.keepAliveTimeout = 60_000;
    ports.push((server.address() as AddressInfo).port);
  }
  console.log(JSON.stringify({ ports }));
  // Exit when the benchmark that started us closes our stdin (or dies).
  const stdin = Deno.stdin.readable.getReader();
  while (!(await stdin.read()).done) { /* wait */ }
  Deno.exit(0);
}

if (import.meta.main) await main(JSON.parse(Deno.args[0]) as AppConfig);
