/**
 * Test helpers: real redis-servers, connected clients, an Express app over real
 * HTTP with a cookie-keeping browser, and a MONITOR that counts the commands
 * clients send.
 */

import express from "express";
import session from "express-session";
import { createClient } from "redis";
import { redisCliCommand, type RedisServer, startRedisServer } from "../scripts/redis_server.ts";
import { SmartRedisStore } from "../mod.ts";
import type { SmartRedisStoreOptions } from "../mod.ts";
import { scaled } from "./_load.ts";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";

export { startRedisServer };
export type { RedisServer };

declare module "express-session" {
  interface SessionData {
    visits: number;
    [property: string]: unknown;
  }
}

/**
 * The routes most end-to-end tests share: the seed's visit counter at `/`, `/read`,
 * `/set/:name/:value?delay=ms`, `/pref/:key` (sets one key of the object `prefs` after a
 * pause, for parallel edits of one object), `/logout`, and `/has` (whether the request has a session).
 */
export function visitRoutes(app: express.Express): void {
  app.get("/", (req, res) => {
    req.session.visits = (req.session.visits || 0) + 1;
    res.send(`You visited this site ${req.session.visits} times!`);
  });
  app.get("/read", (req, res) => {
    res.send(String(req.session.visits ?? "none"));
  });
  app.get("/set/:name/:value", async (req, res) => {
    await delay(Number(req.query.delay ?? 0));
    req.session[req.params.name] = req.params.value;
    res.send("set");
  });
  app.get("/pref/:key", async (req, res) => {
    const prefs = (req.session.prefs ?? {}) as Record<string, unknown>;
    await delay(50);
    prefs[req.params.key] = true;
    req.session.prefs = prefs;
    res.send("ok");
  });
  app.get("/logout", (req, res) => {
    req.session.destroy(() => res.send("bye"));
  });
  app.get("/has", (req, res) => res.send(req.session ? "yes" : "no"));
}

/**
 * The part of `items` this process runs: all of them, unless `deno task test` split the file into
 * shards run side by side (a file marked `// suite: shards N` runs N times, with
 * `SMART_REDIS_TEST_SHARD=k/N`: every N-th item from the k-th, so the shards together run each once).
 */
export function shard<T>(items: readonly T[]): T[] {
  const [k, n] = (Deno.env.get("SMART_REDIS_TEST_SHARD") ?? "0/1").split("/").map(Number);
  if (!(Number.isInteger(k) && Number.isInteger(n) && k >= 0 && k < n)) {
    throw new RangeError(`SMART_REDIS_TEST_SHARD must be "k/N" with 0 <= k < N, got "${k}/${n}"`);
  }
  return items.filter((_, i) => i % n === k);
}

/** A test that owns sockets and child processes across awaits: skip Deno's op/resource sanitizers. */
export function test(name: string, fn: (t: Deno.TestContext) => void | Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

/** A node-redis 5 client. */
export type Client = ReturnType<typeof createClient>;

/** Connects a node-redis client to the server; `await using` closes it. */
export async function connectClient(server: RedisServer): Promise<Client & AsyncDisposable> {
  const client = createClient({ url: server.url });
  client.on("error", () => {});
  await client.connect();
  return Object.assign(client, {
    async [Symbol.asyncDispose]() {
      if (client.isOpen) await client.close();
    },
  });
}

/** A Redis server, a client for the store, and a store on it, torn down together. */
export interface Fixture extends AsyncDisposable {
  server: RedisServer;
  client: Client;
  store: SmartRedisStore;
  /** A second client for inspecting Redis directly. */
  redis: Client;
}

/**
 * Starts a server and a store on it. Unless `options` sets one, the store's `commandTimeout` is its
 * default (2 s) stretched by the load measured now, so that a busy machine does not fail a test on it.
 */
export async function storeFixture(options: Omit<SmartRedisStoreOptions, "client"> = {}): Promise<Fixture> {
  const server = await startRedisServer();
  const client = await connectClient(server);
  const redis = await connectClient(server);
  const store = new SmartRedisStore({ client, commandTimeout: scaled(2000), ...options });
  return {
    server,
    client,
    redis,
    store,
    async [Symbol.asyncDispose]() {
      await client[Symbol.asyncDispose]();
      await redis[Symbol.asyncDispose]();
      await server.kill();
    },
  };
}

/** An Express app with express-session on a store, listening on a free port. */
export interface App extends AsyncDisposable {
  url: string;
  app: express.Express;
  /**
   * Errors that reached the app after its response went out: express-session sends the response
   * first and reports a failed save to `next(err)` afterwards. A test that expects some takes them
   * (`splice(0)`); any left at the end are printed, one line each.
   */
  lateErrors: Error[];
}

/**
 * Routes to install; `session` options override the defaults (resave false, saveUninitialized false);
 * `framework` is the express module (4 unless told).
 */
export async function startApp(
  store: session.Store,
  routes: (app: express.Express) => void,
  sessionOptions: Partial<session.SessionOptions> = {},
  framework: typeof express = express,
): Promise<App> {
  const app = framework();
  app.use(
    session({ store, secret: "test secret", resave: false, saveUninitialized: false, ...sessionOptions }),
  );
  routes(app);
  const lateErrors: Error[] = [];
  app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    if (res.headersSent) lateErrors.push(error); // too late for a second response
    else res.status(500).send(`error: ${error.message}`);
  });
  const listening = await listenLoopback(app);
  return {
    url: listening.url,
    app,
    lateErrors,
    async [Symbol.asyncDispose]() {
      await listening[Symbol.asyncDispose]();
      for (const error of lateErrors) {
        console.error(
          `A request's session failed after its response went out: ${error.name}: ${error.message}`,
        );
      }
    },
  };
}

