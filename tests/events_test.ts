/**
 * Lifecycle events and `stats()`: each event fires once per occurrence, with its
 * payload, in races too, on the express-session store and on the other faces;
 * against a real redis-server.
 */

import assert from "node:assert/strict";
import type express from "express";
import { Hono } from "hono";
import type { SessionData } from "express-session";
import { SessionConflictError, SmartRedisStore, type StoreEventName, type StoreEvents } from "../mod.ts";
import { type SessionVariables, smartRedisSession } from "../hono.ts";
import type { FastifySessionStore, StoreStats } from "../fastify.ts";
import { pair, start } from "./_fastify_app.ts";
import {
  Browser,
  connectClient,
  delay,
  startApp,
  startRedisServer,
  storeFixture,
  test,
  visitRoutes,
} from "./_helpers.ts";

/** Every event a store emits, in order. */
function recordEvents(store: SmartRedisStore): [StoreEventName, unknown][] {
  const seen: [StoreEventName, unknown][] = [];
  const names: StoreEventName[] = [
    "create",
    "update",
    "touch",
    "destroy",
    "merged",
    "conflict",
    "blocked",
    "lockWait",
    "userLimit",
  ];
  for (const name of names) store.on(name, (payload: unknown) => seen.push([name, payload]));
  return seen;
}

const cookie = () => ({ originalMaxAge: 60000, expires: new Date(Date.now() + 60000) });

test("create, update, touch and destroy fire once each, with their payloads, and stats() counts them", async () => {
  await using fx = await storeFixture();
  const seen = recordEvents(fx.store);
  await fx.store.set("s1", { cookie: cookie(), a: 1 } as unknown as SessionData);
  assert.deepEqual(seen.splice(0), [["create", { sid: "s1", properties: ["cookie", "a"] }]]);

  const loaded = (await fx.store.get("s1")) as SessionData & { a: number; b?: number };
  loaded.a = 2;
  loaded.b = 3;
  await fx.store.set("s1", loaded);
  assert.deepEqual(seen.splice(0), [["update", { sid: "s1", properties: ["a", "b"] }]]);

  await fx.store.touch("s1", (await fx.store.get("s1"))!);
  assert.deepEqual(seen.splice(0), [["touch", { sid: "s1", renewed: false }]]);

  await fx.store.destroy("s1");
  assert.deepEqual(seen.splice(0), [["destroy", { sid: "s1" }]]);
  assert.deepEqual(fx.store.stats(), {
    loads: 2,
    commits: 2,
    touches: 1,
    renewals: 0,
    destroys: 1,
    merges: 0,
    conflicts: 0,
    blocked: 0,
    lockWaits: 0,
    expirations: 0,
    cacheHits: 0,
    cacheMisses: 0,
    cacheInvalidations: 0,
    cacheFlushes: 0,
  });
});

test("a touch whose renewal fell due is counted as a renewal written", async () => {
  await using fx = await storeFixture({ renewAfter: 0.5 });
  const seen = recordEvents(fx.store);
  await fx.store.set("s1", { cookie: { originalMaxAge: 1000 } } as unknown as SessionData);
  const loaded = (await fx.store.get("s1"))!;
  await delay(600); // more than half of the 1000 ms life used up
  await fx.store.touch("s1", loaded);
  assert.deepEqual(seen.at(-1), ["touch", { sid: "s1", renewed: true }]);
  assert.equal(fx.store.stats().renewals, 1);
});

function counterRoutes(app: express.Express): void {
  app.get("/start", (req, res) => {
    req.session.started = true;
    res.send("started");
  });
  app.get("/increment/:i", async (req, res) => {
    await delay(15);
    req.session.last = Number(req.params.i); // a value of its own: each merge keeps it (ours wins)
    res.send("ok");
  });
}

declare module "express-session" {
  interface SessionData {
    [property: string]: unknown;
  }
}

