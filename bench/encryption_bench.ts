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
import type { AppConfig } from "./_app_server.ts";
import { Children } from "./_processes.ts";
import { ensureAutocannon } from "./http_bench.ts";

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
const CONTENDERS = [["plain", false, undefined], ["encrypted", true, undefined], [
  "every read decrypts",
  true,
  0,
]] as const;
for (const [name, encrypt, remember] of CONTENDERS) {
  const config: AppConfig = { store: "ours", redis: [redis.url], encrypt, remember };
  const child = children.spawn(`app (${name})`, Deno.execPath(), [
    "run",
    "--allow-net=127.0.0.1,localhost",
    "--allow-env",
    "--allow-read",
    "--allow-sys",
    here("./_app_server.ts"),
    JSON.stringify(config),
  ]);
  const { ports } = await child.next<{ ports: number[] }>(60_000);
  apps[name] = `http://127.0.0.1:${ports[0]}`;
}
const driver = children.spawn("load driver", "node", [here("./_load_driver.mjs")], {
  AUTOCANNON_DIR: depsDir,
});
let jobs = 0;
async function load(url: string, cookies: string[], writeRatio: number, duration: number): Promise<Run> {
  const id = ++jobs;
  await driver.send({
    kind: "mix",
    id,
    url,
    connections: CONNECTIONS,
    duration,
    cookies,
    writeRatio,
    seed: id,
  });
  const reply = await driver.next<{ id: number; result?: Run; error?: string }>(duration * 1000 + 30_000);
  if (reply.id !== id || reply.error) throw new Error(`load driver: ${reply.error ?? "out of step"}`);
  const run = reply.result!;
  if (run.non2xx > 0 || run.errors > 0) {
    throw new Error(`${url}: ${run.non2xx} non-2xx, ${run.errors} errors`);
  }
  return run;
}

const cookies: Record<string, string[]> = {};
for (const [name, url] of Object.entries(apps)) {
  cookies[name] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const response = await fetch(`${url}/login`);
    await response.body?.cancel();
    cookies[name].push(response.headers.get("set-cookie")!.split(";")[0]);
  }
  await load(url, cookies[name], 0.2, DURATION); // warm-up
}

const names = CONTENDERS.map(([name]) => name);
console.log(`| writes | round | ${names.map((name) => `${name} req/s`).join(" | ")} | ratios to plain |`);
console.log(`| ------ | ----- | ${names.map(() => "---").join(" | ")} | --- |`);
const ratios = (rps: Record<string, number>) =>
  names.slice(1).map((name) => `${(rps[name] / rps.plain).toFixed(2)}×`).join(", ");
for (const writeRatio of WRITE_RATIOS) {
  const totals: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0]));
  for (let round = 1; round <= ROUNDS; round++) {
    // Rotate who goes first, so no contender always runs right after another.
    const order = names.map((_, i) => names[(i + round) % names.length]);
    const rps: Record<string, number> = {};
    for (const name of order) rps[name] = (await load(apps[name], cookies[name], writeRatio, DURATION)).rps;
    for (const name of names) totals[name] += rps[name];
    console.log(
      `| ${writeRatio * 100} % | ${round} | ${names.map((name) => rps[name].toFixed(0)).join(" | ")} | ${
        ratios(rps)
      } |`,
    );
  }
  const mean = Object.fromEntries(names.map((name) => [name, totals[name] / ROUNDS]));
  console.log(
    `| ${writeRatio * 100} % | mean | ${names.map((name) => mean[name].toFixed(0)).join(" | ")} | **${
      ratios(mean)
    }** |`,
  );
}
