/**
 * The write-floor benchmark (`write_floor_bench.ts`) summed up: its table for
 * the report, and its information rows beside the Redis CPU goals.
 * @module
 */

import type { Goal } from "./_goals.ts";
import { CONNECT_REDIS, fmt, median, pct, quartiles, sum } from "./_summary.ts";
import type { FloorPattern, FloorSample, WriteFloorResults } from "./write_floor_bench.ts";

const LABELS: Record<FloorPattern, string> = {
  "connect-redis": `${CONNECT_REDIS}: GET + EXPIRE; write GET + SET EX`,
  "ours": "ours: HGETALL; write HGETALL + EVALSHA commit",
  "trivial": "floor: HGETALL + EVALSHA of a trivial script, same arguments",
  "plain": "reference: HGETALL + HMGET, HSET, PEXPIRE as plain commands",
  "fcall": "ours with the commit as a Function: HGETALL + FCALL",
};

/** One pattern at one write ratio over its rounds. */
interface FloorSummary {
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
    const id = `${sample.writeRatio} ${sample.pattern}`;
    cells.set(id, [...cells.get(id) ?? [], sample]);
  }
  const ratios = (runs: FloorSample[], other: FloorPattern) =>
    runs.flatMap((run) => {
      const peer = cells.get(`${run.writeRatio} ${other}`)?.find((p) => p.round === run.round);
      return peer ? [netUs(run, idle) / netUs(peer, idle)] : [];
    });
  return [...cells.values()].map((runs) => {
    const { pattern, writeRatio } = runs[0];
    const script = pattern === "fcall" ? "fcall" : "evalsha";
    const vsConnectRedis = ratios(runs, "connect-redis");
    return {
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
    `No app: ${results.connections} connections each send one request at a time (raw RESP) over ` +
    `${results.sessions} sessions per pattern, on a fresh redis-server (bench/write_floor_bench.ts); ` +
    `${results.rounds} rounds of ${results.duration} s runs, the patterns' order rotating. ` +
    "*Redis CPU*: used_cpu_user + used_cpu_sys (INFO cpu) over the run, less Redis at rest " +
    `(${fmt(results.idleCpuMsPerSecond)} ms per second), per request, median over rounds. ` +
    "*× connect-redis*, *× ours*: medians of per-round ratios; *IQR*: the middle half of the ratios to " +
    "connect-redis. *script µs/call*: usec_per_call of EVALSHA (FCALL) in INFO commandstats. A write " +
    "changes one property and renews the expiry. At 0 % writes only connect-redis and ours run (the " +
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
    const row = (pattern: FloorPattern) =>
      rows.find((r) => r.writeRatio === writeRatio && r.pattern === pattern);
    const ours = row("ours");
    const parts = [
      `ours ${fmt(ours?.vsConnectRedis ?? NaN)}× (IQR ${fmt(ours?.iqr[0] ?? NaN)}–${
        fmt(ours?.iqr[1] ?? NaN)
      }, ${ours?.rounds ?? 0} rounds; ${fmt(ours?.cpuUs ?? NaN)} vs ${
        fmt(row("connect-redis")?.cpuUs ?? NaN)
      } µs)`,
    ];
    const also: [FloorPattern, string][] = [
      ["trivial", "floor: trivial script in place of the commit"],
      ["plain", "the commit's commands sent plain"],
      ["fcall", "the commit as a Function (FCALL)"],
    ];
    for (const [pattern, label] of also) {
      const r = row(pattern);
      if (r) parts.push(`${label}: ${fmt(r.vsConnectRedis)}× (IQR ${fmt(r.iqr[0])}–${fmt(r.iqr[1])})`);
    }
    return {
      goal: `(information) Redis server CPU per request without the app, ${pct(writeRatio)} writes, × ` +
        `${CONNECT_REDIS}'s command pattern`,
      measured: parts.join("; "),
      met: null,
    };
  });
}
