/**
 * The local cache (option `localCache`) on Redis Cluster clients: hits cost the
 * cluster nothing; another store's change or logout is seen once its
 * invalidation has arrived; parallel writers lose nothing; and neither a slot
 * moved to another master nor a master failing over to its replica leaves a
 * stale copy in use.
 */
// suite: valkey too

import assert from "node:assert/strict";
import { Cluster as Cluster6 } from "ioredis6";
import { SmartRedisStore } from "../mod.ts";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { keySlot } from "../src/clients/_key_slot.ts";
import {
  adminClients,
  clusterClients,
  ownerOf,
  promotion,
  replicaCaughtUp,
  replicaOfFirst,
  startSlotMove,
} from "./_cluster_admin.ts";
import { cacheAll, sessionWith, waitForStats } from "./_cache_helpers.ts";
import { test } from "./_helpers.ts";
import { scaled, until } from "./_load.ts";

type Data = Record<string, unknown>;

const clients = {
  ...clusterClients,
  "ioredis 6": (urls: readonly string[]) => {
    const client = new Cluster6(urls.map((url) => ({ host: "127.0.0.1", port: Number(new URL(url).port) })));
    client.on("error", () => {});
    return { client, close: () => client.disconnect() };
  },
};
/** The clients of the longer cases (slot moves, failovers): one of each library. */
const main = ["node-redis 6", "ioredis"] as const;
/** A day: counts must not depend on entries ageing out. */
const DAY = 86_400_000;

/** Two stores on one cluster: A (node-redis 5, no cache) writes, B (the client under test) caches. */
function pairOn(urls: readonly string[], name: keyof typeof clients) {
  const clientA = clients["node-redis 5"](urls);
  const clientB = clients[name](urls);
  const commandTimeout = scaled(2000);
  return {
    a: new SmartRedisStore({ client: clientA.client, commandTimeout }),
    b: new SmartRedisStore({ client: clientB.client, commandTimeout, localCache: { maxAgeMs: DAY } }),
    close() {
      clientA.close();
      clientB.close();
    },
  };
}

/** Waits until B has heard of `count` more invalidations than `before` (or a flush of everything). */
async function heard(b: SmartRedisStore, before: { invalidations: number; flushes: number }, count: number) {
  await waitForStats(
    b,
    (stats) => stats.invalidations - before.invalidations >= count || stats.flushes > before.flushes,
    scaled(2000),
  );
}

test("localCache on a cluster: hits reach no master, changes and logouts are seen, parallel writers keep all", async (t) => {
  await using cluster = await startRedisCluster();
  await using admins = await adminClients(cluster);
  for (const name of Object.keys(clients) as (keyof typeof clients)[]) {
    await t.step(name, async () => {
      const { a, b, close } = pairOn(cluster.urls, name);
      try {
        const sids = Array.from({ length: 12 }, (_, i) => `${name}-${i}`);
        const owners = new Set(
          await Promise.all(sids.map((sid) => ownerOf(admins, keySlot(`session:${sid}`)))),
        );
        assert.equal(owners.size, 3, "the sessions are spread over every master");
        for (const sid of sids) await a.set(sid, sessionWith({ n: 1 }));
        await cacheAll(b, sids);
        assert.equal(b.cacheStats().tracking, true);
        assert.match(b.cacheStats().detail, /a tracked connection per master: .* on .* on .* on/);

        await Promise.all(admins.map((admin) => admin.sendCommand(["CONFIG", "RESETSTAT"])));
        const hits = b.cacheStats().hits;
        for (let round = 0; round < 5; round++) {
          for (const sid of sids) assert.equal((await b.get(sid) as Data).n, 1);
        }
        assert.equal(b.cacheStats().hits - hits, 5 * sids.length);
        const stats = await Promise.all(admins.map((admin) => admin.sendCommand(["INFO", "commandstats"])));
        const reads = stats.map((text) => /cmdstat_(?:hgetall|evalsha|eval):calls=(\d+)/.exec(String(text)));
        assert.deepEqual(
          reads.map((match) => Number(match?.[1] ?? 0)),
          [0, 0, 0],
          "no read reached a master",
        );

        const before = b.cacheStats();
        const changed = await a.get(sids[0]) as Data;
        await a.set(sids[0], { ...changed, n: 2 } as never);
        await a.destroy(sids[1]);
        await heard(b, before, 2);
        assert.equal((await b.get(sids[0]) as Data).n, 2, "another store's change");
        assert.equal(await b.get(sids[1]), null, "another store's logout");

        const shared = sids[2];
        await Promise.all(Array.from({ length: 20 }, async (_, i) => {
          const session = await b.get(shared) as Data;
          session[`w${i}`] = i;
          await b.set(shared, session as never);
        }));
        for (const store of [a, b]) {
          const session = await store.get(shared) as Data;
          for (let i = 0; i < 20; i++) assert.equal(session[`w${i}`], i, `writer ${i}'s field`);
        }
      } finally {
        close();
      }
    });
  }
});

