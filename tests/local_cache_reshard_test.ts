/**
 * The local cache under a live `redis-cli --cluster reshard`: another store
 * writes the sessions of the moving slots over and over while a cached store
 * reads them. No cached read ever goes back to an older value than one it read
 * before, and once the reshard is over the cached store reads the last write,
 * and serves hits again.
 */
// suite: valkey too

import assert from "node:assert/strict";
import { SmartRedisStore } from "../mod.ts";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { clusterClients, fillLowSlots, idsInLowSlots, reshard } from "./_cluster_admin.ts";
import { sessionWith, waitForStats } from "./_cache_helpers.ts";
import { delay, test } from "./_helpers.ts";
import { scaled, until } from "./_load.ts";

type Data = Record<string, unknown>;

/** Slots moved, and filler keys in each (each slot stays half-moved a while). */
const MOVED_SLOTS = 40;
const KEYS_PER_SLOT = 60;

for (const name of ["node-redis 6", "ioredis"] as const) {
  test(`localCache (${name} cluster): a live reshard under cached reads and another store's writes`, async () => {
    await using cluster = await startRedisCluster();
    await fillLowSlots(cluster, MOVED_SLOTS, KEYS_PER_SLOT);
    const clientA = clusterClients["node-redis 5"](cluster.urls);
    const clientB = clusterClients[name](cluster.urls);
    try {
      const commandTimeout = scaled(5000);
      const a = new SmartRedisStore({ client: clientA.client, commandTimeout });
      const b = new SmartRedisStore({
        client: clientB.client,
        commandTimeout,
        localCache: { maxAgeMs: 86_400_000 },
      });
      const sids = idsInLowSlots(`${name}-`, 12, MOVED_SLOTS);
      for (const sid of sids) await a.set(sid, sessionWith({ n: 0 }));
      const written = new Map(sids.map((sid) => [sid, 0]));
      const seen = new Map(sids.map((sid) => [sid, 0]));
      const backwards: string[] = [];
      const read = async (sid: string) => {
        const n = (await b.get(sid) as Data).n as number;
        if (n < seen.get(sid)!) backwards.push(`${sid}: read ${n} after ${seen.get(sid)}`);
        seen.set(sid, Math.max(n, seen.get(sid)!));
        return n;
      };
      for (let i = 0; i < 3; i++) for (const sid of sids) await read(sid);

      let resharding = true;
      const done = reshard(cluster, 0, 1, MOVED_SLOTS).finally(() => resharding = false);
      const writer = (async () => {
        while (resharding) {
          for (const sid of sids) {
            const n = written.get(sid)! + 1;
            await a.set(sid, { ...await a.get(sid) as Data, n } as never);
            written.set(sid, n);
          }
        }
      })();
      const hitsBefore = b.cacheStats().hits;
      const reader = (async () => {
        while (resharding) {
          for (const sid of sids) await read(sid);
          await delay(1); // hits answer without I/O: let the timers and sockets run
        }
      })();
      const result = await done;
      await Promise.all([writer, reader]);
      assert.ok(
        result.success,
        `redis-cli --cluster reshard failed: ${new TextDecoder().decode(result.stderr)}`,
      );
      assert.deepEqual(backwards, [], "no cached read went back");
      const hitsDuring = b.cacheStats().hits - hitsBefore;

      const fresh = await until(async () => {
        for (const sid of sids) if (await read(sid) !== written.get(sid)) return false;
        return true;
      }, 2000);
      assert.ok(
        fresh,
        `B reads the last writes: ${JSON.stringify([...seen])} vs ${JSON.stringify([...written])}`,
      );
      // A check caught by the last moves may wait its whole commandTimeout for its invalidation.
      const confirmed = await waitForStats(b, (stats) => stats.tracking, 3 * commandTimeout);
      const hits = b.cacheStats().hits;
      for (const sid of sids) await read(sid);
      for (const sid of sids) assert.equal(await read(sid), written.get(sid));
      assert.ok(
        b.cacheStats().hits > hits,
        `hits again after the reshard: ${JSON.stringify(b.cacheStats())}`,
      );
      const total = [...written.values()].reduce((x, y) => x + y);
      console.log(
        `${name}: ${total} writes, ${hitsDuring} hits during the reshard; confirmed ${
          confirmed | 0
        } ms after`,
      );
    } finally {
      clientA.close();
      clientB.close();
    }
  });
}
