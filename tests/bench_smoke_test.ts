/**
 * The benchmarks still run: `deno task bench --smoke` end to end (store bench,
 * HTTP bench against a real redis-server, contention, report), and the fake
 * Redis the CPU benchmark runs on answers the store like a real redis-server.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { SmartRedisStore } from "../mod.ts";
import type { RedisConnection } from "../mod.ts";
import { FakeRedis } from "../bench/_fake_redis.ts";
import { CONNECT_REDIS } from "../bench/_summary.ts";
import { connectionFor } from "../src/clients/detect.ts";
import { ALL_SCRIPTS } from "../src/scripts/all_scripts.ts";
import { COMMIT_SCRIPT } from "../src/scripts/commit_script.ts";
import { CONVERT_SCRIPT } from "../src/scripts/convert_script.ts";
import { DESTROY_SCRIPT } from "../src/scripts/destroy_script.ts";
import { LOAD_SCRIPT } from "../src/scripts/load_script.ts";
import { REFRESH_SCRIPT } from "../src/scripts/refresh_script.ts";
import { RELEASE_SCRIPT } from "../src/scripts/release_script.ts";
import { REPLACE_SCRIPT } from "../src/scripts/replace_script.ts";
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
    const headings = [
      "## Goals",
      "## HTTP",
      "## Round trips",
      "## Contention",
      "## Redis memory",
      "## In-process CPU",
    ];
    for (const heading of headings) {
      assert.ok(markdown.includes(heading), `results.md lacks "${heading}"`);
    }
    // Table rows, whatever padding `deno fmt` gave their cells.
    const rows = markdown.split("\n").map((line) => line.split("|").map((cell) => cell.trim()));
    const row = (...cells: string[]) => rows.filter((r) => cells.every((cell, i) => r[i + 1] === cell));
    for (const store of ["connect-smart-redis", CONNECT_REDIS, "floor (in-process Map)"]) {
      assert.equal(row("loopback", "20 %", store).length, 1, `no loopback row for ${store}`);
      assert.equal(row("hop", "20 %", store).length, 1, `no hop row for ${store}`);
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
    const trips = (request: string) => row("connect-smart-redis", request)[0]?.[4];
    assert.deepEqual(["login", "read", "write", "logout"].map(trips), ["1.00", "1.00", "2.00", "2.00"]);
    assert.equal(row(CONNECT_REDIS, "read")[0]?.[4], "2.00");
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

/** The same steps on both: raw commands and script calls, each reply (or error) compared. */
function contractSteps(now: number): string[][] {
  const life = 600_000;
  const at = String(now + life);
  const expiry = (
    pttl: number | string,
    sliding: number | string,
    guard = "",
    exp = at,
  ) => [String(pttl), exp, String(sliding), guard, String(now)];
  const [commit, refresh, replace, load, convert, destroy, release] = [
    COMMIT_SCRIPT,
    REFRESH_SCRIPT,
    REPLACE_SCRIPT,
    LOAD_SCRIPT,
    CONVERT_SCRIPT,
    DESTROY_SCRIPT,
    RELEASE_SCRIPT,
  ].map((script) => (key: string, ...args: string[]) => ["EVALSHA", script.sha, "1", key, ...args]);
  const legacy = '{"cookie":{"originalMaxAge":600000},"user":"ada"}';
  return [
    ["HGETALL", "k1"],
    ["PTTL", "k1"],
    commit("k1", ...expiry(life, life), ""),
    replace("k1", ...expiry(life, life), "cookie", '{"a":1}', "user", '"ada"', "n", "1"),
    ["HGETALL", "k1"],
    ["HMGET", "k1", "\0dead", "\0exp", "user", "missing"],
    ["PTTL", "k1"],
    load("k1", ""),
    load("k1", String(now + 5)),
    commit(
      "k1",
      ...expiry(life, life),
      "uarw",
      "user",
      '"ada"',
      '"bob"',
      "x",
      "",
      "2",
      "n",
      "1",
      "",
      "cookie",
      "",
      "{}",
    ),
    ["HGETALL", "k1"],
    commit("k1", ...expiry(life, life), "uau", "user", '"ada"', '"eve"', "x", "", "3", "gone", "1", "2"),
    commit("k1", ...expiry(1000, 1000, "=999"), "u", "x", "2", "4"), // another request's expiry stands
    ["HGETALL", "k1"],
    ["PTTL", "k1"],
    commit("k1", ...expiry(2 * life, 2 * life, "=" + life), ""),
    ["HGETALL", "k1"],
    refresh("k1", ...expiry(life, life), "cookie", '{"b":1}'),
    refresh("k1", ...expiry(1000, 1000, "=1"), "", ""),
    commit("k1", ...expiry(life, "", "", String(now + life)), "w", "cookie", "", "{}"), // a fixed expiry
    refresh("k1", ...expiry(1000, 1000, "=5"), "", ""),
    ["HGETALL", "k1"],
    refresh("k1", "x", "", "", "", String(now), "", ""),
    commit("k1", ...expiry(life, life, "", "soon"), ""),
    load("k1", "", "tok", "3000"),
    load("k1", "", "other", "3000"),
    commit("k1", ...expiry(life, life), "u", "x", "4", "5", "tok"),
    ["HGETALL", "k1"],
    load("k1", "", "t2", "3000"),
    release("k1", "nope"),
    release("k1", "t2"),
    release("k1", "t2"),
    destroy("k1", "60000"),
    ["HGETALL", "k1"],
    ["PTTL", "k1"],
    load("k1", ""),
    commit("k1", ...expiry(life, life), ""),
    refresh("k1", ...expiry(life, life), "", ""),
    replace("k1", ...expiry(life, life), "user", '"x"'),
    destroy("k1", "60000"),
    destroy("k1", "0"),
    ["HGETALL", "k1"],
    destroy("k1", "x"),
    commit("k2", ...expiry(life, life), ""),
    refresh("k2", ...expiry(life, life), "", ""),
    release("k2", "t"),
    ["SET", "k3", legacy, "PX", String(life)],
    ["GET", "k3"],
    ["HGETALL", "k3"],
    ["HMGET", "k3", "\0dead"],
    load("k3", ""),
    commit("k3", ...expiry(life, life), ""),
    refresh("k3", ...expiry(300_000, 300_000), "", ""),
    ["PTTL", "k3"],
    convert("k3", "{}", String(now), String(life), "user", '"ada"'),
    convert("k3", legacy, "soon", ""),
    convert("k3", legacy, String(now), String(life), "cookie", '{"originalMaxAge":600000}', "user", '"ada"'),
    ["HMGET", "k3", "\0ttl", "\0exp", "cookie", "user"],
    ["PTTL", "k3"],
    convert("k3", legacy, String(now), String(life)),
    ["SET", "k6", legacy],
    convert("k6", legacy, String(now), "", "user", '"ada"'),
    ["HGETALL", "k6"],
    ["PTTL", "k6"],
    ["SET", "k4", legacy],
    replace("k4", ...expiry(-1, "", "", ""), "user", '"y"'),
    ["HGETALL", "k4"],
    ["PTTL", "k4"],
    replace("k4", ...expiry(0, life), "user", '"z"'),
    ["GET", "k4"],
    ["SET", "k5", legacy],
    refresh("k5", ...expiry(0, life), "", ""),
    ["GET", "k5"],
  ];
}

/**
 * Makes replies comparable across runs: times (ms since the epoch) relative to `now`, exact when
 * they derive from the arguments, in 10 s steps where Redis's clock enters (lock deadlines, and
 * remaining lives, the numbers of 1000 and more).
 */
function normalized(value: unknown, now: number): unknown {
  if (Array.isArray(value)) return value.map((item) => normalized(item, now));
  const steps = (ms: number) => `${Math.round(ms / 10_000) * 10} s`;
  if (typeof value === "number" && value >= 1000) return `~${steps(value)}`;
  if (typeof value !== "string") return value;
  return value.replace(
    /^(\d{13})($|:)/,
    (_, digits: string, colon: string) =>
      colon ? `now+~${steps(Number(digits) - now)}:` : `now+${Number(digits) - now} ms`,
  );
}

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
