/**
 * Each framework face is importable on its own: its module graph holds no
 * express-session and no other framework's session middleware, and deno.json
 * exports every face.
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

async function moduleGraph(entry: string): Promise<string[]> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const info = JSON.parse(new TextDecoder().decode(stdout)) as { modules: { specifier: string }[] };
  return info.modules.map((module) => module.specifier);
}

for (const face of ["fastify", "koa", "hono"]) {
  Deno.test(`${face}.ts loads neither express-session nor any session middleware of a framework`, async () => {
    const graph = await moduleGraph(`${face}.ts`);
    assert.ok(
      graph.some((specifier) => specifier.endsWith("/src/engine/engine.ts")),
      "the face runs on the engine",
    );
    const foreign = graph.filter((specifier) =>
      /express-session|@fastify\/session|koa-session|koa-generic-session|hono-sessions/.test(specifier)
    );
    assert.deepEqual(foreign, []);
  });
}

Deno.test("deno.json exports the main entry and one entry per framework", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  assert.deepEqual(config.exports, {
    ".": "./mod.ts",
    "./express": "./express.ts",
    "./fastify": "./fastify.ts",
    "./koa": "./koa.ts",
    "./hono": "./hono.ts",
  });
  for (const file of Object.values(config.exports) as string[]) {
    assert.ok(config.publish.include.includes(file.slice(2)), `${file} is published`);
  }
});
