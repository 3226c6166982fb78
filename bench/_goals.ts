/**
 * The goals the benchmark checks, each a ratio to connect-redis measured in the
 * same run (or a count), marked met or missed from the measurements.
 * @module
 */

import type { StoreName } from "./_app_server.ts";
import { appCpuFigures, describe, redisCpuFigures } from "./_app_cpu_report.ts";
import { cachedGoals } from "./_cached_goals.ts";
import { writeFloorGoals } from "./_write_floor_report.ts";
import { ROUND_TRIP_REQUESTS } from "./_round_trips.ts";
import {
  benchGroups,
  CONNECT_REDIS,
  fmt,
  median,
  type MixSummary,
  pct,
  type Results,
  summarizeMix,
} from "./_summary.ts";

/** A goal, checked against the measurements. */
export interface Goal {
  goal: string;
  measured: string;
  /** `null`: not measured in this run, or shown for information only. */
  met: boolean | null;
}

/** Redis server CPU per request: at most this many times connect-redis's, by share of writes (loopback). */
const REDIS_CPU: [number, number][] = [[0, 0.8], [0.2, 0.9], [0.5, 1.2]];
/** Requests per second: at least this many times connect-redis's, by setting and share of writes. */
const THROUGHPUT: [string, number, number][] = [
  ["loopback", 0, 1.05],
  ["loopback", 0.2, 1.1],
  ["loopback", 0.5, 1.1],
  ["hop", 0, 1.8],
  ["hop", 0.2, 1.6],
];
/** The app process's CPU per request (Express and the Redis client included): at most this many times connect-redis's (loopback). */
const APP_CPU: [number, number][] = [[0, 0.9], [0.2, 0.9], [0.5, 0.9]];
/** Round trips to Redis our store may take per request (a logout loads, then destroys). */
const ROUND_TRIPS: Record<(typeof ROUND_TRIP_REQUESTS)[number], number> = {
  login: 1,
  read: 1,
  write: 2,
  logout: 2,
};
/** In-process CPU per operation (store bench): at most this many times connect-redis's. */
const IN_PROCESS = 1.2;

/**
 * Checks the goals against the measurements.
 * @param results Everything measured.
 * @returns One line per goal.
 */
