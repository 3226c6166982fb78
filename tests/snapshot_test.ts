import assert from "node:assert/strict";
import type { Serializer } from "../src/options/store_options.ts";
import {
  attachSnapshot,
  diffFields,
  serializeFields,
  SNAPSHOT,
  type Snapshot,
  snapshotOf,
} from "../src/engine/snapshot.ts";

const cookie = { originalMaxAge: 60000, expires: "2030-01-01T00:00:00.000Z", httpOnly: true, path: "/" };

/** Stands for the store that takes the snapshots. */
const OWNER = {};

/** A snapshot of session `sid` taken by {@linkcode OWNER}, with nothing loaded but `changes`. */
function snapshotFor(sid: string, changes: Partial<Snapshot> = {}): Snapshot {
  return {
    sid,
    fields: new Map(),
    owner: OWNER,
    renewed: false,
    sliding: "",
    expires: undefined,
    liveAt: 0,
    ...changes,
  };
}

Deno.test("serializeFields() serializes each top-level property on its own", () => {
  const fields = serializeFields(
    "sid1",
    { cookie, user: { id: 7, roles: ["a"] }, n: 3, s: "x", f: false },
    JSON,
  );
  assert.deepEqual(
    fields,
    new Map([
      ["cookie", JSON.stringify(cookie)],
      ["user", '{"id":7,"roles":["a"]}'],
      ["n", "3"],
      ["s", '"x"'],
      ["f", "false"],
    ]),
  );
});

Deno.test("serializeFields() skips properties whose value serializes to undefined", () => {
  const fields = serializeFields("sid1", {
    cookie,
    gone: undefined,
    fn: () => 1,
    sym: Symbol("s"),
    kept: null,
  }, JSON);
  assert.deepEqual([...fields.keys()], ["cookie", "kept"]);
  assert.equal(fields.get("kept"), "null");
});

Deno.test("serializeFields() uses the given serializer", () => {
  const calls: unknown[] = [];
  const serializer: Serializer = {
    stringify: (value) => {
      calls.push(value);
      return `<${JSON.stringify(value)}>`;
    },
    parse: (text) => JSON.parse(text.slice(1, -1)),
  };
  const fields = serializeFields("sid1", { a: 1, b: "two" }, serializer);
  assert.deepEqual(calls, [1, "two"]);
  assert.deepEqual(fields, new Map([["a", "<1>"], ["b", '<"two">']]));
});

Deno.test("serializeFields() ignores inherited and symbol-keyed properties", () => {
  const session = Object.create({ inherited: 1 });
  session.own = 2;
  session[Symbol("hidden")] = 3;
  attachSnapshot(session, snapshotFor("s"));
  assert.deepEqual(serializeFields("s", session, JSON), new Map([["own", "2"]]));
});

Deno.test("serializeFields() rejects property names reserved for metadata with a TypeError", () => {
  for (const name of ["\0dead", "\0ttl", "\0"]) {
    assert.throws(
      () => serializeFields("sid-9", { cookie, [name]: 1 }, JSON),
      (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /Session "sid-9"/);
        assert.ok(error.message.includes(JSON.stringify(name)), error.message);
        assert.match(error.message, /reserved/);
        return true;
      },
    );
  }
});

Deno.test("serializeFields() accepts names that only contain a NUL character later on", () => {
  assert.deepEqual(serializeFields("s", { "a\0b": 1 }, JSON), new Map([["a\0b", "1"]]));
});

Deno.test("serializeFields() reports a circular property as a TypeError naming session and property", () => {
  const loop: Record<string, unknown> = { a: 1 };
  loop.self = loop;
  assert.throws(
    () => serializeFields("sid-c", { cookie, fine: 1, loop }, JSON),
    (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /Session "sid-c"/);
      assert.match(error.message, /property "loop"/);
      assert.match(error.message, /circular/i);
      assert.ok(error.cause instanceof TypeError, "cause is the serializer's own error");
      assert.match((error.cause as Error).message, /circular/i);
      return true;
    },
  );
});

Deno.test("serializeFields() reports a BigInt property as a TypeError naming session and property", () => {
  assert.throws(
    () => serializeFields("sid-b", { cookie, count: { n: 10n } }, JSON),
    (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /Session "sid-b"/);
      assert.match(error.message, /property "count"/);
      assert.ok(error.cause instanceof TypeError);
      assert.match((error.cause as Error).message, /BigInt/);
      return true;
    },
  );
});

Deno.test("serializeFields() wraps a custom serializer's error with the cause kept", () => {
  const failure = new Error("nope");
  const serializer: Serializer = {
    stringify: () => {
      throw failure;
    },
    parse: JSON.parse,
  };
  assert.throws(
    () => serializeFields("s", { a: 1 }, serializer),
    (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /property "a"/);
      assert.match(error.message, /nope/);
      assert.equal(error.cause, failure);
      return true;
    },
  );
});

