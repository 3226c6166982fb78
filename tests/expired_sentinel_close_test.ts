/**
 * node-redis's Sentinel client: the last `expired` listener leaving while the
 * store's subscription is still on its way leaves nothing subscribed behind
 * (no expiries counted for nobody, none reported twice to a later listener).
 */

import assert from "node:assert/strict";
import process from "node:process";
import { createClient, createSentinel } from "redis";
import type { SessionData } from "express-session";
import { SmartRedisStore } from "../mod.ts";
import { startRedisSentinel } from "../scripts/redis_sentinel.ts";
import { delay, test } from "./_helpers.ts";
import { scaled, until } from "./_load.ts";

const session = (ms: number) =>
  ({ cookie: { originalMaxAge: ms, expires: new Date(Date.now() + ms) } }) as unknown as SessionData;

test("node-redis Sentinel: a listener leaving while the subscription is on its way unsubscribes it", async () => {
  await using setup = await startRedisSentinel();
  const admin = createClient({ url: `redis://127.0.0.1:${await setup.masterPort()}` });
  await admin.connect();
  const client = createSentinel({
    name: setup.name,
    sentinelRootNodes: [{ host: "127.0.0.1", port: setup.port }],
  });
  client.on("error", () => {});
  const store = new SmartRedisStore({ client });
  const early = () => assert.fail("the first listener left before any expiry");
  const onWarning = () => store.off("expired", early);
  try {
    // Expired events off: the store's warning comes right after it has sent its SUBSCRIBE.
    await admin.configSet("notify-keyspace-events", "");
    await store.set("warm-up", session(86_400_000)); // connects the client
    process.once("warning", onWarning);
    store.on("expired", early);
    assert.ok(await until(() => store.listenerCount("expired") === 0, scaled(5000)), "the listener left");
    await delay(scaled(300)); // the SUBSCRIBE's reply has come by now
    await admin.configSet("notify-keyspace-events", "Ex");
    await store.set("s1", session(scaled(100)));
    await delay(scaled(600));
    assert.equal(store.stats().expirations, 0, "nobody listens: nothing heard");
    const seen: string[] = [];
    store.on("expired", ({ sid }: { sid: string }) => seen.push(sid));
    await delay(scaled(300));
    await store.set("s2", session(scaled(100)));
    assert.ok(await until(() => seen.length > 0, scaled(5000)), "the new listener hears expiries");
    await delay(scaled(300));
    assert.deepEqual(seen, ["s2"], "once");
  } finally {
    process.off("warning", onWarning);
    await client.destroy().catch(() => {});
    await admin.close();
  }
});
