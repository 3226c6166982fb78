/**
 * A Redis Cluster slot half moved (MIGRATING on its owner, IMPORTING on the next
 * master, some keys moved, as during `redis-cli --cluster reshard`): every store
 * operation on sessions of that slot either succeeds or leaves the session as it
 * was; no logout is undone, no session lost.
 */

import assert from "node:assert/strict";
import { RedisUnavailableError, SmartRedisStore } from "../mod.ts";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { keySlot } from "../src/clients/_key_slot.ts";
import { adminClients, clusterClients, ownerOf, startSlotMove } from "./_cluster_admin.ts";
import { delay, test } from "./_helpers.ts";

type Data = Record<string, unknown>;

const cookie = () => ({ originalMaxAge: 600_000, expires: new Date(Date.now() + 600_000).toISOString() });

test("in a slot being migrated, destroy, destroyUser, set, convert and commit succeed or leave the session as it was", async (t) => {
  await using cluster = await startRedisCluster();
  await using admins = await adminClients(cluster);
  for (const [name, connect] of Object.entries(clusterClients)) {
    await t.step(name, async () => {
      const { client, close } = connect(cluster.urls);
      try {
        const store = new SmartRedisStore({
          client,
          user: (session) => session.userId,
          commandTimeout: 1500,
        });
        const tag = `{${name}}`;
        const sid = (what: string) => `${tag}${what}`;
        const key = (what: string) => `session:${sid(what)}`;
        const put = (what: string, data: Data) =>
          store.set(sid(what), { cookie: cookie(), ...data } as never);
        for (const what of ["destroyed", "replaced", "committed", "moved"]) await put(what, { n: 1 });
        for (const what of ["ann1", "ann2"]) await put(what, { userId: "ann", n: 1 });
        // Sessions stored by connect-redis: one JSON string each.
        const legacy = async (what: string) => {
          const owner = admins[await ownerOf(admins, keySlot(key(what)))];
          await owner.sendCommand([
            "SET",
            key(what),
            JSON.stringify({ cookie: cookie(), n: 1 }),
            "PX",
            "600000",
          ]);
        };
        for (const what of ["stringDestroyed", "stringReplaced", "converted", "stuck"]) await legacy(what);

        // Requests already in flight: loaded before the move.
        const inFlight = await store.get(sid("destroyed")) as Data;
        const annInFlight = await store.get(sid("ann1")) as Data;
        const committed = await store.get(sid("committed")) as Data;
        const converted = await store.get(sid("converted")) as Data;

        await using move = await startSlotMove(admins, key("destroyed"));
        const source = admins[move.source];
        const onTarget = (what: string, field: string) => move.onTarget(["HGET", key(what), field]);
        await move.migrate(key("moved"));

        // Hashes still on the source: the scripts run there, in the MIGRATING slot.
        await store.destroy(sid("destroyed"));
        inFlight.late = "yes";
        await store.set(sid("destroyed"), inFlight as never);
        assert.equal(await store.get(sid("destroyed")), null, "the logout stands");
        assert.equal(await source.hGet(key("destroyed"), "\0dead"), "1", "a tombstone, on the source");

        assert.equal(await store.destroyUser("ann"), 2);
        annInFlight.late = "yes";
        await store.set(sid("ann1"), annInFlight as never);
        assert.equal(await store.get(sid("ann1")), null);
        assert.equal(await store.get(sid("ann2")), null);

        await put("replaced", { n: 2 });
        assert.equal((await store.get(sid("replaced")) as Data).n, 2);
        await put("moved", { n: 2 }); // on the target already: reached through ASK
        assert.equal((await store.get(sid("moved")) as Data).n, 2);
        assert.equal(await onTarget("moved", "n"), "2");

        committed.n = 2;
        await store.set(sid("committed"), committed as never);
        assert.equal((await store.get(sid("committed")) as Data).n, 2);

        // A string must be deleted to become a hash, which the MIGRATING slot would refuse midway:
        // the store waits for the key to move (within commandTimeout) and then succeeds on the target.
        const started = Date.now();
        await assert.rejects(store.destroy(sid("stuck")), RedisUnavailableError);
        assert.ok(Date.now() - started >= 1000, `gave up after ${Date.now() - started} ms`);
        assert.match(String(await source.get(key("stuck"))), /"n":1/, "left as it was");

        const moveSoon = (what: string) => delay(300).then(() => move.migrate(key(what)));
        converted.n = 2;
        await Promise.all([
          store.destroy(sid("stringDestroyed")),
          put("stringReplaced", { n: 2 }),
          store.set(sid("converted"), converted as never),
          moveSoon("stringDestroyed"),
          moveSoon("stringReplaced"),
          moveSoon("converted"),
        ]);
        assert.equal(await onTarget("stringDestroyed", "\0dead"), "1");
        assert.equal(await onTarget("stringReplaced", "n"), "2");
        assert.equal(await onTarget("converted", "n"), "2");

        await move.finish();
        assert.equal(await store.get(sid("destroyed")), null);
        assert.equal(await store.get(sid("stringDestroyed")), null);
        for (const what of ["replaced", "committed", "moved", "stringReplaced", "converted"]) {
          assert.equal((await store.get(sid(what)) as Data | null)?.n, 2, what);
        }
        assert.equal((await store.get(sid("stuck")) as Data | null)?.n, 1);
      } finally {
        await close();
      }
    });
  }
});
