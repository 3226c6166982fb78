/**
 * A live `redis-cli --cluster reshard` of slots holding many keys (so each stays
 * half-moved for a while) under parallel writers and logouts, with node-redis 5,
 * node-redis 6 and ioredis at once: no write lost, no logout undone or failed, no
 * session logged out, no request failed.
 */

import assert from "node:assert/strict";
import { SmartRedisStore } from "../mod.ts";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { clusterClients, fillLowSlots, idsInLowSlots, reshard } from "./_cluster_admin.ts";
import { delay, test } from "./_helpers.ts";

type Data = Record<string, unknown>;

/** Slots moved: the first master's lowest ones, which `--cluster reshard` takes first. */
const MOVED_SLOTS = 150;
/** Filler keys per moved slot: MIGRATE moves them 10 at a time. */
const KEYS_PER_SLOT = 120;
const LIVE = 24;
const DORMANT = 200;
const WRITERS = 2;

const cookie = () => ({ originalMaxAge: 600_000, expires: new Date(Date.now() + 600_000).toISOString() });

test("a live reshard under parallel writers and logouts: 0 lost, 0 resurrected, 0 logged out, 0 failed", async () => {
  await using cluster = await startRedisCluster();
  await fillLowSlots(cluster, MOVED_SLOTS, KEYS_PER_SLOT);

  const clients = Object.entries(clusterClients).map(([name, connect]) => ({
    name,
    ...connect(cluster.urls),
  }));
  try {
    const runs = await Promise.all(clients.map(async ({ name, client }, c) => {
      const store = new SmartRedisStore({ client, commandTimeout: 5000 });
      const live = idsInLowSlots(`c${c}live`, LIVE, MOVED_SLOTS);
      const dormant = idsInLowSlots(`c${c}dormant`, DORMANT, MOVED_SLOTS);
      for (const sid of [...live, ...dormant]) await store.set(sid, { cookie: cookie(), sid } as never);
      return { name, store, live, dormant };
    }));

    let resharding = true;
    const done = reshard(cluster, 0, 1, MOVED_SLOTS).finally(() => resharding = false);

    const failures: string[] = [];
    const acknowledged = new Map<string, number>(); // "client sid writer" → last acknowledged count
    const loggedOut = new Set<string>(); // "client sid"
    const work = runs.flatMap(({ name, store, live }) =>
      live.flatMap((sid, s) => {
        const writers = Array.from({ length: WRITERS }, async (_, w) => {
          for (let count = 1; resharding; count++) {
            try {
              const session = await store.get(sid) as Data | null;
              if (!session) return; // logged out
              session[`w${w}`] = count;
              await delay(Math.random() * 20); // a request doing its work
              await store.set(sid, session as never);
              if (!loggedOut.has(`${name} ${sid}`)) acknowledged.set(`${name} ${sid} ${w}`, count);
            } catch (error) {
              failures.push(`${name} ${sid} write: ${(error as Error).message}`);
            }
          }
        });
        // A third of the sessions log out while their writers run.
        const logout = s % 3 === 0
          ? delay(500 + Math.random() * 5000).then(async () => {
            try {
              await store.destroy(sid);
              loggedOut.add(`${name} ${sid}`);
            } catch (error) {
              failures.push(`${name} ${sid} logout: ${(error as Error).message}`);
            }
          })
          : Promise.resolve();
        return [...writers, logout];
      })
    );
    const started = Date.now();
    const result = await done;
    const took = Date.now() - started;
    await Promise.all(work);
    assert.ok(
      result.success,
      `redis-cli --cluster reshard failed: ${new TextDecoder().decode(result.stderr)}`,
    );

    let lost = 0, resurrected = 0, loggedOutByMistake = 0;
    for (const { name, store, live, dormant } of runs) {
      for (const sid of live) {
        const session = await store.get(sid) as Data | null;
        if (loggedOut.has(`${name} ${sid}`)) {
          if (session) resurrected++;
          continue;
        }
        if (!session) {
          loggedOutByMistake++;
          continue;
        }
        for (let w = 0; w < WRITERS; w++) {
          if (Number(session[`w${w}`] ?? 0) < (acknowledged.get(`${name} ${sid} ${w}`) ?? 0)) lost++;
        }
      }
      for (const sid of dormant) if ((await store.get(sid) as Data | null)?.sid !== sid) loggedOutByMistake++;
    }
    const writes = [...acknowledged.values()].reduce((sum, count) => sum + count, 0);
    assert.deepEqual(
      { failures: failures.slice(0, 5), lost, resurrected, loggedOutByMistake },
      { failures: [], lost: 0, resurrected: 0, loggedOutByMistake: 0 },
      `reshard of ${MOVED_SLOTS} slots took ${took} ms, ${writes} writes acknowledged`,
    );
    assert.ok(
      loggedOut.size > 0 && writes > 0,
      `${loggedOut.size} logouts, ${writes} writes during the reshard`,
    );
    console.log(`reshard of ${MOVED_SLOTS} slots in ${took} ms: ${writes} writes, ${loggedOut.size} logouts`);
  } finally {
    await Promise.all(clients.map(({ close }) => Promise.resolve(close()).catch(() => {})));
  }
});