/** How many commit scripts Redis ran (calls that did not fail), from its own counters. */
async function scriptCalls(fx: { redis: { info(section: string): Promise<string> } }): Promise<number> {
  const info = await fx.redis.info("commandstats");
  let calls = 0;
  for (const name of ["evalsha", "eval"]) {
    const line = new RegExp(`^cmdstat_${name}:calls=(\\d+),.*failed_calls=(\\d+)`, "m").exec(info);
    if (line) calls += Number(line[1]) - Number(line[2]);
  }
  return calls;
}

test("20 parallel writers of one property: one merged event per merge, as many as Redis saw conflicts", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, counterRoutes);
  const browser = new Browser();
  await browser.get(`${app.url}/start`);
  const merged: StoreEvents["merged"][] = [];
  fx.store.on("merged", (event: StoreEvents["merged"]) => merged.push(event));
  await fx.redis.configResetStat();
  const before = fx.store.stats();
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) => browser.get(`${app.url}/increment/${i}`)),
  );
  assert.deepEqual(answers.map((answer) => answer.status), Array(20).fill(200));
  // Every script call was a commit: 20 that landed, the rest answered "conflict".
  const conflicts = (await scriptCalls(fx)) - 20;
  assert.ok(conflicts > 0, "the writers raced: some commits met a concurrent change");
  assert.equal(merged.length, conflicts);
  for (const event of merged) assert.deepEqual(event, { sid: browser.sid, properties: ["last"] });
  const after = fx.store.stats();
  assert.equal(after.merges - before.merges, conflicts);
  assert.equal(after.commits - before.commits, 20);
});

test("a logout racing a write: one blocked event, and the session stays destroyed", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, visitRoutes);
  const blocked: StoreEvents["blocked"][] = [];
  fx.store.on("blocked", (event: StoreEvents["blocked"]) => blocked.push(event));
  const browser = new Browser();
  await browser.get(`${app.url}/`);
  const sid = browser.sid;
  const slow = browser.get(`${app.url}/set/late/yes?delay=300`);
  await delay(50);
  assert.equal((await browser.get(`${app.url}/logout`)).body, "bye");
  assert.equal((await slow).status, 200);
  assert.deepEqual(blocked, [{ sid, operation: "commit" }]);
  assert.equal(fx.store.stats().blocked, 1);
  assert.equal(await fx.store.get(sid), null);
});

test("conflict fires when the retries run out, after the merged event of the last attempt", async () => {
  await using fx = await storeFixture({ conflictRetries: 0 });
  const seen = recordEvents(fx.store);
  await fx.store.set("s1", { cookie: cookie(), n: 0 } as unknown as SessionData);
  const first = (await fx.store.get("s1"))!;
  const second = (await fx.store.get("s1"))!;
  first.n = 1;
  second.n = 2;
  await fx.store.set("s1", first);
  await assert.rejects(fx.store.set("s1", second), SessionConflictError);
  assert.deepEqual(seen.slice(1).map(([name]) => name), ["update", "merged", "conflict"]);
  assert.deepEqual(seen.at(-1), ["conflict", { sid: "s1", attempts: 1 }]);
  assert.equal(fx.store.stats().conflicts, 1);
});

test("lockWait tells how long a load waited for another request's lock", async () => {
  await using fx = await storeFixture({ lock: true, retryTime: 10 });
  const waits: StoreEvents["lockWait"][] = [];
  fx.store.on("lockWait", (event: StoreEvents["lockWait"]) => waits.push(event));
  await fx.store.set("s1", { cookie: cookie() } as unknown as SessionData);
  const holder = (await fx.store.get("s1"))!;
  assert.equal(waits.length, 0, "a free lock is taken without waiting");
  const started = Date.now();
  const waiting = fx.store.get("s1");
  await delay(100);
  await fx.store.touch("s1", holder); // gives up the lock
  const second = (await waiting)!;
  const elapsed = Date.now() - started;
  assert.equal(waits.length, 1);
  assert.equal(waits[0].sid, "s1");
  assert.equal(waits[0].acquired, true);
  assert.ok(waits[0].ms >= 100 && waits[0].ms <= elapsed, `waited ${waits[0].ms} ms of ${elapsed}`);
  await fx.store.touch("s1", second);
  assert.equal(fx.store.stats().lockWaits, 1);
});

