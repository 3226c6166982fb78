/**
 * The local cache's parts alone: the byte-bounded LRU, the in-flight tickets
 * that keep a read racing an invalidation (or the store's own write) from
 * storing what it read, and the `localCache` option's checks.
 */

import assert from "node:assert/strict";
import { ByteLru, replyBytes } from "../src/cache/byte_lru.ts";
import { resolveLocalCache } from "../src/cache/cache_options.ts";
import { LocalCache } from "../src/cache/local_cache.ts";

const BOUNDS = { maxBytes: 1 << 20, maxEntries: 1000, maxAgeMs: 60_000 };

/** A cache with tracking confirmed. */
function trackingCache(bounds = BOUNDS): LocalCache {
  const cache = new LocalCache(bounds, "test");
  cache.flush(true);
  return cache;
}

Deno.test("ByteLru evicts the least recently used entries past maxBytes and maxEntries", () => {
  const pairs = ["field", "x".repeat(100)];
  const each = replyBytes("k0", pairs);
  const lru = new ByteLru(each * 3, 100);
  for (const key of ["k0", "k1", "k2"]) lru.set(key, pairs, 0);
  lru.get("k0"); // k1 is now the least recently used
  lru.set("k3", pairs, 0);
  assert.equal(lru.get("k1"), undefined);
  assert.ok(lru.get("k0") && lru.get("k2") && lru.get("k3"));
  assert.ok(lru.bytes <= each * 3);
  const counted = new ByteLru(1 << 20, 2);
  for (const key of ["a", "b", "c"]) counted.set(key, pairs, 0);
  assert.equal(counted.size, 2);
  assert.equal(counted.get("a"), undefined);
  const tiny = new ByteLru(10, 10);
  tiny.set("big", pairs, 0);
  assert.equal(tiny.size, 0);
  assert.equal(tiny.bytes, 0);
});

Deno.test("a read that an invalidation overtakes stores nothing", () => {
  const cache = trackingCache();
  const ticket = cache.begin("session:a");
  cache.invalidate(["session:a"]);
  cache.finish(ticket, ["n", "1"], Date.now());
  assert.equal(cache.lookup("session:a"), undefined);
  // The next read, begun after the invalidation, stores its reply.
  const next = cache.begin("session:a");
  cache.finish(next, ["n", "2"], Date.now());
  assert.deepEqual(cache.lookup("session:a"), ["n", "2"]);
});

Deno.test("a read racing the store's own write stores nothing", () => {
  const cache = trackingCache();
  const ticket = cache.begin("session:a");
  cache.drop("session:a");
  cache.finish(ticket, ["n", "1"], Date.now());
  assert.equal(cache.lookup("session:a"), undefined);
});

Deno.test("a read begun before tracking was lost, or while it was off, stores nothing", () => {
  const cache = trackingCache();
  const ticket = cache.begin("session:a");
  cache.flush(false);
  cache.flush(true);
  cache.finish(ticket, ["n", "1"], Date.now());
  assert.equal(cache.lookup("session:a"), undefined);
  cache.flush(false);
  assert.equal(cache.begin("session:a"), undefined);
  assert.equal(cache.lookup("session:a"), undefined);
});

Deno.test("a FLUSHALL invalidation empties the cache, and entries expire after maxAgeMs", async () => {
  const cache = trackingCache({ ...BOUNDS, maxAgeMs: 20 });
  cache.finish(cache.begin("session:a"), [], Date.now());
  cache.finish(cache.begin("session:b"), [], Date.now());
  cache.invalidate(null);
  assert.equal(cache.stats().entries, 0);
  assert.ok(cache.tracking);
  cache.finish(cache.begin("session:a"), ["n", "1"], Date.now());
  assert.deepEqual(cache.lookup("session:a"), ["n", "1"]);
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.equal(cache.lookup("session:a"), undefined);
});

Deno.test("option localCache: true, bounds, or a clear error", () => {
  assert.equal(resolveLocalCache(undefined), undefined);
  assert.equal(resolveLocalCache(false), undefined);
  assert.deepEqual(resolveLocalCache(true), {
    maxBytes: 32 * 1024 * 1024,
    maxEntries: 100_000,
    maxAgeMs: 10_000,
  });
  assert.equal(resolveLocalCache({ maxEntries: 5 })?.maxEntries, 5);
  assert.throws(() => resolveLocalCache("yes"), TypeError);
  assert.throws(() => resolveLocalCache({ maxBites: 5 }), /Unknown localCache option "maxBites"/);
  assert.throws(() => resolveLocalCache({ maxBytes: 10 }), RangeError);
  assert.throws(() => resolveLocalCache({ maxAgeMs: 0 }), RangeError);
});

Deno.test("a heartbeat's proof renews the age of entries held before it, not across a flush", async () => {
  const cache = trackingCache({ ...BOUNDS, maxAgeMs: 40 });
  cache.finish(cache.begin("session:a"), ["n", "1"], Date.now());
  await new Promise((resolve) => setTimeout(resolve, 30));
  cache.proven(cache.heartbeat());
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(cache.lookup("session:a"), ["n", "1"]); // 60 ms old, proven 30 ms ago
  const stale = cache.heartbeat();
  cache.flush(false);
  cache.flush(true);
  cache.finish(cache.begin("session:a"), ["n", "2"], Date.now() - 100);
  cache.proven(stale); // from before the flush: no proof
  assert.equal(cache.lookup("session:a"), undefined);
});