export function checkGoals(results: Results): Goal[] {
  const mix = summarizeMix(results.http.mix, results.http.redisIdleCpuMsPerSecond ?? 0);
  const cell = (setting: string, ratio: number, store: StoreName): MixSummary | undefined =>
    mix.find((m) => m.setting === setting && m.writeRatio === ratio && m.store === store);
  const goals: Goal[] = [];
  const missing = (goal: string) => goals.push({ goal, measured: "not measured in this run", met: null });
  /** A goal on our store against connect-redis in one cell; "not measured" when either is missing. */
  const versus = (
    goal: string,
    setting: string,
    ratio: number,
    judge: (ours: MixSummary, theirs: MixSummary) => Omit<Goal, "goal">,
  ) => {
    const ours = cell(setting, ratio, "ours");
    const theirs = cell(setting, ratio, "connect-redis");
    if (ours && theirs) goals.push({ goal, ...judge(ours, theirs) });
    else missing(goal);
  };

  for (const [ratio, target] of REDIS_CPU) {
    const goal = `Redis server CPU per request, loopback, ${pct(ratio)} writes: ≤ ${
      fmt(target, 1)
    }× ${CONNECT_REDIS}`;
    // The app-CPU phase's many short runs decide (as for app CPU); the mix rounds' figures beside.
    const idle = results.http.redisIdleCpuMsPerSecond;
    const decided = redisCpuFigures(results.http.appCpu, ratio, idle);
    versus(goal, "loopback", ratio, (ours, theirs) => {
      // Net of what Redis spends at rest, which is no store's doing (raw figures beside).
      const pooled = ours.redisCpuNetUs / theirs.redisCpuNetUs;
      const measured = decided?.ours.rounds ? decided.ours.median : pooled;
      const mixRounds =
        `${fmt(pooled)}× (${fmt(ours.redisCpuNetUs, 2)} vs ${fmt(theirs.redisCpuNetUs, 2)} µs ` +
        `per request, INFO cpu net of Redis at rest; raw ${fmt(ours.redisCpuPer1000, 2)} vs ` +
        `${fmt(theirs.redisCpuPer1000, 2)} µs, ${fmt(ours.redisCpuPer1000 / theirs.redisCpuPer1000)}×; ` +
        `executing commands ${fmt(ours.redisCommandUs, 2)} vs ${fmt(theirs.redisCommandUs, 2)} µs, ` +
        `${fmt(ours.redisCommandUs / theirs.redisCommandUs)}×)`;
      return {
        measured: decided?.ours.rounds
          ? `${describe(decided.ours)}, app-CPU phase; mix rounds pooled ${mixRounds}`
          : mixRounds,
        met: Number.isFinite(measured) ? measured <= target : null,
      };
    });
    if (ratio > 0 && decided?.trivialCommit.rounds) {
      goals.push({
        goal: `(information) floor in place, Redis server CPU per request, loopback, ${pct(ratio)} writes: ` +
          `ours with its commit script replaced, × ${CONNECT_REDIS}`,
        measured: `by a script that only returns {'ok'}: ${describe(decided.trivialCommit)}; by the ` +
          `commit's HMGET + HSET alone: ${describe(decided.bareCommit)}; ours: ${fmt(decided.ours.median)}×`,
        met: null,
      });
    }
  }

  // Where the Redis CPU misses come from: the command patterns alone, no app.
  goals.push(...writeFloorGoals(results.writeFloor));

  for (const [setting, ratio, target] of THROUGHPUT) {
    const goal = `req/s, ${setting}, ${pct(ratio)} writes: ≥ ${fmt(target)}× ${CONNECT_REDIS}`;
    // On loopback the app-CPU phase's many short runs decide (as for app CPU); the mix rounds beside.
    const decided = setting === "loopback" ? appCpuFigures(results.http.appCpu, ratio)?.rps : undefined;
    versus(goal, setting, ratio, (ours, theirs) => {
      const mixRounds = `${fmt(ours.vsConnectRedis, 3)}× (rounds ${fmt(ours.vsConnectRedisRange[0])}–` +
        `${fmt(ours.vsConnectRedisRange[1])}×; ${fmt(ours.rps, 0)} vs ${fmt(theirs.rps, 0)} req/s)`;
      const measured = decided?.median ?? ours.vsConnectRedis;
      return {
        measured: decided ? `${describe(decided)}, app-CPU phase; mix rounds ${mixRounds}` : mixRounds,
        met: Number.isFinite(measured) ? measured >= target : null,
      };
    });
  }

  for (const [ratio, target] of APP_CPU) {
    const goal = `app process CPU per request, loopback, ${pct(ratio)} writes: ≤ ${
      fmt(target, 1)
    }× ${CONNECT_REDIS}`;
    // The app-CPU phase's many short runs decide; the mix rounds' pooled figure is shown beside.
    const decided = appCpuFigures(results.http.appCpu, ratio);
    versus(goal, "loopback", ratio, (ours, theirs) => {
      const pooled = ours.appCpuPer1000 / theirs.appCpuPer1000;
      const measured = decided?.cpu.median ?? pooled;
      const mixRounds = `${fmt(ours.appCpuPer1000, 2)} vs ${
        fmt(theirs.appCpuPer1000, 2)
      } ms per 1000 requests`;
      return {
        measured: decided
          ? `${describe(decided.cpu)}; the floor store ${describe(decided.floorCpu)}; mix rounds pooled ` +
            `${fmt(pooled)}× (${mixRounds})`
          : `${fmt(pooled)}× (${mixRounds})`,
        met: Number.isFinite(measured) ? measured <= target : null,
      };
    });
  }

  // The scripts inside Redis, against a script that does nothing (bench/script_bench.ts).
  // What no compare-and-set can avoid: the commit's two commands alone from Lua (its own row).
  const reference = results.scripts?.find((row) => row.name.startsWith("reference:"));
  for (const row of results.scripts ?? []) {
    if (row.goal === undefined) continue;
    const ratio = median(row.ratios);
    goals.push({
      goal: `script inside Redis, ${row.name}: ≤ ${fmt(row.goal, 1)}× the trivial-script floor`,
      measured: `${fmt(ratio)}× (rounds ${row.ratios.map((x) => fmt(x)).join(", ")}; ${fmt(row.usec)} vs ` +
        `${fmt(row.floorUsec)} µs per call; CPU ${fmt(row.cpu)} vs ${fmt(row.floorCpu)} µs` +
        (reference ? `; its HMGET + HSET alone, nothing compared: ${fmt(median(reference.ratios))}×` : "") +
        ")",
      met: Number.isFinite(ratio) ? ratio <= row.goal : null,
    });
  }

  goals.push(...cachedGoals(cell, results.http.appCpu));
  for (const row of results.http.staleness ?? []) {
    const ms = row.samples.map((sample) => sample.ms).sort((a, b) => a - b);
    const stale = row.samples.filter((sample) => sample.staleReads > 0).length;
    goals.push({
      goal: `(information) localCache staleness window, ${row.setting}, another app server's change ` +
        `(${row.load})`,
      measured: `median ${fmt(ms[Math.floor(ms.length / 2)])} ms, max ${fmt(ms.at(-1) ?? NaN)} ms ` +
        `(until a read returned it, that read included); the next read was stale after ${stale} of ` +
        `${ms.length} changes`,
      met: null,
    });
  }

  const trips = results.http.roundTrips ?? [];
  for (const request of ROUND_TRIP_REQUESTS) {
    const goal = `round trips per ${request} request: ${ROUND_TRIPS[request]}` +
      (request === "logout" ? " (load 1 + destroy 1)" : "");
    const ours = trips.find((row) => row.store === "ours" && row.request === request);
    if (!ours) {
      missing(goal);
      continue;
    }
    const theirs = trips.find((row) => row.store === "connect-redis" && row.request === request);
    const perRequest = ours.roundTrips / ours.requests;
    goals.push({
      goal,
      measured: `${fmt(perRequest)} (counted over ${ours.requests} requests; ${CONNECT_REDIS} ${
        theirs ? fmt(theirs.roundTrips / theirs.requests) : "–"
      })`,
      met: perRequest <= ROUND_TRIPS[request],
    });
  }

  // Sessions per user: no round trip more for requests that keep the user, at most one for a
  // login or a logout.
  for (const request of ROUND_TRIP_REQUESTS) {
    const extra = request === "login" || request === "logout" ? 1 : 0;
    const goal =
      `round trips per ${request} request with option user: ≤ ${extra === 0 ? "as" : "1 more than"} ` +
      "without";
    const plain = trips.find((row) => row.store === "ours" && row.request === request);
    const user = trips.find((row) => row.store === "ours-user" && row.request === request);
    if (!plain || !user) {
      missing(goal);
      continue;
    }
    const [without, withUser] = [plain, user].map((row) => row.roundTrips / row.requests);
    goals.push({
      goal,
      measured: `${fmt(withUser)} vs ${fmt(without)} (commands ${fmt(user.commands / user.requests)} vs ${
        fmt(plain.commands / plain.requests)
      })`,
      met: withUser <= without + extra,
    });
  }

  const groups = benchGroups(results.storeBench).filter((g) =>
    g.others.some((o) => o.name === "connect-smart-redis")
  );
  if (groups.length === 0) {
    missing(`in-process CPU per operation (store bench): ≤ ${IN_PROCESS}× ${CONNECT_REDIS}`);
  }
  for (const g of groups) {
    const ours = g.others.find((o) => o.name === "connect-smart-redis")!;
    const ratio = ours.avg / g.baseline.avg;
    goals.push({
      goal: `in-process CPU, ${g.group} (store bench, fake Redis): ≤ ${IN_PROCESS}× ${CONNECT_REDIS}`,
      measured: `${fmt(ratio)}×`,
      met: ratio <= IN_PROCESS,
    });
  }

  // For information: the app process as a whole one hop away (the goals above are loopback's).
  for (const setting of [...new Set(mix.map((m) => m.setting))].filter((s) => s !== "loopback")) {
    const parts = mix.filter((m) => m.setting === setting && m.store === "ours").flatMap((ours) => {
      const theirs = cell(setting, ours.writeRatio, "connect-redis");
      return theirs
        ? [`${pct(ours.writeRatio)} writes ${fmt(ours.appCpuPer1000 / theirs.appCpuPer1000)}×`]
        : [];
    });
    if (parts.length) {
      goals.push({
        goal: `(information) app process CPU per request, ${setting}, × ${CONNECT_REDIS}`,
        measured: parts.join(", "),
        met: null,
      });
    }
  }
  return goals;
}
