/**
 * The write-floor benchmark (`write_floor_bench.ts`) summed up: its table for
 * the report, and its information rows beside the Redis CPU goals.
 * @module
 */

import type { Goal } from "./_goals.ts";
import { CONNECT_REDIS, fmt, median, pct, quartiles, sum } from "./_summary.ts";
import type { FloorPattern, FloorSample, FloorShape, WriteFloorResults } from "./write_floor_bench.ts";

const LABELS: Record<FloorPattern, string> = {
  "connect-redis": `${CONNECT_REDIS}: GET + EXPIRE; write GET + SET EX`,
  "ours": "ours: HGETALL; write HGETALL + EVALSHA commit",
  "trivial": "floor: HGETALL + EVALSHA of a trivial script, same arguments",
  "plain": "reference: HGETALL + HMGET, HSET as plain commands",
  "fcall": "ours with the commit as a Function: HGETALL + FCALL",
};

/** One pattern at one write ratio over its rounds. */
interface FloorSummary {
  shape: FloorShape;
  pattern: FloorPattern;
  writeRatio: number;
  rounds: number;
  rps: number;
  /** Median over rounds of Redis's CPU per request, net of Redis at rest, µs. */
  cpuUs: number;
  /** Per-round ratios of that to connect-redis's in the same round: median, quartiles. */
  vsConnectRedis: number;
  iqr: [number, number];
  /** The same to ours in the same round. */
  vsOurs: number;
  /** The script's (EVALSHA or FCALL) µs per call inside Redis, median over rounds. */
  scriptUsec: number;
  conflicts: number;
  writes: number;
}

/** Redis's CPU per request of one run, net of Redis at rest, µs. */
function netUs(sample: FloorSample, idleMsPerSecond: number): number {
  return (sample.cpuMs - idleMsPerSecond * sample.seconds) / sample.requests * 1000;
}

/**
 * Sums up every pattern at every write ratio.
 * @param results What the benchmark measured.
 * @returns One row per pattern and write ratio.
 */
export function summarizeWriteFloor(results: WriteFloorResults): FloorSummary[] {
  const { samples, idleCpuMsPerSecond: idle } = results;
  const cells = new Map<string, FloorSample[]>();
  for (const sample of samples) {
    const id = `${sample.shape} ${sample.writeRatio} ${sample.pattern}`;
    cells.set(id, [...cells.get(id) ?? [], sample]);
  }
  const ratios = (runs: FloorSample[], other: FloorPattern) =>
    runs.flatMap((run) => {
      const peer = cells.get(`${run.shape} ${run.writeRatio} ${other}`)?.find((p) => p.round === run.round);
      return peer ? [netUs(run, idle) / netUs(peer, idle)] : [];
    });
  return [...cells.values()].map((runs) => {
    const { shape, pattern, writeRatio } = runs[0];
    const script = pattern === "fcall" ? "fcall" : "evalsha";
    const vsConnectRedis = ratios(runs, "connect-redis");
    return {
      shape,
      pattern,
      writeRatio,
      rounds: runs.length,
      rps: median(runs.map((r) => r.requests / r.seconds)),
      cpuUs: median(runs.map((r) => netUs(r, idle))),
      vsConnectRedis: median(vsConnectRedis),
      iqr: quartiles(vsConnectRedis),
      vsOurs: median(ratios(runs, "ours")),
      scriptUsec: median(runs.flatMap((r) => r.calls[script] ? [r.usec[script] / r.calls[script]] : [])),
      conflicts: sum(runs.map((r) => r.conflicts)),
      writes: sum(runs.map((r) => r.writes)),
    };
  });
}

/**
 * The report's section: the table and how it was measured.
 * @param results What the benchmark measured.
 * @returns Markdown.
 */
export function renderWriteFloor(results: WriteFloorResults): string {
  const rows = summarizeWriteFloor(results).map((r) => [
    r.shape === "shared" ? "1 shared" : String(results.connections),
    pct(r.writeRatio),
    LABELS[r.pattern],
    String(r.rounds),
    fmt(r.rps, 0),
    fmt(r.cpuUs),
    fmt(r.vsConnectRedis),
    `${fmt(r.iqr[0])}–${fmt(r.iqr[1])}`,
    fmt(r.vsOurs),
    fmt(r.scriptUsec),
    `${r.conflicts} / ${r.writes}`,
  ]);
  const header = [
    "connections",
    "writes",
    "pattern",
    "rounds",
    "req/s",
    "Redis CPU µs/req",
    "× connect-redis",
    "IQR",
    "× ours",
    "script µs/call",
    "conflicts / writes",
  ];
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [
    "## Redis's write floor: the command patterns without an app",
    "",
    `No app: ${results.connections} loops each send one request at a time (raw RESP) over ` +
    `${results.sessions} sessions per pattern, on a fresh redis-server (bench/write_floor_bench.ts), ` +
    "each loop on its own connection, or all on one shared connection as the apps' node-redis client " +
    "multiplexes them (what is sent in the same tick leaves in one write); " +
    `${results.rounds} rounds of ${results.duration} s runs, the patterns' order rotating. ` +
    "*Redis CPU*: used_cpu_user + used_cpu_sys (INFO cpu) over the run, less Redis at rest " +
    `(${fmt(results.idleCpuMsPerSecond)} ms per second), per request, median over rounds. ` +
    "*× connect-redis*, *× ours*: medians of per-round ratios; *IQR*: the middle half of the ratios to " +
    "connect-redis. *script µs/call*: usec_per_call of EVALSHA (FCALL) in INFO commandstats. A write " +
    "changes one property and keeps the expiry (the HTTP benchmark's path). At 0 % writes only connect-redis and ours run (the " +
    "others read as ours does).",
    "",
    line(header),
    line(header.map(() => "---")),
    ...rows.map(line),
  ].join("\n");
}

/**
 * The information rows beside the Redis CPU goals: each write ratio's floor.
 * @param results What the benchmark measured, if it ran.
 * @returns One row per write ratio.
 */
export function writeFloorGoals(results: WriteFloorResults | undefined): Goal[] {
  if (!results) return [];
  const rows = summarizeWriteFloor(results);
  return [...new Set(rows.map((r) => r.writeRatio))].map((writeRatio) => {
    const parts = (["shared", "separate"] as const).flatMap((shape) => {
      const row = (pattern: FloorPattern) =>
        rows.find((r) => r.shape === shape && r.writeRatio === writeRatio && r.pattern === pattern);
      const ours = row("ours");
      if (!ours) return [];
      const also: [FloorPattern, string][] = [
        ["trivial", "floor: trivial script in place of the commit"],
        ["plain", "the commit's commands sent plain"],
        ["fcall", "the commit as a Function (FCALL)"],
      ];
      return [
        `${shape === "shared" ? "one shared connection" : `${results.connections} connections`}: ours ` +
        `${fmt(ours.vsConnectRedis)}× (IQR ${fmt(ours.iqr[0])}–${fmt(ours.iqr[1])}, ${ours.rounds} rounds; ` +
        `${fmt(ours.cpuUs)} vs ${fmt(row("connect-redis")?.cpuUs ?? NaN)} µs)` +
        also.flatMap(([pattern, label]) => {
          const r = row(pattern);
          return r ? [`, ${label} ${fmt(r.vsConnectRedis)}×`] : [];
        }).join(""),
      ];
    });
    return {
      goal: `(information) Redis server CPU per request without the app, ${pct(writeRatio)} writes, × ` +
        `${CONNECT_REDIS}'s command pattern`,
      measured: parts.join("; "),
      met: null,
    };
  });
}
