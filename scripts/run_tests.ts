/**
 * `deno task test`: the whole suite against redis-server, and the Redis-facing tests
 * against Valkey (`SMART_REDIS_SERVER=valkey-server`) in a second `deno test` process.
 * The two share 2 cores without starving the timing-sensitive tests: the Valkey run goes
 * alongside the Redis run's CPU-bound part (the npm package build and its tsc checks, the
 * benchmark smoke test), and the Redis run's server tests follow on their own.
 * The Redis run's output streams live; the Valkey run's follows when it ends. The last
 * line sums every run in Deno's own format (`ok | N passed (S steps) | M failed (T)`),
 * and the command fails when any run does.
 *
 * With arguments (`deno task test tests/x_test.ts`) it is one plain `deno test` of them,
 * against the server `SMART_REDIS_SERVER` names (redis-server by default).
 * @module
 */

/** What `deno test` may do: loopback only. */
const PERMISSIONS = [
  "--allow-net=127.0.0.1,localhost",
  "--allow-env",
  "--allow-run",
  "--allow-read",
  "--allow-write",
  "--allow-sys",
];
/** The CPU-bound tests, run while the Valkey run waits on its servers. */
const CPU_BOUND = ["tests/npm_package_test.ts", "tests/bench_smoke_test.ts"];
/** The tests that talk to a server: end to end, clients and cluster, Sentinel, concurrency, faults. */
const SERVER_FACING = [
  "tests/express_test.ts",
  "tests/clients_test.ts",
  "tests/sentinel_test.ts",
  "tests/lock_and_merge_test.ts",
  "tests/faults_test.ts",
];
const VALKEY = "valkey-server";

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

/**
 * Runs `deno test` with the arguments.
 * @param args Files and flags after the permissions.
 * @param env Extra environment variables.
 * @param live Stream its output (else it is returned to print later).
 * @returns Its summary and, when not live, its output.
 */
async function denoTest(
  args: string[],
  env: Record<string, string>,
  live: boolean,
): Promise<{ summary: Summary; output: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", ...PERMISSIONS, ...args],
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
  return { summary: summarize(output, status.success), output };
}

/** Reads Deno's summary line; a run that failed without one (e.g. a type error) counts one failure. */
function summarize(output: string, success: boolean): Summary {
  const lines = output.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "").split("\n");
  const line = lines.findLast((text) => /^(ok|FAILED) \| \d+ passed/.test(text)) ?? "";
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

/** Whether a command runs (`--version` succeeds). */
async function installed(command: string): Promise<string | undefined> {
  try {
    const { success, stdout } = await new Deno.Command(command, { args: ["--version"], stdout: "piped" })
      .output();
    return success ? decoder.decode(stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

/** Every `tests/*_test.ts`, sorted. */
async function testFiles(): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir("tests")) {
    if (entry.isFile && entry.name.endsWith("_test.ts")) files.push(`tests/${entry.name}`);
  }
  return files.sort();
}

function elapsed(started: number): string {
  const seconds = Math.round((performance.now() - started) / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m${seconds % 60}s` : `${seconds}s`;
}

async function main(): Promise<number> {
  if (Deno.args.length > 0) {
    return (await denoTest(Deno.args, {}, true)).summary.ok ? 0 : 1;
  }
  const started = performance.now();
  const valkey = await installed(VALKEY);
  if (!valkey) {
    console.error(
      `${VALKEY} is not installed, so the Valkey run is skipped (.ci/run installs it; Debian: ` +
        "`apt-get install -t bookworm-backports valkey-server`)",
    );
  }
  const rest = [
    "--doc",
    "mod.ts",
    "src/",
    ...(await testFiles()).filter((file) => !CPU_BOUND.includes(file)),
  ];
  const [first, other] = await Promise.all([
    denoTest(CPU_BOUND, {}, true),
    valkey ? denoTest(SERVER_FACING, { SMART_REDIS_SERVER: VALKEY }, false) : undefined,
  ]);
  const runs = [first.summary];
  if (other && valkey) {
    console.log(`\n== The server-facing tests against ${valkey.split(" ").slice(0, 2).join(" ")}\n`);
    console.log(other.output.trimEnd());
    runs.push(other.summary);
  }
  console.log("\n== Every other test against redis-server\n");
  runs.push((await denoTest(rest, {}, true)).summary);
  const total = (key: keyof Omit<Summary, "ok">) => runs.reduce((sum, run) => sum + run[key], 0);
  const ok = runs.every((run) => run.ok);
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
