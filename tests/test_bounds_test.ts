/**
 * The helpers that keep the suite fast and steady: load-stretched bounds and file shards.
 */

import assert from "node:assert/strict";
import { shard } from "./_helpers.ts";
import { loadFactor, scaled, until } from "./_load.ts";

Deno.test("loadFactor() is between 1 and 10, and scaled() never shortens a bound", () => {
  const factor = loadFactor();
  assert.ok(factor >= 1 && factor <= 10, String(factor));
  assert.ok(scaled(100) >= 100);
});

Deno.test("until() reports whether the condition held in time", async () => {
  let calls = 0;
  assert.equal(await until(() => ++calls >= 3, 5000), true);
  assert.equal(await until(() => false, 1), false);
});

Deno.test("shard() splits cases so that the shards together run each exactly once", () => {
  const items = Array.from({ length: 10 }, (_, i) => i);
  const saved = Deno.env.get("SMART_REDIS_TEST_SHARD");
  try {
    const parts = [0, 1, 2].map((k) => {
      Deno.env.set("SMART_REDIS_TEST_SHARD", `${k}/3`);
      return shard(items);
    });
    assert.deepEqual(parts.flat().sort((a, b) => a - b), items);
    assert.ok(parts.every((part) => part.length >= 3));
    Deno.env.set("SMART_REDIS_TEST_SHARD", "3/3");
    assert.throws(() => shard(items), RangeError);
    Deno.env.delete("SMART_REDIS_TEST_SHARD");
    assert.deepEqual(shard(items), items);
  } finally {
    if (saved === undefined) Deno.env.delete("SMART_REDIS_TEST_SHARD");
    else Deno.env.set("SMART_REDIS_TEST_SHARD", saved);
  }
});
