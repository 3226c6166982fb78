/**
 * In-process CPU cost of the store, head to head with connect-redis 9, both on
 * the same in-process fake Redis (no sockets): each group's baseline is
 * connect-redis, so every figure is a ratio measured in the same run.
 *
 * A "request" replays what express-session does with a store around a request:
 * `get`, `createSession`, the cookie's `touch`, then `touch` (unchanged) or `set`
 * (one property changed). express-session's own work (hashing the session, the
 * cookie header) is the same for both stores and is left out.
 *
 * ```sh
 * deno bench --allow-env --allow-read bench/store_bench.ts
 * BENCH_SMOKE=1 deno bench --allow-env --allow-read bench/store_bench.ts   # a few iterations each
 * ```
 * @module
 */

// @ts-types="@types/express-session"
import type session from "express-session";
import { RedisStore } from "connect-redis";
import { SmartRedisStore } from "../mod.ts";
import { diffFields, serializeFields } from "../src/snapshot.ts";
import { mergeValues } from "../src/merge.ts";
import { FakeRedis } from "./_fake_redis.ts";
import { MAX_AGE, sessionData, type SessionSize } from "./_sessions.ts";

const SMOKE = Deno.env.get("BENCH_SMOKE") === "1";
/** In smoke mode each bench runs a handful of iterations: it proves the benches work, it measures nothing. */
const limits = SMOKE ? { n: 20, warmup: 2 } : {};

type AnyStore = session.Store & {
  get(sid: string): Promise<unknown>;
  set(sid: string, data: unknown): Promise<unknown>;
  touch(sid: string, data: unknown): Promise<unknown>;
  destroy(sid: string): Promise<unknown>;
};

interface Contender {
  name: string;
  baseline: boolean;
  store: AnyStore;
  /** Puts the session under `sid` straight into the fake, as the store would have written it. */
  put(sid: string, size: SessionSize): void;
}

const fake = new FakeRedis();
const ours = new SmartRedisStore({ client: fake.connection() }) as unknown as AnyStore;
const theirs = new RedisStore({ client: fake.nodeRedisClient() as never }) as unknown as AnyStore;

/** The stored forms of each size, computed once. */
const stored = {
  small: storedForms("small"),
  large: storedForms("large"),
};

function storedForms(size: SessionSize): { json: string; fields: Map<string, string> } {
  const data = sessionData(size);
  return { json: JSON.stringify(data), fields: serializeFields("x", data, JSON) };
}

const contenders: Contender[] = [
  {
    name: "connect-redis",
    baseline: true,
    store: theirs,
    put: (sid, size) => fake.putString(`sess:${sid}`, stored[size].json, MAX_AGE),
  },
  {
    name: "connect-smart-redis",
    baseline: false,
    store: ours,
    put: (sid, size) => fake.putHash(`session:${sid}`, stored[size].fields, MAX_AGE),
  },
];

/** What express-session does between `get` and the end of the request. */
async function request(store: AnyStore, sid: string, change: boolean): Promise<void> {
  const data = await store.get(sid) as session.SessionData | null;
  if (!data) throw new Error(`Session ${sid} vanished from the fake`);
  const req = { sessionID: sid } as unknown as Parameters<session.Store["createSession"]>[0];
  const current = store.createSession(req, data) as session.Session & Record<string, unknown>;
  current.touch();
  if (change) {
    current.visits = (current.visits as number) + 1;
    await store.set(sid, current);
  } else {
    await store.touch(sid, current);
  }
}

for (const size of ["small", "large"] as const) {
  for (const contender of contenders) {
    const { name, baseline, store, put } = contender;
    const sid = `${size}-${name}`;
    put(sid, size);
    Deno.bench({ name, group: `get ${size}`, baseline, ...limits }, async () => {
      await store.get(sid);
    });
    Deno.bench({ name, group: `unchanged request ${size}`, baseline, ...limits }, async () => {
      await request(store, sid, false);
    });
    Deno.bench({ name, group: `changed request ${size}`, baseline, ...limits }, async () => {
      await request(store, sid, true);
    });
  }
}

// Neither store reads a session to destroy it: one size-independent group. Destroying
// the same id again costs the client what the first destroy did.
for (const { name, baseline, store } of contenders) {
  Deno.bench({ name, group: "destroy", baseline, ...limits }, async () => {
    await store.destroy("destroyed");
  });
}

// The pure helpers alone, against the JSON work connect-redis does for the same session.
for (const size of ["small", "large"] as const) {
  const data = sessionData(size);
  const before = serializeFields("x", data, JSON);
  const changed = { ...data, visits: 1 };
  Deno.bench(
    { name: "JSON.stringify whole session", group: `serialize ${size}`, baseline: true, ...limits },
    () => {
      JSON.stringify(changed);
    },
  );
  Deno.bench({ name: "serializeFields", group: `serialize ${size}`, ...limits }, () => {
    serializeFields("x", changed, JSON);
  });
  Deno.bench({ name: "serializeFields + diffFields", group: `serialize ${size}`, ...limits }, () => {
    diffFields(before, serializeFields("x", changed, JSON));
  });
}

const base = {
  theme: "dark",
  lang: "en",
  cart: { a: 1, b: 2, c: 3 },
  flags: Array.from({ length: 20 }, (_, i) => i),
};
const mine = { ...base, theme: "light", cart: { ...base.cart, d: 4 } };
const other = { ...base, lang: "de", cart: { ...base.cart, b: 5 } };
Deno.bench({ name: "JSON.stringify one value", group: "merge", baseline: true, ...limits }, () => {
  JSON.stringify(mine);
});
Deno.bench({ name: "mergeValues (nested, both changed)", group: "merge", ...limits }, () => {
  mergeValues(base, mine, other);
});
