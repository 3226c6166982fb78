/**
 * The npm package as a user gets it: built (scripts/build_npm.ts), packed, and installed with
 * express, express-session, redis, the frameworks and TypeScript into a consumer folder that also
 * holds the Node checks of tests/npm/. It is made once and shared: by the cases of a test file, by
 * test files running side by side (they wait on a lock file for the first to finish), and by later
 * runs while nothing it is made from has changed (the folder is named by a hash of its inputs).
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { buildNpm } from "../scripts/build_npm.ts";
import { scaled } from "./_load.ts";

/** What the consumer folder installs beside the tarball. */
const CONSUMER_PACKAGES = [
  "express@4.22.3",
  "express-session@1.19.0",
  "redis@5.12.1",
  "typescript@5.9.3",
  "@types/express-session@1.19.0",
  "@types/express@4.17.25",
  "@types/node@20.19.43",
  // The framework faces' checks.
  "fastify@5.12.8",
  "koa@3.3.0",
  "@types/koa@3.0.3",
  "hono@4.13.19",
  "@hono/node-server@2.1.9",
];
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CHECKS = join(ROOT, "tests", "npm");
/** Where consumer folders are kept, one per hash of their inputs. */
const CACHE = join(ROOT, ".tmp", "npm_consumer");
/** What the package and the consumer are made from, besides src/, scripts/build_npm/ and tests/npm/. */
const INPUTS = [
  "deno.json",
  "deno.lock",
  "mod.ts",
  "express.ts",
  "fastify.ts",
  "koa.ts",
  "hono.ts",
  "README.md",
  "LICENSE",
  "scripts/build_npm.ts",
  "tests/_npm_consumer.ts",
];

/** The installed consumer folder and what `npm pack` reported. */
export interface Consumer {
  dir: string;
  packed: { filename: string; files: { path: string }[] };
}

/** What a command did. */
export interface Outcome {
  code: number;
  stdout: string;
  /** stdout and stderr, for assertion messages. */
  output: string;
}

let consumer: Promise<Consumer> | undefined;

/** The consumer folder, made (or found made) on the first call. */
export function installedConsumer(): Promise<Consumer> {
  return consumer ??= findOrInstall();
}

/**
 * Runs a command to completion; SIGTERM after `timeout` ms, stretched by the load measured at its start.
 * @param name The program.
 * @param args Its arguments.
 * @param cwd Where it runs.
 * @param env Extra environment variables.
 * @param timeout Milliseconds it may take.
 * @returns Its exit code and output.
 */
export async function command(
  name: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  timeout = 40_000,
): Promise<Outcome> {
  const { code, stdout, stderr } = await new Deno.Command(name, {
    args,
    cwd,
    env,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(scaled(timeout)),
  }).output();
  const decoder = new TextDecoder();
  const out = decoder.decode(stdout);
  return { code, stdout: out, output: `${out}${decoder.decode(stderr)}` };
}

async function findOrInstall(): Promise<Consumer> {
  const dir = join(CACHE, await inputsHash());
  const done = join(dir, ".packed.json");
  await Deno.mkdir(CACHE, { recursive: true });
  using lock = await Deno.open(join(CACHE, ".lock"), { create: true, write: true });
  await lock.lock(true); // until the first process to get here has finished
  try {
    return { dir, packed: JSON.parse(await Deno.readTextFile(done)) };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  for await (const entry of Deno.readDir(CACHE)) {
    if (entry.isDirectory) await Deno.remove(join(CACHE, entry.name), { recursive: true });
  }
  await Deno.mkdir(dir);
  const packed = await install(dir);
  await Deno.writeTextFile(done, JSON.stringify(packed));
  return { dir, packed };
}

async function install(dir: string): Promise<Consumer["packed"]> {
  const { outDir } = await buildNpm({ verbose: false });
  const pack = await command("npm", ["pack", "--json", "--pack-destination", dir], outDir);
  assert.equal(pack.code, 0, pack.output);
  const [packed] = JSON.parse(pack.stdout);
  await Deno.writeTextFile(join(dir, "package.json"), JSON.stringify({ private: true }));
  const install = await command(
    "npm",
    ["install", "--no-audit", "--no-fund", "--loglevel=error", `./${packed.filename}`, ...CONSUMER_PACKAGES],
    dir,
    {},
    180_000, // three frameworks besides Express: slower on a busy machine
  );
  assert.equal(install.code, 0, install.output);
  for await (const entry of Deno.readDir(CHECKS)) {
    if (entry.isFile) await Deno.copyFile(join(CHECKS, entry.name), join(dir, entry.name));
  }
  return packed;
}

/** A hash of every file the package and the consumer folder are made from. */
async function inputsHash(): Promise<string> {
  const files = [
    ...INPUTS.map((file) => join(ROOT, file)),
    ...await walk(join(ROOT, "src")),
    ...await walk(join(ROOT, "scripts", "build_npm")),
    ...await walk(CHECKS),
  ];
  const hash = createHash("sha256");
  for (const file of files.sort()) {
    hash.update(`\0${relative(ROOT, file)}\0`);
    hash.update(await Deno.readFile(file).catch(() => new Uint8Array()));
  }
  return hash.digest("hex").slice(0, 16);
}

async function walk(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...await walk(path));
    else if (entry.isFile) files.push(path);
  }
  return files;
}
