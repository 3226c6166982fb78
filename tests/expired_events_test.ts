/**
 * The `expired` event, against real servers: with keyspace notifications on,
 * each session that Redis ends by its expiry is reported once, and nothing
 * else is (other keys, a user's index, a destroyed session's tombstone); with
 * them off, a process warning says what to set. Every standalone client kind,
 * and Redis Cluster with sessions on several masters.
 */

// suite: shards 2

import assert from "node:assert/strict";
import process from "node:process";
import type { SessionData } from "express-session";
import { createClient } from "redis";
import { createClient as createClient4, createCluster as createCluster4 } from "redis4";
import { createClient as createClient6 } from "redis6";
import { Redis } from "ioredis";
import { Cluster as Cluster6, Redis as Redis6 } from "ioredis6";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { SmartRedisStore, type SmartRedisStoreOptions } from "../mod.ts";
import { keySlot } from "../src/clients/_key_slot.ts";
import { adminClients, clusterClients, ownerOf } from "./_cluster_admin.ts";
import { connectClient, delay, type RedisServer, shard, startRedisServer, test } from "./_helpers.ts";
import { scaled, until } from "./_load.ts";

/** A session that Redis ends `ms` from now. */
function shortLived(ms: number, data: Record<string, unknown> = {}): SessionData {
  return {
    cookie: { originalMaxAge: ms, expires: new Date(Date.now() + ms) },
    ...data,
  } as unknown as SessionData;
}

/** Collects `expired` events by session id. */
function collector() {
  const seen: string[] = [];
  return { seen, listener: ({ sid }: { sid: string }) => seen.push(sid) };
}

/** Standalone clients, made as users make them (not connected: the store connects them). */
const STANDALONE: {
  name: string;
  create(server: RedisServer): object;
  close(client: object): Promise<void>;
}[] = [
  ...[["node-redis 4", createClient4], ["node-redis 5", createClient], ["node-redis 6", createClient6]].map((
    [name, create],
  ) => ({
    name: name as string,
    create: (server: RedisServer) => {
      const client = (create as typeof createClient)({ url: server.url });
      client.on("error", () => {});
      return client;
    },
    close: async (client: object) => {
      const redis = client as { isOpen: boolean; disconnect(): Promise<void> };
      if (redis.isOpen) await redis.disconnect().catch(() => {});
    },
  })),
  ...[["ioredis 5", Redis], ["ioredis 6", Redis6]].map(([name, Class]) => ({
    name: name as string,
    create: (server: RedisServer) => {
      const client = new (Class as typeof Redis)(server.port, "127.0.0.1");
      client.on("error", () => {});
      return client;
    },
    close: (client: object) => Promise.resolve((client as Redis).disconnect()),
  })),
];

/** How many connections of a server are subscribed to something. */
async function subscribers(server: RedisServer): Promise<number> {
  await using admin = await connectClient(server);
  const list = String(await admin.sendCommand(["CLIENT", "LIST"]));
  return list.split("\n").filter((line) => /\bsub=[1-9]/.test(line)).length;
}

for (const kind of shard(STANDALONE)) {
  test(`${kind.name}: each expired session is reported once, and nothing else`, async () => {
    await using server = await startRedisServer();
    await using admin = await connectClient(server);
    await admin.configSet("notify-keyspace-events", "Ex");
    const client = kind.create(server);
    try {
      const { seen, listener } = collector();
      const options: SmartRedisStoreOptions = {
        client,
        deleteExpiry: 100,
        user: (session) => session.userId,
        on: { expired: listener },
      };
      const store = new SmartRedisStore(options);
      assert.ok(
        await until(() => subscribers(server).then((count) => count === 1), 5000),
        "one subscription",
      );
      const life = scaled(300);
      const ending = ["end-1", "end-2", "end-3"];
      for (const sid of ending) await store.set(sid, shortLived(life, { userId: "u1" }));
      await store.set("logged-out", shortLived(86_400_000));
      await store.destroy("logged-out"); // its tombstone ends 100 ms later: not an expiry of a session
      await store.set("lives-on", shortLived(86_400_000));
      await admin.set("other:key", "1", { PX: 50 }); // not a session
      await admin.set("session:", "1", { PX: 50 }); // the bare prefix is no session either
      assert.ok(
        await until(() => seen.length >= ending.length, life + 5000),
        `expired events seen: ${JSON.stringify(seen)}`,
      );
      // The user's index key ends with its last session; the tombstone by now too.
      assert.ok(await until(async () => (await admin.dbSize()) === 1, 5000), "only the live session is left");
      await delay(scaled(200));
      assert.deepEqual([...seen].sort(), ending);
      assert.equal(store.stats().expirations, ending.length);
    } finally {
      await kind.close(client);
    }
    assert.ok(
      await until(() => subscribers(server).then((count) => count === 0), 5000),
      "closed with the client",
    );
  });
}

test("notify-keyspace-events without expired events: a warning says what to set", async () => {
  await using server = await startRedisServer();
  await using admin = await connectClient(server);
  await admin.configSet("notify-keyspace-events", "Kg");
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on("warning", onWarning);
  try {
    await using client = await connectClient(server);
    new SmartRedisStore({ client, on: { expired: () => {} } });
    assert.ok(await until(() => warnings.length > 0, 5000), "a warning");
    const [warning] = warnings;
    assert.equal((warning as Error & { code?: string }).code, "SMART_REDIS_EXPIRED_EVENTS");
    assert.match(warning.message, /notify-keyspace-events is "gK"|notify-keyspace-events is "Kg"/);
    assert.match(warning.message, /lacks "Ex"/);
    assert.match(warning.message, /CONFIG SET notify-keyspace-events (gK|Kg)Ex/);
    assert.equal(warnings.length, 1);
  } finally {
    process.off("warning", onWarning);
  }
});

