/**
 * Helpers of the cluster hand-over tests: a cluster with a replica and two stores on it, the
 * replica taking over its master's role by a manual failover (both nodes up throughout), and
 * the local cache's connections on a node.
 */

import assert from "node:assert/strict";
import { createClient } from "redis";
import { SmartRedisStore } from "../mod.ts";
import { type RedisCluster, startRedisCluster } from "../scripts/redis_cluster.ts";
import type { RedisServer } from "../scripts/redis_server.ts";
import { keySlot } from "../src/clients/_key_slot.ts";
import { adminClients, clusterClients, ownerOf, pollUntil, replicaOfFirst } from "./_cluster_admin.ts";
import { delay } from "./_helpers.ts";
import { scaled, until } from "./_load.ts";

const DAY = 86_400_000;

/**
 * Counts the cache's own connections on a node: tracking on (flag t) or subscribed to invalidations.
 * @param url The node.
 * @returns How many.
 */
export async function cacheConnections(url: string): Promise<number> {
  const admin = createClient({ url });
  await admin.connect();
  try {
    const list = String(await admin.sendCommand(["CLIENT", "LIST"]));
    return list.split("\n").filter((line) => /flags=\S*t|sub=1/.test(line)).length;
  } finally {
    await admin.close();
  }
}

/** The first element of a node's `ROLE` reply, and the master it follows (`port` of a replica's). */
async function roleOf(url: string): Promise<{ role: string; port?: number }> {
  const admin = createClient({ url });
  admin.on("error", () => {});
  await admin.connect();
  try {
    const [role, , port] = await admin.sendCommand(["ROLE"]) as [string, unknown, unknown];
    return { role, port: role === "slave" ? Number(port) : undefined };
  } finally {
    await admin.close();
  }
}

/**
 * Makes `url`'s node the master of its shard by a manual failover, and waits until the old
 * master `from` follows it, and still does a moment later. A plain FAILOVER that hands a shard
 * back to the node that held it two hand-overs ago often does not hold (Redis 7.0.15, seen
 * without any client connected: the node is master for about 200 ms, then a replica of `from`
 * again); it is then made again with TAKEOVER, which always held.
 * @param url A replica in sync with its master.
 * @param from Its master.
 * @returns When (`performance.now()`) both nodes were first seen in their new roles.
 */
export async function takeOver(url: string, from: string): Promise<number> {
  const port = Number(new URL(url).port);
  /** Once `url` has said it is master: whether `from` follows it now, or `url` fell back to a replica. */
  const state = async () => {
    const [to, old] = await Promise.all([roleOf(url), roleOf(from)]);
    if (to.role === "master" && old.role === "slave" && old.port === port) return "done";
    return to.role === "master" ? "pending" : "back";
  };
  for (let attempt = 1;; attempt++) {
    const admin = createClient({ url });
    await admin.connect();
    try {
      await pollUntil(
        "the replica's link",
        async () => /master_link_status:up/.test(await admin.info("replication")),
      );
      // A plain FAILOVER (the old master pauses its clients and stays up: nothing closes the
      // cache's connections to it); TAKEOVER if the vote does not come in time on a loaded machine,
      // or if a plain one did not hold.
      const master = async () => /role:master/.test(await admin.info("replication"));
      if (attempt === 1) await admin.sendCommand(["CLUSTER", "FAILOVER"]);
      if (attempt > 1 || !await until(master, 10_000)) {
        await admin.sendCommand(["CLUSTER", "FAILOVER", "TAKEOVER"]);
      }
      await pollUntil("the takeover", master);
    } finally {
      await admin.close();
    }
    let settled = "pending";
    await until(async () => (settled = await state()) !== "pending", 10_000);
    if (settled === "done") {
      const at = performance.now();
      await delay(1000);
      if (await state() === "done") return at;
    }
    if (attempt === 3) throw new Error(`The hand-over to ${url} did not hold, ${attempt} times`);
  }
}

/**
 * How long, on an idle machine, a cluster master's cache may go on after its node stopped being
 * a master: the role check's period (a second) and ROLE's answer (the tests' 2 s commandTimeout).
 */
export const ROLE_CHECK_BOUND_MS = 1000 + 2000;

/**
 * A changes each session; once B has heard of the changes (or after a while: a session B does
 * not hold sends none), B's very next read of each must show it.
 * @param a A store without a cache.
 * @param b The cached store.
 * @param sids The sessions.
 * @param n The new value of their `n`.
 * @param what Names the moment in the failure message.
 */
export async function seenAfterChange(
  a: SmartRedisStore,
  b: SmartRedisStore,
  sids: readonly string[],
  n: number,
  what: string,
): Promise<void> {
  const heard = b.cacheStats().invalidations;
  for (const sid of sids) await a.set(sid, { ...await a.get(sid) as Record<string, unknown>, n } as never);
  await until(() => b.cacheStats().invalidations - heard >= sids.length, 1000);
  for (const sid of sids) {
    const data = await b.get(sid) as Record<string, unknown> | null;
    assert.equal(data?.n, n, `${what}: ${sid} read stale: ${JSON.stringify(b.cacheStats())}`);
  }
}

/** A cluster whose first master has a replica, and two stores on it: A without a cache, B with one. */
export interface HandOverFixture extends AsyncDisposable {
  /** The cluster; its first master is the one handed over. */
  cluster: RedisCluster;
  /** The first master's replica. */
  replica: RedisServer;
  /** A store without a cache (node-redis 5), for the changes. */
  a: SmartRedisStore;
  /** The cached store, on a client of the kind named. */
  b: SmartRedisStore;
  /** B's client. */
  clientB: object;
  /** Three session ids whose keys the first master owns. */
  sids: string[];
}

/**
 * Starts a cluster, a replica of its first master and stores A and B.
 * @param name B's client kind.
 * @returns The fixture; `await using` tears it down.
 */
export async function handOverFixture(name: keyof typeof clusterClients): Promise<HandOverFixture> {
  const cluster = await startRedisCluster({ nodeTimeout: 2000 });
  const dir = await Deno.makeTempDir({ prefix: "smart-redis-replica-" });
  const replica = await replicaOfFirst(cluster, dir);
  const admins = await adminClients(cluster);
  const clientA = clusterClients["node-redis 5"](cluster.urls);
  const clientB = clusterClients[name](cluster.urls);
  const sids: string[] = [];
  for (let i = 0; sids.length < 3; i++) {
    if (await ownerOf(admins, keySlot(`session:${name}-${i}`)) === 0) sids.push(`${name}-${i}`);
  }
  return {
    cluster,
    replica,
    a: new SmartRedisStore({ client: clientA.client, commandTimeout: scaled(2000) }),
    b: new SmartRedisStore({
      client: clientB.client,
      commandTimeout: scaled(2000),
      localCache: { maxAgeMs: DAY }, // no heartbeat within a test: the role check alone
    }),
    clientB: clientB.client,
    sids,
    async [Symbol.asyncDispose]() {
      clientA.close();
      clientB.close();
      await admins[Symbol.asyncDispose]();
      await replica[Symbol.asyncDispose]();
      await cluster[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
