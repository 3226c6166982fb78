/**
 * Runs `@fastify/session`'s own test suite against the Fastify face.
 *
 * Given a checkout of `@fastify/session` (its git repository at a release tag: the npm tarball
 * holds no tests), this builds our npm package, installs it into the checkout, and points the
 * checkout's `require('..')` at a small CommonJS entry that registers our Fastify face on a real
 * redis-server (started here, thrown away after) instead of `@fastify/session`. The suite then
 * runs with its own runner (`node --test`), and the counts are printed, with each failing test
 * checked against `tests/peer_suites/fastify_session_known_failures.md`.
 *
 * The checkout is left as found: its `package.json` `main` is restored, the entry file removed
 * (our package stays installed in its `node_modules`).
 *
 * Usage: `deno task test:peers:fastify <checkout>` (`npm install` is run there first when its
 * `node_modules` is missing).
 * @module
 */

import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildNpm } from "./build_npm.ts";
import { startRedisServer } from "./redis_server.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const KNOWN_FAILURES = join(ROOT, "tests", "peer_suites", "fastify_session_known_failures.md");
/** The entry the checkout's `require('..')` loads while the suite runs. */
const ENTRY = "connect_smart_redis_entry.js";

/**
 * The entry: `@fastify/session`'s exports, with the plugin being our face. Every registration gets
 * its own ioredis client (the suite's devDependency) and key prefix, so test files running in
 * parallel do not share sessions; a `store` option is dropped (the face stores in Redis).
 */
const ENTRY_SOURCE = `'use strict'
// Written by connect-smart-redis's scripts/peer_suite_fastify.ts while the suite runs.
const { randomUUID } = require('node:crypto')
const fp = require('fastify-plugin')
const Redis = require('ioredis')
const { smartRedisSession } = require('connect-smart-redis/fastify')

function fastifySession (fastify, options, next) {
  const { store, ...rest } = options || {}
  const client = new Redis(Number(process.env.SMART_REDIS_PEER_PORT), '127.0.0.1')
  // A test that never closes its app must not keep its file's process alive, but a reply
  // still awaited must: the socket is unref'd, and a timer holds the process while commands wait.
  client.on('connect', () => client.stream && client.stream.unref())
  const send = client.sendCommand.bind(client)
  let waiting = 0
  let hold
  client.sendCommand = (command, stream) => {
    if (waiting++ === 0) hold = setInterval(() => {}, 60000)
    const release = () => { if (--waiting === 0) clearInterval(hold) }
    command.promise.then(release, release)
    return send(command, stream)
  }
  fastify.addHook('onClose', async () => { await client.quit().catch(() => {}) })
  smartRedisSession(fastify, { prefix: 'peer:' + randomUUID() + ':', ...rest, client }, next)
}

module.exports = fp(fastifySession, { fastify: '5.x', name: '@fastify/session' })
module.exports.default = module.exports
module.exports.fastifySession = module.exports
`;

/** One top-level test's outcome in the TAP output. */
interface Outcome {
  name: string;
  ok: boolean;
}

/**
 * Runs the suite and prints its counts.
 * @param checkout The `@fastify/session` checkout.
 * @returns Whether every failure is a known one.
 */
export async function runPeerSuite(checkout: string): Promise<boolean> {
  const dir = resolve(checkout);
  const manifestPath = join(dir, "package.json");
  const manifest = JSON.parse(await Deno.readTextFile(manifestPath));
  if (manifest.name !== "@fastify/session") throw new Error(`${dir} is not a checkout of @fastify/session`);
  if (!await exists(join(dir, "node_modules"))) await run("npm", ["install", "--no-audit", "--no-fund"], dir);

  const { outDir } = await buildNpm({ verbose: false });
  const packDir = await Deno.makeTempDir({ prefix: "peer_fastify_" });
  try {
    const packed = await run("npm", ["pack", outDir, "--pack-destination", packDir], dir);
    const tarball = join(packDir, packed.trim().split("\n").at(-1)!);
    await run("npm", ["install", "--no-save", "--no-audit", "--no-fund", tarball], dir);
  } finally {
    await Deno.remove(packDir, { recursive: true });
  }

  const original = await Deno.readTextFile(manifestPath);
  await Deno.writeTextFile(join(dir, ENTRY), ENTRY_SOURCE);
  await Deno.writeTextFile(manifestPath, JSON.stringify({ ...manifest, main: ENTRY }, null, 2) + "\n");
  let tap: string;
  try {
    await using server = await startRedisServer();
    const output = await new Deno.Command("node", {
      args: ["--test", "--test-reporter=tap"],
      cwd: dir,
      env: { SMART_REDIS_PEER_PORT: String(server.port) },
      stdout: "piped",
      stderr: "inherit",
    }).output();
    tap = new TextDecoder().decode(output.stdout);
  } finally {
    await Deno.writeTextFile(manifestPath, original);
    await Deno.remove(join(dir, ENTRY));
  }
  return report(topLevel(tap), await knownFailures());
}

/** The top-level tests of a TAP stream (subtests are indented). */
function topLevel(tap: string): Outcome[] {
  const outcomes: Outcome[] = [];
  for (const line of tap.split("\n")) {
    const match = /^(ok|not ok) \d+ - (.*?)(?: # .*)?$/.exec(line);
    if (match) outcomes.push({ ok: match[1] === "ok", name: match[2].replaceAll("\\#", "#") });
  }
  return outcomes;
}

/** The names listed in the known-failures file: each list item starts with the name in backticks. */
async function knownFailures(): Promise<Set<string>> {
  const text = await Deno.readTextFile(KNOWN_FAILURES);
  return new Set([...text.matchAll(/^- `(.+?)`/gm)].map((m) => m[1]));
}

function report(outcomes: Outcome[], known: Set<string>): boolean {
  const failed = outcomes.filter((o) => !o.ok);
  const unexpected = failed.filter((o) => !known.has(o.name));
  const names = new Set(outcomes.map((o) => o.name));
  const fixed = [...known].filter((name) => names.has(name) && !failed.some((o) => o.name === name));
  const missing = [...known].filter((name) => !names.has(name));
  console.log(`@fastify/session suite against connect-smart-redis/fastify:`);
  console.log(`  ${outcomes.length - failed.length} of ${outcomes.length} tests pass, ${failed.length} fail`);
  console.log(
    `  ${failed.length - unexpected.length} failures are listed in ${KNOWN_FAILURES.slice(ROOT.length)}`,
  );
  for (const o of unexpected) console.log(`  UNEXPECTED FAILURE: ${o.name}`);
  for (const name of fixed) console.log(`  listed but now passing (remove it from the list): ${name}`);
  for (const name of missing) console.log(`  listed but not in the suite: ${name}`);
  return unexpected.length === 0;
}

async function run(command: string, args: string[], cwd: string): Promise<string> {
  const output = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed:\n${text}${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return text;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

if (import.meta.main) {
  const checkout = Deno.args[0];
  if (!checkout) {
    console.error("Usage: deno task test:peers:fastify <checkout of @fastify/session>");
    Deno.exit(2);
  }
  Deno.exit(await runPeerSuite(checkout) ? 0 : 1);
}
