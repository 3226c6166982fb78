/**
 * The app-CPU phase summed up (many short interleaved runs on loopback): the
 * goal rows it decides, as medians of per-round ratios with their spread, and
 * its table for the report.
 * @module
 */

import type { StoreName } from "./_app_server.ts";
import type { MixCell, MixSample } from "./_http_types.ts";
import { CONNECT_REDIS, fmt, LABEL, median, pct, quartiles, type Results, roundRatios } from "./_summary.ts";

/** App CPU per request of one run, µs (NaN when /proc could not be read). */
const cpuUs = (s: MixSample) => s.appCpuMs === null ? NaN : s.appCpuMs / s.appRequests * 1000;

/** Per-round ratios of one store to another: median, quartiles, count. */
export interface RatioSpread {
  median: number;
  iqr: [number, number];
  rounds: number;
}

function spread(ratios: number[]): RatioSpread {
  const finite = ratios.filter(Number.isFinite);
  return { median: median(finite), iqr: quartiles(finite), rounds: finite.length };
}

/** "1.02× (median of 12 per-round ratios, IQR 0.91–1.10)". */
export function describe(s: RatioSpread): string {
  return `${fmt(s.median)}× (median of ${s.rounds} per-round ratios, IQR ${fmt(s.iqr[0])}–${fmt(s.iqr[1])})`;
}

/** One write ratio's figures from the phase. */
export interface AppCpuFigures {
  /** Ours ÷ connect-redis, app CPU per request. */
  cpu: RatioSpread;
  /** The floor store ÷ connect-redis, app CPU per request: how much the rounds move on their own. */
  floorCpu: RatioSpread;
  /** Ours ÷ connect-redis, req/s. */
  rps: RatioSpread;
  /** Ours with the local cache ÷ the floor store, req/s (empty when the cache did not run). */
  cachedVsFloor: RatioSpread;
}

/**
 * The phase's figures at one write ratio.
 * @param cells The phase's runs.
 * @param writeRatio The share of writes.
 * @returns Its ratios, or undefined when the phase did not run it.
 */
export function appCpuFigures(cells: MixCell[] | undefined, writeRatio: number): AppCpuFigures | undefined {
  const samples = (store: StoreName) =>
    cells?.find((c) => c.writeRatio === writeRatio && c.store === store)?.samples;
  const [ours, theirs, floor] = [samples("ours"), samples("connect-redis"), samples("floor")];
  if (!ours || !theirs) return undefined;
  const cached = samples("ours-cached");
  return {
    cpu: spread(roundRatios(ours, theirs, cpuUs)),
    floorCpu: spread(floor ? roundRatios(floor, theirs, cpuUs) : []),
    rps: spread(roundRatios(ours, theirs, (s) => s.rps)),
    cachedVsFloor: spread(cached && floor ? roundRatios(cached, floor, (s) => s.rps) : []),
  };
}

/** Redis's CPU per request of one run, net of what it spends at rest, µs. */
function redisCpuUs(idleMsPerSecond: number): (s: MixSample) => number {
  return (s) => s.redis ? (s.redis.cpuMs - idleMsPerSecond * s.redis.seconds) / s.appRequests * 1000 : NaN;
}

/** Redis's CPU per request in the phase, ÷ connect-redis's: ours, and the floors in place. */
export interface RedisCpuFigures {
  ours: RatioSpread;
  /** Ours with its commit script replaced by one that only returns `{'ok'}`. */
  trivialCommit: RatioSpread;
  /** Ours with its commit script replaced by the commit's HMGET and HSET alone. */
  bareCommit: RatioSpread;
}

/**
 * Redis's CPU per request in the phase at one write ratio, against connect-redis's.
 * @param cells The phase's runs.
 * @param writeRatio The share of writes.
 * @param idleMsPerSecond Redis's CPU at rest, ms per second.
 * @returns The ratios, or undefined when the phase did not run it.
 */
export function redisCpuFigures(
  cells: MixCell[] | undefined,
  writeRatio: number,
  idleMsPerSecond: number,
): RedisCpuFigures | undefined {
  const samples = (store: StoreName) =>
    cells?.find((c) => c.writeRatio === writeRatio && c.store === store)?.samples;
  const theirs = samples("connect-redis");
  const ours = samples("ours");
  if (!ours || !theirs) return undefined;
  const pick = redisCpuUs(idleMsPerSecond);
  const versus = (store: StoreName) => spread(roundRatios(samples(store) ?? [], theirs, pick));
  return {
    ours: versus("ours"),
    trivialCommit: versus("ours-trivial-commit"),
    bareCommit: versus("ours-bare-commit"),
  };
}

/**
 * The report's section: per write ratio and store, medians over the rounds and the ratios.
 * @param results Everything measured.
 * @returns Markdown, or "" when the phase did not run.
 */
export function renderAppCpu(results: Results): string {
  const cells = results.http.appCpu;
  if (!cells?.length) return "";
  const first = cells[0].samples;
  const rows = cells.map((cell) => {
    const theirs = cells.find((c) => c.writeRatio === cell.writeRatio && c.store === "connect-redis")!;
    const cpu = spread(roundRatios(cell.samples, theirs.samples, cpuUs));
    const rps = spread(roundRatios(cell.samples, theirs.samples, (s) => s.rps));
    const own = cell.samples.map(cpuUs);
    const [low, high] = [Math.min(...own), Math.max(...own)];
    return [
      pct(cell.writeRatio),
      LABEL[cell.store],
      String(cell.samples.length),
      fmt(median(own), 0),
      `${fmt(low, 0)}–${fmt(high, 0)}`,
      fmt(cpu.median),
      `${fmt(cpu.iqr[0])}–${fmt(cpu.iqr[1])}`,
      fmt(median(cell.samples.map((s) => s.rps)), 0),
      fmt(rps.median),
      `${fmt(rps.iqr[0])}–${fmt(rps.iqr[1])}`,
    ];
  });
  const header = [
    "writes",
    "store",
    "rounds",
    "app CPU µs/req",
    "min–max",
    "× connect-redis",
    "IQR",
    "req/s",
    "× connect-redis",
    "IQR",
  ];
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const seconds = median(first.map((s) => s.seconds));
  return [
    "### App CPU per request: many short runs (decides the app-CPU goals)",
    "",
    `Loopback, ${first.length} rounds of ~${
      fmt(seconds, 1)
    } s runs, the stores' order rotating each round. ` +
    "*app CPU µs/req*: the app process's user + system time from /proc over the run divided by the " +
    "requests it served, median over rounds (min–max beside: how much one cell moves). *× " +
    `${CONNECT_REDIS}*: the median of the per-round ratios to ${CONNECT_REDIS}'s run in the same round; ` +
    "*IQR*: the middle half of those ratios. The floor store's ratio shows what the rounds do to a store " +
    "that has no I/O.",
    "",
    line(header),
    line(header.map(() => "---")),
    ...rows.map(line),
  ].join("\n");
}