/** A Node-style app (Express, Koa) listening on a free loopback port; `await using` closes it. */
export async function listenLoopback(
  app: { listen(port: number, host: string, ready: () => void): Server },
): Promise<{ url: string } & AsyncDisposable> {
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Keeps the session cookie between requests, like a browser. */
export class Browser {
  cookie = "";
  /** GETs a URL with the cookie and keeps any new one; returns status and body. */
  async get(url: string): Promise<{ status: number; body: string }> {
    const response = await fetch(url, { headers: this.cookie ? { cookie: this.cookie } : {} });
    const setCookie = response.headers.get("set-cookie");
    if (setCookie) this.cookie = setCookie.split(";")[0];
    return { status: response.status, body: await response.text() };
  }
  /** The session id inside the cookie. */
  get sid(): string {
    const value = decodeURIComponent(this.cookie.split("=")[1] ?? "");
    return value.slice(2, value.lastIndexOf("."));
  }
}

/** Records, through redis-cli MONITOR, every command clients send (not those scripts run inside). */
export class Monitor implements AsyncDisposable {
  #child: Deno.ChildProcess;
  #lines: string[] = [];
  #server: RedisServer;
  #marks = 0;

  private constructor(server: RedisServer) {
    this.#server = server;
    this.#child = new Deno.Command(redisCliCommand(), {
      args: ["-p", String(server.port), "monitor"],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#read();
  }

  /** Starts monitoring the server. */
  static async start(server: RedisServer): Promise<Monitor> {
    const monitor = new Monitor(server);
    await monitor.commands();
    return monitor;
  }

  /** The commands clients sent since the last call, as lower-case names with their arguments. */
  async commands(): Promise<string[][]> {
    const mark = `monitor-mark-${++this.#marks}`;
    await new Deno.Command(redisCliCommand(), {
      args: ["-p", String(this.#server.port), "echo", mark],
      stdout: "null",
    })
      .output();
    for (let i = 0; i < 500 && !this.#lines.some((line) => line.includes(mark)); i++) await delay(10);
    const end = this.#lines.findIndex((line) => line.includes(mark));
    const taken = this.#lines.splice(0, end + 1).slice(0, end);
    return taken.filter((line) => !line.includes(" lua]") && line.includes('"')).map(parseMonitorLine)
      .filter((args) => args[0] !== "echo" && args[0] !== "client" && args[0] !== "hello");
  }

  async #read() {
    const decoder = new TextDecoderStream();
    let partial = "";
    for await (const chunk of this.#child.stdout.pipeThrough(decoder)) {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop()!;
      this.#lines.push(...parts);
    }
  }

  async [Symbol.asyncDispose]() {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* gone */ }
    await this.#child.status;
  }
}

function parseMonitorLine(line: string): string[] {
  const args: string[] = [];
  for (const match of line.slice(line.indexOf("]") + 1).matchAll(/"((?:[^"\\]|\\.)*)"/g)) args.push(match[1]);
  if (args.length > 0) args[0] = args[0].toLowerCase();
  return args;
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `fn` with Node's `Object.prototype.__proto__` accessor (Deno's own only defines an own property), so
 * that a test can catch code that, under Node, would re-prototype an object when it meant to set a
 * `__proto__` key.
 */
export async function withNodeProto<T>(fn: () => T | Promise<T>): Promise<T> {
  const original = Object.getOwnPropertyDescriptor(Object.prototype, "__proto__");
  Object.defineProperty(Object.prototype, "__proto__", {
    configurable: true,
    get(this: object) {
      return Object.getPrototypeOf(this);
    },
    set(this: object, proto: unknown) {
      if ((typeof proto === "object" || typeof proto === "function") && Object(this) === this) {
        Object.setPrototypeOf(this, proto as object | null);
      }
    },
  });
  try {
    return await fn();
  } finally {
    if (original) Object.defineProperty(Object.prototype, "__proto__", original);
    else Reflect.deleteProperty(Object.prototype, "__proto__");
  }
}
