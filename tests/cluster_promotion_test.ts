/**
 * A Redis Cluster master killed and its replica promoted, with Redis's default
 * `cluster-require-full-coverage yes`: the whole cluster answers CLUSTERDOWN until
 * the promotion. The store retries within `commandTimeout`, so with a timeout
 * longer than the promotion no request fails, on any master.
 */

import assert from "node:assert/strict";
import { SmartRedisStore } from "../mod.ts";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { redisCliCommand } from "../scripts/redis_server.ts";
import { keySlot } from "../src/clients/_key_slot.ts";
import { addReplicaOfFirst, adminClients, clusterClients, ownerOf, until } from "./_cluster_admin.ts";
import { delay, test } from "./_helpers.ts";

const cookie = () => ({ originalMaxAge: 600_000, expires: new Date(Date.now() + 600_000).toISOString() });

test("through CLUSTERDOWN while a replica is promoted, requests on the other masters wait instead of failing", async (t) => {
  for (const [name, connect] of Object.entries(clusterClients)) {
    await t.step(name, async () => {
      await using cluster = await startRedisCluster({ nodeTimeout: 1000 });
      const dir = await Deno.makeTempDir({ prefix: "smart-redis-promotion-" });
      await using admins = await adminClients(cluster);
      const { client, close } = connect(cluster.urls);
      try {
        const store = new SmartRedisStore({ client, commandTimeout: 8000 });
        const sids = Array.from({ length: 30 }, (_, i) => `s${i}`);
        for (const sid of sids) await store.set(sid, { cookie: cookie(), sid } as never);
        const owners = await Promise.all(sids.map((sid) => ownerOf(admins, keySlot(`session:${sid}`))));
        const kept = sids.filter((_, i) => owners[i] !== 0);
        await using replica = await addReplicaOfFirst(cluster, dir);

        await cluster.masters[0].kill();
        let clusterDown = false;
        const failures: string[] = [];
        const started = Date.now();
        const promoted = until("the replica's promotion", async () => {
          const info = String(await admins[1].sendCommand(["CLUSTER", "INFO"]));
          if (/cluster_state:fail/.test(info)) clusterDown = true;
          return /role:master/.test(await fetchInfo(replica.url));
        }, 30_000);
        let done = false;
        promoted.finally(() => done = true).catch(() => {});
        while (!done) {
          await Promise.all(kept.map(async (sid, i) => {
            const session = i % 2 ? await store.get(sid).catch((error) => error) : await store
              .set(sid, { cookie: cookie(), sid, at: Date.now() } as never).then(() => store.get(sid)).catch((
                error,
              ) => error);
            if ((session as { sid?: string })?.sid !== sid) failures.push(`${sid}: ${session}`);
          }));
          await delay(50);
        }
        await promoted;
        assert.ok(clusterDown, `${name}: the cluster never went down (${Date.now() - started} ms)`);
        assert.deepEqual(failures, [], `${name}: requests on the masters still up failed`);
      } finally {
        await close();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    });
  }
});

async function fetchInfo(url: string): Promise<string> {
  const port = new URL(url).port;
  const { stdout } = await new Deno.Command(redisCliCommand(), { args: ["-p", port, "INFO", "replication"] })
    .output();
  return new TextDecoder().decode(stdout);
}
