/**
 * A logout must survive Redis evicting its tombstone: under a maxmemory policy
 * that may evict keys, a commit that finds its session gone writes nothing.
 */

import assert from "node:assert/strict";
import type session from "express-session";
import { type App, Browser, delay, startApp, storeFixture, test, visitRoutes } from "./_helpers.ts";

/** The visit routes plus `/slow`, which sets `late` once `open()` is called. */
async function gatedApp(
  store: session.Store,
  options: Partial<session.SessionOptions> = {},
): Promise<{ app: App; open: () => void }> {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => open = resolve);
  const app = await startApp(store, (app) => {
    visitRoutes(app);
    app.get("/slow", async (req, res) => {
      await gate;
      req.session.late = "yes";
      res.send("late");
    });
  }, options);
  return { app, open };
}

test("a tombstone evicted under volatile-ttl does not let an in-flight request undo the logout", async () => {
  await using fx = await storeFixture();
  const { app: served, open } = await gatedApp(fx.store, { cookie: { maxAge: 3600_000 } });
  await using app = served;
  const browser = new Browser();
  await browser.get(app.url);
  const key = `session:${browser.sid}`;
  const slow = browser.get(`${app.url}/slow`);
  await delay(50);
  assert.equal((await browser.get(`${app.url}/logout`)).body, "bye");
  assert.equal(await fx.redis.hGet(key, "\0dead"), "1");

  // Let Redis run out of memory: the tombstone, with the shortest TTL of all keys, is evicted first.
  const info = await fx.redis.info("memory");
  const used = Number(/used_memory:(\d+)/.exec(info)![1]);
  await fx.redis.configSet({ "maxmemory-policy": "volatile-ttl", maxmemory: String(used + 4_000_000) });
  const filler = "x".repeat(20_000);
  for (let i = 0; i < 2000 && await fx.redis.exists(key) === 1; i++) {
    await fx.redis.set(`filler:${i}`, filler, { EX: 3600 });
  }
  assert.equal(await fx.redis.exists(key), 0, "the tombstone was not evicted: the test proves nothing");
  assert.ok(Number(/evicted_keys:(\d+)/.exec(await fx.redis.info("stats"))![1]) > 0);

  open();
  assert.equal((await slow).body, "late");
  assert.equal(await fx.redis.exists(key), 0, "the destroyed session was written back");
  assert.equal(await fx.store.get(browser.sid), null);
});

test("without eviction, a session that vanished within deleteExpiry of being seen is written back", async () => {
  await using fx = await storeFixture();
  const { app: served, open } = await gatedApp(fx.store);
  await using app = served;
  const browser = new Browser();
  await browser.get(app.url);
  const slow = browser.get(`${app.url}/slow`);
  await delay(50);
  await fx.redis.del(`session:${browser.sid}`); // as an expiry mid-request would
  open();
  assert.equal((await slow).body, "late");
  assert.equal((await fx.store.get(browser.sid) as Record<string, unknown>).late, "yes");
});
