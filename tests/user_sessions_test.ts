/**
 * Sessions per user (option `user`): the scenarios of tests/_user_scenarios.ts
 * on one redis-server and on a three-master Redis Cluster, and what the feature
 * costs per request.
 */

import assert from "node:assert/strict";
import { createClient, createCluster } from "redis";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { SmartRedisStore } from "../mod.ts";
import { Browser, connectClient, Monitor, startApp, startRedisServer, test } from "./_helpers.ts";
import { SCENARIOS, type Target } from "./_user_scenarios.ts";

for (const scenario of SCENARIOS) {
  test(`${scenario.name} (one Redis)`, async () => {
    await using server = await startRedisServer();
    await using client = await connectClient(server);
    await using redis = await connectClient(server);
    await scenario.run({
      store: (options) => new SmartRedisStore({ client, ...options }),
      zRange: (key) => redis.zRange(key, 0, -1),
      exists: async (key) => (await redis.exists(key)) === 1,
    });
  });
}

test("sessions per user on a three-master Redis Cluster", async (t) => {
  await using cluster = await startRedisCluster();
  const rootNodes = cluster.urls.map((url) => ({ url }));
  const client = createCluster({ rootNodes });
  const redis = createCluster({ rootNodes });
  await redis.connect();
  try {
    const target: Target = {
      store: (options) => new SmartRedisStore({ client, ...options }),
      zRange: (key) => redis.zRange(key, 0, -1),
      exists: async (key) => (await redis.exists(key)) === 1,
    };
    for (const scenario of SCENARIOS) await t.step(scenario.name, () => scenario.run(target));
  } finally {
    await client.close().catch(() => {});
    await redis.close();
  }
});
