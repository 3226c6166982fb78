/**
 * Odd and hostile input through the store API, against a real redis-server:
 * strange session ids, property names and values.
 */

import assert from "node:assert/strict";
import { SessionDataError } from "../mod.ts";
import { storeFixture, test } from "./_helpers.ts";

const cookie = { originalMaxAge: 60000, expires: new Date(Date.now() + 60000).toISOString(), path: "/" };

test("odd session ids round-trip and are listed and destroyed exactly", async (t) => {
  await using fx = await storeFixture();
  const sids = {
    "64 KB": "x".repeat(64 * 1024),
    "glob characters": "a*b?[c]\\d",
    "spaces": "with some spaces",
    "unicode": "üñí©ødé ✓ 🚀 日本",
    "NUL": "nul\0inside",
  };
  for (const [what, sid] of Object.entries(sids)) {
    await t.step(`${what}: set, get, ids, destroy`, async () => {
      await fx.store.set(sid, { cookie, what } as never);
      assert.equal((await fx.store.get(sid) as unknown as { what: string }).what, what);
      assert.ok((await fx.store.ids()).includes(sid));
      await fx.store.destroy(sid);
      assert.equal(await fx.store.get(sid), null);
    });
  }
  await t.step("an empty id is not found and cannot be written", async () => {
    assert.equal(await fx.store.get(""), null);
    await assert.rejects(fx.store.set("", { cookie } as never), TypeError);
  });
  assert.equal(await fx.store.length(), 0);
});

test("odd property names round-trip as own properties without polluting prototypes", async () => {
  await using fx = await storeFixture();
  const session: Record<string, unknown> = { cookie };
  for (const name of ["__proto__", "constructor", "prototype", "", "n".repeat(10_000)]) {
    Object.defineProperty(session, name, { value: `value of ${name.slice(0, 20)}`, enumerable: true });
  }
  await fx.store.set("odd-names", session as never);
  const loaded = await fx.store.get("odd-names") as unknown as Record<string, unknown>;
  for (const name of ["__proto__", "constructor", "prototype", "", "n".repeat(10_000)]) {
    assert.ok(Object.hasOwn(loaded, name), `${name.slice(0, 20)} is an own property`);
    assert.equal(loaded[name], `value of ${name.slice(0, 20)}`);
  }
  assert.equal(Object.getPrototypeOf(loaded), Object.prototype);
  assert.equal(({} as Record<string, unknown>)["value of __proto__"], undefined);
  assert.equal(typeof ({}).constructor, "function");
  // A change of one odd property is committed on its own.
  loaded[""] = "changed";
  await fx.store.set("odd-names", loaded as never);
  assert.equal(await fx.redis.hGet("session:odd-names", ""), '"changed"');
  assert.equal(await fx.redis.hGet("session:odd-names", "__proto__"), '"value of __proto__"');
});

test("odd values: unicode, a 1 MB string, 1000 levels of nesting round-trip", async () => {
  await using fx = await storeFixture();
  let deep: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < 1000; i++) deep = { deeper: deep };
  const values = { unicode: "😀 ÆØÅ 中文 \u2028 \u0000", big: "b".repeat(1024 * 1024), deep };
  await fx.store.set("odd-values", { cookie, ...values } as never);
  const loaded = await fx.store.get("odd-values") as unknown as Record<string, unknown>;
  assert.equal(loaded.unicode, values.unicode);
  assert.equal((loaded.big as string).length, 1024 * 1024);
  assert.deepEqual(loaded.deep, deep);
});

test("nesting far beyond 1000 levels round-trips and merges without exhausting the stack", async () => {
  await using fx = await storeFixture();
  let deep: Record<string, unknown> = { leaf: 0 };
  for (let i = 0; i < 200_000; i++) deep = { deeper: deep };
  await fx.store.set("very-deep", { cookie, deep, other: { a: 1 } } as never);
  const first = await fx.store.get("very-deep") as unknown as Record<string, unknown>;
  const second = await fx.store.get("very-deep") as unknown as Record<string, unknown>;
  // Both add a key at the top of the deep value: the merge compares the 200 000-level subtrees.
  first.deep = { ...first.deep as object, x: 1 };
  second.deep = { ...second.deep as object, y: 2 };
  await fx.store.set("very-deep", first as never);
  await fx.store.set("very-deep", second as never);
  const merged = (await fx.store.get("very-deep") as unknown as Record<string, Record<string, unknown>>).deep;
  assert.equal(merged.x, 1);
  assert.equal(merged.y, 2);
  assert.equal(JSON.stringify(merged.deeper), JSON.stringify(deep.deeper));
});

test("a value the serializer rejects is a clear error and changes nothing", async () => {
  await using fx = await storeFixture();
  await fx.store.set("unserializable", { cookie, kept: 1 } as never);
  const session = await fx.store.get("unserializable") as unknown as Record<string, unknown>;
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  session.kept = 2;
  session.circular = circular;
  await assert.rejects(fx.store.set("unserializable", session as never), (error: Error) => {
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /Session "unserializable" property "circular" cannot be serialized/);
    return true;
  });
  assert.equal(await fx.redis.hGet("session:unserializable", "kept"), "1");
});

test("a key of the wrong type under the prefix makes bulk operations fail naming it, and is left alone", async () => {
  await using fx = await storeFixture();
  await fx.store.set("fine", { cookie } as never);
  await fx.redis.sAdd("session:a-set", "member");
  for (const operation of [() => fx.store.all(), () => fx.store.length(), () => fx.store.clear()]) {
    await assert.rejects(operation(), (error: Error) => {
      assert.ok(error instanceof SessionDataError);
      assert.match(error.message, /"session:a-set" is not a session/);
      return true;
    });
  }
  assert.deepEqual(await fx.redis.sMembers("session:a-set"), ["member"]);
});

test("clear() refuses to run with an empty prefix, which would take in every key of the database", async () => {
  await using fx = await storeFixture({ prefix: "" });
  await fx.redis.set("unrelated", "value");
  await assert.rejects(fx.store.clear(), (error: Error) => {
    assert.ok(error instanceof RangeError);
    assert.match(error.message, /prefix ""/);
    return true;
  });
  assert.equal(await fx.redis.get("unrelated"), "value");
});
