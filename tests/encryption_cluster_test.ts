/**
 * The `encrypt` option on a Redis Cluster: sessions on every master are written
 * encrypted and read back, and `reencrypt()` walks every master.
 */

import assert from "node:assert/strict";
import { SmartRedisStore } from "../mod.ts";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { keySlot } from "../src/clients/_key_slot.ts";
import { adminClients, clusterClients, ownerOf } from "./_cluster_admin.ts";
import { test } from "./_helpers.ts";

const OLD = { id: "old", secret: "the old secret, of thirty-two characters or more" };
const NEW = { id: "new", secret: "the new secret, of thirty-two characters or more" };
const DAY = 86400000;

test("on a cluster, reencrypt() moves the sessions of every master to the new key", async (t) => {
  await using cluster = await startRedisCluster();
  await using admins = await adminClients(cluster);
  for (const [name, connect] of Object.entries(clusterClients)) {
    await t.step(name, async () => {
      const { client, close } = connect(cluster.urls);
      try {
        const prefix = `${name.replace(/\W/g, "")}:`;
        const before = new SmartRedisStore({ client, prefix, encrypt: { keys: [OLD] } });
        const sids = Array.from({ length: 24 }, (_, i) => `s${i}`);
        const cookie = { originalMaxAge: DAY, expires: new Date(Date.now() + DAY) };
        for (const [i, sid] of sids.entries()) await before.set(sid, { cookie, n: i } as never);
        const owners = new Set(await Promise.all(sids.map((sid) => ownerOf(admins, keySlot(prefix + sid)))));
        assert.ok(owners.size > 1, "the sessions are spread over several masters");

        const after = new SmartRedisStore({ client, prefix, encrypt: { keys: [NEW, OLD] } });
        assert.deepEqual(await after.reencrypt(), {
          sessions: sids.length,
          updated: sids.length,
          values: 2 * sids.length,
          unreadable: 0,
        });
        const only = new SmartRedisStore({ client, prefix, encrypt: { keys: [NEW] } });
        for (const [i, sid] of sids.entries()) assert.equal((await only.get(sid))?.n, i, sid);
      } finally {
        await close();
      }
    });
  }
});
