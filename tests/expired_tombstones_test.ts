/**
 * The `expired` event and this store's own tombstones: every tombstone the
 * store writes ends without an `expired` event, whether it replaced a live
 * session or stood in for one that was not there (destroyUser() on an index
 * entry whose session key is gone). Against a real redis-server.
 */

import assert from "node:assert/strict";
import type { SessionData } from "express-session";
import { SmartRedisStore } from "../mod.ts";
import { connectClient, delay, type RedisServer, startRedisServer, test } from "./_helpers.ts";
import { scaled, until } from "./_load.ts";

/** How many connections of a server are subscribed to something. */
async function subscribers(server: RedisServer): Promise<number> {
  await using admin = await connectClient(server);
  const list = String(await admin.sendCommand(["CLIENT", "LIST"]));
  return list.split("\n").filter((line) => /\bsub=[1-9]/.test(line)).length;
}

const DAY = 86_400_000;
const session = (userId: string) => ({ cookie: { originalMaxAge: DAY }, userId }) as unknown as SessionData;

test("destroyUser(): the tombstone of an index entry whose session key is gone ends without an expired event", async () => {
  await using server = await startRedisServer();
  await using admin = await connectClient(server);
  await admin.configSet("notify-keyspace-events", "Ex");
  await using client = await connectClient(server);
  const seen: string[] = [];
  const deleteExpiry = scaled(100);
  const store = new SmartRedisStore({
    client,
    deleteExpiry,
    user: (data) => data.userId,
    on: { expired: ({ sid }) => seen.push(sid) },
  });
  assert.ok(await until(() => subscribers(server).then((count) => count === 1), scaled(5000)), "subscribed");
  await store.set("live", session("u1"));
  await store.set("gone", session("u1"));
  await admin.del("session:gone"); // e.g. evicted, or a login whose write has not landed yet
  assert.equal(await store.destroyUser("u1"), 1, "one live session ended");
  assert.equal(await admin.exists("session:gone"), 1, "a tombstone stands in for the missing session");
  assert.ok(await until(async () => (await admin.dbSize()) === 0, scaled(5000)), "the tombstones ended");
  await delay(scaled(200));
  assert.deepEqual(seen, [], "no session expired");
});
