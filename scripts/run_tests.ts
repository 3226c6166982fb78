/**
 * `deno task test`: the whole suite, fast. One `deno check` type-checks every test file and
 * every JSDoc example at once; meanwhile each `tests/*_test.ts` runs in a `deno test --no-check`
 * process of its own against redis-server, the server-facing ones once more against Valkey
 * (`SMART_REDIS_SERVER=valkey-server`), several processes side by side (most tests wait on
 * servers, timers and sockets, not on the CPU), the longest first (see scripts/test_plan.ts).
 * A new test file is picked up by itself.
 *
 * Each process's output is printed whole when it ends, so runs going side by side do not mix
 * their lines. A file that fails runs once more, alone, after the others; the run names each file
 * that passed only then, and a file that fails both times fails the run. The last line sums every
 * run in Deno's own format (`ok | N passed (S steps) | M failed (T)`), and the command fails when
 * any run does.
 *
 * `SMART_REDIS_TEST_JOBS` sets how many processes run side by side (default: twice the CPU
 * count, at least 4).
 *
 * With arguments (`deno task test tests/x_test.ts`) it is one plain `deno test` of them,
 * against the server `SMART_REDIS_SERVER` names (redis-server by default).
 * @module
 */

import { type Job, planJobs, saveHistory, testFiles } from "./test_plan.ts";

/** What `deno test` may do: loopback only. */
const PERMISSIONS = [
  "--allow-net=127.0.0.1,localhost",
  "--allow-env",
  "--allow-run",
  "--allow-read",
  "--allow-write",
  "--allow-sys",
];
const VALKEY = "valkey-server";
/** How often a line names the runs still going, so a slow or stuck one shows. */
const PROGRESS_INTERVAL_MS = 60_000;

/** The counts of one `deno test` run. */
interface Summary {
  passed: number;
  passedSteps: number;
  failed: number;
  failedSteps: number;
  ignored: number;
  ok: boolean;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Runs `deno` with the arguments.
 * @param args `test` or `check` and what follows.
 * @param env Extra environment variables.
 * @param live Stream its output (else it is only returned).
 * @returns Whether it succeeded and its output.
 */
async function deno(
  args: string[],
  env: Record<string, string>,
  live: boolean,
): Promise<{ success: boolean; output: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>, sink: typeof Deno.stdout) => {
    for await (const chunk of stream) {
      if (live) await sink.write(chunk);
      output += decoder.decode(chunk, { stream: true });
    }
  };
  const [status] = await Promise.all([
    child.status,
    collect(child.stdout, Deno.stdout),
    collect(child.stderr, Deno.stderr),
  ]);
  return { success: status.success, output };
}

/** Reads Deno's summary line; a run that failed without one (e.g. a type error) counts one failure. */
function summarize(output: string, success: boolean): Summary {
  const line = plain(output).split("\n").findLast((text) => /^(ok|FAILED) \| \d+ passed/.test(text)) ?? "";
  const count = (pattern: RegExp) => Number(pattern.exec(line)?.[1] ?? 0);
  const summary: Summary = {
    passed: count(/(\d+) passed/),
    passedSteps: count(/passed \((\d+) steps?\)/),
    failed: count(/(\d+) failed/),
    failedSteps: count(/failed \((\d+) steps?\)/),
    ignored: count(/(\d+) ignored/),
    ok: success,
  };
  if (!success && summary.failed === 0) summary.failed = 1;
  return summary;
}

/** The text without its colour codes. */
function plain(text: string): string {
  return text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "");
}

