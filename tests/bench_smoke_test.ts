/**
 * The benchmarks still run: `deno task bench --smoke` end to end (store bench,
 * HTTP bench against a real redis-server, contention, report), and the fake
 * Redis the CPU benchmark runs on answers the store like a real redis-server.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { SmartRedisStore } from "../mod.ts";
import type { RedisConnection } from "../mod.ts";
import { contractSteps, normalized } from "../bench/_fake_contract.ts";
import { FakeRedis } from "../bench/_fake_redis.ts";
import { SCRIPT_CASES } from "../bench/_script_cases.ts";
import { CONNECT_REDIS } from "../bench/_summary.ts";
import { connectionFor } from "../src/clients/detect.ts";
import { ALL_SCRIPTS } from "../src/scripts/all_scripts.ts";
import { scaled } from "./_load.ts";
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
    // A smoke run stays short (it is part of every test run); the bound stretches with the load.
    assert.ok(seconds * 1000 < scaled(150_000), `the smoke run took ${seconds} s`);

    const markdown = await Deno.readTextFile(`${out}/results.md`);
    assert.match(markdown, /SMOKE MODE/);
    const headings = [
      "## Goals",
      "## HTTP",
      "### App CPU per request: many short runs",
      "## Redis's write floor",
      "## Round trips",
      "## Contention",
      "## Redis memory",
      "## In-process CPU",
      "## Encryption at rest: on against off",
    ];
    for (const heading of headings) {
      assert.ok(markdown.includes(heading), `results.md lacks "${heading}"`);
    }
    // Table rows, whatever padding `deno fmt` gave their cells.
    const rows = markdown.split("\n").map((line) => line.split("|").map((cell) => cell.trim()));
    const row = (...cells: string[]) => rows.filter((r) => cells.every((cell, i) => r[i + 1] === cell));
    // The HTTP table's rows: the widest with a setting, a write share and a store.
    const httpRow = (...cells: string[]) => row(...cells).filter((r) => r.length > 12);
    for (const store of ["connect-smart-redis", CONNECT_REDIS, "floor (in-process Map)"]) {
      assert.equal(httpRow("loopback", "20 %", store).length, 1, `no loopback row for ${store}`);
      assert.equal(httpRow("hop", "20 %", store).length, 1, `no hop row for ${store}`);
    }
    // Every goal is evaluated, and the round trips, counted even in a smoke run, are the design's.
    const goals = rows.filter((r) => r.length === 5 && ["yes", "**no**", "–"].includes(r[3]));
    for (
      const goal of [
        "Redis server CPU per request, loopback, 20 %",
        "req/s, hop, 0 %",
        "in-process CPU, get small",
      ]
    ) {
      assert.ok(goals.some((r) => r[1].startsWith(goal) && r[3] !== "–"), `goal "${goal}" not evaluated`);
    }
    // The app-CPU goals say how many rounds decided them; the write floor has a row per pattern.
    assert.ok(
      goals.some((r) =>
        r[1].startsWith("app process CPU per request, loopback, 20 %") &&
        /median of \d+ per-round ratios/.test(r[2])
      ),
      "the app-CPU goal does not come from the app-CPU phase",
    );
    for (
      const goal of [
        "req/s, loopback, 20 %",
        "connect-smart-redis with localCache: req/s, loopback, 0 %",
        "Redis server CPU per request, loopback, 20 %",
      ]
    ) {
      assert.ok(
        goals.some((r) => r[1].startsWith(goal) && /per-round ratios.*app-CPU phase/.test(r[2])),
        `goal "${goal}" does not come from the app-CPU phase`,
      );
    }
    // Redis's floors in place: ours with its commit script replaced, in the app-CPU phase.
    assert.ok(
      goals.some((r) =>
        r[1].startsWith("(information) floor in place, Redis server CPU per request, loopback, 20 %") &&
        /only returns \{'ok'\}: \d+\.\d+×.*HMGET \+ HSET alone: \d+\.\d+×/.test(r[2])
      ),
      "no floor-in-place row at 20 %",
    );
    for (const pattern of ["ours:", "floor:", "reference:"]) {
      const floorRow = rows.find((r) => r[1] === "1 shared" && r[2] === "20 %" && r[3]?.startsWith(pattern));
      assert.match(floorRow?.[7] ?? "", /^\d+\.\d+$/, `no write-floor ratio for "${pattern}" at 20 %`);
    }
    assert.ok(
      goals.some((r) => r[1].startsWith("(information) Redis server CPU per request without the app, 50 %")),
    );
    const trips = (request: string) => row("connect-smart-redis", request)[0]?.[4];
    assert.deepEqual(["login", "read", "write", "logout"].map(trips), ["1.00", "1.00", "2.00", "2.00"]);
    assert.equal(row(CONNECT_REDIS, "read")[0]?.[4], "2.00");
    // With sessions per user: a login's index update travels with its commit; a logout's follows.
    const userTrips = (request: string) => row("connect-smart-redis, option user", request)[0]?.[4];
    assert.deepEqual(["login", "read", "write", "logout"].map(userTrips), ["1.00", "1.00", "2.00", "3.00"]);
    assert.ok(
      goals.some((r) => r[1].startsWith("round trips per logout request with option user") && r[3] === "yes"),
    );
    // Our store never loses an own-property write, even in a smoke run.
    const contention = rows.filter((r) =>
      r[1] === "loopback" && /^\d+$/.test(r[2]) && r[3] === "connect-smart-redis"
    );
    assert.ok(contention.length > 0, "no contention rows");
    for (const r of contention) assert.equal(r[7], "0 (0 %)", `lost writes: ${r.join(" | ")}`);
    // Every script case has its row, with its ratio to the floor.
    for (const { name } of SCRIPT_CASES) {
      assert.match(row(name)[0]?.[4] ?? "", /^\d+\.\d+$/, `no ratio in the scripts table for "${name}"`);
    }
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
async function lifecycle(
  store: SmartRedisStore,
  putString: (key: string, value: string) => Promise<unknown>,
): Promise<unknown[]> {
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
  // A session connect-redis wrote: read, then converted and committed on its first change.
  await putString("legacy", JSON.stringify(sessionData("small")));
  const legacy = await store.get("legacy") as Record<string, unknown>;
  seen.push(view(legacy));
  legacy.visits = 7;
  await store.set("legacy", legacy as never);
  seen.push(view(await store.get("legacy")));
  seen.push(await store.length(), (await store.ids()).sort());
  return seen;
}

test("the script microbenchmark has a case for every script the store runs", () => {
  const measured = new Set(SCRIPT_CASES.map((c) => c.script));
  const missing = ALL_SCRIPTS.filter((script) => !measured.has(script)).map((script) => script.name);
  assert.deepEqual(missing, []);
});

test("the benchmark's fake Redis answers each command and script like redis-server", async () => {
  await using fx = await storeFixture();
  const real = connectionFor(fx.redis);
  const fake = new FakeRedis().connection();
  const now = Date.now();
  for (const script of ALL_SCRIPTS) await fx.redis.sendCommand(["SCRIPT", "LOAD", script.source]);
  const answer = async (connection: RedisConnection, args: string[]) => {
    try {
      return normalized(await connection.send(args[3] ?? args[1], args), now);
    } catch (error) {
      return `error: ${(error as Error).message}`;
    }
  };
  for (const args of contractSteps(now)) {
    const step = args[0] === "EVALSHA"
      ? `${ALL_SCRIPTS.find((s) => s.sha === args[1])!.name} ${JSON.stringify(args.slice(3))}`
      : JSON.stringify(args);
    assert.deepEqual(await answer(fake, args), await answer(real, args), step);
  }
  const info = (text: unknown) => /^maxmemory:(\d+)/m.exec(String(text))?.[1];
  assert.equal(
    info(await fake.send("k", ["INFO", "memory"])),
    info(await real.send("k", ["INFO", "memory"])),
  );
});

test("the benchmark's fake Redis answers the store like redis-server", async () => {
  const fake = new FakeRedis();
  const onFake: unknown[] = [];
  for (const options of [{}, { renewAfter: 0, prefix: "exact:" }]) {
    const store = new SmartRedisStore({ client: fake.connection(), ...options });
    const prefix = options.prefix ?? "session:";
    onFake.push(
      await lifecycle(store, (sid, value) => {
        fake.putString(prefix + sid, value, 60_000);
        return Promise.resolve();
      }),
    );
  }
  await using fx = await storeFixture();
  const onRedis: unknown[] = [];
  for (const options of [{}, { renewAfter: 0, prefix: "exact:" }]) {
    const store = new SmartRedisStore({ client: fx.client, ...options });
    const prefix = options.prefix ?? "session:";
    onRedis.push(await lifecycle(store, (sid, value) => fx.redis.set(prefix + sid, value, { PX: 60_000 })));
  }
  assert.deepEqual(onFake, onRedis);
  assert.deepEqual((onRedis[0] as { added: unknown }[])[2].added, { x: 1, y: 2, z: 3 });
  assert.equal((onRedis[1] as { visits: number }[])[6].visits, 7);
});