test("userLimit names the sessions a login beyond maxSessionsPerUser ended", async () => {
  await using fx = await storeFixture({
    user: (session) => session.userId as string | undefined,
    maxSessionsPerUser: 1,
  });
  const seen = recordEvents(fx.store);
  await fx.store.set("old", { cookie: cookie(), userId: "ada" } as unknown as SessionData);
  await delay(5);
  await fx.store.set("new", { cookie: cookie(), userId: "ada" } as unknown as SessionData);
  const limits = seen.filter(([name]) => name === "userLimit");
  assert.deepEqual(limits, [["userLimit", { user: "ada", sid: "new", ended: ["old"] }]]);
  assert.deepEqual(seen.filter(([name]) => name === "destroy"), [["destroy", { sid: "old" }]]);
  assert.equal(await fx.store.get("old"), null);
});

test("a listener that throws does not fail the request it watches", async () => {
  await using fx = await storeFixture();
  fx.store.on("create", () => {
    throw new Error("listener bug");
  });
  const logged: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    await fx.store.set("s1", { cookie: cookie() } as unknown as SessionData);
  } finally {
    console.error = original;
  }
  assert.ok(await fx.store.get("s1"));
  assert.equal(logged.length, 1);
});

test("hono: the on option hears the face's events, and the middleware's stats() counts them", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const seen: string[] = [];
  const on = {
    create: () => seen.push("create"),
    update: (event: StoreEvents["update"]) => seen.push(`update ${event.properties}`),
    destroy: () => seen.push("destroy"),
  };
  const middleware = smartRedisSession({ client, secret: "hono events secret", on });
  const app = new Hono<{ Variables: SessionVariables }>();
  app.use(middleware);
  app.get("/set/:value", (c) => {
    c.get("session").value = c.req.param("value");
    return c.text("set");
  });
  app.get("/logout", async (c) => {
    await c.get("session").destroy();
    return c.text("bye");
  });
  const http = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
  try {
    const browser = new Browser();
    const url = `http://127.0.0.1:${http.addr.port}`;
    await browser.get(`${url}/set/1`);
    await browser.get(`${url}/set/2`);
    await browser.get(`${url}/logout`);
  } finally {
    await http.shutdown();
  }
  assert.deepEqual(seen, ["create", "update value", "destroy"]);
  const stats = middleware.stats();
  assert.equal(stats.commits, 2);
  assert.equal(stats.destroys, 1);
});

test('option "on" is checked', async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  assert.throws(
    () => new SmartRedisStore({ client, on: { merge: () => {} } as never }),
    /Unknown event "merge"/,
  );
  assert.throws(() => new SmartRedisStore({ client, on: { merged: 1 } as never }), /must be a function/);
  assert.throws(() => new SmartRedisStore({ client, on: 1 as never }), TypeError);
});

test("fastify: the on option hears the face's events, and request.sessionStore.stats() counts them", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const seen: string[] = [];
  const on = {
    create: (event: StoreEvents["create"]) => seen.push(`create ${event.properties.includes("n")}`),
    update: (event: StoreEvents["update"]) => seen.push(`update ${event.properties}`),
  };
  let stats: StoreStats | undefined;
  await using app = await start(client, { on }, (fastify) => {
    fastify.get("/n/:n", (request) => {
      request.session.set("n", (request.params as { n: string }).n);
      return "set";
    });
    fastify.get("/stats", (request) => {
      stats = (request as unknown as { sessionStore: FastifySessionStore }).sessionStore.stats();
      return "ok";
    });
  });
  const first = await app.get("/n/1");
  const cookie = pair(first.cookies[0]);
  await app.get("/n/2", { cookie });
  await app.get("/stats", { cookie });
  assert.deepEqual(seen, ["create true", "update n"]);
  assert.equal(stats?.commits, 2);
  assert.equal(stats?.loads, 2);
});
