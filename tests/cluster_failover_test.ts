/**
 * A Redis Cluster master failing over to its replica (how production clusters run):
 * sessions on the other masters never go, and the failed master's sessions come
 * back once its replica is promoted, with every cluster client.
 */

import assert from "node:assert/strict";
import { Cluster } from "ioredis";
import { createCluster as createCluster5 } from "redis";
import { createCluster as createCluster6 } from "redis6";
import { SmartRedisStore } from "../mod.ts";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { pollUntil, promotion, replicaCaughtUp, replicaOfFirst } from "./_cluster_admin.ts";
import { test } from "./_helpers.ts";

const clients = {
  "node-redis 5 createCluster()": (urls: readonly string[]) => {
    const client = createCluster5({ rootNodes: urls.map((url) => ({ url })) });
    client.on("error", () => {});
    return { client, close: () => client.destroy() };
  },
  "node-redis 6 createCluster()": (urls: readonly string[]) => {
    const client = createCluster6({ rootNodes: urls.map((url) => ({ url })) });
    client.on("error", () => {});
    return { client, close: () => client.destroy() };
  },
  "ioredis Cluster": (urls: readonly string[]) => {
    const client = new Cluster(urls.map((url) => ({ host: "127.0.0.1", port: Number(new URL(url).port) })));
    client.on("error", () => {});
    return { client, close: () => client.disconnect() };
  },
};

test("a cluster master failing over to its replica: other sessions stay, its own come back", async (t) => {
  for (const [name, connect] of Object.entries(clients)) {
    await t.step(name, async () => {
      await using cluster = await startRedisCluster({ nodeTimeout: 2000 });
      const dir = await Deno.makeTempDir({ prefix: "smart-redis-replica-" });
      await using replica = await replicaOfFirst(cluster, dir);
      const { client, close } = connect(cluster.urls);
      try {
        const store = new SmartRedisStore({ client, commandTimeout: 1000 });
        const sids = Array.from({ length: 30 }, (_, i) => `s${i}`);
        for (const sid of sids) await store.set(sid, { cookie: { originalMaxAge: 600_000 }, sid } as never);
        // Replication is asynchronous: what the master has not passed on yet dies with it.
        await replicaCaughtUp(cluster);
        await cluster.masters[0].kill();
        await promotion(replica);
        const live = async () => (await Promise.all(sids.map((sid) => store.get(sid).catch(() => null))));
        // Sessions on the healthy masters answer all along; the failed master's come back.
        const recovered = await pollUntil(
          "every session to load again",
          async () => (await live()).every(Boolean),
        );
        assert.ok(recovered < 20_000, `${name}: the sessions came back ${recovered} ms after the promotion`);
        const sessions = await live();
        assert.deepEqual(sessions.map((session) => (session as { sid?: string } | null)?.sid), sids);
      } finally {
        close();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    });
  }
});
