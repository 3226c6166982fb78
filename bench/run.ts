/**
 * Runs every benchmark and writes the report: the in-process store benchmark
 * (`deno bench`), the scripts inside Redis (`script_bench.ts`), the HTTP
 * benchmark and the contention benchmark, Redis's write floor without an app
 * (`write_floor_bench.ts`), encryption on against off
 * (`encryption_bench.ts`), then
 * `results.md`, `chart.svg` and `results.json`.
 *
 * ```sh
 * deno task bench                       # full run (~15 minutes on a quiet machine), writes bench/results/
 * deno task bench --smoke               # tiny sizes (~35 s), writes to a temporary folder
 * deno task bench --smoke --out=/tmp/x  # ... or to the given folder
 * ```
 *
 * `BENCH_SMOKE=1` in the environment is the same as `--smoke`; `BENCH_DEPS_DIR`
 * says where to install autocannon (default `bench/.deps`, gitignored).
 * @module
 */

import { fileURLToPath } from "node:url";
import { AUTOCANNON_VERSION, type HttpBenchOptions, runHttpBench } from "./http_bench.ts";
import { PEER_VERSIONS } from "./_peers.ts";
import { readProc } from "./_processes.ts";
import { measureScriptCosts, printScriptCosts } from "./script_bench.ts";
import { measureWriteFloor } from "./write_floor_bench.ts";
import { type Meta, renderMarkdown, renderSvg, type Results, type StoreBenchRow } from "./_report.ts";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

interface Flags {
  smoke: boolean;
  out?: string;
}

function parseFlags(args: string[]): Flags {
  const flags: Flags = { smoke: Deno.env.get("BENCH_SMOKE") === "1" };
  for (const arg of args) {
    if (arg === "--smoke") flags.smoke = true;
    else if (arg.startsWith("--out=")) flags.out = arg.slice("--out=".length);
    else throw new TypeError(`Unknown argument ${JSON.stringify(arg)}: use --smoke and/or --out=DIR`);
  }
  return flags;
}

