/**
 * What the npm build checks before it is done: nothing but Node-ready JavaScript
 * and types in the package, and the package loading under Node with `require`,
 * with `import`, and face by face.
 * @module
 */

import { join, relative } from "node:path";
import { PACKAGE_NAME } from "./package_json.ts";
import { copyDir, run, walk } from "./_util.ts";

/** Fails on a `.ts` source, a test, or a `Deno.` reference in the output; returns the file list. */
export async function checkContents(dir: string): Promise<string[]> {
  const files: string[] = [];
  const problems: string[] = [];
  for await (const path of walk(dir)) {
    const file = relative(dir, path).split("\\").join("/");
    files.push(file);
    if (/\.[cm]?tsx?$/.test(file) && !/\.d\.[cm]?ts$/.test(file)) {
      problems.push(`${file}: a TypeScript source`);
    }
    if (/(^|[/_.])test\.[cm]?[jt]s$/.test(file)) problems.push(`${file}: a test`);
    if (/\.[cm]?js$|\.d\.[cm]?ts$/.test(file)) {
      const lines = (await Deno.readTextFile(path)).split("\n");
      lines.forEach((line, index) => {
        if (/\bDeno\./.test(line)) problems.push(`${file}:${index + 1}: refers to Deno: ${line.trim()}`);
      });
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `The npm package must run on Node with web-standard and node: APIs only:\n  ${problems.join("\n  ")}`,
    );
  }
  return files.sort();
}

/** Loads the package with `require` and with `import` under Node, from the toolchain's node_modules. */
export async function smokeTest(
  workDir: string,
  outDir: string,
  log: (message: string) => void,
): Promise<void> {
  const installed = join(workDir, "node_modules", PACKAGE_NAME);
  await Deno.remove(installed, { recursive: true }).catch(() => {});
  await copyDir(outDir, installed);
  await run("node", ["-e", SMOKE_REQUIRE], workDir);
  await run("node", ["--input-type=module", "-e", SMOKE_IMPORT], workDir);
  await run("node", ["-e", SMOKE_FACES], workDir);
  log("smoke test: require() and import work under Node");
}

const SMOKE_REQUIRE = `
const assert = require("node:assert/strict");
const session = require("express-session");
const factory = require("${PACKAGE_NAME}");
assert.equal(typeof factory, "function", "require() returns the factory");
assert.equal(factory(session), factory.SmartRedisStore);
assert.equal(factory.default, factory);
assert.equal(factory.connectSmartRedis, factory);
assert.ok(factory.SmartRedisStore.prototype instanceof session.Store);
for (const name of ["RedisUnavailableError", "SessionConflictError", "SessionDataError"]) {
  assert.ok(factory[name].prototype instanceof Error, name);
}
`;

const SMOKE_IMPORT = `
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import session from "express-session";
import connectSmartRedis, * as named from "${PACKAGE_NAME}";
assert.equal(connectSmartRedis, named.connectSmartRedis);
assert.equal(connectSmartRedis(session), named.SmartRedisStore);
assert.ok(named.SmartRedisStore.prototype instanceof session.Store);
const required = createRequire(import.meta.url)("${PACKAGE_NAME}");
assert.deepEqual(Object.keys(required).sort(), Object.keys(named).sort(), "import and require expose the same names");
`;

/** Each face loads on its own with require(), without express-session. */
const SMOKE_FACES = `
const assert = require("node:assert/strict");
for (const face of ["fastify", "koa", "hono"]) {
  const loaded = require("${PACKAGE_NAME}/" + face);
  assert.equal(typeof loaded.smartRedisSession, "function", face);
}
const expressSession = Object.keys(require.cache).filter((path) => path.includes("express-session"));
assert.deepEqual(expressSession, [], "a face must not load express-session");
`;
