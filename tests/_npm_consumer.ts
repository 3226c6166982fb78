/**
 * The npm package as a Node project installs it: builds `npm/` once per test process
 * (scripts/build_npm.ts), packs it, and installs the tarball with the frameworks, clients and
 * types the Node checks need into a fresh folder, beside tests/npm/'s checks.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildNpm } from "../scripts/build_npm.ts";

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
const CHECKS = fileURLToPath(new URL("./npm/", import.meta.url));

/** The installed consumer folder and what `npm pack` reported, made once for all the cases. */
export interface Consumer {
  dir: string;
  packed: { filename: string; files: { path: string }[] };
}

let consumer: Promise<Consumer> | undefined;

/** The consumer folder, built, packed and installed on the first call. */
export function installedConsumer(): Promise<Consumer> {
  return consumer ??= installConsumer();
}

async function installConsumer(): Promise<Consumer> {
  const { outDir } = await buildNpm({ verbose: false });
  const dir = await Deno.makeTempDir({ prefix: "connect-smart-redis-npm-" });
  addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
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
  return { dir, packed };
}

export interface Outcome {
  code: number;
  stdout: string;
  /** stdout and stderr, for assertion messages. */
  output: string;
}

/** Runs a command to completion; SIGTERM after `timeout` ms. */
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
    signal: AbortSignal.timeout(timeout),
  }).output();
  const decoder = new TextDecoder();
  const out = decoder.decode(stdout);
  return { code, stdout: out, output: `${out}${decoder.decode(stderr)}` };
}
