/**
 * HTTP benchmark: the same Express 4 + express-session app on three stores
 * (connect-smart-redis, connect-redis 10, and an in-process "floor" store with
 * no I/O), loaded by autocannon from a separate Node process, on a real
 * redis-server, in two settings: Redis on loopback, and Redis behind a TCP
 * proxy that delays each direction (one network hop away). Runs are interleaved
 * (A B C, A B C, ...) so each ratio compares runs made side by side. Also the
 * contention benchmark (N parallel writers on one session), Redis memory per
 * session, and the app-CPU phase: many short interleaved runs on loopback whose
 * per-round ratios decide the app-CPU goals.
 *
 * This module runs the parts in order; each lives in its own file: the servers
 * and apps (`_http_setup.ts`), the load rounds (`_http_mix.ts`), the contention
 * rounds (`_http_contention.ts`), Redis's INFO (`_redis_info.ts`), memory per
 * session (`_http_memory.ts`), and what is measured (`_http_types.ts`).
 *
 * Run it through `deno task bench` (bench/run.ts), which also writes the report.
 * @module
 */

import { createClient } from "redis";
import { startRedisServer } from "../scripts/redis_server.ts";
import type { StoreName } from "./_app_server.ts";
import { runContention } from "./_http_contention.ts";
import { measureMemory } from "./_http_memory.ts";
import { runMixRounds } from "./_http_mix.ts";
import {
  type BenchRig,
  COMMIT_FLOORS,
  createSessions,
  ensureAutocannon,
  medianPing,
  ROUND_TRIPS_ONLY,
  routeRedis,
  startApps,
  startLoadDriver,
  STORES,
} from "./_http_setup.ts";
import type { HttpBenchOptions, HttpResults, MixCell } from "./_http_types.ts";
import { Children, delay, type LineChild } from "./_processes.ts";
import { redisDelta, redisInfo, scriptCommandNames } from "./_redis_info.ts";
import { countRoundTrips, type RoundTripRow } from "./_round_trips.ts";
import { measureStaleness, type StalenessRow } from "./_staleness.ts";

export { AUTOCANNON_VERSION, STORES } from "./_http_setup.ts";
export { scriptCommandNames } from "./_redis_info.ts";
export type {
  ContentionCell,
  ContentionSample,
  HttpBenchOptions,
  HttpResults,
  MemoryRow,
  MixCell,
  MixSample,
  RedisSample,
  Setting,
} from "./_http_types.ts";

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
    const routes = await routeRedis(children, redis, options.settings);
    const rtt: Record<string, number> = {};
    for (const [i, setting] of options.settings.entries()) {
      rtt[setting.name] = await medianPing(routes.urls[i], 200);
    }
    log(`PING round trip (median ms): ${JSON.stringify(rtt)}`);

    const apps = await startApps(children, routes);
    const base = (store: StoreName, setting: number) => `http://127.0.0.1:${apps.get(store)!.ports[setting]}`;
    const load = startLoadDriver(children, options.depsDir);

    const cookies = new Map<StoreName, string[]>();
    for (const store of [...STORES, ...COMMIT_FLOORS]) {
      cookies.set(store, await createSessions(base(store, 0), options.sessions));
    }
    log(`created ${options.sessions} sessions per store`);
    const rig: BenchRig = { options, admin, inner, apps, load, cookies, base };

    // What Redis spends with every client connected and no load: part of every run's INFO cpu
    // delta, whichever the store.
    const idleBefore = await redisInfo(admin);
    await delay(Math.max(300, options.warmup * 1000));
    const idle = redisDelta(idleBefore, await redisInfo(admin), inner);
    const redisIdleCpuMsPerSecond = idle.cpuMs / idle.seconds;
    const mix = await runMixRounds(rig);
    const appCpu = await runAppCpuPhase(rig);
    const roundTrips = await countAllRoundTrips(rig, routes.proxies);
    const contention = await runContention(rig);
    const staleness = await runStaleness(rig);
    const memory = await measureMemory(redis.url);
    return {
      rtt,
      redisIdleCpuMsPerSecond,
      mix,
      appCpu,
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

/**
 * App CPU per request that decides: ours (cached too), connect-redis and the floor store on loopback,
 * and where there are commits Redis's floors in place (ours with its commit script replaced). Many
 * short runs, the order rotating each round. The app's CPU per request moves by 2× between runs
 * on a shared machine; a median of many side-by-side ratios moves far less than a few long runs.
 */
async function runAppCpuPhase(rig: BenchRig): Promise<MixCell[]> {
  const { rounds, duration, writeRatios } = rig.options.appCpu;
  if (rounds <= 0) return [];
  rig.options.log(`app CPU phase: ${rounds} rounds of ${duration} s runs, loopback`);
  const stores = ["ours", "ours-cached", ...COMMIT_FLOORS, "connect-redis", "floor"] as const;
  // The commit floors only where there are commits.
  const runs = (store: StoreName, writeRatio: number) =>
    writeRatio > 0 || !COMMIT_FLOORS.includes(store as never);
  // The commit floors' apps ran nothing before (the others had the mix rounds): warm them up first.
  const warmup = rig.options.warmup;
  await runMixRounds(rig, { settings: [0], stores: COMMIT_FLOORS, writeRatios, rounds: 0, duration, warmup });
  return await runMixRounds(rig, { settings: [0], stores, writeRatios, rounds, duration, warmup: 0, runs });
}

/** Round trips per request, one request at a time through the first delay proxy. */
async function countAllRoundTrips(rig: BenchRig, proxies: Map<number, LineChild>): Promise<RoundTripRow[]> {
  const { admin, inner, base, options } = rig;
  const { log } = options;
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
  return roundTrips;
}

/**
 * The cache's staleness window: changes written through the uncached app, read through the
 * cached one while autocannon loads it (5 % writes).
 */
async function runStaleness(rig: BenchRig): Promise<StalenessRow[]> {
  const { options, load, cookies, base } = rig;
  const { log } = options;
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
  return staleness;
}
