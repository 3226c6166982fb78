import assert from "node:assert/strict";
import { ABSENT, deepEqual, mergeValues } from "../src/engine/write/merge.ts";
import { withNodeProto } from "./_helpers.ts";

Deno.test("mergeValues() takes theirs when ours did not change", () => {
  assert.deepEqual(mergeValues({ a: 1 }, { a: 1 }, { a: 2 }), { a: 2 });
  assert.equal(mergeValues(1, 1, 7), 7);
});

Deno.test("mergeValues() takes ours when theirs did not change", () => {
  assert.deepEqual(mergeValues({ a: 1 }, { a: 3 }, { a: 1 }), { a: 3 });
  assert.equal(mergeValues("x", "y", "x"), "y");
});

Deno.test("mergeValues() merges nested objects key by key", () => {
  const base = {
    cart: { apples: 1, pears: 1 },
    profile: { name: "Ann", prefs: { theme: "light", lang: "en" } },
  };
  const ours = {
    cart: { apples: 2, pears: 1 },
    profile: { name: "Ann", prefs: { theme: "dark", lang: "en" } },
  };
  const theirs = {
    cart: { apples: 1, pears: 5 },
    profile: { name: "Ann", prefs: { theme: "light", lang: "fr" } },
  };
  assert.deepEqual(mergeValues(base, ours, theirs), {
    cart: { apples: 2, pears: 5 },
    profile: { name: "Ann", prefs: { theme: "dark", lang: "fr" } },
  });
});

Deno.test("mergeValues() keeps keys that only one side added", () => {
  assert.deepEqual(mergeValues({ a: 1 }, { a: 1, b: 2 }, { a: 1, c: 3 }), { a: 1, b: 2, c: 3 });
});

Deno.test("mergeValues() lets ours win where both changed the same leaf", () => {
  assert.deepEqual(
    mergeValues({ a: { b: 1, c: 1 } }, { a: { b: 2, c: 1 } }, { a: { b: 3, c: 4 } }),
    { a: { b: 2, c: 4 } },
  );
  assert.equal(mergeValues(1, 2, 3), 2);
});

Deno.test("mergeValues() applies a deletion on one side when the other left the key unchanged", async (t) => {
  await t.step("ours deleted, theirs changed another key", () => {
    assert.deepEqual(mergeValues({ a: 1, b: 1 }, { b: 1 }, { a: 1, b: 2 }), { b: 2 });
  });
  await t.step("theirs deleted, ours changed another key", () => {
    assert.deepEqual(mergeValues({ a: 1, b: 1 }, { a: 1, b: 3 }, { b: 1 }), { b: 3 });
  });
  await t.step("both deleted the same key", () => {
    assert.deepEqual(mergeValues({ a: 1, b: 1 }, { b: 2 }, { b: 1 }), { b: 2 });
    assert.equal(mergeValues(1, ABSENT, ABSENT), ABSENT);
  });
  await t.step("a whole property deleted by ours, unchanged by theirs", () => {
    assert.equal(mergeValues({ a: 1 }, ABSENT, { a: 1 }), ABSENT);
  });
  await t.step("a whole property deleted by theirs, unchanged by ours", () => {
    assert.equal(mergeValues({ a: 1 }, { a: 1 }, ABSENT), ABSENT);
  });
});

Deno.test("mergeValues() lets ours win a deletion against a change of the same key", () => {
  // Ours deleted what theirs changed: ours wins, the key is gone.
  assert.deepEqual(mergeValues({ a: 1, b: 1 }, { b: 1 }, { a: 2, b: 1 }), { b: 1 });
  // Ours changed what theirs deleted: ours wins, the key stays.
  assert.deepEqual(mergeValues({ a: 1, b: 1 }, { a: 3, b: 1 }, { b: 1 }), { a: 3, b: 1 });
});

Deno.test("mergeValues() merges two objects added where the base was absent", () => {
  assert.deepEqual(mergeValues(ABSENT, { a: 1 }, { b: 2 }), { a: 1, b: 2 });
  assert.deepEqual(
    mergeValues(ABSENT, { a: 1, shared: { x: 1 } }, { b: 2, shared: { y: 2 } }),
    { a: 1, b: 2, shared: { x: 1, y: 2 } },
  );
  // The same key added with different values on both sides: ours wins.
  assert.deepEqual(mergeValues(ABSENT, { a: 1 }, { a: 2 }), { a: 1 });
});

Deno.test("mergeValues() takes ours when the base was absent and either side is not an object", () => {
  assert.equal(mergeValues(ABSENT, 1, 2), 1);
  assert.deepEqual(mergeValues(ABSENT, [1], { a: 1 }), [1]);
});

Deno.test("mergeValues() treats arrays as leaves", () => {
  assert.deepEqual(mergeValues([1, 2], [1, 2, 3], [0, 1, 2]), [1, 2, 3]);
  assert.deepEqual(mergeValues([1, 2], [1, 2], [0, 1, 2]), [0, 1, 2]);
  assert.deepEqual(
    mergeValues({ list: [{ a: 1 }] }, { list: [{ a: 2 }] }, { list: [{ a: 1, b: 1 }] }),
    { list: [{ a: 2 }] },
  );
});

Deno.test("mergeValues() treats a change of type as a leaf change", () => {
  // Ours replaced the object by a string while theirs changed a key inside it: ours wins whole.
  assert.deepEqual(mergeValues({ a: 1 }, "replaced", { a: 2 }), "replaced");
  // Theirs replaced it by null while ours changed a key inside it: ours wins whole.
  assert.deepEqual(mergeValues({ a: 1 }, { a: 1, b: 1 }, null), { a: 1, b: 1 });
  // Ours left it alone: theirs' replacement stands.
  assert.equal(mergeValues({ a: 1 }, { a: 1 }, null), null);
});

