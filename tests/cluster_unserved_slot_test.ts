/**
 * A Redis Cluster slot that no master serves (its master removed from the cluster,
 * `CLUSTER FORGET` or `DELSLOTS`, before `redis-cli --cluster fix` gives it a new one),
 * on a cluster set `cluster-require-full-coverage no`: the sessions of that slot fail
 * with a `RedisUnavailableError` (not a client library's TypeError), the others answer.
 */

import assert from "node:assert/strict";
import { RedisUnavailableError, SmartRedisStore } from "../mod.ts";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { keySlot } from "../src/clients/_key_slot.ts";
import { adminClients, clusterClients } from "./_cluster_admin.ts";
import { delay, test } from "./_helpers.ts";

const cookie = () => ({ originalMaxAge: 600_000, expires: new Date(Date.now() + 600_000).toISOString() });

test("sessions in a slot no master serves fail with RedisUnavailableError; the others answer", async (t) => {
  await using cluster = await startRedisCluster();
  await using admins = await adminClients(cluster);
  const unserved = keySlot("session:lost");
  for (const admin of admins) {
    await admin.configSet("cluster-require-full-coverage", "no");
    await admin.sendCommand(["CLUSTER", "DELSLOTS", String(unserved)]).catch(() => {/* not its slot */});
  }
  for (const admin of admins) {
    while (!String(await admin.sendCommand(["CLUSTER", "INFO"])).includes("cluster_slots_assigned:16383")) {
      await delay(20);
    }
  }
  for (const [name, connect] of Object.entries(clusterClients)) {
    await t.step(name, async () => {
      const { client, close } = connect(cluster.urls);
      try {
        const store = new SmartRedisStore({ client, commandTimeout: 500 });
        await store.set("kept", { cookie: cookie(), n: 1 } as never);
        assert.equal((await store.get("kept") as { n?: number }).n, 1);
        const attempts: [string, () => Promise<unknown>][] = [
          ["get", () => store.get("lost")],
          ["set", () => store.set("lost", { cookie: cookie(), n: 1 } as never)],
          ["destroy", () => store.destroy("lost")],
        ];
        for (const [what, attempt] of attempts) {
          await assert.rejects(attempt(), (error: Error) => {
            assert.ok(error instanceof RedisUnavailableError, `${what}: ${error}`);
            return true;
          });
        }
        assert.equal((await store.get("kept") as { n?: number }).n, 1);
      } finally {
        await close();
      }
    });
  }
});
