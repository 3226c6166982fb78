/**
 * What each of the store's scripts costs inside Redis: µs per call from
 * `INFO commandstats` over many pipelined calls (`redis-cli --pipe`, so no
 * client's cost is in the figure), beside the floor: a script that only
 * returns `{'ok'}`, sent the same arguments in the same way. Each case repeats
 * the same path on every call (the commit, say, always updates one field
 * whose base holds), and case and floor alternate over the rounds.
 *
 * The cases are in `_script_cases.ts`: one at least for every script the store runs.
 *
 * ```sh
 * deno run -A bench/script_bench.ts              # every script, 200 000 calls per case and round
 * deno run -A bench/script_bench.ts --functions  # ... and the commit as a Redis Function (FCALL)
 * ```
 * @module
 */

import { startRedisServer } from "../scripts/redis_server.ts";
import type { LuaScript } from "../src/scripts/script_runner.ts";
import { KEY, SCRIPT_CASES, type ScriptCase, TRIVIAL_SCRIPT } from "./_script_cases.ts";
import { cli, commandStats, mainThreadCpuUsec, pipe, resp } from "./_resp_pipe.ts";

/** A case's figures: medians over the rounds. */
export interface ScriptCost {
  name: string;
  /** µs per call inside Redis (commandstats). */
  usec: number;
  /** The floor's µs per call, same arguments, same rounds. */
  floorUsec: number;
  /** Per round: usec / floorUsec; the figure is their median. */
  ratios: number[];
  /** Redis main-thread CPU per call, reading and replying included (µs). */
  cpu: number;
  /** The same for the floor. */
  floorCpu: number;
  goal?: number;
}

/** Options of {@linkcode measureScriptCosts}. */
export interface ScriptBenchOptions {
  /**
   * Calls per case and round.
   * @default {200000}
   */
  calls?: number;
  /**
   * Rounds; case and floor alternate within each.
   * @default {3}
   */
  rounds?: number;
  /**
   * Also measure the commit as a Redis Function (FCALL) against a trivial function.
   * @default {false}
   */
  functions?: boolean;
  /**
   * The cases.
   * @default {SCRIPT_CASES}
   */
  cases?: readonly ScriptCase[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** µs per call of one command: inside Redis (commandstats) and Redis's main-thread CPU over the whole run. */
interface Measured {
  usec: number;
  cpu: number;
}

/** Runs `calls` calls of `command(i)` after `prepare(i)`, and returns what `stat` cost per call. */
async function measure(
  port: number,
  calls: number,
  stat: string,
  command: (i: number) => string[],
  prepare?: (i: number) => string[][],
): Promise<Measured> {
  await cli(port, ["CONFIG", "RESETSTAT"]);
  const cpuBefore = await mainThreadCpuUsec(port);
  await pipe(port, calls, (i) => (prepare?.(i).map(resp).join("") ?? "") + resp(command(i)));
  const cpu = (await mainThreadCpuUsec(port) - cpuBefore) / calls;
  const found = (await commandStats(port)).get(stat);
  if (!found || found.calls !== calls) {
    throw new Error(`Expected ${calls} calls of ${stat}, got ${found?.calls}`);
  }
  return { usec: found.usecPerCall, cpu };
}

/** A library holding a script's body as a function, and the trivial one. */
export function functionLibrary(script: LuaScript): string {
  return `#!lua name=smartbench
redis.register_function('trivial', function(KEYS, ARGV) return {'ok'} end)
redis.register_function('${script.name}', function(KEYS, ARGV)
${script.source}
end)
`;
}

/**
 * Measures every case against the floor on a fresh redis-server.
 * @param options Calls, rounds, functions, cases.
 * @returns One row per case (and the FCALL row with `functions`).
 */
export async function measureScriptCosts(options: ScriptBenchOptions = {}): Promise<ScriptCost[]> {
  const { calls = 200_000, rounds = 3, functions = false, cases = SCRIPT_CASES } = options;
  await using server = await startRedisServer({ args: ["--save", "", "--appendonly", "no"] });
  const port = server.port;
  for (const script of [TRIVIAL_SCRIPT, ...cases.map((c) => c.script)]) {
    await pipe(port, 1, () => resp(["SCRIPT", "LOAD", script.source]));
  }
  const runs: [ScriptCase, string, (script: LuaScript) => string[]][] = cases.map((c) => [
    c,
    c.name,
    (script) => ["EVALSHA", script.sha, "1", c.key ?? KEY],
  ]);
  if (functions) {
    await pipe(port, 1, () => resp(["FUNCTION", "LOAD", "REPLACE", functionLibrary(cases[0].script)]));
    runs.push([
      cases[0],
      `${cases[0].name} (FCALL; floor: a trivial function)`,
      (script) => ["FCALL", script === TRIVIAL_SCRIPT ? "trivial" : script.name, "1", KEY],
    ]);
  }
  const rows: ScriptCost[] = [];
  for (const [c, name, head] of runs) {
    const stat = head(TRIVIAL_SCRIPT)[0].toLowerCase();
    const ours: Measured[] = [];
    const floor: Measured[] = [];
    for (let round = 0; round < rounds; round++) {
      const now = Date.now();
      for (const [script, into] of [[c.script, ours], [TRIVIAL_SCRIPT, floor]] as const) {
        await pipe(port, 1, () => c.setup.map(resp).join(""));
        into.push(await measure(port, calls, stat, (i) => [...head(script), ...c.args(i, now)], c.prepare));
      }
    }
    rows.push({
      name,
      usec: median(ours.map((m) => m.usec)),
      floorUsec: median(floor.map((m) => m.usec)),
      ratios: ours.map((m, i) => m.usec / floor[i].usec),
      cpu: median(ours.map((m) => m.cpu)),
      floorCpu: median(floor.map((m) => m.cpu)),
      goal: name === c.name ? c.goal : undefined,
    });
  }
  return rows;
}

/** Prints the rows, one per line. */
export function printScriptCosts(rows: readonly ScriptCost[]): void {
  for (const r of rows) {
    const spread = r.ratios.map((x) => x.toFixed(2)).join(", ");
    console.log(
      `${r.name.padEnd(62)} ${r.usec.toFixed(2).padStart(6)} µs, floor ${r.floorUsec.toFixed(2)}: ` +
        `${median(r.ratios).toFixed(2)}× (rounds ${spread}); CPU ${r.cpu.toFixed(2)} vs ${
          r.floorCpu.toFixed(2)
        } µs${r.goal ? `; goal ≤ ${r.goal}×` : ""}`,
    );
  }
}

if (import.meta.main) {
  const functions = Deno.args.includes("--functions");
  const calls = Number(Deno.args.find((a) => a.startsWith("--calls="))?.slice(8) ?? 200_000);
  const rounds = Number(Deno.args.find((a) => a.startsWith("--rounds="))?.slice(9) ?? 3);
  printScriptCosts(await measureScriptCosts({ functions, calls, rounds }));
}
