/**
 * The `expired` event behind Redis Sentinel: expiries on the master are reported
 * once, before and after a failover (the subscription follows the master), with
 * node-redis 5 and 6 `createSentinel()` and ioredis with `sentinels`.
 */

// suite: shards 3

import assert from "node:assert/strict";
import { createClient } from "redis";
import type { SessionData } from "express-session";
import { SmartRedisStore } from "../mod.ts";
import { startRedisSentinel } from "../scripts/redis_sentinel.ts";
import { shard, test } from "./_helpers.ts";
import { SENTINEL_CLIENTS } from "./_sentinel_clients.ts";
import { scaled, until } from "./_load.ts";

const kinds = SENTINEL_CLIENTS;

const session = (ms: number) =>
  ({ cookie: { originalMaxAge: ms, expires: new Date(Date.now() + ms) } }) as unknown as SessionData;

for (const kind of shard(kinds)) {
  test(`${kind.name} Sentinel: expiries are reported before and after a failover`, async () => {
    await using setup = await startRedisSentinel();
    for (const port of setup.dataPorts) {
      const admin = createClient({ url: `redis://127.0.0.1:${port}` });
      await admin.connect();
      await admin.configSet("notify-keyspace-events", "Ex");
      await admin.close();
    }
    const client = kind.create(setup);
    (client as { on(event: string, listener: () => void): void }).on("error", () => {});
    try {
      const seen: string[] = [];
      const store = new SmartRedisStore({ client, on: { expired: ({ sid }) => seen.push(sid) } });
      const life = scaled(300);
      let written = 0;
      // Until the subscription is up, a session may expire unheard: write until one is heard.
      assert.ok(
        await until(
          async () => (await store.set(`before-${written++}`, session(life)), seen.length > 0),
          10_000,
        ),
        "an expiry heard before the failover",
      );
      await setup.failover();
      assert.ok(
        await until(async () => {
          await store.set(`after-${written++}`, session(life)).catch(() => {});
          return seen.some((sid) => sid.startsWith("after-"));
        }, 20_000),
        `an expiry heard after the failover: ${JSON.stringify(seen)}`,
      );
      assert.equal(new Set(seen).size, seen.length, `each once: ${JSON.stringify(seen)}`);
    } finally {
      await kind.close(client);
    }
  });
}