/** The version line of a command (`--version`), or `undefined` when it does not run. */
async function installed(command: string): Promise<string | undefined> {
  try {
    const { success, stdout } = await new Deno.Command(command, { args: ["--version"], stdout: "piped" })
      .output();
    return success ? decoder.decode(stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

function seconds(started: number): number {
  return Math.round((performance.now() - started) / 100) / 10;
}

function elapsed(started: number): string {
  const total = Math.round(seconds(started));
  return total >= 60 ? `${Math.floor(total / 60)}m${total % 60}s` : `${total}s`;
}

/** How many runs go side by side. */
function lanes(): number {
  const told = Number(Deno.env.get("SMART_REDIS_TEST_JOBS"));
  if (Number.isInteger(told) && told > 0) return told;
  return Math.max(4, 2 * navigator.hardwareConcurrency);
}

/** Prints a finished run's output under a heading, in one write. */
async function report(heading: string, output: string): Promise<void> {
  await Deno.stdout.write(encoder.encode(`\n== ${heading}\n\n${output.trimEnd()}\n`));
}

/** Runs the jobs, `width` at a time, each taking the next from the queue when a lane frees up. */
async function pool(jobs: (() => Promise<void>)[], width: number): Promise<void> {
  const queue = [...jobs];
  const lane = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) await job();
  };
  await Promise.all(Array.from({ length: Math.min(width, queue.length) }, lane));
}

async function main(): Promise<number> {
  if (Deno.args.length > 0) {
    const { success, output } = await deno(["test", ...PERMISSIONS, ...Deno.args], {}, true);
    return summarize(output, success).ok ? 0 : 1;
  }
  const started = performance.now();
  const valkey = await installed(VALKEY);
  if (!valkey) {
    console.error(
      `${VALKEY} is not installed, so the Valkey run is skipped (.ci/run installs it; Debian: ` +
        "`apt-get install -t bookworm-backports valkey-server`)",
    );
  }
  const files = await testFiles();
  const jobs = await planJobs(files, valkey ? VALKEY : undefined);
  const width = lanes();
  console.log(
    `Type-checking once, then ${jobs.length} deno test runs, ${width} at a time` +
      (valkey ? ` (the server-facing ones also against ${valkey.split(" ").slice(0, 2).join(" ")})` : ""),
  );

  const summaries: Summary[] = [];
  const failures: string[] = [];
  const durations: Record<string, number> = {};
  const running = new Set<string>();
  const check = async () => {
    const begun = performance.now();
    const { success, output } = await deno(["check", "--doc", "mod.ts", "src/", ...files], {}, false);
    if (!success) {
      await report(`deno check (${elapsed(begun)}) FAILED`, output);
      failures.push("deno check");
      summaries.push({ passed: 0, passedSteps: 0, failed: 1, failedSteps: 0, ignored: 0, ok: false });
    }
  };
  const runOnce = async (job: Job, label: string) => {
    const begun = performance.now();
    running.add(job.name);
    const { success, output } = await deno(
      ["test", "--no-check", ...PERMISSIONS, ...job.args],
      job.env,
      false,
    );
    running.delete(job.name);
    durations[job.name] = seconds(begun);
    const summary = summarize(output, success);
    await report(`${job.name}${label} (${elapsed(begun)})${summary.ok ? "" : " FAILED"}`, output);
    return summary;
  };
  // A file that failed runs once more after the others, on a quieter machine: a timing-sensitive
  // test that lost a race with the load passes then, and the run says so by name; a real failure
  // fails twice and counts.
  const failedFirst: Job[] = [];
  const run = (job: Job) => async () => {
    const summary = await runOnce(job, "");
    if (summary.ok) summaries.push(summary);
    else failedFirst.push(job);
  };
  const progress = setInterval(() => {
    if (running.size > 0) console.log(`\n.. ${elapsed(started)}: still running ${[...running].join(", ")}`);
  }, PROGRESS_INTERVAL_MS);
  try {
    await pool([check, ...jobs.map(run)], width);
  } finally {
    clearInterval(progress);
  }
  const passedOnRetry: string[] = [];
  for (const job of failedFirst) {
    const summary = await runOnce(job, ", run again alone");
    summaries.push(summary);
    if (summary.ok) passedOnRetry.push(job.name);
    else failures.push(job.name);
  }
  await saveHistory(durations);

  const total = (key: keyof Omit<Summary, "ok">) => summaries.reduce((sum, run) => sum + run[key], 0);
  const ok = summaries.every((run) => run.ok);
  if (passedOnRetry.length > 0) {
    console.log(
      `\nFailed while the suite ran side by side, passed run again alone: ${passedOnRetry.join("; ")}`,
    );
  }
  if (!ok) console.log(`\nFailed: ${failures.join("; ")}`);
  const steps = (n: number) => n > 0 ? ` (${n} step${n === 1 ? "" : "s"})` : "";
  const ignored = total("ignored") > 0 ? ` | ${total("ignored")} ignored` : "";
  console.log(
    `\n${ok ? "ok" : "FAILED"} | ${total("passed")} passed${steps(total("passedSteps"))} | ` +
      `${total("failed")} failed${steps(total("failedSteps"))}${ignored} (${elapsed(started)})`,
  );
  return ok ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(await main());
}
