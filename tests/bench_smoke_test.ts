/**
 * The benchmarks still run: `deno task bench --smoke` end to end (store bench,
 * HTTP bench against a real redis-server, contention, report), and the fake
 * Redis the CPU benchmark runs on answers the store like a real redis-server.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { SmartRedisStore } from "../mod.ts";
import { FakeRedis } from "../bench/_fake_redis.ts";
import { sessionData } from "../bench/_sessions.ts";
import { storeFixture, test } from "./_helpers.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null;
  }
}

test("the benchmark's smoke mode runs everything and writes the table and the chart", async () => {
  const out = await Deno.makeTempDir({ prefix: "bench-smoke-test-" });
  const committed = await readOrNull(`${root}/bench/results/results.md`);
  try {
    const started = Date.now();
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["task", "bench", "--smoke", `--out=${out}`],
      cwd: root,
      stdout: "null",
      stderr: "piped",
    }).output();
    const log = new TextDecoder().decode(stderr);
    assert.equal(code, 0, `deno task bench --smoke failed:\n${log}`);
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds < 120, `the smoke run took ${seconds} s`);

    const markdown = await Deno.readTextFile(`${out}/results.md`);
    assert.match(markdown, /SMOKE MODE/);
    for (const heading of ["## Goals", "## HTTP", "## Contention", "## Redis memory", "## In-process CPU"]) {
      assert.ok(markdown.includes(heading), `results.md lacks "${heading}"`);
    }
    // Table rows, whatever padding `deno fmt` gave their cells.
    const rows = markdown.split("\n").map((line) => line.split("|").map((cell) => cell.trim()));
    const row = (...cells: string[]) => rows.filter((r) => cells.every((cell, i) => r[i + 1] === cell));
    for (const store of ["connect-smart-redis", "connect-redis 9", "floor (in-process Map)"]) {
      assert.equal(row("loopback", "20 %", store).length, 1, `no loopback row for ${store}`);
      assert.equal(row("hop", "20 %", store).length, 1, `no hop row for ${store}`);
    }
    // Our store never loses an own-property write, even in a smoke run.
    const contention = rows.filter((r) =>
      r[1] === "loopback" && /^\d+$/.test(r[2]) && r[3] === "connect-smart-redis"
    );
    assert.ok(contention.length > 0, "no contention rows");
    for (const r of contention) assert.equal(r[7], "0 (0 %)", `lost writes: ${r.join(" | ")}`);
    const svg = await Deno.readTextFile(`${out}/chart.svg`);
    assert.ok(svg.startsWith("<svg") && svg.trimEnd().endsWith("</svg>"), "chart.svg is not an SVG document");
    assert.ok(svg.includes("connect-smart-redis"));
    const json = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
    assert.equal(json.meta.mode, "smoke");

    assert.equal(
      await readOrNull(`${root}/bench/results/results.md`),
      committed,
      "smoke mode touched bench/results/",
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

/** A store operation sequence; returns what the store answered at each step. */
async function lifecycle(store: SmartRedisStore): Promise<unknown[]> {
  const seen: unknown[] = [];
  // Times differ between runs: keep only whether the cookie has an expiry.
  const view = (session: unknown) => {
    if (!session) return session;
    const copy = JSON.parse(JSON.stringify(session));
    copy.cookie.expires = typeof copy.cookie.expires;
    return copy;
  };
  await store.set("a", sessionData("small") as never);
  const first = await store.get("a") as Record<string, unknown>;
  seen.push(view(first));
  first.visits = 1;
  first.added = { x: 1 };
  delete first.user;
  await store.set("a", first as never);
  seen.push(view(await store.get("a")));
  // Two requests change the same property from the same base: merged, ours (the later) wins.
  const one = await store.get("a") as Record<string, unknown>;
  const two = await store.get("a") as Record<string, unknown>;
  one.added = { x: 1, y: 2 };
  two.added = { x: 1, z: 3 };
  two.visits = 5;
  await store.set("a", one as never);
  await store.set("a", two as never);
  seen.push(view(await store.get("a")));
  await store.touch("a", two as never);
  await store.destroy("a");
  seen.push(await store.get("a"));
  await store.set("a", two as never); // a request in flight: the session stays destroyed
  seen.push(await store.get("a"));
  return seen;
}

test("the benchmark's fake Redis answers the store like redis-server", async () => {
  const fake = new FakeRedis();
  const onFake = await lifecycle(new SmartRedisStore({ client: fake.connection() }));
  await using fx = await storeFixture();
  const onRedis = await lifecycle(fx.store);
  assert.deepEqual(onFake, onRedis);
  assert.deepEqual((onRedis[2] as { added: unknown }).added, { x: 1, y: 2, z: 3 });
});
