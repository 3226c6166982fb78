/**
 * The local cache's memory bound: reading 100 000 sessions through a cached
 * store keeps the cache within `maxBytes` (the least recently used leave), and
 * what it keeps still serves hits.
 */

import assert from "node:assert/strict";
import { SmartRedisStore } from "../mod.ts";
import { connectClient, startRedisServer, test } from "./_helpers.ts";
import { sessionWith } from "./_cache_helpers.ts";

const SESSIONS = 100_000;
const MAX_BYTES = 2 * 1024 * 1024;

test("localCache stays under maxBytes with 100 000 sessions read", async () => {
  await using server = await startRedisServer();
  await using raw = await connectClient(server);
  await using client = await connectClient(server);
  // One session written by the store, copied under 100 000 ids (as the store would write them).
  await new SmartRedisStore({ client: raw }).set("model", sessionWith({ owner: "someone", cart: [1, 2, 3] }));
  const fields = (await raw.sendCommand(["HGETALL", "session:model"])) as string[];
  for (let start = 0; start < SESSIONS; start += 5000) {
    await Promise.all(
      Array.from({ length: 5000 }, (_, i) => raw.sendCommand(["HSET", `session:s${start + i}`, ...fields])),
    );
  }
  const store = new SmartRedisStore({ client, localCache: { maxBytes: MAX_BYTES } });
  await store.get("s0");
  while (!store.cacheStats().tracking) await new Promise((resolve) => setTimeout(resolve, 5));
  let largest = 0;
  for (let start = 0; start < SESSIONS; start += 500) {
    const read = await Promise.all(Array.from({ length: 500 }, (_, i) => store.get(`s${start + i}`)));
    assert.ok(read.every((session) => session?.owner === "someone"));
    largest = Math.max(largest, store.cacheStats().bytes);
  }
  const stats = store.cacheStats();
  assert.ok(largest <= MAX_BYTES, `the cache reached ${largest} bytes`);
  assert.ok(stats.entries > 1000 && stats.entries < SESSIONS, JSON.stringify(stats));
  // The most recently read are kept and served without Redis.
  const hits = stats.hits;
  await store.get(`s${SESSIONS - 1}`);
  assert.equal(store.cacheStats().hits, hits + 1);
  const info = String(await raw.sendCommand(["INFO", "stats"]));
  console.log(
    `cache: ${stats.entries} sessions in ${stats.bytes} bytes (≤ ${MAX_BYTES}); Redis tracking table: ` +
      `${/tracking_total_keys:(\d+)/.exec(info)?.[1]} keys`,
  );
});
