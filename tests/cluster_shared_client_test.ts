/**
 * Stores sharing one Redis Cluster client (a store per tenant prefix) each retry the
 * commands a migrating slot refuses for as long as their own `commandTimeout`, not
 * another store's: a store with a long timeout is not cut short by one with a short
 * timeout made later, and a store with a short timeout sends nothing more once its
 * caller has been told the command failed.
 */

import assert from "node:assert/strict";
import { RedisUnavailableError, SmartRedisStore } from "../mod.ts";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { keySlot } from "../src/clients/_key_slot.ts";
import { adminClients, clusterClients, ownerOf, startSlotMove } from "./_cluster_admin.ts";
import { delay, test } from "./_helpers.ts";

const legacyValue = JSON.stringify({
  cookie: { originalMaxAge: 600_000, expires: new Date(Date.now() + 600_000).toISOString() },
  n: 1,
});

/**
 * How long after its first attempt a refused command may still run on its own inside the
 * client library: ioredis follows TRYAGAIN itself, 16 times 100 ms by default.
 */
const LIBRARY_RETRIES = 1600;

test("stores sharing a cluster client each retry a migrating slot's refusals within their own commandTimeout", async (t) => {
  await using cluster = await startRedisCluster();
  await using admins = await adminClients(cluster);
  for (const [name, connect] of Object.entries(clusterClients)) {
    await t.step(name, async () => {
      const { client, close } = connect(cluster.urls);
      try {
        // A connect-redis string must be deleted to become a tombstone: its destroy is refused
        // (TRYAGAIN) while the key waits on the source of a migrating slot.
        const legacy = async (key: string) => {
          const owner = admins[await ownerOf(admins, keySlot(key))];
          await owner.sendCommand(["SET", key, legacyValue, "PX", "600000"]);
        };

        // The long store first, a short one after it: the long one still waits its own time.
        const long = new SmartRedisStore({
          client,
          prefix: "long:",
          commandTimeout: 2 * LIBRARY_RETRIES + 3000,
        });
        new SmartRedisStore({ client, prefix: "short:", commandTimeout: 250 });
        const waited = `{${name}}waited`;
        await legacy(`long:${waited}`);
        {
          await using move = await startSlotMove(admins, `long:${waited}`);
          const started = Date.now();
          const moved = delay(LIBRARY_RETRIES + 1000).then(() => move.migrate(`long:${waited}`));
          await long.destroy(waited);
          await moved;
          assert.ok(Date.now() - started >= LIBRARY_RETRIES + 1000, "destroyed before the key moved");
          assert.equal(await move.onTarget(["HGET", `long:${waited}`, "\0dead"]), "1", "a tombstone");
        }

        // A short store first, a long one after it: the short one's caller is told it failed,
        // and nothing is sent for it after that.
        const short = new SmartRedisStore({ client, prefix: "brief:", commandTimeout: 300 });
        new SmartRedisStore({ client, prefix: "lasting:", commandTimeout: 4 * LIBRARY_RETRIES + 5000 });
        const given = `{${name}}given`;
        await legacy(`brief:${given}`);
        {
          await using move = await startSlotMove(admins, `brief:${given}`);
          const started = Date.now();
          await assert.rejects(short.destroy(given), RedisUnavailableError);
          await delay(Math.max(0, started + LIBRARY_RETRIES + 1500 - Date.now()));
          await move.migrate(`brief:${given}`);
          await delay(1000);
          const later = "a logout reported failed was not applied later";
          assert.equal(await move.onTarget(["TYPE", `brief:${given}`]), "string", later);
          assert.equal(await move.onTarget(["GET", `brief:${given}`]), legacyValue, later);
        }
      } finally {
        await close();
      }
    });
  }
});
