/**
 * Every TypeScript and JavaScript block of the README and docs/ compiles against the
 * sources: `deno check` on each, with `connect-smart-redis` (and its `/fastify`, `/koa`,
 * `/hono`, `/express` entries) mapped to this repository's entry points, and the names a
 * fragment takes from its surroundings (`app`, `req`, `client`, ...) declared. TypeScript
 * blocks are type-checked; JavaScript blocks are parsed and their imports resolved.
 * What the blocks do is run elsewhere: the README's app is examples/express-esm
 * (tests/examples_test.ts), the merge hook by tests/readme_examples_test.ts.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "./_helpers.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const PAGES = ["README.md", ...[...Deno.readDirSync(join(ROOT, "docs"))].map((entry) => `docs/${entry.name}`)]
  .filter((page) => page.endsWith(".md")).sort();
const ENTRIES: Record<string, string> = {
  "connect-smart-redis": "mod.ts",
  "connect-smart-redis/express": "express.ts",
  "connect-smart-redis/fastify": "fastify.ts",
  "connect-smart-redis/koa": "koa.ts",
  "connect-smart-redis/hono": "hono.ts",
};
/** Names fragments use without defining them, and what they stand for. */
const SURROUNDINGS: Record<string, string> = {
  app: "declare const app: any;",
  req: "declare const req: any;",
  secret: "declare const secret: string;",
  session: "declare const session: (options: object) => unknown;",
  client: "declare const client: object;",
  store: 'declare const store: import("connect-smart-redis").SmartRedisStore;',
  SmartRedisStore: 'import { SmartRedisStore } from "connect-smart-redis";',
  changePassword: "declare function changePassword(user: unknown, password: unknown): Promise<void>;",
  MyClient: "interface MyClient { on(event: string, listener: (error?: unknown) => void): void; " +
    "command(name: string, ...args: string[]): Promise<unknown>; readonly isReady: boolean }",
};

interface Block {
  page: string;
  line: number;
  lang: "ts" | "js";
  code: string;
}

function blocks(page: string): Block[] {
  const text = Deno.readTextFileSync(join(ROOT, page));
  const found: Block[] = [];
  for (const match of text.matchAll(/^```(ts|js)\n([\s\S]*?)^```$/gm)) {
    const line = text.slice(0, match.index).split("\n").length;
    found.push({ page, line, lang: match[1] as "ts" | "js", code: match[2] });
  }
  return found;
}

/** The block as a module: the names it uses but does not define declared first, the package mapped to the sources. */
function moduleOf(block: Block): string {
  const defines = (name: string) =>
    new RegExp(`\\b(const|let|var|function|class|interface|type)\\s+${name}\\b|import[^;]*\\b${name}\\b`)
      .test(block.code);
  const uses = (name: string) => new RegExp(`\\b${name}\\b`).test(block.code);
  const prelude = Object.entries(SURROUNDINGS)
    .filter(([name]) => uses(name) && !defines(name))
    .map(([, declaration]) => declaration);
  const body = [
    "// deno-lint-ignore-file",
    ...(block.lang === "ts" ? prelude : prelude.filter((line) => line.startsWith("import"))),
    block.code,
    "export {};",
  ].join("\n");
  return body.replace(/(["'])(connect-smart-redis(?:\/\w+)?)\1/g, (_, quote, specifier) => {
    assert.ok(
      ENTRIES[specifier],
      `${block.page}:${block.line} imports ${specifier}, which the package does not export`,
    );
    return `${quote}${new URL(ENTRIES[specifier], `file://${ROOT}`).href}${quote}`;
  });
}

for (const page of PAGES) {
  const found = blocks(page);
  if (found.length === 0) continue;
  test(`${page}: its ${found.length} code block(s) compile against the sources`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "docs-code-" });
    try {
      const files = found.map((block, i) => {
        const file = join(dir, `block_${i}_line_${block.line}.${block.lang}`);
        Deno.writeTextFileSync(file, moduleOf(block));
        return file;
      });
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["check", "--config", join(ROOT, "deno.json"), ...files],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
      assert.equal(code, 0, `deno check of ${page}'s blocks (files named by their line):\n${output}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
