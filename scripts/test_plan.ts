/**
 * What `deno task test` runs, and in which order: every `tests/*_test.ts` file in a
 * `deno test` process of its own against redis-server, the server-facing files once
 * more against Valkey, and the JSDoc examples; the longest first, as long as the last
 * run measured them, so that the runs going side by side end together.
 * @module
 */

import { join } from "node:path";

/** One `deno test` process of the suite. */
export interface Job {
  /** What the report calls it, e.g. `tests/express_test.ts against valkey-server`. */
  name: string;
  /** The `deno test` arguments after the permissions. */
  args: string[];
  /** Extra environment variables. */
  env: Record<string, string>;
  /** Seconds it took last time, or an estimate. */
  expected: number;
}

/**
 * The files that run a second time against Valkey: end to end, clients and cluster, Sentinel,
 * concurrency, faults. A new file joins them with a line `// suite: valkey too` of its own.
 */
const SERVER_FACING = [
  "tests/express_test.ts",
  "tests/clients_test.ts",
  "tests/sentinel_test.ts",
  "tests/lock_and_merge_test.ts",
  "tests/faults_test.ts",
];
const VALKEY_MARKER = /^\/\/ suite: valkey too$/m;
/**
 * A file with a line `// suite: shards N` runs as N processes side by side, each with
 * `SMART_REDIS_TEST_SHARD=k/N`; the file picks its share of its cases with `shard()` of tests/_helpers.ts.
 */
const SHARDS_MARKER = /^\/\/ suite: shards (\d+)$/m;

/** Where each run's durations are kept for the next one (the build's scratch folder). */
const HISTORY = ".tmp/test_durations.json";

/**
 * The longest files' seconds in one run (2 cores, shared), the order before any run here has timed
 * them (a fresh checkout, CI). Only the order matters.
 */
const FIRST_GUESS: Record<string, number> = {
  "tests/clients_test.ts": 500,
  "tests/npm_package_test.ts": 400,
  "tests/npm_types_test.ts": 400,
  "tests/sentinel_test.ts": 250,
  "tests/bench_smoke_test.ts": 140,
  "tests/lock_and_merge_test.ts": 130,
  "tests/scripts_test.ts": 125,
  "tests/express_test.ts": 120,
};

/** Seconds assumed per 1 000 bytes of a test file that has not been timed yet. */
const SECONDS_PER_KILOBYTE = 3;

/** Every `tests/*_test.ts`, sorted. */
export async function testFiles(): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir("tests")) {
    if (entry.isFile && entry.name.endsWith("_test.ts")) files.push(`tests/${entry.name}`);
  }
  return files.sort();
}

/**
 * The suite's jobs, the longest expected first.
 * @param files The test files.
 * @param valkey The Valkey server binary, or `undefined` to leave Valkey out.
 * @returns The jobs to run.
 */
export async function planJobs(files: string[], valkey: string | undefined): Promise<Job[]> {
  const history = await readHistory();
  const jobs: Job[] = [];
  const add = async (
    name: string,
    args: string[],
    env: Record<string, string>,
    file?: string,
    shards = 1,
  ) => {
    const guess = file
      ? (FIRST_GUESS[file] ?? SECONDS_PER_KILOBYTE * (await Deno.stat(file)).size / 1000) / shards
      : 30;
    jobs.push({ name, args, env, expected: history[name] ?? guess });
  };
  await add("JSDoc examples of mod.ts and src/", ["--doc", "mod.ts", "src/"], {});
  for (const file of files) {
    const text = await Deno.readTextFile(file);
    const servers = [undefined, ...valkey && againstValkey(file, text) ? [valkey] : []];
    const shards = Number(SHARDS_MARKER.exec(text)?.[1] ?? 1);
    for (const server of servers) {
      for (let k = 0; k < shards; k++) {
        const part = shards > 1 ? ` (shard ${k + 1}/${shards})` : "";
        await add(
          `${file}${part} against ${server ?? "redis-server"}`,
          [file],
          {
            ...server ? { SMART_REDIS_SERVER: server } : {},
            ...shards > 1 ? { SMART_REDIS_TEST_SHARD: `${k}/${shards}` } : {},
          },
          file,
          shards,
        );
      }
    }
  }
  return jobs.sort((a, b) => b.expected - a.expected || a.name.localeCompare(b.name));
}

function againstValkey(file: string, text: string): boolean {
  return SERVER_FACING.includes(file) || VALKEY_MARKER.test(text);
}

async function readHistory(): Promise<Record<string, number>> {
  try {
    return JSON.parse(await Deno.readTextFile(HISTORY));
  } catch {
    return {};
  }
}

/**
 * Records how long each job took, for the next run's order.
 * @param durations Seconds by job name.
 */
export async function saveHistory(durations: Record<string, number>): Promise<void> {
  const history = { ...await readHistory(), ...durations };
  await Deno.mkdir(join(HISTORY, ".."), { recursive: true });
  await Deno.writeTextFile(HISTORY, JSON.stringify(history, null, 2) + "\n");
}