test("CONFIG refused: a warning says the setting could not be read, and events still come", async () => {
  await using server = await startRedisServer();
  await using admin = await connectClient(server);
  await admin.configSet("notify-keyspace-events", "Ex");
  await admin.sendCommand(["ACL", "SETUSER", "app", "on", ">secret", "~*", "&*", "+@all", "-config"]);
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on("warning", onWarning);
  try {
    const client = createClient({ url: `redis://app:secret@127.0.0.1:${server.port}` });
    client.on("error", () => {});
    await using _closing = { [Symbol.asyncDispose]: () => client.close() };
    const { seen, listener } = collector();
    const store = new SmartRedisStore({ client, on: { expired: listener } });
    assert.ok(await until(() => warnings.length > 0, 5000), "a warning");
    assert.match(warnings[0].message, /could not read notify-keyspace-events/);
    assert.match(warnings[0].message, /NOPERM|permission/i);
    await store.set("s1", shortLived(scaled(100)));
    assert.ok(await until(() => seen.length === 1, 5000), "the expiry still reported");
  } finally {
    process.off("warning", onWarning);
  }
});

test("express store: the first expired listener subscribes, the last one leaving unsubscribes", async () => {
  await using server = await startRedisServer();
  await using admin = await connectClient(server);
  await admin.configSet("notify-keyspace-events", "Ex");
  await using client = await connectClient(server);
  const store = new SmartRedisStore({ client });
  await store.set("s1", shortLived(scaled(100)));
  await delay(scaled(300));
  assert.equal(await subscribers(server), 0, "no listener: no subscription");
  assert.equal(store.stats().expirations, 0);
  const { seen, listener } = collector();
  store.on("expired", listener);
  assert.ok(await until(() => subscribers(server).then((count) => count === 1), 5000));
  await store.set("s2", shortLived(scaled(100)));
  assert.ok(await until(() => seen.length === 1, 5000));
  assert.deepEqual(seen, ["s2"]);
  store.off("expired", listener);
  assert.ok(await until(() => subscribers(server).then((count) => count === 0), 5000));
});

test("a client the store cannot subscribe through: listening for expired is refused", () => {
  const custom = {
    send: () => Promise.resolve(null),
    masters: () => Promise.resolve([]),
    ready: true,
    address: "custom",
    onStateChange: () => {},
  };
  assert.throws(
    () => new SmartRedisStore({ client: custom, on: { expired: () => {} } }),
    /The "expired" event needs Redis keyspace notifications.*custom RedisConnection/,
  );
  const store = new SmartRedisStore({ client: custom });
  assert.throws(() => store.on("expired", () => {}), TypeError);
});

/** The shared cluster clients, and node-redis 4 and ioredis 6. */
const CLUSTERS: Record<string, (urls: readonly string[]) => { client: object; close(): unknown }> = {
  ...clusterClients,
  "node-redis 4": (urls) => {
    const client = createCluster4({ rootNodes: urls.map((url) => ({ url })) });
    client.on("error", () => {});
    return { client, close: () => client.disconnect() };
  },
  "ioredis 6": (urls) => {
    const client = new Cluster6(urls.map((url) => ({ host: "127.0.0.1", port: Number(new URL(url).port) })));
    client.on("error", () => {});
    return { client, close: () => client.disconnect() };
  },
};

for (const [name, make] of shard(Object.entries(CLUSTERS))) {
  test(`${name} cluster: sessions expiring on several masters are each reported once`, async () => {
    await using cluster = await startRedisCluster();
    await using admins = await adminClients(cluster);
    for (const admin of admins) await admin.configSet("notify-keyspace-events", "Ex");
    const { client, close } = make(cluster.urls);
    try {
      const { seen, listener } = collector();
      const store = new SmartRedisStore({ client, deleteExpiry: 100, on: { expired: listener } });
      const sids = Array.from({ length: 12 }, (_, i) => `cluster-${i}`);
      const owners = new Set(
        await Promise.all(sids.map((sid) => ownerOf(admins, keySlot(`session:${sid}`)))),
      );
      assert.ok(owners.size >= 2, "the sessions live on several masters");
      assert.ok(
        await until(
          async () => (await Promise.all(cluster.masters.map(subscribers))).every((n) => n === 1),
          5000,
        ),
        "one subscription per master",
      );
      const life = scaled(300);
      for (const sid of sids) await store.set(sid, shortLived(life));
      await store.set("logged-out", shortLived(86_400_000));
      await store.destroy("logged-out");
      assert.ok(await until(() => seen.length >= sids.length, life + 5000), `seen: ${JSON.stringify(seen)}`);
      await delay(scaled(300));
      assert.deepEqual([...seen].sort(), [...sids].sort());
    } finally {
      await close();
    }
    const none = async () => (await Promise.all(cluster.masters.map(subscribers))).every((n) => n === 0);
    assert.ok(await until(none, 5000), "closed with the client");
  });
}
