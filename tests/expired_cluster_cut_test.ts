/**
 * The `expired` event on Redis Cluster when the store's own subscription
 * connections are cut (an idle-timeout proxy, CLIENT KILL) while the app's
 * connections stay up: every client kind subscribes again and expiries on
 * every master are reported; with expired-key events off, the warning is
 * given once per master, not again at each new connection. Against a real Redis Cluster.
 */

// suite: shards 3

import assert from "node:assert/strict";
import process from "node:process";
import type { SessionData } from "express-session";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { createCluster as createCluster4 } from "redis4";
import { SmartRedisStore } from "../mod.ts";
import { keySlot } from "../src/clients/_key_slot.ts";
import { adminClients, clusterClients, ownerOf } from "./_cluster_admin.ts";
import { connectClient, delay, type RedisServer, shard, test } from "./_helpers.ts";
import { scaled, until } from "./_load.ts";

/** How many connections of a server are subscribed to something. */
async function subscribers(server: RedisServer): Promise<number> {
  await using admin = await connectClient(server);
  const list = String(await admin.sendCommand(["CLIENT", "LIST"]));
  return list.split("\n").filter((line) => /\bsub=[1-9]/.test(line)).length;
}

/** The shared cluster clients, and node-redis 4. */
const CLUSTERS: Record<string, (urls: readonly string[]) => { client: object; close(): unknown }> = {
  ...clusterClients,
  "node-redis 4": (urls) => {
    const client = createCluster4({ rootNodes: urls.map((url) => ({ url })) });
    client.on("error", () => {});
    return { client, close: () => client.disconnect() };
  },
};

const session = (ms: number) =>
  ({ cookie: { originalMaxAge: ms, expires: new Date(Date.now() + ms) } }) as unknown as SessionData;

for (const [name, make] of shard(Object.entries(CLUSTERS))) {
  test(`${name} cluster: subscriptions cut by the server come back on every master`, async () => {
    await using cluster = await startRedisCluster();
    await using admins = await adminClients(cluster);
    for (const admin of admins) await admin.configSet("notify-keyspace-events", "Ex");
    const { client, close } = make(cluster.urls);
    try {
      const seen: string[] = [];
      const store = new SmartRedisStore({ client, on: { expired: ({ sid }) => seen.push(sid) } });
      const everyMaster = async () =>
        (await Promise.all(cluster.masters.map(subscribers))).every((n) => n === 1);
      assert.ok(await until(everyMaster, scaled(5000)), "one subscription per master");
      for (const admin of admins) await admin.sendCommand(["CLIENT", "KILL", "TYPE", "pubsub"]);
      assert.ok(await until(everyMaster, scaled(10_000)), "subscribed again on every master");
      const sids = Array.from({ length: 12 }, (_, i) => `cut-${i}`);
      const owners = new Set(
        await Promise.all(sids.map((sid) => ownerOf(admins, keySlot(`session:${sid}`)))),
      );
      assert.equal(owners.size, cluster.masters.length, "sessions on every master");
      for (const sid of sids) await store.set(sid, session(scaled(200)));
      assert.ok(await until(() => seen.length >= sids.length, scaled(5000)), `seen: ${JSON.stringify(seen)}`);
      assert.deepEqual([...seen].sort(), [...sids].sort());
    } finally {
      await close();
    }
  });
}

for (const [name, make] of shard(Object.entries(CLUSTERS))) {
  test(`${name} cluster: expired events off, one warning per master however often connections are cut`, async () => {
    await using cluster = await startRedisCluster();
    await using admins = await adminClients(cluster);
    for (const admin of admins) await admin.configSet("notify-keyspace-events", "");
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => {
      if (warning.code === "SMART_REDIS_EXPIRED_EVENTS") warnings.push(warning.message);
    };
    process.on("warning", onWarning);
    const { client, close } = make(cluster.urls);
    try {
      const store = new SmartRedisStore({ client, on: { expired: () => {} } });
      await store.set("s1", session(86_400_000));
      assert.ok(
        await until(() => warnings.length === cluster.masters.length, scaled(5000)),
        "a warning per master",
      );
      for (let round = 0; round < 2; round++) {
        for (const admin of admins) await admin.sendCommand(["CLIENT", "KILL", "TYPE", "normal"]);
        for (const admin of admins) await admin.sendCommand(["CLIENT", "KILL", "TYPE", "pubsub"]);
        const back = async () =>
          await store.get("s1").then(Boolean, () => false) &&
          (await Promise.all(cluster.masters.map(subscribers))).every((n) => n === 1);
        assert.ok(await until(back, scaled(10_000)), "reconnected and subscribed on every master");
      }
      await delay(scaled(1500)); // a round of comparing the masters with the subscriptions
      assert.equal(warnings.length, cluster.masters.length, warnings.join("\n"));
    } finally {
      process.off("warning", onWarning);
      await close();
    }
  });
}
