/**
 * The `expired` event across what an app's client may be configured with or
 * go through: an ioredis `keyPrefix` and database, a node-redis database from
 * the URL, and a subscription connection that is cut and reconnects (with
 * ioredis's `autoResubscribe: false`, which the store's duplicate must not
 * inherit). Against a real redis-server.
 */

import assert from "node:assert/strict";
import type { SessionData } from "express-session";
import { createClient } from "redis";
import { Redis } from "ioredis";
import { SmartRedisStore } from "../mod.ts";
import { connectClient, delay, type RedisServer, startRedisServer, test } from "./_helpers.ts";
import { scaled, until } from "./_load.ts";

/** A session that Redis ends `ms` from now. */
function shortLived(ms: number): SessionData {
  return { cookie: { originalMaxAge: ms, expires: new Date(Date.now() + ms) } } as unknown as SessionData;
}

/** How many connections of a server are subscribed to something. */
async function subscribers(server: RedisServer): Promise<number> {
  await using admin = await connectClient(server);
  const list = String(await admin.sendCommand(["CLIENT", "LIST"]));
  return list.split("\n").filter((line) => /\bsub=[1-9]/.test(line)).length;
}

/** Asserts that the store's subscription is back (after its connections were cut). */
async function assertResubscribed(server: RedisServer): Promise<void> {
  assert.ok(
    await until(() => subscribers(server).then((count) => count === 1), scaled(5000)),
    "resubscribed",
  );
}

/** Stores a session that expires at once; asserts that its expiry, and only it, is reported in `seen`. */
async function assertReported(store: SmartRedisStore, seen: string[]): Promise<void> {
  await store.set("s1", shortLived(scaled(100)));
  assert.ok(await until(() => seen.length > 0, scaled(5000)), "reported");
  assert.deepEqual(seen, ["s1"]);
}

/** Watches `store` for expiries; resolves once its subscription is up. */
async function expiries(store: SmartRedisStore, server: RedisServer): Promise<string[]> {
  const seen: string[] = [];
  store.on("expired", ({ sid }: { sid: string }) => seen.push(sid));
  assert.ok(await until(() => subscribers(server).then((count) => count === 1), scaled(5000)), "subscribed");
  return seen;
}

test("ioredis with keyPrefix and db 2: the expiry is reported by session id", async () => {
  await using server = await startRedisServer();
  await using admin = await connectClient(server);
  await admin.configSet("notify-keyspace-events", "Ex");
  const client = new Redis({ port: server.port, host: "127.0.0.1", keyPrefix: "app:", db: 2 });
  client.on("error", () => {});
  try {
    const store = new SmartRedisStore({ client });
    const seen = await expiries(store, server);
    await store.set("s1", shortLived(scaled(100)));
    await client.set("other", "1", "PX", 50); // app:other: not a session
    assert.ok(await until(() => seen.length > 0, scaled(5000)), "reported");
    assert.deepEqual(seen, ["s1"]);
  } finally {
    client.disconnect();
  }
});

test("node-redis with the database in its URL: the expiry is reported", async () => {
  await using server = await startRedisServer();
  await using admin = await connectClient(server);
  await admin.configSet("notify-keyspace-events", "Ex");
  const client = createClient({ url: `${server.url}/3` });
  client.on("error", () => {});
  try {
    const store = new SmartRedisStore({ client });
    const seen = await expiries(store, server);
    await assertReported(store, seen);
  } finally {
    await client.close();
  }
});

for (const autoResubscribe of [true, false]) {
  test(`ioredis (autoResubscribe: ${autoResubscribe}): after the subscription is cut, expiries are reported again`, async () => {
    await using server = await startRedisServer();
    await using admin = await connectClient(server);
    await admin.configSet("notify-keyspace-events", "Ex");
    const client = new Redis({ port: server.port, host: "127.0.0.1", autoResubscribe });
    client.on("error", () => {});
    try {
      const store = new SmartRedisStore({ client });
      const seen = await expiries(store, server);
      await admin.sendCommand(["CLIENT", "KILL", "TYPE", "normal"]); // the app's connection too
      await admin.sendCommand(["CLIENT", "KILL", "TYPE", "normal"]); // the app's connection too
      await admin.sendCommand(["CLIENT", "KILL", "TYPE", "pubsub"]);
      await assertResubscribed(server);
      await assertReported(store, seen);
    } finally {
      client.disconnect();
    }
  });
}

test("node-redis: after the subscription is cut, expiries are reported again", async () => {
  await using server = await startRedisServer();
  await using admin = await connectClient(server);
  await admin.configSet("notify-keyspace-events", "Ex");
  const client = createClient({ url: server.url });
  client.on("error", () => {});
  try {
    const store = new SmartRedisStore({ client });
    const seen = await expiries(store, server);
    await admin.sendCommand(["CLIENT", "KILL", "TYPE", "normal"]); // the app's connection too
    await admin.sendCommand(["CLIENT", "KILL", "TYPE", "pubsub"]);
    await assertResubscribed(server);
    await assertReported(store, seen);
  } finally {
    await client.close();
  }
});

const CLIENTS: [string, (server: RedisServer) => { client: object; close(): unknown }][] = [
  ["ioredis", (server) => {
    const client = new Redis({ port: server.port, host: "127.0.0.1" });
    client.on("error", () => {});
    return { client, close: () => client.disconnect() };
  }],
  ["node-redis", (server) => {
    const client = createClient({ url: server.url });
    client.on("error", () => {});
    return { client, close: () => client.isOpen && client.destroy() };
  }],
];

for (const [name, make] of CLIENTS) {
  test(`${name}: a store that starts listening while Redis is down subscribes once Redis is up`, async () => {
    await using server = await startRedisServer({ args: ["--notify-keyspace-events", "Ex"] });
    await server.kill();
    const { client, close } = make(server);
    try {
      const seen: string[] = [];
      const store = new SmartRedisStore({ client, on: { expired: ({ sid }) => seen.push(sid) } });
      await delay(scaled(300)); // the subscription's first connection attempt has failed by now
      await server.restart();
      assert.ok(
        await until(() => subscribers(server).then((count) => count === 1), scaled(10_000)),
        "subscribed",
      );
      // The app's own client may still be waiting out its reconnect delay.
      const written = () => store.set("s1", shortLived(scaled(100))).then(() => true, () => false);
      assert.ok(await until(written, scaled(10_000)), "the app's client is back");
      assert.ok(await until(() => seen.length > 0, scaled(5000)), "reported");
      assert.deepEqual(seen, ["s1"]);
    } finally {
      await close();
    }
  });
}
