/**
 * What tests/bench_smoke_test.ts runs on both the fake Redis and a real
 * redis-server, comparing every reply: the fake must answer the store's commands
 * and scripts as Redis running the real Lua does.
 * @module
 */

import { COMMIT_SCRIPT } from "../src/scripts/commit_script.ts";
import { CONVERT_SCRIPT } from "../src/scripts/convert_script.ts";
import { DESTROY_SCRIPT } from "../src/scripts/destroy_script.ts";
import { LOAD_SCRIPT } from "../src/scripts/load_script.ts";
import { REFRESH_SCRIPT } from "../src/scripts/refresh_script.ts";
import { RELEASE_SCRIPT } from "../src/scripts/release_script.ts";
import { REPLACE_SCRIPT } from "../src/scripts/replace_script.ts";

/**
 * The steps to run on both: plain commands and script calls covering every
 * script's paths (their replies, metadata fields, expiry guard, errors).
 * @param now The app's clock for the scripts' time arguments.
 * @returns One command per step.
 */
export function contractSteps(now: number): string[][] {
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
    commit("k1", ...expiry("", 1000, "=1"), "u", "x", "4", "4"), // leaves the expiry: none kept either
    commit("k1", ...expiry("", 1000), "u", "x", "4", "4"),
    ["HGETALL", "k1"],
    commit("k1", ...expiry(2 * life, 2 * life, "=" + 1000), ""),
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
    convert("k3", "{}", String(now), String(life), "", "", "user", '"ada"'),
    convert("k3", legacy, "soon", "", "", ""),
    convert("k3", legacy, String(now), String(life), "x", "", "user", '"ada"'),
    convert(
      "k3",
      legacy,
      String(now),
      String(life),
      "",
      "",
      "cookie",
      '{"originalMaxAge":600000}',
      "user",
      '"ada"',
    ),
    ["HMGET", "k3", "\0ttl", "cookie", "user"], // not `\0exp`: now + the PTTL left, a few ms apart
    ["PTTL", "k3"],
    convert("k3", legacy, String(now), String(life), "", ""),
    ["SET", "k7", legacy, "PX", String(life)],
    convert(
      "k7",
      legacy,
      String(now),
      String(life),
      String(2 * life),
      String(now + 2 * life),
      "user",
      '"ada"',
    ),
    ["HGETALL", "k7"],
    ["PTTL", "k7"],
    ["SET", "k8", legacy, "PX", String(life)],
    convert("k8", legacy, String(now), String(life), "0", "", "user", '"ada"'),
    ["PTTL", "k8"],
    replace("k8", ...expiry("", life), "user", '"b"'), // "" pttl: no expiry written, `\0exp` empty
    ["HGETALL", "k8"],
    ["PTTL", "k8"],
    ["SET", "k6", legacy],
    convert("k6", legacy, String(now), "", "", "", "user", '"ada"'),
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
    // Sessions per user: the refresh stores `\0uexp` too; an exact renewal that needs it extended waits.
    replace("k9", ...expiry(life, life), "cookie", "{}"),
    refresh("k9", ...expiry(life, life), "", "", "", "\0uexp", String(now + life + 1)),
    load("k9", String(now)),
    refresh("k9", ...expiry(life, life), "", "", "", "\0uexp", String(now + 3 * life)),
    load("k9", String(now)),
    ["HGETALL", "k9"],
  ];
}

/**
 * Makes replies comparable across runs: times (ms since the epoch) relative to `now`, exact when
 * they derive from the arguments, in 10 s steps where Redis's clock enters (lock deadlines, and
 * remaining lives, the numbers of 1000 and more).
 */
export function normalized(value: unknown, now: number): unknown {
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
