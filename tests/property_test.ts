/**
 * Property-based: random sessions and random interleavings of two or three
 * requests (load, change random properties, commit) and a destroy, checked
 * against a model. Seeded, so a failure names the case that reproduces it.
 */

import assert from "node:assert/strict";
import type { SmartRedisStore } from "../mod.ts";
import { storeFixture, test } from "./_helpers.ts";

const SEED = Number(Deno.env.get("PROPERTY_SEED") ?? 20261127);
const FIELDS = ["a", "b", "c", "d", "e", "f"];
const cookie = { originalMaxAge: 600000, expires: new Date(Date.now() + 600000).toISOString(), path: "/" };

/** mulberry32: a small seeded PRNG. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values whose concurrent changes resolve as "the later commit wins" (no plain objects to merge key by key). */
function randomValue(next: () => number): unknown {
  switch (Math.floor(next() * 5)) {
    case 0:
      return Math.floor(next() * 1000);
    case 1:
      return `s${Math.floor(next() * 1000)} ✓`;
    case 2:
      return Array.from({ length: Math.floor(next() * 4) }, () => Math.floor(next() * 10));
    case 3:
      return next() < 0.5;
    default:
      return null;
  }
}

const DELETE = Symbol("delete");
/** Changes by field; for "obj", by `obj.key`. */
type Changes = Map<string, unknown>;
/** A property that always holds an object, whose keys requests change independently. */
const OBJECT_KEYS = ["k1", "k2", "k3", "k4"];

interface Request {
  session: Record<string, unknown> | null;
  changes: Changes;
}

function randomChanges(next: () => number, session: Record<string, unknown>): Changes {
  const before = fieldsOf(session);
  const count = 1 + Math.floor(next() * 3);
  for (let i = 0; i < count; i++) {
    const field = FIELDS[Math.floor(next() * FIELDS.length)];
    const value = next() < 0.2 ? DELETE : randomValue(next);
    if (value === DELETE) delete session[field];
    else session[field] = value;
  }
  if (next() < 0.6) {
    const obj = { ...session.obj as Record<string, unknown> };
    const key = OBJECT_KEYS[Math.floor(next() * OBJECT_KEYS.length)];
    if (next() < 0.2) delete obj[key];
    else obj[key] = randomValue(next);
    session.obj = obj;
  }
  // Only what really differs from what was loaded is a change (setting a value again is not).
  const after = fieldsOf(session);
  const changes: Changes = new Map();
  for (const field of FIELDS) {
    if (before[field] !== after[field]) changes.set(field, field in after ? session[field] : DELETE);
  }
  for (const key of OBJECT_KEYS) {
    if (before[`obj.${key}`] !== after[`obj.${key}`]) {
      changes.set(
        `obj.${key}`,
        `obj.${key}` in after ? (session.obj as Record<string, unknown>)[key] : DELETE,
      );
    }
  }
  return changes;
}

/** The session flattened to comparable strings: each field, and each key of `obj` as `obj.key`. */
function fieldsOf(session: Record<string, unknown>): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const field of FIELDS) if (field in session) fields[field] = JSON.stringify(session[field]);
  const obj = session.obj as Record<string, unknown>;
  for (const key of OBJECT_KEYS) if (key in obj) fields[`obj.${key}`] = JSON.stringify(obj[key]);
  return fields;
}

async function randomBase(
  store: SmartRedisStore,
  sid: string,
  next: () => number,
): Promise<Record<string, string>> {
  const base: Record<string, unknown> = { cookie, obj: {} };
  for (const field of FIELDS) if (next() < 0.6) base[field] = randomValue(next);
  for (const key of OBJECT_KEYS) {
    if (next() < 0.6) (base.obj as Record<string, unknown>)[key] = randomValue(next);
  }
  await store.set(sid, base as never);
  return fieldsOf(base);
}

test("sequential interleavings: no committed change is lost unless the same field changed later; destroyed stays destroyed", async () => {
  await using fx = await storeFixture();
  for (let n = 0; n < 150; n++) {
    const next = random(SEED + n);
    const sid = `case-${n}`;
    const label = `case ${n} (seed ${SEED + n})`;
    const model = { destroyed: false, fields: await randomBase(fx.store, sid, next) };
    const requests: Request[] = Array.from({ length: 2 + Math.floor(next() * 2) }, () => ({
      session: null,
      changes: new Map(),
    }));
    // Events: each request loads, later commits; maybe one destroy somewhere.
    const events: (["load" | "commit", number] | ["destroy"])[] = [];
    const pending = requests.map((_, i) => i);
    const loaded = new Set<number>();
    while (pending.length > 0) {
      const i = pending[Math.floor(next() * pending.length)];
      if (!loaded.has(i)) {
        loaded.add(i);
        events.push(["load", i]);
      } else {
        events.push(["commit", i]);
        pending.splice(pending.indexOf(i), 1);
      }
    }
    if (next() < 0.3) events.splice(Math.floor(next() * (events.length + 1)), 0, ["destroy"]);

    for (const event of events) {
      if (event[0] === "destroy") {
        await fx.store.destroy(sid);
        model.destroyed = true;
        continue;
      }
      const request = requests[event[1]];
      if (event[0] === "load") {
        request.session = await fx.store.get(sid) as unknown as Record<string, unknown> | null;
        if (model.destroyed) {
          assert.equal(request.session, null, `${label}: a destroyed session was loaded`);
          continue;
        }
        assert.deepEqual(fieldsOf(request.session!), model.fields, `${label}: load saw what the model holds`);
        request.changes = randomChanges(next, request.session!);
      } else if (request.session) {
        await fx.store.set(sid, request.session as never);
        if (model.destroyed) continue;
        for (const [field, value] of request.changes) {
          if (value === DELETE) delete model.fields[field];
          else model.fields[field] = JSON.stringify(value);
        }
      }
    }

    const stored = await fx.store.get(sid) as unknown as Record<string, unknown> | null;
    if (model.destroyed) {
      assert.equal(stored, null, `${label}: destroyed session came back`);
      assert.deepEqual(Object.keys({ ...await fx.redis.hGetAll(`session:${sid}`) }), ["\0dead"], label);
    } else {
      assert.deepEqual(fieldsOf(stored!), model.fields, `${label}: final state`);
    }
  }
});

test("parallel commits: every field ends with a value some request committed, and a lone change always lands", async () => {
  await using fx = await storeFixture();
  for (let n = 0; n < 80; n++) {
    const next = random(SEED * 7 + n);
    const sid = `parallel-${n}`;
    const label = `parallel case ${n} (seed ${SEED * 7 + n})`;
    const base = await randomBase(fx.store, sid, next);
    const requests = await Promise.all(
      Array.from({ length: 3 }, () => fx.store.get(sid) as unknown as Promise<Record<string, unknown>>),
    );
    const changes = requests.map((session) => randomChanges(next, session));
    await Promise.all(requests.map((session) => fx.store.set(sid, session as never)));

    const stored = fieldsOf(await fx.store.get(sid) as unknown as Record<string, unknown>);
    for (const field of [...FIELDS, ...OBJECT_KEYS.map((key) => `obj.${key}`)]) {
      const committed = changes.filter((change) => change.has(field)).map((change) => change.get(field));
      const outcome = stored[field];
      if (committed.length === 0) {
        assert.equal(outcome, base[field], `${label}: untouched field ${field} changed`);
        continue;
      }
      const candidates = committed.map((value) => value === DELETE ? undefined : JSON.stringify(value));
      assert.ok(candidates.includes(outcome), `${label}: ${field} = ${outcome}, not one of ${candidates}`);
    }
  }
});
