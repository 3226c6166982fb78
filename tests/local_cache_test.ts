/**
 * The local cache (option `localCache`) across two stores on one Redis: B
 * caches, A changes, destroys, renews, converts; B's first read after the
 * invalidation of A's write has arrived is fresh, and that flight time stays
 * well within a command's time bound. Also: the store's own writes are seen at
 * once, and a session that was not found is cached as such until it appears.
 */
// suite: valkey too

import assert from "node:assert/strict";
import { createClient } from "redis";
import { SmartRedisStore } from "../mod.ts";
import { Hono } from "hono";
import { type SessionVariables, smartRedisSession } from "../hono.ts";
import { Browser, connectClient, startRedisServer, test } from "./_helpers.ts";
import { CACHE_CLIENTS, cachedPair, cacheIt, sessionWith, waitForStats } from "./_cache_helpers.ts";

/** The longest an invalidation may take to arrive: a command's default time bound. */
const FLIGHT_BOUND = 2000;

for (const kind of CACHE_CLIENTS) {
  test(`localCache (${kind.name}): another store's writes reach the cache before its next read`, async (t) => {
    await using server = await startRedisServer();
    await using raw = await connectClient(server);
    await using pair = await cachedPair(server, kind);
    const { a, b } = pair;
    const flights: number[] = [];
    /** Runs A's write, then waits for B to hear of it; returns how long that took. */
    const invalidatedBy = async (write: () => Promise<unknown>) => {
      const before = b.cacheStats().invalidations;
      await write();
      const flight = await waitForStats(b, (stats) => stats.invalidations > before, FLIGHT_BOUND);
      flights.push(flight);
      return flight;
    };

    await t.step("a change", async () => {
      await a.set("s1", sessionWith({ n: 1 }));
      await cacheIt(b, "s1");
      const loaded = await a.get("s1");
      await invalidatedBy(() => a.set("s1", { ...loaded!, n: 2 }));
      assert.equal((await b.get("s1"))?.n, 2);
      await cacheIt(b, "s1");
    });

    await t.step("a logout", async () => {
      await cacheIt(b, "s1");
      await invalidatedBy(() => a.destroy("s1"));
      assert.equal(await b.get("s1"), null);
    });

    await t.step("a renewal", async () => {
      const renewing = new SmartRedisStore({ client: raw, renewAfter: 0 });
      await a.set("s2", sessionWith({ n: 1 }));
      await cacheIt(b, "s2");
      const cachedExpiry = new Date((await b.get("s2"))!.cookie!.expires as Date).getTime();
      await new Promise((resolve) => setTimeout(resolve, 5));
      await invalidatedBy(() => renewing.get("s2"));
      const renewed = new Date((await b.get("s2"))!.cookie!.expires as Date).getTime();
      assert.ok(renewed > cachedExpiry, `expiry ${renewed} not after the cached ${cachedExpiry}`);
    });

    await t.step("a connect-redis write, then its conversion", async () => {
      await cacheIt(b, "s2");
      const legacy = JSON.stringify(sessionWith({ n: 7 }));
      await invalidatedBy(() => raw.set("session:s2", legacy, { PX: 60_000 }));
      assert.equal((await b.get("s2"))?.n, 7);
      const loaded = await a.get("s2");
      await a.set("s2", { ...loaded!, n: 8 });
      assert.equal(await raw.type("session:s2"), "hash");
      await waitForStats(b, (stats) => stats.tracking);
      assert.equal((await b.get("s2"))?.n, 8);
    });

    await t.step("a session that appears after it was not found", async () => {
      assert.equal(await b.get("s3"), null);
      await cacheIt(b, "s3");
      await invalidatedBy(() => a.set("s3", sessionWith({ n: 1 })));
      assert.equal((await b.get("s3"))?.n, 1);
    });

    await t.step("the store's own writes are seen at once", async () => {
      await cacheIt(b, "s3");
      for (let n = 2; n < 20; n++) {
        const loaded = await b.get("s3");
        await b.set("s3", { ...loaded!, n });
        assert.equal((await b.get("s3"))?.n, n);
      }
      await b.destroy("s3");
      assert.equal(await b.get("s3"), null);
    });

    const stats = b.cacheStats();
    assert.equal(stats.mode, "local");
    assert.ok(stats.hits > 0 && stats.misses > 0 && stats.entries > 0 && stats.bytes > 0);
    console.log(`${kind.name}: invalidation flight ${flights.map((ms) => ms.toFixed(1)).join(", ")} ms`);
  });
}

