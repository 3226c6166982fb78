/**
 * The HTTP benchmark's contenders and servers: autocannon, the delay proxies
 * between the apps and Redis, one app process per store, the load driver, and
 * the HTTP calls that set up sessions.
 * @module
 */

import { createClient } from "redis";
import { fileURLToPath } from "node:url";
import type { AppConfig, StoreName } from "./_app_server.ts";
import type { HttpBenchOptions } from "./_http_types.ts";
import type { Children, LineChild } from "./_processes.ts";
import type { Admin } from "./_redis_info.ts";

/** The autocannon release the load driver installs (under Node, in a gitignored folder). */
export const AUTOCANNON_VERSION = "8.0.0";

/** The stores, in the order of a round. */
export const STORES: readonly StoreName[] = ["ours", "ours-cached", "connect-redis", "floor"];
/** Measured for their round trips only: ours with sessions per user. */
export const ROUND_TRIPS_ONLY = ["ours-user"] as const;
/** Redis's floors in place, run in the app-CPU phase only (see `_app_server.ts`). */
export const COMMIT_FLOORS = ["ours-trivial-commit", "ours-bare-commit"] as const;

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Installs autocannon with npm into `dir` unless it is there already.
 * @param dir A folder outside version control (bench/.deps by default).
 */
export async function ensureAutocannon(dir: string): Promise<void> {
  try {
    await Deno.stat(`${dir}/node_modules/autocannon/package.json`);
    return;
  } catch { /* install it */ }
  const { success } = await new Deno.Command("npm", {
    args: [
      "install",
      "--no-save",
      "--no-package-lock",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      "--prefix",
      dir,
      `autocannon@${AUTOCANNON_VERSION}`,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!success) throw new Error(`npm could not install autocannon@${AUTOCANNON_VERSION} into ${dir}`);
}

/** Where each setting's apps find Redis. */
export interface RedisRoutes {
  /** Per setting: the URL the stores use. */
  urls: string[];
  /** Per setting: the cached store's own URL (its background checks must not count as another's). */
  cachedUrls: string[];
  /** Setting index → its delay proxy (settings with a delay only). */
  proxies: Map<number, LineChild>;
}

/**
 * Redis as each setting sees it: straight, or through a delay proxy. The cached store has
 * proxies of its own: its background checks must not count as another store's round trips.
 */
export async function routeRedis(
  children: Children,
  redis: { url: string; port: number },
  settings: HttpBenchOptions["settings"],
): Promise<RedisRoutes> {
  const urls: string[] = [];
  const cachedUrls: string[] = [];
  const proxies = new Map<number, LineChild>(); // setting index → its delay proxy
  for (const [s, setting] of settings.entries()) {
    if (setting.delayMs <= 0) {
      urls.push(redis.url);
      cachedUrls.push(redis.url);
      continue;
    }
    const spawnProxy = async () => {
      const proxy = children.spawn("delay proxy", "node", [
        here("./delay_proxy.mjs"),
        String(redis.port),
        String(setting.delayMs),
      ]);
      const { port } = await proxy.next<{ port: number }>(10_000);
      return { proxy, url: `redis://127.0.0.1:${port}` };
    };
    const shared = await spawnProxy();
    urls.push(shared.url);
    proxies.set(s, shared.proxy);
    cachedUrls.push((await spawnProxy()).url);
  }
  return { urls, cachedUrls, proxies };
}

/** The app processes, one per store, each listening on one port per setting. */
export type Apps = Map<StoreName, { child: LineChild; ports: number[] }>;

/**
 * Starts one app process (`_app_server.ts`).
 * @param children Where the process is kept (and killed at the end).
 * @param label Its name in errors.
 * @param config What the app runs.
 * @returns The process, and its ports once listening.
 */
export async function spawnApp(
  children: Children,
  label: string,
  config: AppConfig,
): Promise<{ child: LineChild; ports: number[] }> {
  const child = children.spawn(`app (${label})`, Deno.execPath(), [
    "run",
    "--allow-net=127.0.0.1,localhost",
    "--allow-env",
    "--allow-read",
    "--allow-sys",
    here("./_app_server.ts"),
    JSON.stringify(config),
  ]);
  const { ports } = await child.next<{ ports: number[] }>(60_000);
  return { child, ports };
}

/** Starts one app process per store (those measured for their round trips only too). */
export async function startApps(children: Children, routes: RedisRoutes): Promise<Apps> {
  const { urls, cachedUrls } = routes;
  const apps: Apps = new Map();
  await Promise.all([...STORES, ...ROUND_TRIPS_ONLY, ...COMMIT_FLOORS].map(async (store) => {
    const redis = store === "ours-cached" ? cachedUrls : urls;
    apps.set(store, await spawnApp(children, store, { store, redis }));
  }));
  return apps;
}

/** GETs a JSON answer of an app. */
export async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(url, { headers });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return await response.json() as T;
}

/** Logs in `count` times; returns the session cookies (`sid=...`). */
export async function createSessions(base: string, count: number): Promise<string[]> {
  const cookies: string[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < count) {
      next++;
      const response = await fetch(`${base}/login`);
      await response.body?.cancel();
      const cookie = response.headers.get("set-cookie")?.split(";")[0];
      if (!response.ok || !cookie) throw new Error(`GET ${base}/login gave no session (${response.status})`);
      cookies.push(cookie);
    }
  }));
  return cookies;
}

/** The median of `count` PING round trips to `url`, ms. */
export async function medianPing(url: string, count: number): Promise<number> {
  const client = createClient({ url });
  await client.connect();
  try {
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await client.ping();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
  } finally {
    await client.close();
  }
}

/** Sends a job to the load driver (autocannon) and waits for its result. */
export type LoadJob = <T>(job: Record<string, unknown>, seconds: number) => Promise<T>;

/** Starts the load driver, a Node process running autocannon, and hands jobs to it one at a time. */
export function startLoadDriver(children: Children, depsDir: string): LoadJob {
  const driver = children.spawn("load driver", "node", [here("./_load_driver.mjs")], {
    AUTOCANNON_DIR: depsDir,
  });
  let jobs = 0;
  return async <T>(job: Record<string, unknown>, seconds: number): Promise<T> => {
    const id = ++jobs;
    await driver.send({ ...job, id });
    const reply = await driver.next<{ id: number; result?: T; error?: string }>(seconds * 1000 + 30_000);
    if (reply.id !== id || reply.error) throw new Error(`load driver: ${reply.error ?? "out of step"}`);
    return reply.result!;
  };
}

/** What the load rounds share: the apps, the load driver, Redis's INFO, the sessions. */
export interface BenchRig {
  options: HttpBenchOptions;
  /** The benchmark's own connection to Redis (INFO). */
  admin: Admin;
  /** The commands our scripts run inside Redis (see `scriptCommandNames`). */
  inner: ReadonlySet<string>;
  apps: Apps;
  load: LoadJob;
  /** Per store: the session cookies requests are spread over. */
  cookies: Map<StoreName, string[]>;
  /** Base URL of a store's app in a setting (by index). */
  base(store: StoreName, setting: number): string;
}