test("localCache on a cluster: a slot moved to another master under cached reads leaves nothing stale", async (t) => {
  await using cluster = await startRedisCluster();
  await using admins = await adminClients(cluster);
  for (const name of main) {
    await t.step(name, async () => {
      const { a, b, close } = pairOn(cluster.urls, name);
      try {
        const sids = Array.from({ length: 6 }, (_, i) => `{${name}}${i}`);
        const key = (sid: string) => `session:${sid}`;
        // Not found before its slot moved, created on the new owner after: the old owner never
        // hears of it, and B's client, told of no move yet, still sends its slot there.
        const absent = `{${name} absent}`;
        const readAbsent = async () => {
          const hits = b.cacheStats().hits;
          assert.equal(await b.get(absent), null);
          return b.cacheStats().hits > hits;
        };
        assert.ok(!await until(readAbsent, 300), "not found is not served from the cache");
        await (await startSlotMove(admins, key(absent))).finish();
        await a.set(absent, sessionWith({ n: 1 }));
        assert.equal((await b.get(absent) as Data | null)?.n, 1, "a session created after its slot moved");

        for (const sid of sids) await a.set(sid, sessionWith({ n: 1 }));
        await cacheAll(b, sids);

        let n = 1;
        /** A writes n+1 to every session; B must read it once the invalidations have had time to come. */
        const changeAll = async () => {
          n++;
          for (const sid of sids) await a.set(sid, { ...await a.get(sid) as Data, n } as never);
          const fresh = await until(async () => {
            const read = await Promise.all(sids.map((sid) => b.get(sid)));
            return read.every((session) => (session as Data).n === n);
          }, 2000);
          assert.ok(fresh, `B still read an old n after A wrote ${n}`);
        };

        await using move = await startSlotMove(admins, key(sids[0]));
        await move.migrate(key(sids[0]), key(sids[1]), key(sids[2]));
        await changeAll(); // half moved: some reached through ASK, some still on the source
        await move.finish();
        // MIGRATE deleted every one from the source, which invalidates what B still held of them.
        await waitForStats(b, (stats) => stats.entries === 0, scaled(2000));
        n++;
        for (const sid of sids) await a.set(sid, { ...await a.get(sid) as Data, n } as never);
        for (const sid of sids) assert.equal((await b.get(sid) as Data).n, n, `${sid} after the move`);

        await cacheAll(b, sids); // cached again, now from the new owner
        await changeAll();
        await waitForStats(b, (stats) => stats.tracking, scaled(2000)); // both masters proven again
      } finally {
        close();
      }
    });
  }
});

test("localCache on a cluster: a master failing over to its replica leaves nothing stale", async (t) => {
  for (const name of main) {
    await t.step(name, async () => {
      await using cluster = await startRedisCluster({ nodeTimeout: 2000 });
      const dir = await Deno.makeTempDir({ prefix: "smart-redis-replica-" });
      await using replica = await replicaOfFirst(cluster, dir);
      await using admins = await adminClients(cluster);
      const { a, b, close } = pairOn(cluster.urls, name);
      try {
        const sids: string[] = [];
        for (let i = 0; sids.length < 6; i++) {
          if (await ownerOf(admins, keySlot(`session:${name}-${i}`)) === 0) sids.push(`${name}-${i}`);
        }
        for (const sid of sids) await a.set(sid, sessionWith({ n: 1 }));
        await cacheAll(b, sids);
        await replicaCaughtUp(cluster);
        await cluster.masters[0].kill();
        await promotion(replica);
        const recovered = await until(async () => {
          const read = await Promise.all(sids.map((sid) => a.get(sid).catch(() => null)));
          return read.every(Boolean);
        }, 20_000);
        assert.ok(recovered, "A reads the sessions again");

        for (const sid of sids) await a.set(sid, { ...await a.get(sid) as Data, n: 2 } as never);
        for (const sid of sids) {
          const session = await until(async () => Boolean(await b.get(sid).catch(() => null)), 20_000);
          assert.ok(session, `B reads ${sid} again`);
          assert.equal((await b.get(sid) as Data).n, 2, `${sid}: no copy from the lost master`);
        }
        await cacheAll(b, sids); // cached again, from the promoted replica
        const before = b.cacheStats();
        for (const sid of sids) await a.set(sid, { ...await a.get(sid) as Data, n: 3 } as never);
        await heard(b, before, sids.length);
        for (const sid of sids) assert.equal((await b.get(sid) as Data).n, 3);
      } finally {
        close();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    });
  }
});