test("localCache: a node-redis client's own clientSideCache is used, through the typed read", async () => {
  await using server = await startRedisServer();
  await using raw = await connectClient(server);
  const client = createClient({ url: server.url, RESP: 3, clientSideCache: { ttl: 0, maxEntries: 1000 } });
  await client.connect();
  try {
    const a = new SmartRedisStore({ client: raw });
    const b = new SmartRedisStore({ client, localCache: true });
    await a.set("s1", sessionWith({ n: 1 }));
    assert.equal((await b.get("s1"))?.n, 1);
    assert.equal((await b.get("s1"))?.n, 1);
    assert.equal(b.cacheStats().mode, "client");
    assert.ok(b.cacheStats().hits >= 1, JSON.stringify(b.cacheStats()));
    const loaded = await a.get("s1");
    await a.set("s1", { ...loaded!, n: 2 });
    const started = performance.now();
    while ((await b.get("s1"))?.n !== 2) {
      assert.ok(performance.now() - started < FLIGHT_BOUND, "the change never reached the client's cache");
      // A hit answers on the microtask queue: without a turn of the event loop the
      // invalidation waiting on the socket is never read.
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const mine = await b.get("s1");
    await b.set("s1", { ...mine!, n: 3 });
    assert.equal((await b.get("s1"))?.n, 3);
  } finally {
    await client.close();
  }
});

for (const kind of [CACHE_CLIENTS[0], CACHE_CLIENTS[2]]) {
  test(`localCache (${kind.name}): heartbeats keep entries serving past maxAgeMs while invalidations flow`, async () => {
    await using server = await startRedisServer();
    await using pair = await cachedPair(server, kind, { localCache: { maxAgeMs: 300 } });
    await pair.a.set("s1", sessionWith({ n: 1 }));
    await cacheIt(pair.b, "s1");
    const { misses } = pair.b.cacheStats();
    const started = Date.now();
    while (Date.now() - started < 1000) {
      assert.equal((await pair.b.get("s1"))?.n, 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(pair.b.cacheStats().misses, misses, JSON.stringify(pair.b.cacheStats()));
  });
}

test("localCache: lock mode and renewAfter 0 bypass it, and say so", async () => {
  await using server = await startRedisServer();
  await using raw = await connectClient(server);
  for (const options of [{ lock: true }, { renewAfter: 0 }]) {
    const store = new SmartRedisStore({ client: raw, localCache: true, ...options });
    await store.set("s1", sessionWith({ n: 1 }));
    await store.get("s1");
    await store.get("s1");
    const stats = store.cacheStats();
    assert.equal(stats.mode, "off");
    assert.match(stats.detail, /lock mode|renewAfter 0/);
    assert.equal(stats.hits, 0);
  }
});

test("localCache through the Hono face: another store's change and logout reach its reads", async () => {
  await using server = await startRedisServer();
  await using raw = await connectClient(server);
  await using client = await connectClient(server);
  const app = new Hono<{ Variables: SessionVariables }>();
  app.use(smartRedisSession({ client, localCache: true, secret: "cache test secret" }));
  app.get("/", (c) => {
    const session = c.get("session");
    session.visits = ((session.visits as number) || 0) + 1;
    return c.text(String(session.visits));
  });
  app.get("/read", (c) => c.text(String(c.get("session").visits ?? "none")));
  const listening = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
  try {
    const url = `http://127.0.0.1:${listening.addr.port}`;
    const jar = new Browser();
    assert.equal((await jar.get(url)).body, "1");
    const sid = decodeURIComponent(jar.cookie.split("=")[1]).split(".")[0];
    const other = new SmartRedisStore({ client: raw });
    const expect = async (body: string) => {
      const started = performance.now();
      while ((await jar.get(`${url}/read`)).body !== body) {
        assert.ok(performance.now() - started < FLIGHT_BOUND, `/read never answered ${body}`);
      }
    };
    await expect("1");
    const loaded = await other.get(sid);
    assert.ok(loaded, `no session ${sid}`);
    await other.set(sid, { ...loaded, visits: 5 });
    await expect("5");
    await other.destroy(sid);
    await expect("none");
  } finally {
    await listening.shutdown();
  }
});
