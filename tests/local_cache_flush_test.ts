/**
 * The local cache under FLUSHALL and FLUSHDB run by someone else: Redis tells every tracking
 * client that everything changed, and the cache must stop serving what it held.
 */

import assert from "node:assert/strict";
import { startRedisServer, test } from "./_helpers.ts";
import { CACHE_CLIENTS, cachedPair, cacheIt, sessionWith, waitForStats } from "./_cache_helpers.ts";
import { until } from "./_load.ts";

for (const kind of CACHE_CLIENTS) {
  for (const command of ["FLUSHALL", "FLUSHDB"]) {
    test(`localCache (${kind.name}): a ${command} is seen, no session served after it`, async () => {
      await using server = await startRedisServer();
      await using pair = await cachedPair(server, kind);
      await pair.a.set("s1", sessionWith({ n: 1 }));
      await cacheIt(pair.b, "s1");
      await pair.raw.sendCommand([command]);
      // Flight time only: a turn of the event loop between reads lets the invalidation in.
      assert.ok(
        await until(async () => await pair.b.get("s1") === null, 1000),
        `s1 still served after ${command}`,
      );
      // And the cache works again afterwards, fresh.
      await pair.a.set("s1", sessionWith({ n: 2 }));
      await waitForStats(pair.b, (stats) => stats.tracking, 10_000);
      assert.ok(await until(async () => (await pair.b.get("s1"))?.n === 2, 1000));
      await cacheIt(pair.b, "s1");
      await pair.a.set("s1", sessionWith({ n: 3 }));
      assert.ok(await until(async () => (await pair.b.get("s1"))?.n === 3, 1000));
    });
  }
}
