/**
 * The local cache's goals (option `localCache`): throughput and Redis CPU against
 * connect-redis, and loopback against the in-process floor.
 * @module
 */

import type { StoreName } from "./_app_server.ts";
import type { MixCell } from "./_http_types.ts";
import { appCpuFigures, describe } from "./_app_cpu_report.ts";
import type { Goal } from "./_goals.ts";
import { CONNECT_REDIS, fmt, type MixSummary, pct } from "./_summary.ts";

/** The local cache (option `localCache`): req/s at least this many times connect-redis's. */
const CACHED_THROUGHPUT: [string, number, number][] = [["hop", 0, 5], ["hop", 0.05, 3.5], ["hop", 0.2, 2]];
/** The local cache: Redis server CPU per request at most this many times connect-redis's. */
const CACHED_REDIS_CPU: [string, number, number][] = [["loopback", 0.05, 0.3], ["hop", 0.05, 0.3]];
/** The local cache on loopback, 0 % writes: req/s at least this share of the in-process floor's. */
const CACHED_FLOOR = 0.85;
/** The local cache's goals: throughput and Redis CPU against connect-redis, loopback against the floor. */
export function cachedGoals(
  cell: (setting: string, ratio: number, store: StoreName) => MixSummary | undefined,
  appCpu: MixCell[] | undefined,
): Goal[] {
  const goals: Goal[] = [];
  const label = "connect-smart-redis with localCache";
  for (const [setting, ratio, target] of CACHED_THROUGHPUT) {
    const goal = `${label}: req/s, ${setting}, ${pct(ratio)} writes: ≥ ${fmt(target, 1)}× ${CONNECT_REDIS}`;
    const ours = cell(setting, ratio, "ours-cached");
    const theirs = cell(setting, ratio, "connect-redis");
    goals.push(
      !ours || !theirs ? { goal, measured: "not measured in this run", met: null } : {
        goal,
        measured: `${fmt(ours.vsConnectRedis, 2)}× (rounds ${fmt(ours.vsConnectRedisRange[0])}–` +
          `${fmt(ours.vsConnectRedisRange[1])}×; ${fmt(ours.rps, 0)} vs ${fmt(theirs.rps, 0)} req/s)`,
        met: Number.isFinite(ours.vsConnectRedis) ? ours.vsConnectRedis >= target : null,
      },
    );
  }
  for (const [setting, ratio, target] of CACHED_REDIS_CPU) {
    const goal = `${label}: Redis server CPU per request, ${setting}, ${pct(ratio)} writes: ≤ ${
      fmt(target, 1)
    }× ${CONNECT_REDIS}`;
    const ours = cell(setting, ratio, "ours-cached");
    const theirs = cell(setting, ratio, "connect-redis");
    const measured = ours && theirs ? ours.redisCpuNetUs / theirs.redisCpuNetUs : NaN;
    goals.push(
      !ours || !theirs ? { goal, measured: "not measured in this run", met: null } : {
        goal,
        measured: `${fmt(measured)}× (${fmt(ours.redisCpuNetUs)} vs ${fmt(theirs.redisCpuNetUs)} µs per ` +
          `request net of Redis at rest; raw ${fmt(ours.redisCpuPer1000)} vs ${
            fmt(theirs.redisCpuPer1000)
          } µs)`,
        met: Number.isFinite(measured) ? measured <= target : null,
      },
    );
  }
  const goal = `${label}: req/s, loopback, 0 % writes: ≥ ${CACHED_FLOOR}× the in-process floor`;
  const cached = cell("loopback", 0, "ours-cached");
  // The app-CPU phase's many short runs decide; the mix rounds' median is shown beside.
  const decided = appCpuFigures(appCpu, 0)?.cachedVsFloor;
  const measured = decided?.rounds ? decided.median : cached?.vsFloor ?? NaN;
  goals.push(
    !cached && !decided?.rounds ? { goal, measured: "not measured in this run", met: null } : {
      goal,
      measured: [
        decided?.rounds ? `${describe(decided)}, app-CPU phase` : "",
        cached ? `mix rounds ${fmt(cached.vsFloor)}×` : "",
      ].filter(Boolean).join("; "),
      met: Number.isFinite(measured) ? measured >= CACHED_FLOOR : null,
    },
  );
  return goals;
}
