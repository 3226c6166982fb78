/**
 * Switching from connect-redis: sessions stored as one JSON string are read,
 * converted safely under parallel requests, and stay destroyed once destroyed;
 * copying sessions between stores writes them whole.
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { SmartRedisStore } from "../mod.ts";
import { Browser, delay, startApp, storeFixture, test, visitRoutes } from "./_helpers.ts";

/** Stores a session the way connect-redis does and gives a browser its signed cookie. */
async function legacySession(
  redis: { set(key: string, value: string, options: { PX: number }): Promise<unknown> },
  sid: string,
  data: Record<string, unknown>,
): Promise<Browser> {
  const cookie = {
    originalMaxAge: 60000,
    expires: new Date(Date.now() + 60000).toISOString(),
    httpOnly: true,
    path: "/",
  };
  await redis.set(`session:${sid}`, JSON.stringify({ cookie, ...data }), { PX: 60000 });
  const browser = new Browser();
  const signature = createHmac("sha256", "test secret").update(sid).digest("base64").replace(/=+$/, "");
  browser.cookie = `connect.sid=${encodeURIComponent(`s:${sid}.${signature}`)}`;
  return browser;
}

test("parallel requests on an unconverted connect-redis session lose none of their writes", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, visitRoutes);
  const browser = await legacySession(fx.redis, "legacy-parallel", { visits: 7 });
  const names = Array.from({ length: 10 }, (_, i) => `p${i}`);
  const answers = await Promise.all([
    ...names.map((name, i) => browser.get(`${app.url}/set/${name}/v${i}?delay=${20 * (i % 3)}`)),
    browser.get(`${app.url}/read`), // a read-only request converts it by its touch, in the middle of it all
  ]);
  assert.ok(answers.every((answer) => answer.status === 200));
  const stored = await fx.redis.hGetAll("session:legacy-parallel");
  for (const [i, name] of names.entries()) assert.equal(stored[name], `"v${i}"`, `${name} was lost`);
  assert.equal(stored.visits, "7");
  const session = await fx.store.get("legacy-parallel");
  assert.equal(session?.visits, 7);
});

test("two requests setting cart and theme on a connect-redis session both keep their write", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, visitRoutes);
  const browser = await legacySession(fx.redis, "legacy-two", {});
  await Promise.all([
    browser.get(`${app.url}/set/cart/apple?delay=50`),
    browser.get(`${app.url}/set/theme/dark`),
  ]);
  const session = await fx.store.get("legacy-two") as Record<string, unknown>;
  assert.equal(session.cart, "apple");
  assert.equal(session.theme, "dark");
});

test("a connect-redis session destroyed while a slow request runs stays destroyed after deleteExpiry", async () => {
  await using fx = await storeFixture({ deleteExpiry: 100 });
  await using app = await startApp(fx.store, visitRoutes);
  const browser = await legacySession(fx.redis, "legacy-logout", { visits: 3 });
  const slow = browser.get(`${app.url}/set/late/yes?delay=400`);
  await delay(50);
  assert.equal((await browser.get(`${app.url}/logout`)).body, "bye");
  assert.equal((await slow).status, 200);
  assert.equal(await fx.store.get("legacy-logout"), null);
  assert.equal(await fx.redis.exists("session:legacy-logout"), 0, "nothing was written back");
});

test("a connect-redis string another writer replaces meanwhile is merged, not overwritten", async () => {
  await using fx = await storeFixture();
  const sid = "legacy-rewritten";
  await legacySession(fx.redis, sid, { visits: 1, theme: "light" });
  const session = await fx.store.get(sid) as Record<string, unknown>;
  // connect-redis, still running during the switch-over, writes the session whole.
  const cookie = JSON.parse(await fx.redis.get(`session:${sid}`) as string).cookie;
  await fx.redis.set(`session:${sid}`, JSON.stringify({ cookie, visits: 2, theme: "light", lang: "fr" }), {
    PX: 60000,
  });
  session.theme = "dark";
  await fx.store.set(sid, session as never);
  const stored = await fx.store.get(sid) as Record<string, unknown>;
  assert.equal(stored.theme, "dark", "ours");
  assert.equal(stored.visits, 2, "theirs, which we did not change");
  assert.equal(stored.lang, "fr", "theirs, added meanwhile");
  assert.equal(await fx.redis.type(`session:${sid}`), "hash");
});

test("sessions copied from one store to another with all() and set() are written whole", async () => {
  await using fx = await storeFixture({ prefix: "old:" });
  const target = new SmartRedisStore({ client: fx.client, prefix: "new:", deleteExpiry: 20 });
  const cookie = { originalMaxAge: 60000, expires: new Date(Date.now() + 60000), httpOnly: true, path: "/" };
  for (const id of ["a", "b", "c"]) await fx.store.set(id, { cookie, owner: id } as never);
  const sessions = await fx.store.all();
  await delay(60); // longer than the target's deleteExpiry since the source loaded them
  for (const session of sessions) await target.set(session.id, session);
  for (const id of ["a", "b", "c"]) {
    const copied = await target.get(id) as Record<string, unknown> | null;
    assert.equal(copied?.owner, id, `session ${id} was not copied`);
  }
  assert.equal(await target.length(), 3);
});
