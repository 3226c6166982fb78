/**
 * HTTP benchmark: the same Express 4 + express-session app on three stores
 * (connect-smart-redis, connect-redis 10, and an in-process "floor" store with
 * no I/O), loaded by autocannon from a separate Node process, on a real
 * redis-server, in two settings: Redis on loopback, and Redis behind a TCP
 * proxy that delays each direction (one network hop away). Runs are interleaved
 * (A B C, A B C, ...) so each ratio compares runs made side by side. Also the
 * contention benchmark (N parallel writers on one session) and Redis memory per
 * session.
 *
 * Run it through `deno task bench` (bench/run.ts), which also writes the report.
 * @module
 */

import { createClient } from "redis";
import { RedisStore } from "./_peers.ts";
import { fileURLToPath } from "node:url";
import { SmartRedisStore } from "../mod.ts";
import { startRedisServer } from "../scripts/redis_server.ts";
import { ALL_SCRIPTS } from "../src/scripts/all_scripts.ts";
import { CONVERT_SCRIPT } from "../src/scripts/convert_script.ts";
import { LOAD_SCRIPT } from "../src/scripts/load_script.ts";
import type { AppConfig, StoreName } from "./_app_server.ts";
import { Children, delay, type LineChild, processCpuMs } from "./_processes.ts";
import { countRoundTrips, type RoundTripRow } from "./_round_trips.ts";
import { sessionData, type SessionSize } from "./_sessions.ts";
import { measureStaleness, type StalenessRow } from "./_staleness.ts";

/** The autocannon release the load driver installs (under Node, in a gitignored folder). */
export const AUTOCANNON_VERSION = "8.0.0";

/** The stores, in the order of a round. */
export const STORES: readonly StoreName[] = ["ours", "ours-cached", "connect-redis", "floor"];
/** Measured for their round trips only: ours with sessions per user. */
const ROUND_TRIPS_ONLY = ["ours-user"] as const;

/** Where Redis is, seen from the app, and how hard autocannon pushes. */
export interface Setting {
  /** `loopback` or `hop`. */
  name: string;
  /** autocannon connections (concurrent requests). */
  connections: number;
  /** Delay the proxy adds in each direction, ms; 0: no proxy. */
  delayMs: number;
}

/** Sizes and durations of an HTTP benchmark run. */
export interface HttpBenchOptions {
  /** Seconds per measured run. */
  duration: number;
  /** Rounds of interleaved runs per cell. */
  rounds: number;
  /** Seconds of unmeasured load per app and setting before the first round. */
  warmup: number;
  /** Session cookies created per store; requests are spread over them. */
  sessions: number;
  /** Requests of each kind, one at a time, whose round trips to Redis are counted (hop setting). */
  roundTripRequests: number;
  /** Share of requests that change their session. */
  writeRatios: number[];
  /** The settings to run. */
  settings: Setting[];
  /** Changes whose staleness window is timed (local cache), per setting. */
  stalenessChanges: number;
  /** The contention benchmark: writers on one session. */
  contention: { writers: number[]; duration: number; rounds: number; settings: string[] };
  /** Where autocannon is installed. */
  depsDir: string;
  /** Progress messages. */
  log(message: string): void;
}

/** Redis figures of one run, as deltas of INFO. */
export interface RedisSample {
  /** Commands clients sent (EVALSHA counts once; the commands a script runs inside do not count). */
  clientCommands: number;
  /** Commands Redis executed, those run inside scripts included. */
  executedCommands: number;
  /** The delta of `total_commands_processed`, minus our own INFO calls. */
  totalProcessed: number;
  /** Redis's own CPU time, used_cpu_user + used_cpu_sys (INFO cpu), ms. */
  cpuMs: number;
  /** Seconds between the two INFO snapshots. */
  seconds: number;
  /** Time Redis spent executing commands (Σ usec of INFO commandstats, scripts included), µs. */
  commandUsec: number;
  /** Calls per command name. */
  calls: Record<string, number>;
  /** Time Redis spent executing each command, µs (a script's includes what it runs inside). */
  usec: Record<string, number>;
}

/** One measured run of one store. */
export interface MixSample {
  round: number;
  /** 2xx responses autocannon saw. */
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  rps: number;
  p50: number | null;
  p99: number | null;
  /** Requests that reached the session middleware (counted by the app). */
  appRequests: number;
  /** CPU time of the app process, ms (10 ms resolution). */
  appCpuMs: number | null;
  redis?: RedisSample;
}

/** The runs of one store in one setting at one write ratio. */
export interface MixCell {
  setting: string;
  writeRatio: number;
  store: StoreName;
  samples: MixSample[];
}

