/**
 * The local cache on a Redis Cluster when the app's client does not learn of a hand-over:
 * no write reaches the shard and every read is a cache hit, so the client meets no MOVED
 * and keeps listing the demoted node as a master. The cache asks each master's role
 * itself, so the demoted master's cache stops serving within the role check's bound
 * anyway, and its connections there close.
 */
// suite: valkey too

import assert from "node:assert/strict";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { nodeRedisClusterTopology } from "../src/clients/node_redis_cluster_tracking.ts";
import { clusterClients } from "./_cluster_admin.ts";
import { delay, test } from "./_helpers.ts";
import { cacheIt, sessionWith } from "./_cache_helpers.ts";
import {
  cacheConnections,
  handOverFixture,
  ROLE_CHECK_BOUND_MS,
  seenAfterChange,
  takeOver,
} from "./_handover.ts";
import { scaled, until } from "./_load.ts";

/** Whether the app's cluster client lists the node on `port` as a master. */
function listsAsMaster(client: object, port: number): boolean {
  const ioredis = client as { nodes?(role: string): { options: { port?: number } }[] };
  if (typeof ioredis.nodes === "function") {
    return ioredis.nodes("master").some((node) => node.options.port === port);
  }
  return (client as { masters: { port?: number }[] }).masters.some((node) => node.port === port);
}

for (const name of ["ioredis", "node-redis 6"] as const) {
  test(`localCache (${name} cluster): a master demoted unseen by its client stops serving within the role check's bound`, async () => {
    await using fixture = await handOverFixture(name);
    const { cluster, a, b, sids } = fixture;
    for (const sid of sids) await a.set(sid, sessionWith({ n: 0 }));
    for (const sid of sids) await cacheIt(b, sid);
    const port = cluster.ports[0];
    const demotedCache = new RegExp(`:${port} (on|off)`);
    assert.match(b.cacheStats().detail, demotedCache);

    // B reads on (hits only) while the shard is handed over, and notes when the demoted
    // master's cache closed, and when every read was a hit again (from the new master's cache).
    // A read may fail meanwhile: node-redis drops its connection to a node it finds demoted,
    // and what was in flight on it fails.
    let closedAt: number | undefined;
    let servedAt: number | undefined;
    let failed = 0;
    const reading = until(async () => {
      const hits = b.cacheStats().hits;
      for (const sid of sids) await b.get(sid).catch(() => failed++);
      const served = b.cacheStats().hits - hits === sids.length;
      if (demotedCache.test(b.cacheStats().detail)) return false;
      if (closedAt !== undefined && served) servedAt ??= performance.now();
      closedAt ??= performance.now();
      return servedAt !== undefined && await cacheConnections(cluster.urls[0]) === 0;
    }, 60_000);
    const handedOverAt = await takeOver(fixture.replica.url, cluster.urls[0]); // no write: nothing tells B's client
    const done = await reading;
    const since = (at: number | undefined) => at === undefined ? undefined : Math.round(at - handedOverAt);
    console.log(
      `${name}: after the hand-over, the demoted master's cache closed in ${since(closedAt)} ms, ` +
        `every read a hit again in ${since(servedAt)} ms; ${failed} reads failed meanwhile`,
    );
    const took = since(closedAt);
    assert.ok(
      done && took !== undefined && took <= scaled(ROLE_CHECK_BOUND_MS),
      `the demoted master's cache still served ${took} ms after the hand-over, or kept connections: ${
        JSON.stringify(b.cacheStats())
      }`,
    );

    // The client (told to refresh its view, or by the MOVED of a read the cache left to it)
    // routes to the new master, whose cache serves.
    const again = await until(async () => {
      const before = b.cacheStats().hits;
      for (const sid of sids) await b.get(sid);
      return b.cacheStats().hits - before === sids.length;
    }, 10_000);
    assert.ok(again, `the new master's cache does not serve: ${JSON.stringify(b.cacheStats())}`);
    assert.ok(!listsAsMaster(fixture.clientB, port), "the client still lists the demoted node as a master");
    await seenAfterChange(a, b, sids, 1, "after the demotion");
  });
}

test("localCache (node-redis 5 cluster): a master found demoted has the client fetch the slots again, no read needed", async () => {
  await using fixture = await handOverFixture("node-redis 5");
  const { cluster, a, b, sids } = fixture;
  for (const sid of sids) await a.set(sid, sessionWith({ n: 0 }));
  for (const sid of sids) await cacheIt(b, sid);
  const port = cluster.ports[0];
  await takeOver(fixture.replica.url, cluster.urls[0]); // and no read at all: only the role check sees it
  const closed = await until(
    () => !new RegExp(`:${port} (on|off)`).test(b.cacheStats().detail),
    ROLE_CHECK_BOUND_MS,
  );
  assert.ok(closed, `the demoted master's cache is still open: ${JSON.stringify(b.cacheStats())}`);
  assert.ok(
    await until(() => !listsAsMaster(fixture.clientB, port), 2000),
    "the client was not told to fetch the slots again: it still lists the demoted node as a master",
  );
});

for (const name of ["node-redis 5", "node-redis 6"] as const) {
  test(`localCache (${name} cluster): a refresh asked once the app closed its cluster connects nothing`, async () => {
    await using cluster = await startRedisCluster();
    const { client } = clusterClients[name](cluster.urls);
    const nodeRedis = client as unknown as { connect(): Promise<unknown>; masters: { client?: object }[] };
    await nodeRedis.connect();
    const node = nodeRedis.masters[0].client!;
    await (client as unknown as { close(): Promise<unknown> }).close();
    nodeRedisClusterTopology(client, 1000).refresh(node); // a role check that failed as the app closed
    await delay(500);
    assert.equal(nodeRedis.masters.length, 0, "the closed cluster found its masters again");
    await Promise.resolve((client as unknown as { destroy(): unknown }).destroy()).catch(() => {});
  });
}
