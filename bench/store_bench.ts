/**
 * In-process CPU cost of the store, head to head with connect-redis 10, both on
 * the same in-process fake Redis (no sockets): each group's baseline is
 * connect-redis, so every figure is a ratio measured in the same run.
 *
 * A "request" replays what express-session does with a store around a request:
 * `get`, `createSession`, the cookie's `touch`, then `touch` (read-only: for our
 * store a plain HGETALL and no write, the renewal not being due) or `set` (one
 * property changed). Each case's Redis commands are checked before it is timed.
 * express-session's own work (hashing the session, the cookie header) is the
 * same for both stores and is left out.
 *
 * ```sh
 * deno bench --allow-env --allow-read bench/store_bench.ts
 * BENCH_SMOKE=1 deno bench --allow-env --allow-read bench/store_bench.ts   # a few iterations each
 * ```
 * @module
 */

// @ts-types="@types/express-session"
import type session from "express-session";
import { RedisStore } from "./_peers.ts";
import { SmartRedisStore } from "../mod.ts";
import { GuardedConnection } from "../src/clients/guarded_connection.ts";
import { expiryOf } from "../src/engine/expiry.ts";
import { SessionCodec } from "../src/engine/session_codec.ts";
import { attachSnapshot, diffFields, serializeFields } from "../src/engine/snapshot.ts";
import { resolveOptions } from "../src/options/options.ts";
import { DESTROY_SCRIPT } from "../src/scripts/destroy_script.ts";
import { REPLACE_SCRIPT } from "../src/scripts/replace_script.ts";
import type { LuaScript } from "../src/scripts/script_runner.ts";
import { mergeValues } from "../src/engine/write/merge.ts";
import { FakeRedis } from "./_fake_redis.ts";
import { sessionData, type SessionSize } from "./_sessions.ts";

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
}

const fake = new FakeRedis();
const ours = new SmartRedisStore({ client: fake.connection() }) as unknown as AnyStore;
const theirs = new RedisStore({ client: fake.nodeRedisClient() as never }) as unknown as AnyStore;

