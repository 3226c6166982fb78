/**
 * The `expired` event follows a Redis Cluster's topology: once a replica takes
 * over its master's slots, the store subscribes on it and leaves the old
 * master, and sessions expiring there are reported once, with every cluster client.
 */

// suite: shards 3

import assert from "node:assert/strict";
import { createClient } from "redis";
import type { SessionData } from "express-session";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import type { RedisServer } from "../scripts/redis_server.ts";
import { SmartRedisStore } from "../mod.ts";
import { keySlot } from "../src/clients/_key_slot.ts";
import { adminClients, clusterClients, ownerOf, replicaOfFirst } from "./_cluster_admin.ts";
import { connectClient, shard, test } from "./_helpers.ts";
import { scaled, until } from "./_load.ts";

const session = (ms: number) =>
  ({ cookie: { originalMaxAge: ms, expires: new Date(Date.now() + ms) } }) as unknown as SessionData;

/** Whether the server has exactly `count` subscribed connections. */
async function subscribed(server: RedisServer, count: number): Promise<boolean> {
  await using admin = await connectClient(server);
  const list = String(await admin.sendCommand(["CLIENT", "LIST"]));
  return list.split("\n").filter((line) => /\bsub=[1-9]/.test(line)).length === count;
}

for (const [name, make] of shard(Object.entries(clusterClients))) {
  test(`${name}: after a failover, the promoted replica's expiries are reported and the old master is left`, async () => {
    await using cluster = await startRedisCluster();
    const dir = await Deno.makeTempDir({ prefix: "smart-redis-expired-" });
    await using replica = await replicaOfFirst(cluster, dir);
    await using admins = await adminClients(cluster);
    const promoted = createClient({ url: replica.url });
    await promoted.connect();
    const { client, close } = make(cluster.urls);
    try {
      for (const admin of [...admins, promoted]) await admin.configSet("notify-keyspace-events", "Ex");
      const seen: string[] = [];
      const store = new SmartRedisStore({ client, on: { expired: ({ sid }) => seen.push(sid) } });
      const all = [...cluster.masters];
      assert.ok(
        await until(async () => (await Promise.all(all.map((m) => subscribed(m, 1)))).every(Boolean), 5000),
      );

      // Sessions of the first master's slots.
      const sids: string[] = [];
      for (let i = 0; sids.length < 4; i++) {
        if (await ownerOf(admins, keySlot(`session:f${i}`)) === 0) sids.push(`f${i}`);
      }
      await promoted.sendCommand(["CLUSTER", "FAILOVER"]);
      assert.ok(await until(async () => /role:master/.test(await promoted.info("replication")), 20_000));
      // Their first writes meet MOVED, and the client learns the topology (long lives: they must
      // not expire before the subscription has moved).
      for (const sid of sids) await store.set(sid, session(86_400_000));
      assert.ok(await until(() => subscribed(replica, 1), 10_000), "subscribed on the promoted replica");
      assert.ok(await until(() => subscribed(cluster.masters[0], 0), 10_000), "the old master left");

      const life = scaled(300);
      for (const sid of sids) await store.set(sid, session(life));
      assert.ok(await until(() => seen.length >= sids.length, life + 5000), `seen: ${JSON.stringify(seen)}`);
      assert.deepEqual([...seen].sort(), [...sids].sort());
    } finally {
      await close();
      await promoted.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  });
}
