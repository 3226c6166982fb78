/**
 * The `expired` event behind Redis Sentinel: expiries on the master are reported
 * once, before and after a failover (the subscription follows the master), with
 * node-redis 5 and 6 `createSentinel()` and ioredis with `sentinels`.
 */

// suite: shards 3

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient, createSentinel as createSentinel5 } from "redis";
import { createSentinel as createSentinel6 } from "redis6";
import type { SessionData } from "express-session";
import { SmartRedisStore } from "../mod.ts";
import { type RedisSentinel, startRedisSentinel } from "../scripts/redis_sentinel.ts";
import { shard, test } from "./_helpers.ts";
import { scaled, until } from "./_load.ts";

const sentinels = (setup: RedisSentinel) => [{ host: "127.0.0.1", port: setup.port }];
const kinds: {
  name: string;
  create(setup: RedisSentinel): object;
  close(client: object): Promise<unknown>;
}[] = [
  {
    name: "node-redis 6",
    create: (setup) => createSentinel6({ name: setup.name, sentinelRootNodes: sentinels(setup) }),
    close: (client) => (client as { destroy(): Promise<unknown> }).destroy().catch(() => {}),
  },
  {
    name: "node-redis 5",
    create: (setup) => createSentinel5({ name: setup.name, sentinelRootNodes: sentinels(setup) }),
    close: (client) => (client as { destroy(): Promise<unknown> }).destroy().catch(() => {}),
  },
  {
    name: "ioredis",
    create: (setup) => new Redis({ name: setup.name, sentinels: sentinels(setup) }),
    close: (client) => Promise.resolve((client as Redis).disconnect()),
  },
];

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