function log(message: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

async function output(command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await new Deno.Command(command, { args, stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(stdout).trim();
  } catch {
    return "not found";
  }
}

async function machine(): Promise<Pick<Meta, "nproc" | "cpuModel" | "memory">> {
  const cpuinfo = await readProc("/proc/cpuinfo");
  const meminfo = await readProc("/proc/meminfo");
  const kb = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? NaN);
  return {
    nproc: Number(await output("nproc", [])) || navigator.hardwareConcurrency,
    cpuModel: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    memory: Number.isFinite(kb) ? `${(kb / 1024 / 1024).toFixed(1)} GiB` : "unknown",
  };
}

/** The commit measured, and whether the store's sources differed from it when the run started. */
async function sourceVersion(): Promise<string> {
  const root = here("..");
  const head = await output("git", ["-C", root, "rev-parse", "--short", "HEAD"]);
  const dirty = await output("git", ["-C", root, "status", "--porcelain", "--", "mod.ts", "src"]);
  return dirty ? `${head} + uncommitted changes in mod.ts/src/` : head;
}

async function versions(): Promise<Record<string, string>> {
  const config = JSON.parse(await Deno.readTextFile(here("../deno.json"))) as {
    imports: Record<string, string>;
  };
  const npm = (name: string) => config.imports[name]?.replace(/^npm:/, "") ?? "?";
  return {
    "Deno": Deno.version.deno,
    "Node (load driver, delay proxy)": await output("node", ["--version"]),
    "redis-server": (await output("redis-server", ["--version"])).split(" ").find((p) => p.startsWith("v="))
      ?.slice(2) ?? "?",
    "express": npm("express"),
    "express-session": npm("express-session"),
    "connect-redis": PEER_VERSIONS["connect-redis"],
    "node-redis (both stores' client in the apps)": PEER_VERSIONS["node-redis"],
    "node-redis (benchmark's admin client)": npm("redis"),
    "autocannon": `autocannon@${AUTOCANNON_VERSION}`,
  };
}

/** Runs bench/store_bench.ts under `deno bench --json`. */
async function storeBench(smoke: boolean): Promise<StoreBenchRow[]> {
  const { success, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["bench", "--json", "--no-check", "--allow-env", "--allow-read", here("./store_bench.ts")],
    env: { BENCH_SMOKE: smoke ? "1" : "0", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!success) throw new Error("deno bench bench/store_bench.ts failed");
  const report = JSON.parse(new TextDecoder().decode(stdout)) as {
    benches: {
      group: string;
      name: string;
      baseline: boolean;
      results: { ok?: { avg: number; p75: number } }[];
    }[];
  };
  return report.benches.flatMap((bench) => {
    const ok = bench.results[0]?.ok;
    return ok
      ? [{ group: bench.group, name: bench.name, baseline: bench.baseline, avg: ok.avg, p75: ok.p75 }]
      : [];
  });
}

/** Runs bench/encryption_bench.ts; returns its tables (markdown). */
async function encryptionBench(smoke: boolean): Promise<string> {
  const { success, stdout } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1,localhost",
      "--allow-env",
      "--allow-run",
      "--allow-read",
      "--allow-write",
      "--allow-sys",
      here("./encryption_bench.ts"),
    ],
    env: { BENCH_SMOKE: smoke ? "1" : "0", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!success) throw new Error("bench/encryption_bench.ts failed");
  return new TextDecoder().decode(stdout).trim();
}

function httpOptions(smoke: boolean): HttpBenchOptions {
  const depsDir = Deno.env.get("BENCH_DEPS_DIR") ?? here("./.deps");
  const settings = [
    { name: "loopback", connections: 32, delayMs: 0 },
    { name: "hop", connections: 4, delayMs: 1 },
  ];
  if (smoke) {
    return {
      duration: 0.3,
      rounds: 1,
      warmup: 0.1,
      sessions: 20,
      roundTripRequests: 10,
      stalenessChanges: 10,
      writeRatios: [0, 0.2, 0.5],
      settings,
      appCpu: { rounds: 2, duration: 0.3, writeRatios: [0, 0.2, 0.5] },
      contention: { writers: [1, 4], duration: 0.3, rounds: 1, settings: ["loopback"] },
      depsDir,
      log,
    };
  }
  return {
    duration: 3,
    rounds: 3,
    warmup: 2,
    sessions: 300,
    roundTripRequests: 100,
    stalenessChanges: 100,
    writeRatios: [0, 0.05, 0.2, 0.5],
    settings,
    appCpu: { rounds: 12, duration: 1, writeRatios: [0, 0.2, 0.5] },
    contention: { writers: [1, 4, 16], duration: 2, rounds: 2, settings: ["loopback", "hop"] },
    depsDir,
    log,
  };
}

async function main(): Promise<void> {
  const flags = parseFlags(Deno.args);
  const outDir = flags.out ??
    (flags.smoke ? await Deno.makeTempDir({ prefix: "bench-smoke-" }) : here("./results"));
  const started = Date.now();
  const loadBefore = (await readProc("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  const measured = await sourceVersion();
  log(`${flags.smoke ? "smoke" : "full"} run, writing to ${outDir}`);

  log("store benchmark (deno bench)...");
  const storeRows = await storeBench(flags.smoke);

  log("scripts inside Redis (INFO commandstats, pipelined calls)...");
  const scriptOptions = flags.smoke ? { calls: 2_000, rounds: 1 } : { calls: 50_000, rounds: 3 };
  const scripts = await measureScriptCosts(scriptOptions);
  printScriptCosts(scripts);

  log("Redis's write floor: the command patterns without an app...");
  const floorOptions = flags.smoke
    ? { rounds: 1, duration: 0.3, sessions: 20 }
    : { rounds: 5, duration: 0.75, sessions: 300 };
  const writeFloor = await measureWriteFloor(floorOptions);

  log("HTTP and contention benchmarks...");
  const options = httpOptions(flags.smoke);
  const http = await runHttpBench(options);

  log("encryption on against off (HTTP, loopback)...");
  const encryption = await encryptionBench(flags.smoke);

  const meta: Meta = {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    mode: flags.smoke ? "smoke" : "full",
    ...await machine(),
    loadBefore,
    loadAfter: (await readProc("/proc/loadavg")).split(" ").slice(0, 3).join(" "),
    versions: { "connect-smart-redis (git, at start)": measured, ...await versions() },
    parameters: {
      "HTTP run":
        `${options.duration} s each, ${options.rounds} rounds interleaved, ${options.warmup} s warm-up`,
      "sessions": `${options.sessions} per store, small (cookie with maxAge 1 day, user, visits)`,
      "settings": options.settings.map((s) =>
        `${s.name}: ${s.connections} connections${
          s.delayMs ? `, proxy delaying ${s.delayMs} ms each way` : ""
        }`
      ).join("; "),
      "round trips":
        `${options.roundTripRequests} requests of each kind, one at a time, through the first delay proxy`,
      "scripts":
        `${scriptOptions.calls} pipelined calls per case and round (redis-cli --pipe), ${scriptOptions.rounds} ` +
        "rounds alternating with the floor",
      "app CPU phase": `${options.appCpu.rounds} rounds of ${options.appCpu.duration} s runs, loopback, ` +
        "ours, connect-redis and the floor store interleaved",
      "write floor": `${floorOptions.rounds} rounds of ${floorOptions.duration} s runs, 32 loops on one ` +
        `shared connection and on 32, ${floorOptions.sessions} sessions per pattern, no app`,
      "contention":
        `writers ${options.contention.writers.join(", ")}; ${options.contention.duration} s each, ` +
        `${options.contention.rounds} rounds; settings ${options.contention.settings.join(", ")}`,
      "express-session": "resave false, saveUninitialized false, cookie maxAge 1 day",
      "processes":
        "one Deno process per store (Express app), autocannon in one Node process, redis-server, " +
        "delay proxy in Node",
      "total time": `${Math.round((Date.now() - started) / 1000)} s`,
    },
  };
  const results: Results = { meta, storeBench: storeRows, http, scripts, writeFloor };
  await Deno.mkdir(outDir, { recursive: true });
  const markdown = renderMarkdown(results) +
    "\n## Encryption at rest: on against off\n\nThe same Express app on our store with and without the option " +
    "`encrypt`, on loopback (`bench/encryption_bench.ts`).\n\n" + encryption + "\n";
  await Deno.writeTextFile(`${outDir}/results.md`, markdown);
  await Deno.writeTextFile(`${outDir}/chart.svg`, renderSvg(results));
  await Deno.writeTextFile(`${outDir}/results.json`, JSON.stringify(results, null, 2) + "\n");
  // Leave the files as `deno fmt --check` (CI) wants them.
  await new Deno.Command(Deno.execPath(), {
    args: [
      "fmt",
      "--quiet",
      "--config",
      here("../deno.json"),
      `${outDir}/results.md`,
      `${outDir}/results.json`,
      `${outDir}/chart.svg`,
    ],
  }).output();
  console.log(markdown);
  log(
    `wrote ${outDir}/results.md, chart.svg, results.json in ${Math.round((Date.now() - started) / 1000)} s`,
  );
}

if (import.meta.main) await main();
