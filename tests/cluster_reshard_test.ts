/**
 * A live `redis-cli --cluster reshard` of slots holding many keys (so each stays
 * half-moved for a while) under parallel writers and logouts, with node-redis 5,
 * node-redis 6 and ioredis at once: no write lost, no logout undone or failed, no
 * session logged out, no request failed.
 */

import assert from "node:assert/strict";
import { createClient } from "redis";
import { SmartRedisStore } from "../mod.ts";
import { keySlot } from "../src/clients/_key_slot.ts";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { redisCliCommand } from "../scripts/redis_server.ts";
import { clusterClients } from "./_cluster_admin.ts";
import { delay, test } from "./_helpers.ts";

type Data = Record<string, unknown>;

/** Slots moved: the first master's lowest ones, which `--cluster reshard` takes first. */
const MOVED_SLOTS = 150;
/** Filler keys per moved slot: MIGRATE moves them 10 at a time. */
const KEYS_PER_SLOT = 120;
const LIVE = 24;
const DORMANT = 200;
const WRITERS = 2;

/** Session ids whose keys fall into the moved slots. */
function idsInMovedSlots(prefix: string, count: number): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) {
    if (keySlot(`session:${prefix}${i}`) < MOVED_SLOTS) ids.push(`${prefix}${i}`);
  }
  return ids;
}

/** A hash tag for every moved slot. */
function tagsOfMovedSlots(): string[] {
  const tags: string[] = [];
  for (let i = 0; tags.filter(Boolean).length < MOVED_SLOTS; i++) {
    const slot = keySlot(`t${i}`);
    if (slot < MOVED_SLOTS && tags[slot] === undefined) tags[slot] = `t${i}`;
  }
  return tags;
}

const cookie = () => ({ originalMaxAge: 600_000, expires: new Date(Date.now() + 600_000).toISOString() });

test("a live reshard under parallel writers and logouts: 0 lost, 0 resurrected, 0 logged out, 0 failed", async () => {
  await using cluster = await startRedisCluster();
  const source = createClient({ url: cluster.urls[0] });
  await source.connect();
  const ids = await Promise.all(
    cluster.urls.slice(0, 2).map(async (url) => {
      const admin = createClient({ url });
      await admin.connect();
      try {
        return String(await admin.sendCommand(["CLUSTER", "MYID"]));
      } finally {
        await admin.close();
      }
    }),
  );
  for (const tag of tagsOfMovedSlots()) {
    const batch = source.multi();
    for (let k = 0; k < KEYS_PER_SLOT; k++) batch.set(`{${tag}}filler${k}`, "x".repeat(100));
    await batch.execAsPipeline();
  }
  await source.close();

  const clients = Object.entries(clusterClients).map(([name, connect]) => ({
    name,
    ...connect(cluster.urls),
  }));
  try {
    const runs = await Promise.all(clients.map(async ({ name, client }, c) => {
      const store = new SmartRedisStore({ client, commandTimeout: 5000 });
      const live = idsInMovedSlots(`c${c}live`, LIVE);
      const dormant = idsInMovedSlots(`c${c}dormant`, DORMANT);
      for (const sid of [...live, ...dormant]) await store.set(sid, { cookie: cookie(), sid } as never);
      return { name, store, live, dormant };
    }));

    const reshard = new Deno.Command(redisCliCommand(), {
      args: [
        "--cluster",
        "reshard",
        `127.0.0.1:${cluster.ports[0]}`,
        "--cluster-from",
        ids[0],
        "--cluster-to",
        ids[1],
        "--cluster-slots",
        String(MOVED_SLOTS),
        "--cluster-yes",
        "--cluster-pipeline",
        "10",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let resharding = true;
    const done = reshard.output().finally(() => resharding = false);

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
