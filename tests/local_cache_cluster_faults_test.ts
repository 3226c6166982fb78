/**
 * The local cache on Redis Cluster clients under faults on one master: CLIENT KILL of
 * the cache's tracked connection or of its invalidation connection, and a FLUSHALL.
 * Each is either seen within the invalidation's flight time, or keeps that master's
 * cache off until tracking is proven again; then the cache serves again.
 */
// suite: valkey too

import assert from "node:assert/strict";
import { Cluster as Cluster6 } from "ioredis6";
import { SmartRedisStore } from "../mod.ts";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { keySlot } from "../src/clients/_key_slot.ts";
import { adminClients, clusterClients, ownerOf } from "./_cluster_admin.ts";
import { cacheAll, sessionWith } from "./_cache_helpers.ts";
import { test } from "./_helpers.ts";
import { scaled, until } from "./_load.ts";

type Data = Record<string, unknown>;
type Admin = Awaited<ReturnType<typeof adminClients>>[number];

const clients = {
  ...clusterClients,
  "ioredis 6": (urls: readonly string[]) => {
    const client = new Cluster6(urls.map((url) => ({ host: "127.0.0.1", port: Number(new URL(url).port) })));
    client.on("error", () => {});
    return { client, close: () => client.disconnect() };
  },
};
const DAY = 86_400_000;
/** Invalidations come on a subscriber of their own (REDIRECT) rather than with the replies. */
const redirect = (name: string) => name.startsWith("ioredis");

async function killClients(admin: Admin, match: RegExp): Promise<number> {
  const list = String(await admin.sendCommand(["CLIENT", "LIST"]));
  const ids = list.split("\n").filter((line) => match.test(line)).map((line) => /id=(\d+)/.exec(line)![1]);
  for (const id of ids) await admin.sendCommand(["CLIENT", "KILL", "ID", id]);
  return ids.length;
}

test("localCache on a cluster: a fault on one master is seen, and tracking comes back within seconds", async (t) => {
  await using cluster = await startRedisCluster();
  await using admins = await adminClients(cluster);
  for (const name of Object.keys(clients) as (keyof typeof clients)[]) {
    await t.step(name, async () => {
      const clientA = clients["node-redis 5"](cluster.urls);
      const clientB = clients[name](cluster.urls);
      const commandTimeout = scaled(2000);
      const a = new SmartRedisStore({ client: clientA.client, commandTimeout });
      const b = new SmartRedisStore({
        client: clientB.client,
        commandTimeout,
        localCache: { maxAgeMs: DAY },
      });
      try {
        const sids: string[] = [];
        for (let i = 0; sids.length < 3; i++) {
          if (await ownerOf(admins, keySlot(`session:${name}-${i}`)) === 0) sids.push(`${name}-${i}`);
        }
        const admin = admins[0];
        let n = 0;
        /** A changes every session; B must read the change within flight time. */
        const changeAndCheck = async (what: string) => {
          n++;
          for (const sid of sids) await a.set(sid, { ...await a.get(sid) as Data, n } as never);
          for (const sid of sids) {
            const fresh = await until(async () => (await b.get(sid) as Data | null)?.n === n, 1000);
            assert.ok(fresh, `${what}: ${sid} still served stale: ${JSON.stringify(b.cacheStats())}`);
          }
        };
        /** Time until B's every read is a hit again. */
        const back = async (what: string) => {
          const started = performance.now();
          await cacheAll(b, sids);
          const took = performance.now() - started;
          console.log(`${name}: ${what}: cache serving again after ${Math.round(took)} ms`);
          return took;
        };
        for (const sid of sids) await a.set(sid, sessionWith({ n }));
        await cacheAll(b, sids);

        const faults: [string, () => Promise<unknown>][] = [
          ["CLIENT KILL of the tracked connection", () => killClients(admin, /flags=\S*t/)],
          [
            "CLIENT KILL of the invalidation connection",
            () => killClients(admin, redirect(name) ? /sub=1/ : /flags=\S*t/),
          ],
          ["FLUSHALL", () => admin.sendCommand(["FLUSHALL"])],
        ];
        for (const [what, fault] of faults) {
          if (what !== "FLUSHALL") assert.equal(await fault(), 1, `${what}: one connection`);
          else {
            await fault();
            const gone = await until(async () => {
              const read = await Promise.all(sids.map((sid) => b.get(sid)));
              return read.every((session) => session === null);
            }, 1000);
            assert.ok(gone, `FLUSHALL: sessions still served: ${JSON.stringify(b.cacheStats())}`);
            for (const sid of sids) await a.set(sid, sessionWith({ n }));
          }
          await changeAndCheck(what);
          // Well under the seconds a backed-off re-arming would take.
          assert.ok(await back(what) < scaled(3000), `${what}: cache off too long`);
          await changeAndCheck(`${what}, then cached again`);
        }
        assert.equal(b.cacheStats().tracking, true);
      } finally {
        clientA.close();
        clientB.close();
      }
    });
  }
});
