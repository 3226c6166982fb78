/**
 * The local cache under races, over real HTTP: two Express app servers, each
 * with a cached store, on one Redis. Parallel writers through both keep every
 * write; a slow write racing a logout on the other server stays logged out;
 * reads hammering a session that another store keeps changing never leave a
 * stale copy behind once the last change's invalidation has arrived.
 */
// suite: valkey too

import assert from "node:assert/strict";
import type express from "express";
import { SmartRedisStore } from "../mod.ts";
import { Browser, connectClient, delay, startApp, startRedisServer, test, visitRoutes } from "./_helpers.ts";
import { CACHE_CLIENTS, cacheIt, sessionWith, waitForStats } from "./_cache_helpers.ts";

function routes(app: express.Express): void {
  visitRoutes(app);
  app.get("/dump", (req, res) => res.json(req.session));
}

/** Waits up to `limit` ms for `check` to pass, then asserts it. */
async function eventually(check: () => Promise<boolean>, what: string, limit = 2000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    assert.ok(Date.now() - started < limit, what);
    await delay(5);
  }
}

for (const kind of CACHE_CLIENTS.filter((kind) => kind.name.endsWith("5"))) {
  test(`localCache (${kind.name}): two cached app servers lose no write and resurrect no logout`, async (t) => {
    await using server = await startRedisServer();
    await using raw = await connectClient(server);
    const one = await kind.create(server.url);
    const two = await kind.create(server.url);
    const stores = [one, two].map(({ client }) => new SmartRedisStore({ client, localCache: true }));
    await using appOne = await startApp(stores[0], routes);
    await using appTwo = await startApp(stores[1], routes);
    const urls = [appOne.url, appTwo.url];
    try {
      await t.step("20 parallel writers through both servers keep all 20", async () => {
        const browser = new Browser();
        await browser.get(urls[0]);
        for (const url of urls) await browser.get(`${url}/dump`); // both cache it
        const answers = await Promise.all(
          Array.from({ length: 20 }, (_, i) => browser.get(`${urls[i % 2]}/set/p${i}/v${i}`)),
        );
        assert.ok(answers.every((answer) => answer.status === 200 && answer.body === "set"));
        const stored = await raw.hGetAll(`session:${browser.sid}`);
        for (let i = 0; i < 20; i++) assert.equal(stored[`p${i}`], `"v${i}"`);
        for (const url of urls) {
          await eventually(async () => {
            const seen = JSON.parse((await browser.get(`${url}/dump`)).body);
            return Array.from({ length: 20 }, (_, i) => seen[`p${i}`] === `v${i}`).every(Boolean);
          }, `${url} never showed all 20 writes`);
        }
      });

      await t.step("a slow write racing a logout on the other server stays logged out", async () => {
        const browser = new Browser();
        await browser.get(urls[0]);
        const sid = browser.sid;
        for (const url of urls) await browser.get(`${url}/dump`);
        const slow = browser.get(`${urls[0]}/set/late/yes?delay=300`);
        await delay(50);
        assert.equal((await browser.get(`${urls[1]}/logout`)).body, "bye");
        assert.equal((await slow).body, "set");
        assert.equal(await raw.hGet(`session:${sid}`, "late"), null);
        for (const store of stores) {
          await eventually(async () => (await store.get(sid)) === null, "the logout never reached a cache");
          for (let read = 0; read < 5; read++) assert.equal(await store.get(sid), null);
        }
        const after = new Browser();
        after.cookie = browser.cookie;
        assert.equal((await after.get(`${urls[0]}/read`)).body, "none");
      });
    } finally {
      await one.close();
      await two.close();
    }
  });

  test(`localCache (${kind.name}): reads racing changes never keep a stale copy`, async () => {
    await using server = await startRedisServer();
    await using raw = await connectClient(server);
    const reader = await kind.create(server.url);
    try {
      const writer = new SmartRedisStore({ client: raw });
      const cached = new SmartRedisStore({ client: reader.client, localCache: true });
      await writer.set("hot", sessionWith({ n: 0 }));
      await cacheIt(cached, "hot");
      let writing = true;
      const readers = Array.from({ length: 8 }, async () => {
        // A hit resolves without I/O: yield to the event loop between reads, as requests do.
        while (writing) await Promise.all([cached.get("hot"), delay(0)]);
      });
      try {
        for (let n = 1; n <= 200; n++) {
          const loaded = await writer.get("hot");
          await writer.set("hot", { ...loaded!, n });
        }
      } finally {
        writing = false;
        await Promise.all(readers);
      }
      const before = cached.cacheStats().invalidations;
      // The last change's invalidation: the cache either holds nothing or hears of it.
      await Promise.race([
        waitForStats(cached, (stats) => stats.invalidations > before || stats.entries === 0),
        delay(200),
      ]);
      await delay(20);
      for (let read = 0; read < 5; read++) assert.equal((await cached.get("hot"))?.n, 200);
      const stats = cached.cacheStats();
      assert.ok(stats.hits > 0 && stats.invalidations > 0, JSON.stringify(stats));
    } finally {
      await reader.close();
    }
  });
}
