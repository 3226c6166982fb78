/**
 * Runs koa-session's own test suite against our Koa face: builds the npm
 * package, installs it (and node-redis) into a koa-session checkout, puts an
 * adapter in place of the checkout's `src/index.ts` for the run (its tests
 * import `../src/index.js`), points it at a throwaway redis-server, runs the
 * suite's own runner (`egg-bin test`), prints the counts, and puts the
 * checkout's `src/index.ts` back.
 *
 * The adapter maps koa-session's `session(opts, app)` onto
 * `smartRedisSession({ ...opts, client }, app)`, dropping only `store` and
 * `ContextStore`: Redis is the store, which is what a migrating app changes.
 *
 * The checkout must be koa-session at its release tag (the npm tarball holds no
 * tests) with its devDependencies installed (`npm install` in it).
 *
 * Usage: `deno task test:peers:koa <koa-session checkout>`
 * @module
 */

import { join, resolve } from "node:path";
import { buildNpm } from "./build_npm.ts";
import { startRedisServer } from "./redis_server.ts";

/** The node-redis release the adapter connects with. */
const NODE_REDIS = "redis@5.12.1";

/** What stands in for koa-session's `src/index.ts` during the run. */
const ADAPTER =
  `// Written by connect-smart-redis's scripts/peer_suite_koa.ts for one run; the original is put back after it.
import { createClient } from 'redis';
import { smartRedisSession } from 'connect-smart-redis/koa';

const client = createClient({ url: process.env.SMART_REDIS_URL });
const connected = client.connect().then(() => client.unref());

/** koa-session's zod schema of its options: not part of the face (its options are documented in KoaSessionOptions). */
export const SessionOptions = {
  parse(_options: unknown): never {
    throw new Error("koa-session's zod schema is not part of connect-smart-redis's Koa face");
  },
};
export interface CreateSessionOptions {
  valid?: (ctx: any, session: any) => any;
  beforeSave?: (ctx: any, session: any) => void;
  genid?: (ctx: any) => string;
  encode?: (data: any) => string;
  decode?: (text: string) => any;
  externalKey?: { get(ctx: any): string | undefined; set(ctx: any, key: string): void };
  [option: string]: any;
}

export function createSession(opts?: CreateSessionOptions, app?: any): any {
  if (opts && typeof opts.use === 'function') [ app, opts ] = [ opts, app ];
  const { store: _store, ContextStore: _ContextStore, ...rest } = opts ?? {};
  const middleware = smartRedisSession({ ...rest, client } as any, app);
  return async function session(ctx: any, next: any) {
    await connected;
    return middleware(ctx, next);
  };
}

export default createSession;
`;

/** The counts mocha printed. */
export interface SuiteCounts {
  /** Tests that passed. */
  passing: number;
  /** Tests that failed. */
  failing: number;
  /** Tests skipped. */
  pending: number;
}

/**
 * Reads mocha's summary lines.
 * @param output The runner's output.
 * @returns The counts (0 where a line is missing).
 */
export function parseCounts(output: string): SuiteCounts {
  const count = (word: string) => Number(new RegExp(`(\\d+) ${word}`).exec(output)?.[1] ?? 0);
  return { passing: count("passing"), failing: count("failing"), pending: count("pending") };
}

async function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const output = await new Deno.Command(cmd, { args, cwd, env, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder();
  return { code: output.code, stdout: text.decode(output.stdout), stderr: text.decode(output.stderr) };
}

async function main(args: string[]): Promise<number> {
  const checkout = args.find((arg) => !arg.startsWith("--"));
  if (!checkout) {
    console.error("Usage: deno task test:peers:koa <koa-session checkout>");
    return 2;
  }
  const dir = resolve(checkout);
  const manifest = JSON.parse(await Deno.readTextFile(join(dir, "package.json")));
  if (manifest.name !== "koa-session") throw new TypeError(`${dir} is not a koa-session checkout`);
  if (!await exists(join(dir, "node_modules", ".bin", "egg-bin"))) {
    throw new Error(`${dir} has no egg-bin: run npm install in it first`);
  }
  const index = join(dir, "src", "index.ts");
  const original = join(dir, "src", "index.ts.peer-original");
  // A run that was killed left the adapter in place: put the original back first.
  if (await exists(original)) await Deno.rename(original, index);

  const { outDir, version } = await buildNpm({ verbose: false });
  const packDir = await Deno.makeTempDir({ prefix: "peer-suite-koa-" });
  try {
    const pack = await run("npm", ["pack", "--json", "--pack-destination", packDir], outDir);
    if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
    const tarball = join(packDir, JSON.parse(pack.stdout)[0].filename);
    // The suite runs Koa 2 (its devDependency); the package names Koa 3, the major our own tests run.
    const install = await run(
      "npm",
      [
        "install",
        "--no-save",
        "--legacy-peer-deps",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        tarball,
        NODE_REDIS,
      ],
      dir,
    );
    if (install.code !== 0) throw new Error(`npm install failed:\n${install.stderr}`);

    await using redis = await startRedisServer();
    await Deno.rename(index, original);
    let result;
    try {
      await Deno.writeTextFile(index, ADAPTER);
      result = await run("npx", ["egg-bin", "test"], dir, { SMART_REDIS_URL: redis.url });
    } finally {
      await Deno.rename(original, index);
    }
    const output = result.stdout + result.stderr;
    console.log(output);
    const counts = parseCounts(output);
    if (counts.passing + counts.failing === 0) {
      console.error("The suite did not run (see its output above)");
      return 1;
    }
    const total = counts.passing + counts.failing + counts.pending;
    console.log(
      `koa-session ${manifest.version} against connect-smart-redis ${version}'s Koa face: ` +
        `${counts.passing} / ${total} passing, ${counts.failing} failing, ${counts.pending} pending`,
    );
    return 0;
  } finally {
    await Deno.remove(packDir, { recursive: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
