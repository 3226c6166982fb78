/**
 * The local cache on a Redis Cluster whose master hands over to its replica and takes
 * over again, twice (CLUSTER FAILOVER, both nodes up throughout): after each hand-over
 * no tracked connection is left on the demoted node, and another store's change is seen.
 */
// suite: valkey too

import assert from "node:assert/strict";
import { test } from "./_helpers.ts";
import { sessionWith } from "./_cache_helpers.ts";
import {
  cacheConnections,
  handOverFixture,
  ROLE_CHECK_BOUND_MS,
  seenAfterChange,
  takeOver,
} from "./_handover.ts";
import { until } from "./_load.ts";

type Data = Record<string, unknown>;

for (const name of ["ioredis", "node-redis 6"] as const) {
  test(`localCache (${name} cluster): a master handing over and back leaves no tracked connection behind`, async () => {
    await using fixture = await handOverFixture(name);
    const { a, b, sids } = fixture;
    let n = 0;
    for (const sid of sids) await a.set(sid, sessionWith({ n }));
    const freshAndCached = async () => {
      n++;
      const ok = await until(async () => {
        try {
          for (const sid of sids) await a.set(sid, { ...await a.get(sid) as Data, n } as never);
        } catch {
          return false; // A's client has not followed the takeover yet
        }
        const hits = b.cacheStats().hits;
        for (const sid of sids) {
          if ((await b.get(sid).catch(() => null) as Data | null)?.n !== n) return false;
        }
        for (const sid of sids) await b.get(sid);
        return b.cacheStats().hits - hits >= sids.length;
      }, 20_000);
      assert.ok(ok, `B serves the fresh sessions from its cache: ${JSON.stringify(b.cacheStats())}`);
    };
    await freshAndCached();
    const nodes = [fixture.cluster.urls[0], fixture.replica.url];
    for (let round = 0; round < 2; round++) {
      for (const [to, from] of [[1, 0], [0, 1]]) {
        await takeOver(nodes[to], nodes[from]);
        await freshAndCached();
        // The demoted node answers ROLE as a replica: its cache closes its connections there.
        const closed = await until(
          async () => await cacheConnections(nodes[from]) === 0,
          ROLE_CHECK_BOUND_MS,
        );
        assert.ok(closed, `round ${round}: the cache's connections to the demoted node are left open`);
        assert.ok(
          await cacheConnections(nodes[to]) <= 2,
          `round ${round}: at most one tracked pair on the master`,
        );
        await seenAfterChange(a, b, sids, ++n, `round ${round}, hand-over to ${nodes[to]}`);
      }
    }
  });
}