const contenders: Contender[] = [
  { name: "connect-redis", baseline: true, store: theirs },
  { name: "connect-smart-redis", baseline: false, store: ours },
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

/** A new session's first save: express-session hands `set` a session no store has loaded. */
function newSession(size: SessionSize): Record<string, unknown> {
  const data = sessionData(size);
  return { ...data, cookie: { ...data.cookie as object } };
}

/**
 * The commands each case sends, checked once before timing: a store that starts
 * sending something else (a renewal on every read, say) fails here instead of
 * quietly measuring another path.
 */
const EXPECTED: Record<string, Record<string, string[]>> = {
  "connect-redis": {
    "get": ["GET"],
    "read-only request": ["GET", "EXPIRE"],
    "changed request": ["GET", "SET"],
    "new session": ["SET"],
    "destroy": ["DEL"],
  },
  "connect-smart-redis": {
    "get": ["HGETALL"],
    "read-only request": ["HGETALL"],
    "changed request": ["HGETALL", "EVALSHA commit"],
    "new session": ["EVALSHA replace"],
    "destroy": ["EVALSHA destroy"],
  },
};

async function checkCommands(name: string, kind: string, run: () => unknown): Promise<void> {
  fake.record();
  await run();
  const sent = fake.stopRecording();
  const expected = EXPECTED[name][kind];
  if (JSON.stringify(sent) !== JSON.stringify(expected)) {
    throw new Error(`${name}, ${kind}: sent ${JSON.stringify(sent)}, expected ${JSON.stringify(expected)}`);
  }
}

/** Registers one case of one store: its commands are checked first. */
async function bench(
  contender: Contender,
  kind: string,
  size: SessionSize | "",
  run: () => unknown,
) {
  await checkCommands(contender.name, kind, run);
  const group = size ? `${kind} ${size}` : kind;
  Deno.bench({ name: contender.name, group, baseline: contender.baseline, ...limits }, async () => {
    await run();
  });
}

for (const size of ["small", "large"] as const) {
  for (const contender of contenders) {
    const { name, store } = contender;
    const sid = `${size}-${name}`;
    await store.set(sid, sessionData(size)); // stored as the store itself writes it
    await bench(contender, "get", size, () => store.get(sid));
    // The common request: it reads its session and changes nothing (no renewal due).
    await bench(contender, "read-only request", size, () => request(store, sid, false));
    await bench(contender, "changed request", size, () => request(store, sid, true));
    await bench(contender, "new session", size, () => store.set(`new-${sid}`, newSession(size)));
  }
}

// Neither store reads a session to destroy it: one size-independent group. Destroying
// the same id again costs the client what the first destroy did.
for (const contender of contenders) {
  await bench(contender, "destroy", "", () => contender.store.destroy("destroyed"));
}

// The floors: what the same work costs at least, without the store's own layers. Every command
// of ours goes through the command time bound (connect-redis has none: a dead Redis hangs its
// requests), and runs a script the fake emulates (a real Redis runs it in its own process).
const defaults = resolveOptions({});
const bounded = new GuardedConnection(fake.connection(), defaults.commandTimeout);
const script = (lua: LuaScript, key: string, args: string[]) =>
  bounded.send(key, ["EVALSHA", lua.sha, "1", key, ...args]);
Deno.bench({ name: "floor: its script on the fake, time-bounded", group: "destroy", ...limits }, async () => {
  await script(DESTROY_SCRIPT, "session:destroyed", ["5000"]);
});
// A new session: serialized field by field, its change-tracking snapshot attached, its script sent.
const codec = new SessionCodec(JSON);
Deno.bench({
  name: "floor: fields, snapshot, its script on the fake, time-bounded",
  group: "new session small",
  ...limits,
}, async () => {
  const session = newSession("small");
  const now = Date.now();
  const expiry = expiryOf(session, defaults, now); // the key's life, from the cookie
  const fields = codec.serialize("floor", session);
  const args = [String(expiry.pttl), String(expiry.at), String(expiry.sliding), "", String(now)];
  fields.forEach((value, field) => args.push(field, value));
  await script(REPLACE_SCRIPT, "session:new-floor", args);
  const snapshot = {
    sid: "floor",
    owner: codec,
    fields,
    sliding: "",
    expires: now,
    renewed: false,
    liveAt: now,
  };
  attachSnapshot(session, snapshot);
});

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

// Events, metrics and spans: a store nobody listens to, and with metrics off, pays nothing for them.
// The same changed request, small session, on four stores of ours: no listener and no metrics (the
// baseline), OpenTelemetry's global (no-op) meter provider, a listener on every event, and spans
// on OpenTelemetry's global (no-op) tracer provider.
await import("@opentelemetry/api"); // loaded once here, so the stores' own import of it settles at once
const quiet = new SmartRedisStore({ client: fake.connection(), metrics: false }) as unknown as AnyStore;
const metered = new SmartRedisStore({ client: fake.connection() }) as unknown as AnyStore;
const heard = new SmartRedisStore({ client: fake.connection(), metrics: false });
const traced = new SmartRedisStore({
  client: fake.connection(),
  metrics: false,
  tracing: true,
}) as unknown as AnyStore;
let heardEvents = 0;
for (const event of ["create", "update", "touch", "destroy", "merged", "blocked"]) {
  heard.on(event, () => heardEvents++);
}
const observed: [string, AnyStore, boolean][] = [
  ["no listener, metrics off", quiet, true],
  ["no listener, OpenTelemetry no-op meter", metered, false],
  ["a listener on every event", heard as unknown as AnyStore, false],
  ["spans, OpenTelemetry no-op tracer", traced, false],
];
for (const [name, store, baseline] of observed) {
  const sid = `observed-${name}`;
  await store.set(sid, sessionData("small"));
  await request(store, sid, true);
  Deno.bench({ name, group: "observed changed request small", baseline, ...limits }, async () => {
    await request(store, sid, true);
  });
}
if (heardEvents === 0) throw new Error("The listened-to store emitted no event");

// Encryption at rest (option `encrypt`): the same requests, small session, on our store without
// it (the baseline), with it, and with it remembering nothing (every read decrypts every property).
const key = { id: "bench", secret: "a benchmark secret, thirty-two characters or more" };
const ciphered: [string, AnyStore, boolean][] = [
  [
    "not encrypted",
    new SmartRedisStore({ client: fake.connection(), metrics: false }) as unknown as AnyStore,
    true,
  ],
  [
    "encrypted",
    new SmartRedisStore({
      client: fake.connection(),
      metrics: false,
      encrypt: { keys: [key] },
    }) as unknown as AnyStore,
    false,
  ],
  [
    "encrypted, every read decrypts",
    new SmartRedisStore({
      client: fake.connection(),
      metrics: false,
      encrypt: { keys: [key], remember: 0 },
    }) as unknown as AnyStore,
    false,
  ],
];
for (const [kind, change] of [["read-only request", false], ["changed request", true]] as const) {
  for (const [name, store, baseline] of ciphered) {
    const sid = `encrypted-${name}-${kind}`;
    await store.set(sid, sessionData("small"));
    await request(store, sid, change);
    Deno.bench({ name, group: `encryption ${kind} small`, baseline, ...limits }, async () => {
      await request(store, sid, change);
    });
  }
}
