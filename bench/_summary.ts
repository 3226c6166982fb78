/**
 * The measurements summed up for the report and the goals: HTTP cells over
 * their rounds, store-bench groups against their baseline, number formats.
 * @module
 */

import type { HttpResults, MixCell, MixSample } from "./http_bench.ts";
import type { StoreName } from "./_app_server.ts";
import { PEER_VERSIONS } from "./_peers.ts";
import type { ScriptCost } from "./script_bench.ts";
import type { WriteFloorResults } from "./write_floor_bench.ts";

/** How the report names connect-redis: with its major version. */
export const CONNECT_REDIS = `connect-redis ${PEER_VERSIONS["connect-redis"].split(".")[0]}`;

/** One `deno bench --json` result, reduced to what the report uses. */
export interface StoreBenchRow {
  group: string;
  name: string;
  baseline: boolean;
  /** Mean time per iteration, ns. */
  avg: number;
  /** 75th percentile, ns. */
  p75: number;
}

/** The machine and the versions, printed at the top of the report. */
export interface Meta {
  date: string;
  mode: "full" | "smoke";
  nproc: number;
  cpuModel: string;
  memory: string;
  loadBefore: string;
  loadAfter: string;
  versions: Record<string, string>;
  parameters: Record<string, string>;
}

/** Everything one benchmark run produced. */
export interface Results {
  meta: Meta;
  storeBench: StoreBenchRow[];
  http: HttpResults;
  /** The scripts inside Redis against the trivial-script floor (bench/script_bench.ts); absent in older results. */
  scripts?: ScriptCost[];
  /** Redis's CPU per request on each store's command pattern with no app (absent in older results). */
  writeFloor?: WriteFloorResults;
}

/** How the report names each store. */
export const LABEL: Record<StoreName, string> = {
  "ours": "connect-smart-redis",
  "ours-cached": "connect-smart-redis, localCache",
  "ours-user": "connect-smart-redis, option user",
  "ours-trivial-commit": "floor: ours, commit script → trivial",
  "ours-bare-commit": "floor: ours, commit script → HMGET + HSET",
  "connect-redis": CONNECT_REDIS,
  "floor": "floor (in-process Map)",
};

export const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
/** The first and third quartiles (linear between neighbours), the spread around a median. */
export function quartiles(values: number[]): [number, number] {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const at = (q: number) => {
    const x = (sorted.length - 1) * q;
    const low = Math.floor(x);
    return low + 1 < sorted.length ? sorted[low] + (sorted[low + 1] - sorted[low]) * (x - low) : sorted[low];
  };
  return sorted.length ? [at(0.25), at(0.75)] : [NaN, NaN];
}
export const fmt = (value: number, digits = 2) => Number.isFinite(value) ? value.toFixed(digits) : "–";
export const pct = (ratio: number) => `${Math.round(ratio * 100)} %`;

/** The figures of one cell of the HTTP table, aggregated over its rounds. */
export interface MixSummary {
  setting: string;
  writeRatio: number;
  store: StoreName;
  rps: number;
  /** Median over rounds of this store's req/s divided by connect-redis's in the same round. */
  vsConnectRedis: number;
  /** The lowest and highest of those per-round ratios. */
  vsConnectRedisRange: [number, number];
  vsFloor: number;
  p50: number;
  p99: number;
  /** Median over rounds of this store's p50 divided by connect-redis's. */
  p50VsConnectRedis: number;
  clientCommands: number;
  executedCommands: number;
  /** Redis's CPU time per request (INFO cpu deltas), ms per 1000 requests = µs per request. */
  redisCpuPer1000: number;
  /** {@linkcode redisCpuPer1000} less Redis's CPU at rest over the same time, µs per request. */
  redisCpuNetUs: number;
  /** Time Redis spent executing the store's commands per request (commandstats usec), µs. */
  redisCommandUs: number;
  appCpuPer1000: number;
  failures: number;
}

/** Per round: `pick` of a sample divided by `pick` of the other cell's sample in the same round. */
export function roundRatios(
  a: MixSample[],
  b: MixSample[] | undefined,
  pick: (s: MixSample) => number,
): number[] {
  if (!b) return [];
  return a.flatMap((sample) => {
    const other = b.find((o) => o.round === sample.round);
    return other ? [pick(sample) / pick(other)] : [];
  });
}

function roundRatio(a: MixSample[], b: MixSample[] | undefined, pick: (s: MixSample) => number): number {
  return median(roundRatios(a, b, pick));
}

/**
 * Aggregates every HTTP cell over its rounds.
 * @param cells The cells as measured.
 * @param idleMsPerSecond Redis's CPU at rest, ms per second (0: unknown).
 * @returns One summary per cell.
 */
export function summarizeMix(cells: MixCell[], idleMsPerSecond = 0): MixSummary[] {
  return cells.map((cell) => {
    const peer = (store: StoreName) =>
      cells.find((c) => c.setting === cell.setting && c.writeRatio === cell.writeRatio && c.store === store)
        ?.samples;
    const s = cell.samples;
    const requests = sum(s.map((x) => x.appRequests));
    const redis = s.flatMap((x) => x.redis ? [x.redis] : []);
    return {
      setting: cell.setting,
      writeRatio: cell.writeRatio,
      store: cell.store,
      rps: sum(s.map((x) => x.ok)) / sum(s.map((x) => x.seconds)),
      vsConnectRedis: roundRatio(s, peer("connect-redis"), (x) => x.rps),
      vsConnectRedisRange: [
        Math.min(...roundRatios(s, peer("connect-redis"), (x) => x.rps)),
        Math.max(...roundRatios(s, peer("connect-redis"), (x) => x.rps)),
      ],
      vsFloor: roundRatio(s, peer("floor"), (x) => x.rps),
      p50: median(s.map((x) => x.p50 ?? NaN)),
      p99: median(s.map((x) => x.p99 ?? NaN)),
      p50VsConnectRedis: roundRatio(s, peer("connect-redis"), (x) => x.p50 ?? NaN),
      clientCommands: redis.length ? sum(redis.map((r) => r.clientCommands)) / requests : NaN,
      executedCommands: redis.length ? sum(redis.map((r) => r.executedCommands)) / requests : NaN,
      redisCpuPer1000: redis.length ? sum(redis.map((r) => r.cpuMs)) / requests * 1000 : NaN,
      redisCpuNetUs: redis.length
        ? (sum(redis.map((r) => r.cpuMs)) - idleMsPerSecond * sum(redis.map((r) => r.seconds ?? NaN))) /
          requests * 1000
        : NaN,
      redisCommandUs: redis.length ? sum(redis.map((r) => r.commandUsec ?? NaN)) / requests : NaN,
      appCpuPer1000: s.some((x) => x.appCpuMs === null)
        ? NaN
        : sum(s.map((x) => x.appCpuMs!)) / requests * 1000,
      failures: sum(s.map((x) => x.non2xx + x.errors + x.timeouts)),
    };
  });
}

/** A store-bench group: the baseline and the others as ratios to it. */
export interface BenchGroup {
  group: string;
  baseline: StoreBenchRow;
  others: StoreBenchRow[];
}

export function benchGroups(rows: StoreBenchRow[]): BenchGroup[] {
  const groups: BenchGroup[] = [];
  for (const row of rows) {
    let group = groups.find((g) => g.group === row.group);
    if (!group) groups.push(group = { group: row.group, baseline: undefined!, others: [] });
    if (row.baseline) group.baseline = row;
    else group.others.push(row);
  }
  return groups.filter((g) => g.baseline);
}

export function time(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}