Deno.test("mergeValues() keeps __proto__ keys as own data without polluting Object.prototype", async () => {
  // Under Node, `merged["__proto__"] = value` would re-prototype the result: test with its accessor.
  await withNodeProto(() => {
    const base = JSON.parse('{"a":1,"__proto__":{"x":1}}');
    const ours = JSON.parse('{"a":2,"__proto__":{"x":1,"polluted":"ours"}}');
    const theirs = JSON.parse(
      '{"a":1,"__proto__":{"x":1,"other":"theirs"},"constructor":{"prototype":{"bad":1}}}',
    );
    const merged = mergeValues(base, ours, theirs) as Record<string, unknown>;
    try {
      assert.equal(Object.getPrototypeOf(merged), Object.prototype);
      assert.ok(Object.hasOwn(merged, "__proto__"));
      assert.ok(Object.hasOwn(merged, "constructor"));
      assert.equal(merged.a, 2);
      assert.deepEqual(
        JSON.parse(JSON.stringify(Object.getOwnPropertyDescriptor(merged, "__proto__")!.value)),
        JSON.parse('{"x":1,"polluted":"ours","other":"theirs"}'),
      );
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(({} as Record<string, unknown>).other, undefined);
      assert.equal(({} as Record<string, unknown>).bad, undefined);
      assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
    } finally {
      for (const key of ["polluted", "other", "bad", "x"]) {
        delete (Object.prototype as Record<string, unknown>)[key];
      }
    }
  });
});

Deno.test("mergeValues() keeps a __proto__ key that only one side added", async () => {
  await withNodeProto(() => {
    const merged = mergeValues({ a: 1 }, JSON.parse('{"a":1,"__proto__":{"admin":true}}'), {
      a: 2,
    }) as object;
    try {
      assert.equal(Object.getPrototypeOf(merged), Object.prototype);
      assert.ok(Object.hasOwn(merged, "__proto__"));
      assert.equal((merged as Record<string, unknown>).a, 2);
      assert.equal(({} as Record<string, unknown>).admin, undefined);
      assert.equal((merged as Record<string, unknown>).admin, undefined);
    } finally {
      delete (Object.prototype as Record<string, unknown>).admin;
    }
  });
});

Deno.test("mergeValues() treats dates as leaves compared by time", () => {
  const base = { at: new Date(1000), n: 1 };
  // A different Date instance with the same time is "unchanged".
  assert.deepEqual(mergeValues(base, { at: new Date(1000), n: 2 }, { at: new Date(2000), n: 1 }), {
    at: new Date(2000),
    n: 2,
  });
  // Both changed the date: ours wins, as a whole Date (not merged key by key).
  const merged = mergeValues(base, { at: new Date(3000), n: 1 }, { at: new Date(2000), n: 1 }) as {
    at: Date;
  };
  assert.ok(merged.at instanceof Date);
  assert.equal(merged.at.getTime(), 3000);
});

Deno.test("deepEqual() compares plain objects key by key, in any key order", () => {
  assert.equal(deepEqual({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }), true);
  assert.equal(deepEqual({ a: 1 }, { a: 1, b: 2 }), false);
  assert.equal(deepEqual({ a: 1, b: 2 }, { a: 1 }), false);
  assert.equal(deepEqual({ a: 1 }, { b: 1 }), false);
  assert.equal(deepEqual({ a: { b: 1 } }, { a: { b: 2 } }), false);
});

Deno.test("deepEqual() tells an undefined-valued key from a missing one", () => {
  assert.equal(deepEqual({ a: undefined }, {}), false);
  assert.equal(deepEqual({ a: undefined, b: 1 }, { b: 1, c: undefined }), false);
});

Deno.test("deepEqual() compares arrays item by item and never equals an object", () => {
  assert.equal(deepEqual([1, [2, 3]], [1, [2, 3]]), true);
  assert.equal(deepEqual([1, 2], [2, 1]), false);
  assert.equal(deepEqual([1], [1, 2]), false);
  assert.equal(deepEqual([1, 2], { 0: 1, 1: 2 }), false);
  assert.equal(deepEqual({ 0: 1, 1: 2 }, [1, 2]), false);
});

Deno.test("deepEqual() compares dates by time", () => {
  assert.equal(deepEqual(new Date(5), new Date(5)), true);
  assert.equal(deepEqual(new Date(5), new Date(6)), false);
  assert.equal(deepEqual(new Date(Number.NaN), new Date(Number.NaN)), true);
  assert.equal(deepEqual(new Date(5), new Date(5).toISOString()), false);
  assert.equal(deepEqual(new Date(5), {}), false);
  assert.equal(deepEqual({}, new Date(5)), false);
});

Deno.test("deepEqual() compares primitives with Object.is", () => {
  assert.equal(deepEqual(Number.NaN, Number.NaN), true);
  assert.equal(deepEqual(0, -0), false);
  assert.equal(deepEqual(1, "1"), false);
  assert.equal(deepEqual(null, {}), false);
  assert.equal(deepEqual(null, null), true);
  assert.equal(deepEqual(undefined, null), false);
  assert.equal(deepEqual(ABSENT, ABSENT), true);
  assert.equal(deepEqual(ABSENT, undefined), false);
});
