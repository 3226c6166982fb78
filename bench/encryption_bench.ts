/**
 * Requests per second with the option `encrypt` against the same store without
 * it: the Express app of the HTTP benchmarks (`_app_server.ts`, small sessions,
 * a day's maxAge) on a redis-server on loopback, loaded by autocannon from a
 * separate process over 300 sessions per app. Runs are interleaved (plain,
 * encrypted, encrypted, plain, …), so each ratio compares runs made side by side.
 *
 * ```sh
 * deno run -A bench/encryption_bench.ts            # 5 rounds of 5 s per write ratio
 * BENCH_SMOKE=1 deno run -A bench/encryption_bench.ts
 * ```
 * @module
 */

import { fileURLToPath } from "node:url";
import { startRedisServer } from "../scripts/redis_server.ts";
import { Children, processCpuMs } from "./_processes.ts";
import { createSessions, ensureAutocannon, spawnApp, startLoadDriver } from "./_http_setup.ts";

const SMOKE = Deno.env.get("BENCH_SMOKE") === "1";
const ROUNDS = SMOKE ? 1 : 5;
const DURATION = SMOKE ? 1 : 5;
const SESSIONS = SMOKE ? 20 : 300;
const CONNECTIONS = 32;
const WRITE_RATIOS = [0, 0.2];

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const depsDir = here("./.deps");

/** The outcome of one autocannon run (see `_load_driver.mjs`). */
interface Run {
  ok: number;
  non2xx: number;
  errors: number;
  rps: number;
  p50: number;
}

await ensureAutocannon(depsDir);
await using redis = await startRedisServer();
await using children = new Children();
const apps: Record<string, string> = {};
const pids: Record<string, number> = {};
const CONTENDERS = [["plain", false, undefined], ["encrypted", true, undefined], [
  "every read decrypts",
  true,
  0,
]] as const;
for (const [name, encrypt, remember] of CONTENDERS) {
  const { child, ports } = await spawnApp(children, name, {
    store: "ours",
    redis: [redis.url],
    encrypt,
    remember,
  });
  apps[name] = `http://127.0.0.1:${ports[0]}`;
  pids[name] = child.pid;
}
const job = startLoadDriver(children, depsDir);
let seed = 0;
async function load(url: string, cookies: string[], writeRatio: number, duration: number): Promise<Run> {
  const run = await job<Run>(
    { kind: "mix", url, connections: CONNECTIONS, duration, cookies, writeRatio, seed: ++seed },
    duration,
  );
  if (run.non2xx > 0 || run.errors > 0) {
    throw new Error(`${url}: ${run.non2xx} non-2xx, ${run.errors} errors`);
  }
  return run;
}

const cookies: Record<string, string[]> = {};
for (const [name, url] of Object.entries(apps)) {
  cookies[name] = await createSessions(url, SESSIONS);
  await load(url, cookies[name], 0.2, DURATION); // warm-up
}

const names = CONTENDERS.map(([name]) => name);
const others = names.slice(1);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** One run: requests/s, and the app process's CPU per request (µs), which machine noise moves less. */
async function measure(name: string, writeRatio: number): Promise<{ rps: number; cpu: number }> {
  const before = await processCpuMs(pids[name]);
  const run = await load(apps[name], cookies[name], writeRatio, DURATION);
  const after = await processCpuMs(pids[name]);
  return { rps: run.rps, cpu: before === null || after === null ? NaN : (after - before) * 1000 / run.ok };
}

console.log(`| writes | round | ${names.map((name) => `${name}: req/s, app CPU µs/req`).join(" | ")} |`);
console.log(`| ------ | ----- | ${names.map(() => "---").join(" | ")} |`);
const summary: string[] = [];
for (const writeRatio of WRITE_RATIOS) {
  const rpsRatios: Record<string, number[]> = Object.fromEntries(others.map((name) => [name, []]));
  const cpuRatios: Record<string, number[]> = Object.fromEntries(others.map((name) => [name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    // Rotate who goes first, so no contender always runs right after another.
    const order = names.map((_, i) => names[(i + round) % names.length]);
    const runs: Record<string, { rps: number; cpu: number }> = {};
    for (const name of order) runs[name] = await measure(name, writeRatio);
    for (const name of others) {
      rpsRatios[name].push(runs[name].rps / runs.plain.rps);
      cpuRatios[name].push(runs.plain.cpu / runs[name].cpu);
    }
    const cells = names.map((name) => `${runs[name].rps.toFixed(0)}, ${runs[name].cpu.toFixed(0)}`);
    console.log(`| ${writeRatio * 100} % | ${round} | ${cells.join(" | ")} |`);
  }
  for (const name of others) {
    summary.push(
      `| ${writeRatio * 100} % | ${name} | ${median(rpsRatios[name]).toFixed(2)}× | ${
        median(cpuRatios[name]).toFixed(2)
      }× |`,
    );
  }
}
console.log("\nMedians over the rounds, against plain (higher is better for both):\n");
console.log("| writes | contender | req/s ratio | 1 / app CPU per request ratio |");
console.log("| ------ | --------- | ----------- | ----------------------------- |");
for (const line of summary) console.log(line);
