/**
 * A Redis Cluster master lost with no replica to take over, on a cluster set
 * `cluster-require-full-coverage no` (as the operations guide asks): the other
 * masters' sessions answer all along, and the lost master's fail with a
 * `RedisUnavailableError` naming that master.
 */

import assert from "node:assert/strict";
import { RedisUnavailableError, SmartRedisStore } from "../mod.ts";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { keySlot } from "../src/clients/_key_slot.ts";
import { adminClients, clusterClients, ownerOf } from "./_cluster_admin.ts";
import { delay, test } from "./_helpers.ts";

const cookie = () => ({ originalMaxAge: 600_000, expires: new Date(Date.now() + 600_000).toISOString() });

test("a lost cluster master with cluster-require-full-coverage no: the other masters' sessions answer throughout", async (t) => {
  for (const [name, connect] of Object.entries(clusterClients)) {
    await t.step(name, async () => {
      await using cluster = await startRedisCluster({ nodeTimeout: 1000 });
      await using admins = await adminClients(cluster);
      for (const admin of admins) await admin.configSet("cluster-require-full-coverage", "no");
      const { client, close } = connect(cluster.urls);
      try {
        const store = new SmartRedisStore({ client, commandTimeout: 500 });
        const sids = Array.from({ length: 30 }, (_, i) => `s${i}`);
        for (const sid of sids) await store.set(sid, { cookie: cookie(), sid } as never);
        const owners = await Promise.all(sids.map((sid) => ownerOf(admins, keySlot(`session:${sid}`))));
        const lost = sids.filter((_, i) => owners[i] === 0);
        const kept = sids.filter((_, i) => owners[i] !== 0);
        assert.ok(lost.length > 0 && kept.length > 0);

        await cluster.masters[0].kill();
        const failures: string[] = [];
        const lostErrors: unknown[] = [];
        let failSeen = 0;
        // Until the others have marked the master failed, and a while after.
        for (const started = Date.now(); failSeen === 0 || Date.now() - failSeen < 1500;) {
          assert.ok(Date.now() - started < 15_000, "the master was never marked failed");
          const round = Date.now();
          await Promise.all([
            ...kept.map(async (sid) => {
              const session = await store.get(sid).catch((error) => error);
              if ((session as { sid?: string })?.sid !== sid) failures.push(`${sid}: ${session}`);
            }),
            ...lost.slice(0, 3).map((sid) =>
              store.get(sid).then(() => {}, (error) => lostErrors.push(error))
            ),
          ]);
          const nodes = String(await admins[1].sendCommand(["CLUSTER", "NODES"]));
          if (failSeen === 0 && / master,fail /.test(nodes)) failSeen = Date.now();
          await delay(Math.max(0, 100 - (Date.now() - round)));
        }
        assert.deepEqual(failures, [], `${name}: sessions on the masters still up failed`);
        assert.ok(lostErrors.length > 0);
        for (const error of lostErrors) {
          assert.ok(error instanceof RedisUnavailableError, `${name}: ${error}`);
          assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${cluster.ports[0]}\\b`));
        }
      } finally {
        await close();
      }
    });
  }
});
