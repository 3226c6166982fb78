/**
 * When the store gives up on a command: clients the app closed fail at once saying
 * so and are never opened again, and a read that timed out stops retrying.
 */

import assert from "node:assert/strict";
import { createClient, createCluster } from "redis";
import { createCluster as createCluster4 } from "redis4";
import { Redis } from "ioredis";
import { RedisUnavailableError, SmartRedisStore } from "../mod.ts";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { startRedisSentinel } from "../scripts/redis_sentinel.ts";
import { delay, test } from "./_helpers.ts";

async function failure(promise: Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const started = Date.now();
  const error = await promise.then(() => new Error("resolved"), (error) => error);
  return { error, ms: Date.now() - started };
}

test("node-redis 4 createCluster() the app quit fails store calls at once, saying it is closed", async () => {
  await using cluster = await startRedisCluster();
  const client = createCluster4({ rootNodes: cluster.urls.map((url) => ({ url })) });
  client.on("error", () => {});
  const store = new SmartRedisStore({ client, commandTimeout: 2000 });
  await store.set("a", { cookie: { originalMaxAge: 60000 }, v: 1 } as never);
  await client.quit();
  await delay(100);
  const { error, ms } = await failure(store.get("a"));
  assert.ok(error instanceof RedisUnavailableError, String(error));
  assert.match(error.message, /closed/, error.message);
  assert.ok(ms < 500, `took ${ms} ms`);
});

test("ioredis new Redis({ sentinels }) the app quit fails store calls at once, saying it is closed", async () => {
  await using setup = await startRedisSentinel();
  const client = new Redis({ name: setup.name, sentinels: [{ host: "127.0.0.1", port: setup.port }] });
  client.on("error", () => {});
  const store = new SmartRedisStore({ client, commandTimeout: 2000 });
  await store.set("a", { cookie: { originalMaxAge: 60000 }, v: 1 } as never);
  await client.quit();
  await delay(300); // the client has ended (status "end")
  const { error, ms } = await failure(store.get("a"));
  assert.match(error.message, /closed/, error.message);
  assert.ok(ms < 500, `took ${ms} ms`);
});

test("a node-redis createCluster() the app destroyed while Redis was down is not reopened when Redis returns", async () => {
  await using cluster = await startRedisCluster();
  await cluster.kill();
  const client = createCluster({ rootNodes: cluster.urls.map((url) => ({ url })) });
  client.on("error", () => {});
  const store = new SmartRedisStore({ client, commandTimeout: 300 });
  await assert.rejects(store.get("x"), RedisUnavailableError);
  await delay(300);
  client.destroy(); // the app shuts its client down
  assert.equal(client.isOpen, false);
  await cluster.restart();
  await delay(3000); // the store's retry backoff is at most 2 s
  const reopened = client.isOpen;
  if (reopened) client.destroy();
  assert.equal(reopened, false, "the store connected a cluster client the app had destroyed");
});

test("reads that failed on a node answering as replica do not keep polling it", async () => {
  await using setup = await startRedisSentinel();
  const client = new Redis({ name: setup.name, sentinels: [{ host: "127.0.0.1", port: setup.port }] });
  client.on("error", () => {});
  const store = new SmartRedisStore({ client, commandTimeout: 200 });
  await store.set("a", { cookie: { originalMaxAge: 60000 }, v: 1 } as never);
  const master = await setup.masterPort();
  const admin = createClient({ url: `redis://127.0.0.1:${master}` });
  admin.on("error", () => {});
  await admin.connect();
  try {
    // The node the client is connected to turns replica (as a demoted master does).
    const other = setup.dataPorts.find((port) => port !== master)!;
    await admin.sendCommand(["REPLICAOF", "127.0.0.1", String(other)]);
    const failures = await Promise.all(
      Array.from({ length: 20 }, () => store.get("a").then(() => undefined, (error) => error)),
    );
    assert.ok(failures.every((error) => error instanceof RedisUnavailableError), String(failures[0]));
    const roles = async () =>
      Number(/cmdstat_role:calls=(\d+)/.exec(await admin.info("commandstats"))?.[1] ?? 0);
    await delay(500); // a retry already on its way when the read gave up lands meanwhile
    const before = await roles();
    await delay(1000);
    const after = await roles();
    // Still retrying, the 20 reads would send some 20 ROLE commands every 50 ms.
    assert.ok(
      after - before < 5,
      `${after - before} ROLE commands in a second, half a second after the reads failed`,
    );
  } finally {
    await admin.sendCommand(["REPLICAOF", "NO", "ONE"]).catch(() => {});
    await admin.close().catch(() => {});
    client.disconnect();
  }
});
