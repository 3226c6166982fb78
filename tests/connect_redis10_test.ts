/**
 * Switching from connect-redis: sessions that connect-redis 10 wrote through
 * node-redis 6 (the README's "before") are read, kept and converted by the store
 * that replaces it (the README's "after"), over real HTTP with the same cookies.
 */

import assert from "node:assert/strict";
import { RedisStore } from "connect-redis10";
import { createClient } from "redis6";
import { SmartRedisStore } from "../mod.ts";
import { Browser, connectClient, startApp, startRedisServer, test, visitRoutes } from "./_helpers.ts";

test("sessions written by connect-redis 10 through node-redis 6 are read, kept and converted", async (t) => {
  await using server = await startRedisServer();
  await using redis = await connectClient(server);
  const browsers = [new Browser(), new Browser()];

  await t.step("before: connect-redis 10 stores the sessions as JSON strings", async () => {
    // connect-redis wants a connected client.
    const client = createClient({ url: server.url });
    await client.connect();
    try {
      await using app = await startApp(new RedisStore({ client }), visitRoutes, {
        cookie: { maxAge: 60_000 },
      });
      for (const n of [1, 2, 3]) {
        assert.equal((await browsers[0].get(app.url)).body, `You visited this site ${n} times!`);
      }
      await browsers[1].get(app.url);
      await browsers[1].get(`${app.url}/set/theme/dark`);
    } finally {
      await client.close();
    }
    for (const browser of browsers) assert.equal(await redis.type(`sess:${browser.sid}`), "string");
  });

  await t.step("after: the store on a fresh node-redis 6 client reads and keeps them", async () => {
    const client = createClient({ url: server.url });
    try {
      const store = new SmartRedisStore({ client, prefix: "sess:" });
      await using app = await startApp(store, (app) => {
        visitRoutes(app);
        app.get("/theme", (req, res) => res.send(String(req.session.theme)));
      }, { cookie: { maxAge: 60_000 } });

      assert.equal((await browsers[1].get(`${app.url}/theme`)).body, "dark", "a read-only request");
      assert.equal((await browsers[1].get(`${app.url}/read`)).body, "1");
      assert.equal((await browsers[0].get(app.url)).body, "You visited this site 4 times!", "a write");
      assert.equal((await browsers[0].get(app.url)).body, "You visited this site 5 times!");

      for (const browser of browsers) {
        const key = `sess:${browser.sid}`;
        assert.equal(await redis.type(key), "hash", `${key} was converted`);
        const ttl = await redis.pTTL(key);
        assert.ok(ttl > 50_000 && ttl <= 60_000, `${key} keeps expiring with its cookie: ${ttl} ms`);
      }
      assert.equal((await redis.hGetAll(`sess:${browsers[0].sid}`)).visits, "5");
      assert.equal(await store.length(), 2);
      assert.deepEqual((await store.ids()).sort(), browsers.map((browser) => browser.sid).sort());
    } finally {
      await client.close().catch(() => {});
    }
  });
});