Deno.test("serializeFields() rejects a serializer that returns something other than a string", () => {
  const serializer = { stringify: () => 42, parse: JSON.parse } as unknown as Serializer;
  assert.throws(
    () => serializeFields("sid-x", { a: 1 }, serializer),
    (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /must return a string/);
      assert.match(error.message, /"sid-x"/);
      assert.match(error.message, /"a"/);
      return true;
    },
  );
});

Deno.test("diffFields() returns nothing when no field changed", () => {
  const fields = new Map([["cookie", "c"], ["a", "1"], ["b", "2"]]);
  assert.deepEqual(diffFields(fields, new Map(fields)), []);
  assert.deepEqual(diffFields(new Map(), new Map()), []);
});

Deno.test("diffFields() sends only the changed fields", () => {
  const before = new Map([["cookie", "c"], ["a", "1"], ["b", "2"], ["c", "3"]]);
  const next = new Map([["cookie", "c"], ["a", "1"], ["b", "20"], ["c", "3"]]);
  assert.deepEqual(diffFields(before, next), [{ kind: "u", field: "b", base: "2", value: "20" }]);
});

Deno.test("diffFields() marks an added field 'a', with no base", () => {
  assert.deepEqual(
    diffFields(new Map([["a", "1"]]), new Map([["a", "1"], ["n", "5"]])),
    [{ kind: "a", field: "n", value: "5" }],
  );
});

Deno.test("diffFields() marks a removed field 'r' with the base it must still hold", () => {
  assert.deepEqual(
    diffFields(new Map([["a", "1"], ["b", "2"]]), new Map([["a", "1"]])),
    [{ kind: "r", field: "b", base: "2" }],
  );
});

Deno.test("diffFields() writes the cookie unchecked ('w'), changed or added", () => {
  assert.deepEqual(
    diffFields(new Map([["cookie", "old"]]), new Map([["cookie", "new"]])),
    [{ kind: "w", field: "cookie", value: "new" }],
  );
  assert.deepEqual(diffFields(new Map(), new Map([["cookie", "new"]])), [
    { kind: "w", field: "cookie", value: "new" },
  ]);
});

Deno.test("diffFields() reports every kind of change at once", () => {
  const before = new Map([["cookie", "c1"], ["kept", "k"], ["changed", "1"], ["removed", "r"]]);
  const next = new Map([["cookie", "c2"], ["kept", "k"], ["changed", "2"], ["added", "a"]]);
  const changes = diffFields(before, next);
  const byField = Object.fromEntries(changes.map((change) => [change.field, change]));
  assert.equal(changes.length, 4);
  assert.deepEqual(byField, {
    cookie: { kind: "w", field: "cookie", value: "c2" },
    changed: { kind: "u", field: "changed", base: "1", value: "2" },
    added: { kind: "a", field: "added", value: "a" },
    removed: { kind: "r", field: "removed", base: "r" },
  });
});

Deno.test("diffFields() compares serialized strings exactly", () => {
  // Same data, different text: a change (the commit's compare-and-set works on strings).
  assert.deepEqual(diffFields(new Map([["a", '{"x":1,"y":2}']]), new Map([["a", '{"y":2,"x":1}']])), [
    { kind: "u", field: "a", base: '{"x":1,"y":2}', value: '{"y":2,"x":1}' },
  ]);
});

Deno.test("attachSnapshot() hides the snapshot from JSON and key enumeration", () => {
  const session: Record<string, unknown> = { a: 1 };
  const snapshot = snapshotFor("s1", { fields: new Map([["a", "1"]]), renewed: true });
  attachSnapshot(session, snapshot);
  assert.equal(JSON.stringify(session), '{"a":1}');
  assert.deepEqual(Object.keys(session), ["a"]);
  assert.equal(Object.getOwnPropertyDescriptor(session, SNAPSHOT)?.enumerable, false);
  assert.equal(snapshotOf(session, "s1", OWNER), snapshot);
});

Deno.test("snapshotOf() ignores a snapshot taken for another session id", () => {
  const session = {};
  attachSnapshot(session, snapshotFor("s1"));
  assert.equal(snapshotOf(session, "s2", OWNER), undefined);
  assert.equal(snapshotOf({}, "s1", OWNER), undefined);
});

Deno.test("snapshotOf() ignores a snapshot another store took", () => {
  const session = {};
  attachSnapshot(session, snapshotFor("s1", { owner: {} }));
  assert.equal(snapshotOf(session, "s1", OWNER), undefined);
});

Deno.test("attachSnapshot() replaces an earlier snapshot", () => {
  const session = {};
  attachSnapshot(session, snapshotFor("s1"));
  const second = snapshotFor("s1", { fields: new Map([["a", "1"]]) });
  attachSnapshot(session, second);
  assert.equal(snapshotOf(session, "s1", OWNER), second);
});
