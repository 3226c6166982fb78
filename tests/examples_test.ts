/**
 * Every app in examples/ run as its README says, against a real redis-server, and
 * driven over HTTP like a browser: log in, count 1 and 2, log out, log in again and
 * count 1, and the first login's cookie is refused. The Node examples run from the
 * packed npm package (installed once, with the frameworks), started by their
 * package.json's `start` script; the Deno one from the sources.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, type RedisServer, startRedisServer } from "../scripts/redis_server.ts";
import { delay, test } from "./_helpers.ts";
import { command, installedConsumer } from "./_npm_consumer.ts";

const EXAMPLES = fileURLToPath(new URL("../examples/", import.meta.url));
const NODE_EXAMPLES = ["express-cjs", "express-esm", "express-ts", "fastify", "koa", "hono-node"];

let redis: Promise<RedisServer> | undefined;
/** One redis-server for every example (each session is its own key). */
function sharedRedis(): Promise<RedisServer> {
  return redis ??= startRedisServer().then((server) => {
    addEventListener("unload", () => void server.kill());
    return server;
  });
}

/** A running example; `await using` stops it. */
interface Running extends AsyncDisposable {
  url: string;
}

/**
 * Starts a command that serves HTTP on `port` and waits until it answers.
 * @returns The app's URL; disposing kills the process.
 */
async function serve(cmd: string, args: string[], cwd: string, port: number): Promise<Running> {
  const env = {
    PORT: String(port),
    REDIS_URL: (await sharedRedis()).url,
    SESSION_SECRET: "a test secret of at least thirty-two characters",
  };
  const child = new Deno.Command(cmd, { args, cwd, env, stdout: "piped", stderr: "piped" }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
  };
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => (exited = true, s));
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  for (;;) {
    if (exited) throw new Error(`${cmd} ${args.join(" ")} exited (${(await status).code}):\n${output}`);
    try {
      await (await fetch(url)).body?.cancel();
      break;
    } catch {
      // Not listening yet. Starting takes seconds on a loaded machine; a minute means it is stuck.
      if (performance.now() - started > 60_000) {
        child.kill("SIGKILL");
        throw new Error(`${cmd} ${args.join(" ")} did not answer on ${url} within 60 s:\n${output}`);
      }
      await delay(100);
    }
  }
  return {
    url,
    async [Symbol.asyncDispose]() {
      if (!exited) child.kill("SIGTERM");
      await status;
      await drained;
    },
  };
}

/**
 * One request as a browser sends it: the cookies given, and those the response sets
 * merged in (Koa signs its cookie with a second one); an emptied cookie is dropped.
 */
async function call(
  url: string,
  method: string,
  cookie = "",
): Promise<{ body: string; status: number; cookie: string }> {
  const response = await fetch(url, { method, headers: cookie ? { cookie } : {} });
  const pair = (
    text: string,
  ): [string, string] => [text.slice(0, text.indexOf("=")), text.slice(text.indexOf("=") + 1)];
  const jar = new Map(cookie ? cookie.split("; ").map(pair) : []);
  for (const header of response.headers.getSetCookie()) {
    const [name, value] = pair(header.split(";")[0]);
    if (value) jar.set(name, value);
    else jar.delete(name);
  }
  return {
    body: await response.text(),
    status: response.status,
    cookie: [...jar].map(([name, value]) => `${name}=${value}`).join("; "),
  };
}

/** The walk every example must pass. */
async function drive(url: string): Promise<void> {
  const anonymous = await call(`${url}/`, "GET");
  assert.equal(anonymous.status, 401, anonymous.body);
  const first = await call(`${url}/login?user=alice`, "POST");
  assert.equal(first.body, "Logged in as alice");
  assert.ok(first.cookie, "the login sets a cookie");
  assert.equal((await call(`${url}/`, "GET", first.cookie)).body, "Hello alice, visit 1");
  assert.equal((await call(`${url}/`, "GET", first.cookie)).body, "Hello alice, visit 2");
  assert.equal((await call(`${url}/logout`, "POST", first.cookie)).body, "Logged out");
  const second = await call(`${url}/login?user=alice`, "POST");
  assert.notEqual(second.cookie, first.cookie, "a new login gets a new session");
  assert.equal((await call(`${url}/`, "GET", second.cookie)).body, "Hello alice, visit 1");
  const old = await call(`${url}/`, "GET", first.cookie);
  assert.equal(old.status, 401, `the logged-out cookie is refused: ${old.body}`);
  assert.equal(old.body, "Not logged in: POST /login?user=alice");
}

/** Copies an example's files (not what `npm install` or `tsc` made) into the installed consumer folder. */
async function copyExample(name: string, into: string): Promise<void> {
  await Deno.mkdir(into, { recursive: true });
  for await (const entry of Deno.readDir(join(EXAMPLES, name))) {
    if (entry.isFile && entry.name !== "package-lock.json") {
      await Deno.copyFile(join(EXAMPLES, name, entry.name), join(into, entry.name));
    }
  }
}

for (const name of NODE_EXAMPLES) {
  test(`examples/${name}: \`npm start\` serves login, visits 1 and 2, logout, and refuses the old cookie`, async () => {
    const { dir } = await installedConsumer();
    // Inside the consumer folder, Node finds the packed package and the frameworks in its node_modules.
    const folder = join(dir, "examples", name);
    await copyExample(name, folder);
    const manifest = JSON.parse(await Deno.readTextFile(join(folder, "package.json")));
    assert.equal(manifest.dependencies["connect-smart-redis"], "file:../../npm");
    // `npm start`, step by step: what comes before the last `&&` runs to completion (tsc), the last serves.
    const steps = (manifest.scripts.start as string).split(" && ").map((step) => step.split(" "));
    for (const [tool, ...args] of steps.slice(0, -1)) {
      const bin = join(dir, "node_modules", ".bin", tool);
      const outcome = await command(bin, args, folder, {}, 120_000);
      assert.equal(outcome.code, 0, `${tool} ${args.join(" ")}:\n${outcome.output}`);
    }
    const [tool, ...args] = steps.at(-1)!;
    assert.equal(tool, "node");
    await using app = await serve("node", args, folder, freePort());
    await drive(app.url);
  });
}

test("examples/hono-deno: `deno run --allow-net --allow-env main.ts` type-checks and serves the same walk from the sources", async () => {
  const readme = await Deno.readTextFile(join(EXAMPLES, "hono-deno", "README.md"));
  const line = readme.split("\n").find((text) => text.startsWith("deno run "));
  assert.equal(line, "deno run --allow-net --allow-env main.ts");
  const [, ...args] = line.split(" ");
  const check = await command(
    Deno.execPath(),
    ["check", "main.ts"],
    join(EXAMPLES, "hono-deno"),
    {},
    120_000,
  );
  assert.equal(check.code, 0, `deno check main.ts:\n${check.output}`);
  await using app = await serve(Deno.execPath(), args, join(EXAMPLES, "hono-deno"), freePort());
  await drive(app.url);
});