/** One contention run. */
export interface ContentionSample {
  round: number;
  ok: number;
  non2xx: number;
  seconds: number;
  rps: number;
  p50: number | null;
  p99: number | null;
  /** Commits the store reported done, per writer. */
  commits: number[];
  /** Commits that failed (errors reported by the store). */
  commitErrors: number;
  /** Each writer's own counter as stored at the end. */
  stored: number[];
  /** Σ (commits − stored own counter): own-property writes lost. */
  lostOwn: number;
  /** Σ commits − stored shared counter: increments of the shared counter lost. */
  lostShared: number;
  /** Requests that reached the session middleware (counted by the app). */
  appRequests: number;
  /** Redis INFO deltas over the run (conflict retries show as extra commands per request). */
  redis: RedisSample;
}

/** The contention runs of one store with N writers. */
export interface ContentionCell {
  setting: string;
  writers: number;
  store: StoreName;
  samples: ContentionSample[];
}

/** Redis memory of one stored session. */
export interface MemoryRow {
  size: SessionSize;
  store: string;
  bytes: number;
  encoding: string;
}

/** Everything the HTTP benchmark measured. */
export interface HttpResults {
  /** Median PING round trip, ms, straight and through each delay proxy. */
  rtt: Record<string, number>;
  /** Redis's CPU time while no client sent anything (its background work), ms per second. */
  redisIdleCpuMsPerSecond: number;
  mix: MixCell[];
  contention: ContentionCell[];
  memory: MemoryRow[];
  /** Names of the commands our Lua scripts call (not counted as client commands). */
  scriptCommands: string[];
  /** Round trips per kind of request, counted through the delay proxy. */
  roundTrips: RoundTripRow[];
  /** The local cache's staleness window across two app servers (absent in older results). */
  staleness?: StalenessRow[];
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Commands our scripts run inside Redis on the benchmark's paths, read from their Lua.
 * Redis 7.0's commandstats count a script's inner calls like clients' commands; these
 * names tell them apart. The load and convert scripts are left out: they run only in lock
 * mode, with `renewAfter: 0`, or on connect-redis's strings (none here), and their HGETALL,
 * GET and PTTL are what the store also sends as plain commands.
 */
export function scriptCommandNames(): string[] {
  const names = new Set<string>();
  for (const script of ALL_SCRIPTS.filter((s) => s !== LOAD_SCRIPT && s !== CONVERT_SCRIPT)) {
    // redis.call('X', …), redis.pcall('X', …), and the scripts' sliced('X', …) helper.
    for (const match of script.source.matchAll(/(?:redis\.p?call|sliced)\('([A-Za-z]+)'/g)) {
      names.add(match[1].toLowerCase());
    }
  }
  return [...names].sort();
}

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

interface InfoSnapshot {
  /** When it was taken (performance.now()). */
  at: number;
  calls: Map<string, number>;
  usec: Map<string, number>;
  total: number;
  cpuMs: number;
}

type Admin = ReturnType<typeof createClient>;

async function redisInfo(admin: Admin): Promise<InfoSnapshot> {
  const at = performance.now();
  const text = String(await admin.sendCommand(["INFO", "stats", "commandstats", "cpu"]));
  const calls = new Map<string, number>();
  const usec = new Map<string, number>();
  let total = 0;
  let cpu = 0;
  for (const line of text.split("\r\n")) {
    if (line.startsWith("cmdstat_")) {
      const name = line.slice(8, line.indexOf(":"));
      calls.set(name, Number(/calls=(\d+)/.exec(line)?.[1] ?? 0));
      usec.set(name, Number(/usec=(\d+)/.exec(line)?.[1] ?? 0));
    } else if (line.startsWith("total_commands_processed:")) {
      total = Number(line.split(":")[1]);
    } else if (line.startsWith("used_cpu_sys:") || line.startsWith("used_cpu_user:")) {
      cpu += Number(line.split(":")[1]) * 1000;
    }
  }
  return { at, calls, usec, total, cpuMs: cpu };
}

/** INFO deltas between two snapshots, our own INFO calls left out. */
function redisDelta(before: InfoSnapshot, after: InfoSnapshot, inner: ReadonlySet<string>): RedisSample {
  const calls: Record<string, number> = {};
  const usec: Record<string, number> = {};
  for (const [name, count] of after.calls) {
    const delta = count - (before.calls.get(name) ?? 0);
    if (delta > 0 && name !== "info") {
      calls[name] = delta;
      usec[name] = (after.usec.get(name) ?? 0) - (before.usec.get(name) ?? 0);
    }
  }
  const executed = Object.values(calls).reduce((a, b) => a + b, 0);
  const scripts = (calls.evalsha ?? 0) + (calls.eval ?? 0);
  // Scripts ran: what they call inside does not count as sent by a client (see
  // scriptCommandNames). connect-redis runs no script, so all it sends counts.
  const client = scripts === 0
    ? executed
    : Object.entries(calls).filter(([name]) => !inner.has(name)).reduce((a, [, n]) => a + n, 0);
  const infoCalls = (after.calls.get("info") ?? 0) - (before.calls.get("info") ?? 0);
  return {
    clientCommands: client,
    executedCommands: executed,
    totalProcessed: after.total - before.total - infoCalls,
    cpuMs: after.cpuMs - before.cpuMs,
    seconds: (after.at - before.at) / 1000,
    // A script's usec includes the commands it runs inside: count only what clients sent.
    commandUsec: Object.entries(usec).reduce(
      (total, [name, time]) => inner.has(name) && scripts > 0 ? total : total + time,
      0,
    ),
    calls,
    usec,
  };
}

async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(url, { headers });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return await response.json() as T;
}

/** Logs in `count` times; returns the session cookies (`sid=...`). */
async function createSessions(base: string, count: number): Promise<string[]> {
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

async function medianPing(url: string, count: number): Promise<number> {
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

async function measureMemory(url: string): Promise<MemoryRow[]> {
  const client = createClient({ url });
  await client.connect();
  const rows: MemoryRow[] = [];
  try {
    const ours = new SmartRedisStore({ client });
    const theirs = new RedisStore({ client: client as never });
    const measure = async (size: SessionSize, store: string, key: string) => {
      const bytes = Number(await client.sendCommand(["MEMORY", "USAGE", key, "SAMPLES", "0"]));
      const encoding = String(await client.sendCommand(["OBJECT", "ENCODING", key]));
      rows.push({ size, store, bytes, encoding });
    };
    for (const size of ["small", "large"] as const) {
      await theirs.set(`memory-${size}`, sessionData(size) as never);
      await measure(size, "connect-redis", `sess:memory-${size}`);
      await ours.set(`memory-${size}`, sessionData(size) as never);
      await measure(size, "ours", `session:memory-${size}`);
    }
    // What a small session would take if the cookie field (~90 bytes) fitted Redis's
    // compact listpack encoding (hash-max-listpack-value defaults to 64 bytes).
    const previous = await client.configGet("hash-max-listpack-value");
    await client.configSet("hash-max-listpack-value", "128");
    try {
      await ours.set("memory-small-listpack", sessionData("small") as never);
      await measure("small", "ours, hash-max-listpack-value 128", "session:memory-small-listpack");
    } finally {
      await client.configSet("hash-max-listpack-value", previous["hash-max-listpack-value"] ?? "64");
    }
  } finally {
    await client.close();
  }
  return rows;
}

/**
 * Runs the HTTP and contention benchmarks.
 * @param options Sizes and durations.
 * @returns What was measured.
 */
export async function runHttpBench(options: HttpBenchOptions): Promise<HttpResults> {
  const { log } = options;
  await ensureAutocannon(options.depsDir);
  await using redis = await startRedisServer();
  await using children = new Children(); // stopped before redis-server (disposal runs in reverse)
  const stop = () => {
    children.stopAll().finally(() => redis.kill()).finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  const admin = createClient({ url: redis.url });
  await admin.connect();
  try {
    const inner = new Set(scriptCommandNames());

    // Redis as each setting sees it: straight, or through a delay proxy. The cached store has
    // proxies of its own: its background checks must not count as another store's round trips.
    const urls: string[] = [];
    const cachedUrls: string[] = [];
    const proxies = new Map<number, LineChild>(); // setting index → its delay proxy
    for (const [s, setting] of options.settings.entries()) {
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
    const rtt: Record<string, number> = {};
    for (const [i, setting] of options.settings.entries()) rtt[setting.name] = await medianPing(urls[i], 200);
    log(`PING round trip (median ms): ${JSON.stringify(rtt)}`);

    // One app process per store, one port per setting.
    const apps = new Map<StoreName, { child: LineChild; ports: number[] }>();
    await Promise.all([...STORES, ...ROUND_TRIPS_ONLY].map(async (store) => {
      const config: AppConfig = { store, redis: store === "ours-cached" ? cachedUrls : urls };
      const child = children.spawn(`app (${store})`, Deno.execPath(), [
        "run",
        "--allow-net=127.0.0.1,localhost",
        "--allow-env",
        "--allow-read",
        "--allow-sys",
        here("./_app_server.ts"),
        JSON.stringify(config),
      ]);
      const { ports } = await child.next<{ ports: number[] }>(60_000);
      apps.set(store, { child, ports });
    }));
    const base = (store: StoreName, setting: number) => `http://127.0.0.1:${apps.get(store)!.ports[setting]}`;

    const driver = children.spawn("load driver", "node", [here("./_load_driver.mjs")], {
      AUTOCANNON_DIR: options.depsDir,
    });
    let jobs = 0;
    const load = async <T>(job: Record<string, unknown>, seconds: number): Promise<T> => {
      const id = ++jobs;
      await driver.send({ ...job, id });
      const reply = await driver.next<{ id: number; result?: T; error?: string }>(seconds * 1000 + 30_000);
      if (reply.id !== id || reply.error) throw new Error(`load driver: ${reply.error ?? "out of step"}`);
      return reply.result!;
    };

    const cookies = new Map<StoreName, string[]>();
    for (const store of STORES) cookies.set(store, await createSessions(base(store, 0), options.sessions));
    log(`created ${options.sessions} sessions per store`);

    // What Redis spends with every client connected and no load: part of every run's INFO cpu
    // delta, whichever the store.
    const idleBefore = await redisInfo(admin);
    await delay(Math.max(300, options.warmup * 1000));
    const idle = redisDelta(idleBefore, await redisInfo(admin), inner);
    const redisIdleCpuMsPerSecond = idle.cpuMs / idle.seconds;
    const mix: MixCell[] = [];
    for (const [s, setting] of options.settings.entries()) {
      for (const store of STORES) {
        await load({
          kind: "mix",
          url: base(store, s),
          connections: setting.connections,
          duration: options.warmup,
          cookies: cookies.get(store),
          writeRatio: 0.2,
          seed: 1,
        }, options.warmup);
      }
      for (let round = 0; round < options.rounds; round++) {
        for (const writeRatio of options.writeRatios) {
          // Rotate who goes first, so no store always runs right after another.
          const order = STORES.map((_, i) => STORES[(i + round) % STORES.length]);
          for (const store of order) {
            const app = apps.get(store)!;
            const url = base(store, s);
            const countBefore = await getJson<{ requests: number }>(`${url}/__count`);
            const cpuBefore = await processCpuMs(app.child.pid);
            const infoBefore = await redisInfo(admin);
            const result = await load<Omit<MixSample, "round" | "appRequests" | "appCpuMs">>({
              kind: "mix",
              url,
              connections: setting.connections,
              duration: options.duration,
              cookies: cookies.get(store),
              writeRatio,
              seed: 1000 * round + Math.round(writeRatio * 100) + 7,
            }, options.duration);
            await delay(100); // requests autocannon gave up on at the end still finish
            const infoAfter = await redisInfo(admin);
            const cpuAfter = await processCpuMs(app.child.pid);
            const countAfter = await getJson<{ requests: number }>(`${url}/__count`);
            const sample: MixSample = {
              round,
              ...result,
              appRequests: countAfter.requests - countBefore.requests,
              appCpuMs: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
              redis: store === "floor" ? undefined : redisDelta(infoBefore, infoAfter, inner),
            };
            let cell = mix.find((c) =>
              c.setting === setting.name && c.writeRatio === writeRatio && c.store === store
            );
            if (!cell) mix.push(cell = { setting: setting.name, writeRatio, store, samples: [] });
            cell.samples.push(sample);
            log(
              `${setting.name} ${Math.round(writeRatio * 100)}% writes, ${store}, round ${round + 1}: ` +
                `${sample.rps.toFixed(0)} req/s, p50 ${sample.p50?.toFixed(2)} ms, p99 ${
                  sample.p99?.toFixed(2)
                } ms` +
                (sample.non2xx || sample.errors ? `, ${sample.non2xx} non-2xx, ${sample.errors} errors` : ""),
            );
          }
        }
      }
    }

    // Round trips per request, one request at a time through the first delay proxy.
    const roundTrips: RoundTripRow[] = [];
    const [counted] = proxies;
    if (counted) {
      const [s, proxy] = counted;
      for (const store of ["ours", ...ROUND_TRIPS_ONLY, "connect-redis"] as const) {
        roundTrips.push(
          ...await countRoundTrips({
            store,
            url: base(store, s),
            proxy,
            requests: options.roundTripRequests,
            async commandsSent(work) {
              const before = await redisInfo(admin);
              await work();
              return redisDelta(before, await redisInfo(admin), inner).clientCommands;
            },
          }),
        );
      }
      log(
        `round trips per request: ${
          roundTrips.map((r) => `${r.store} ${r.request} ${(r.roundTrips / r.requests).toFixed(2)}`).join(
            ", ",
          )
        }`,
      );
    }

    const contention: ContentionCell[] = [];
    const contenders = STORES.filter((store) => store !== "floor");
    for (const settingName of options.contention.settings) {
      const s = options.settings.findIndex((setting) => setting.name === settingName);
      if (s < 0) continue;
      for (let round = 0; round < options.contention.rounds; round++) {
        for (const writers of options.contention.writers) {
          const order = round % 2 === 0 ? contenders : [...contenders].reverse();
          for (const store of order) {
            const url = base(store, s);
            const [cookie] = await createSessions(base(store, 0), 1);
            await getJson(`${url}/__writes?reset=1`);
            const countBefore = await getJson<{ requests: number }>(`${url}/__count`);
            const infoBefore = await redisInfo(admin);
            const result = await load<
              Omit<
                ContentionSample,
                | "round"
                | "commits"
                | "stored"
                | "lostOwn"
                | "lostShared"
                | "commitErrors"
                | "appRequests"
                | "redis"
              >
            >({
              kind: "contend",
              url,
              writers,
              duration: options.contention.duration,
              cookie,
            }, options.contention.duration);
            await delay(300); // let commits of requests autocannon gave up on land
            const infoAfter = await redisInfo(admin);
            const countAfter = await getJson<{ requests: number }>(`${url}/__count`);
            const writes = await getJson<{ ok: Record<string, number>; errors: number }>(`${url}/__writes`);
            const stored = await getJson<Record<string, unknown>>(`${base(store, 0)}/peek`, { cookie });
            const commits = Array.from({ length: writers }, (_, k) => writes.ok[k] ?? 0);
            const own = Array.from({ length: writers }, (_, k) => Number(stored[`w${k}`] ?? 0));
            const sample: ContentionSample = {
              round,
              ...result,
              commits,
              commitErrors: writes.errors,
              stored: own,
              lostOwn: commits.reduce((sum, n, k) => sum + n - own[k], 0),
              lostShared: commits.reduce((a, b) => a + b, 0) - Number(stored.shared ?? 0),
              appRequests: countAfter.requests - countBefore.requests,
              redis: redisDelta(infoBefore, infoAfter, inner),
            };
            let cell = contention.find((c) =>
              c.setting === settingName && c.writers === writers && c.store === store
            );
            if (!cell) contention.push(cell = { setting: settingName, writers, store, samples: [] });
            cell.samples.push(sample);
            log(
              `contention ${settingName}, ${writers} writers, ${store}, round ${round + 1}: ` +
                `${sample.rps.toFixed(0)} req/s, p99 ${sample.p99?.toFixed(2)} ms, ` +
                `lost own ${sample.lostOwn}/${
                  commits.reduce((a, b) => a + b, 0)
                }, lost shared ${sample.lostShared}`,
            );
          }
        }
      }
    }

    // The cache's staleness window: changes written through the uncached app, read through the
    // cached one while autocannon loads it (5 % writes).
    const staleness: StalenessRow[] = [];
    for (const [s, setting] of options.settings.entries()) {
      const [cookie] = await createSessions(base("ours-cached", 0), 1);
      const seconds = Math.max(1, options.duration);
      const loading = load({
        kind: "mix",
        url: base("ours-cached", s),
        connections: setting.connections,
        duration: seconds,
        cookies: cookies.get("ours-cached"),
        writeRatio: 0.05,
        seed: 99,
      }, seconds);
      const samples = await measureStaleness({
        writer: base("ours", s),
        reader: base("ours-cached", s),
        cookie,
        changes: options.stalenessChanges,
      });
      await loading;
      staleness.push({
        setting: setting.name,
        load: `autocannon, 5 % writes, ${setting.connections} connections`,
        samples,
      });
      const ms = samples.map((x) => x.ms).sort((a, b) => a - b);
      log(
        `staleness ${setting.name}: median ${ms[Math.floor(ms.length / 2)]?.toFixed(2)} ms, max ${
          ms.at(-1)?.toFixed(2)
        } ms, next read stale in ${samples.filter((x) => x.staleReads > 0).length}/${samples.length}`,
      );
    }

    const memory = await measureMemory(redis.url);
    return {
      rtt,
      redisIdleCpuMsPerSecond,
      mix,
      contention,
      memory,
      scriptCommands: [...inner],
      roundTrips,
      staleness,
    };
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    await admin.close().catch(() => {});
  }
}
