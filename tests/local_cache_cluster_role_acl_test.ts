/**
 * The local cache on a Redis Cluster whose user may not run `ROLE` (an ACL without
 * `@admin`): the cache cannot confirm a master's role, so it stays off; reads are
 * served the usual way, the stats say why, and the store does not open and drop
 * tracked connections (each leaving a listener on the app's client) over and over. A tracker
 * stopped leaves no listener behind.
 */
// suite: valkey too

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { createClient as createClient6 } from "redis6";
import { SmartRedisStore } from "../mod.ts";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { startRedisServer } from "../scripts/redis_server.ts";
import { LocalCache } from "../src/cache/local_cache.ts";
import { ioRedisTracker } from "../src/clients/ioredis_tracking.ts";
import { nodeRedisTracker } from "../src/clients/node_redis_tracking.ts";
import { clusterClients } from "./_cluster_admin.ts";
import { sessionWith } from "./_cache_helpers.ts";
import { delay, test } from "./_helpers.ts";
import { scaled } from "./_load.ts";

const DAY = 86_400_000;

/** Runs one command on each node of `urls`, as the default user. */
async function onEach(urls: readonly string[], args: string[]): Promise<unknown[]> {
  return await Promise.all(urls.map(async (url) => {
    const admin = createClient({ url });
    admin.on("error", () => {});
    await admin.connect();
    try {
      return await admin.sendCommand(args);
    } finally {
      await admin.close();
    }
  }));
}

/** Connections the nodes have accepted so far (this call's own included). */
async function connectionsReceived(urls: readonly string[]): Promise<number> {
  const infos = await onEach(urls, ["INFO", "stats"]);
  return infos.reduce<number>(
    (sum, info) => sum + Number(/total_connections_received:(\d+)/.exec(String(info))?.[1]),
    0,
  );
}

/** The `end` listeners on the app's connections to the masters (the store's trackers add one each). */
function endListeners(client: object): number {
  type Emitter = { listenerCount(event: string): number };
  const ioredis = client as { nodes?(role: string): Emitter[] };
  if (typeof ioredis.nodes === "function") {
    return ioredis.nodes("master").reduce((sum, node) => sum + node.listenerCount("end"), 0);
  }
  const masters = (client as { masters: { client?: Emitter }[] }).masters;
  return masters.reduce((sum, node) => sum + (node.client?.listenerCount("end") ?? 0), 0);
}

for (const name of ["ioredis", "node-redis 6"] as const) {
  test(`localCache (${name} cluster): a user refused ROLE reads uncached, is told why, and churns no connection`, async () => {
    await using cluster = await startRedisCluster();
    await onEach(cluster.urls, ["ACL", "SETUSER", "default", "-role"]);
    const { client, close } = clusterClients[name](cluster.urls);
    try {
      const store = new SmartRedisStore({
        client,
        commandTimeout: scaled(2000),
        localCache: { maxAgeMs: DAY },
      });
      await store.set("s1", sessionWith({ n: 1 }));
      const read = async () => assert.equal((await store.get("s1") as { n?: number } | null)?.n, 1);
      const readFor = async (ms: number) => {
        for (const started = performance.now(); performance.now() - started < ms; await delay(100)) {
          await read();
        }
      };
      await readFor(2000); // the first role check comes a second at most after the first read

      // Reads go on for longer than the store holds a demoted master off (5 s), twice.
      const connections = await connectionsReceived(cluster.urls);
      const listeners = endListeners(client);
      await readFor(11_000);
      const opened = await connectionsReceived(cluster.urls) - connections - cluster.urls.length;
      const stats = store.cacheStats();
      assert.equal(stats.hits, 0);
      assert.equal(stats.tracking, false);
      assert.ok(opened <= 0, `${opened} connections opened meanwhile: ${JSON.stringify(stats)}`);
      assert.ok(endListeners(client) <= listeners, `listeners on the app's client grew from ${listeners}`);
      assert.match(stats.detail, /ROLE/, "the stats do not say the cache is off for want of ROLE");
    } finally {
      close();
    }
  });
}

for (const name of ["ioredis", "node-redis 6"] as const) {
  test(`localCache (${name}): a tracker stopped takes its listener off the client it was made from`, async () => {
    await using server = await startRedisServer();
    const port = Number(new URL(server.url).port);
    const client = name === "ioredis"
      ? new Redis({ port, lazyConnect: true })
      : createClient6({ url: server.url });
    client.on("error", () => {});
    await client.connect();
    try {
      const before = client.listenerCount("end");
      for (let i = 0; i < 3; i++) { // what a cluster master's cache, held off and reopened, does
        const tracker = name === "ioredis" ? ioRedisTracker(client, 1000) : nodeRedisTracker(client, 1000);
        const cache = new LocalCache({ maxBytes: 1 << 20, maxEntries: 100, maxAgeMs: DAY }, tracker.detail);
        tracker.start(cache);
        tracker.stop?.();
      }
      assert.equal(client.listenerCount("end"), before);
    } finally {
      if (name === "ioredis") (client as Redis).disconnect();
      else await (client as ReturnType<typeof createClient6>).close();
    }
  });
}
