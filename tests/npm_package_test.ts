/**
 * The npm package under Node: the packed tarball's contents, installing it into fresh projects,
 * and each Node check of tests/npm/ run as a subprocess in the consumer folder
 * (tests/_npm_consumer.ts), against a redis-server of its own. The published types are checked
 * by tests/npm_types_test.ts.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { answersPing, portIsFree, startRedisServer } from "../scripts/redis_server.ts";
import { test } from "./_helpers.ts";
import { command, installedConsumer, type Outcome } from "./_npm_consumer.ts";

/** Runs one Node check of tests/npm/ in the consumer folder with its own redis-server. */
async function runCheck(script: string): Promise<Outcome> {
  const { dir } = await installedConsumer();
  await using redis = await startRedisServer();
  const outcome = await command("node", [script], dir, { REDIS_URL: redis.url });
  assert.equal(outcome.code, 0, `node ${script} failed:\n${outcome.output}`);
  return outcome;
}

test("npm: the packed package holds only built JS, .d.ts, README, LICENSE and package.json", async () => {
  const { dir, packed } = await installedConsumer();
  const files = packed.files.map((file) => file.path);
  for (const file of files) {
    assert.match(file, /^(package\.json|README\.md|LICENSE|(esm|script)\/.+\.(js|d\.ts|json))$/, file);
    assert.doesNotMatch(file, /test/, file);
  }
  for (const entry of ["esm/mod.js", "esm/mod.d.ts", "script/main.js", "script/main.d.ts", "script/mod.js"]) {
    assert.ok(files.includes(entry), entry);
  }
  const manifest = JSON.parse(
    await Deno.readTextFile(join(dir, "node_modules", "connect-smart-redis", "package.json")),
  );
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.equal(manifest.version, denoJson.version);
  assert.equal(manifest.license, "MIT");
  assert.deepEqual(manifest.engines, { node: ">=18" });
  assert.equal(manifest.peerDependencies.redis, "^4.6.0 || ^5.0.0 || ^6.0.0");
  assert.equal(manifest.peerDependencies.ioredis, "^5.0.0 || ^6.0.0");
  assert.ok(manifest.peerDependencies["express-session"]);
  assert.deepEqual(manifest.peerDependenciesMeta.redis, { optional: true });
  assert.deepEqual(manifest.peerDependenciesMeta.ioredis, { optional: true });
  assert.deepEqual(manifest.peerDependenciesMeta["@opentelemetry/api"], { optional: true });
  assert.equal(manifest.dependencies, undefined, "no runtime dependencies");
});

/** Projects a user may install the package into, with what they already hold. */
const PROJECTS: { what: string; holds: Record<string, string> }[] = [
  { what: "an empty project", holds: {} },
  { what: "a project already holding redis@6 and ioredis@6", holds: { redis: "6.3.1", ioredis: "6.0.0" } },
];

for (const { what, holds } of PROJECTS) {
  test(`npm: \`npm install <packed tarball> express-session redis\` succeeds with no flags in ${what}`, async () => {
    const { dir: consumerDir, packed } = await installedConsumer();
    const dir = await Deno.makeTempDir({ prefix: "connect-smart-redis-install-" });
    try {
      await Deno.writeTextFile(
        join(dir, "package.json"),
        JSON.stringify({ private: true, dependencies: holds }),
      );
      if (Object.keys(holds).length > 0) {
        const before = await command("npm", ["install"], dir, {}, 120_000);
        assert.equal(before.code, 0, before.output);
      }
      const tarball = join(consumerDir, packed.filename);
      const install = await command(
        "npm",
        ["install", tarball, "express-session", "redis"],
        dir,
        {},
        120_000,
      );
      assert.equal(install.code, 0, `npm install failed:\n${install.output}`);
      const version = async (name: string) =>
        JSON.parse(await Deno.readTextFile(join(dir, "node_modules", name, "package.json"))).version;
      assert.match(await version("redis"), /^6\./, "npm install redis gives node-redis 6");
      if (holds.ioredis) assert.equal(await version("ioredis"), holds.ioredis);
      const load = await command("node", ["-e", LOADS], dir);
      assert.equal(load.code, 0, load.output);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

/** Makes a store on a node-redis client in the installed project. */
const LOADS = `
const session = require("express-session");
const { createClient } = require("redis");
const SmartRedisStore = require("connect-smart-redis")(session);
new SmartRedisStore({ client: createClient() });
`;

// The seed example's createClient() has no arguments: it needs a Redis on localhost:6379. Start one there, or use
// the one already running (a system redis-server); skip only when something else holds the port.
const seedPortFree = portIsFree(6379);
const seedRedisRunning = !seedPortFree && await answersPing("127.0.0.1", 6379);
if (!seedPortFree && !seedRedisRunning) {
  console.warn(
    "npm_package_test: port 6379 is held by something that is not Redis, so the seed README example " +
      "(whose createClient() has no arguments: localhost:6379) is skipped.",
  );
}
Deno.test({
  name: "npm: the seed README example runs verbatim as CommonJS under Node and counts visits 1, 2, 3",
  ignore: !seedPortFree && !seedRedisRunning,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { dir } = await installedConsumer();
    await using _redis = seedRedisRunning ? undefined : await startRedisServer({ port: 6379 });
    const outcome = await command("node", ["seed_readme_check.cjs"], dir);
    assert.equal(outcome.code, 0, `the seed README example failed:\n${outcome.output}`);
    assert.match(outcome.stdout, /visits 1, 2, 3 counted/);
    if (outcome.stdout.includes("port 3000 is taken")) console.log(outcome.stdout.trim());
  },
});

test("npm: require() returns the seed factory, which carries every named export", async () => {
  const { stdout } = await runCheck("require_check.cjs");
  assert.match(stdout, /factory, named exports and a store round trip work/);
});

test("npm: import gives the default factory and SmartRedisStore, both making express-session Stores", async () => {
  const { stdout } = await runCheck("import_check.mjs");
  assert.match(stdout, /default factory and SmartRedisStore make working express-session Stores/);
});

test("npm: an error from a store made by require() is instanceof the class an import gives", async () => {
  const { stdout } = await runCheck("dual_errors_check.mjs");
  assert.match(stdout, /errors of either copy are instanceof the classes of both/);
});

test("npm: parallel requests keep all their writes and a destroyed session is not resurrected", async () => {
  const { stdout } = await runCheck("concurrency_check.mjs");
  assert.match(stdout, /20 parallel requests on one session: all 20 properties kept/);
  assert.match(stdout, /did not resurrect a session destroyed meanwhile/);
});

test("npm: the encrypt option encrypts under Node, refuses a moved value, and reencrypt() moves to a new key", async () => {
  const { stdout } = await runCheck("encryption_check.mjs");
  assert.match(stdout, /encrypted under Node, refused when moved, moved to a new key by reencrypt\(\)/);
});

for (
  const [face, script] of [["fastify", "fastify_check.mjs"], ["koa", "koa_check.cjs"], [
    "hono",
    "hono_check.mjs",
  ]]
) {
  test(`npm: connect-smart-redis/${face} counts visits and keeps 20 parallel writers' properties under Node`, async () => {
    const { stdout } = await runCheck(script);
    assert.match(stdout, new RegExp(`${face}: visits 1, 2, 3 counted`));
    assert.match(stdout, new RegExp(`${face}: 20 parallel requests on one session: all 20 properties kept`));
  });
}
