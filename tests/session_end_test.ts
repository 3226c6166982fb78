/**
 * Ending a session through its cookie (`req.session.cookie.maxAge = 0`, or a write
 * whose expiry has passed) is as final as `destroy`: it leaves a tombstone, and a
 * request still in flight does not bring the session back.
 */

import assert from "node:assert/strict";
import { Browser, delay, startApp, storeFixture, test, visitRoutes } from "./_helpers.ts";

function cookie(maxAge = 60_000) {
  return { originalMaxAge: maxAge, expires: new Date(Date.now() + maxAge), httpOnly: true, path: "/" };
}

test("a session ended by maxAge = 0 is not brought back by a request loaded before", async () => {
  await using fx = await storeFixture();
  await fx.store.set("ended", { cookie: cookie(), userId: "alice" } as never);
  const ending = await fx.store.get("ended") as Record<string, unknown>;
  const inFlight = await fx.store.get("ended") as Record<string, unknown>;
  ending.cookie = { ...ending.cookie as object, originalMaxAge: 0, expires: new Date() };
  await fx.store.set("ended", ending as never);
  assert.equal(await fx.store.get("ended"), null);
  assert.equal(await fx.redis.hExists("session:ended", "\0dead"), 1, "no tombstone was left");
  inFlight.cart = ["book"];
  await fx.store.set("ended", inFlight as never);
  assert.equal(await fx.store.get("ended"), null, "the ended session came back");
});

test("over HTTP, maxAge = 0 ends the session for good, however the other requests finish", async (t) => {
  for (const via of ["a change", "a cookie-only touch"]) {
    await t.step(via, async () => {
      await using fx = await storeFixture();
      await using app = await startApp(fx.store, (app) => {
        visitRoutes(app);
        app.get("/end", (req, res) => {
          if (via === "a change") req.session.ending = true;
          req.session.cookie.maxAge = 0;
          res.send("ended");
        });
      }, { cookie: { maxAge: 60_000 } });
      const browser = new Browser();
      await browser.get(`${app.url}/set/user/alice`);
      const sid = browser.sid;
      const slow = browser.get(`${app.url}/set/cart/book?delay=300`);
      await delay(50);
      assert.equal((await browser.get(`${app.url}/end`)).body, "ended");
      assert.equal((await slow).status, 200);
      assert.equal(await fx.store.get(sid), null, "the ended session came back");
    });
  }
});

test("a whole set() whose expiry has passed leaves a tombstone, not a session", async () => {
  await using fx = await storeFixture();
  await fx.store.set("past", { cookie: cookie(), visits: 1 } as never);
  await fx.store.set(
    "past",
    { cookie: { ...cookie(), expires: new Date(Date.now() - 1000) }, visits: 2 } as never,
  );
  assert.equal(await fx.store.get("past"), null);
  assert.equal(await fx.redis.hExists("session:past", "\0dead"), 1);
});

test("a ttl function ending a loaded session leaves a tombstone", async () => {
  await using fx = await storeFixture({
    ttl: (s) => (s as { loggedOut?: boolean }).loggedOut ? 0 : 60,
  });
  await fx.store.set("t0", { cookie: cookie(), userId: "alice" } as never);
  const ending = await fx.store.get("t0") as Record<string, unknown>;
  const inFlight = await fx.store.get("t0") as Record<string, unknown>;
  ending.loggedOut = true;
  await fx.store.set("t0", ending as never);
  assert.equal(await fx.store.get("t0"), null);
  inFlight.cart = ["book"];
  await fx.store.set("t0", inFlight as never);
  assert.equal(await fx.store.get("t0"), null, "the session ended by the ttl function came back");
});

test("a ttl function ending a session at touch leaves a tombstone", async () => {
  let ended = false;
  await using fx = await storeFixture({ ttl: () => ended ? 0 : 60 });
  await fx.store.set("t1", { cookie: cookie(), userId: "alice" } as never);
  const touching = await fx.store.get("t1") as Record<string, unknown>;
  const inFlight = await fx.store.get("t1") as Record<string, unknown>;
  ended = true;
  await fx.store.touch("t1", touching as never);
  ended = false;
  assert.equal(await fx.store.get("t1"), null);
  inFlight.cart = ["book"];
  await fx.store.set("t1", inFlight as never);
  assert.equal(await fx.store.get("t1"), null, "the session ended at touch came back");
});

test("under disableTTL, maxAge = 0 still ends the session (tombstone, data gone)", async () => {
  await using fx = await storeFixture({ disableTTL: true });
  await fx.store.set("d0", { cookie: cookie(), userId: "alice", secret: "s" } as never);
  const ending = await fx.store.get("d0") as Record<string, unknown>;
  ending.cookie = { ...ending.cookie as object, originalMaxAge: 0, expires: new Date() };
  await fx.store.set("d0", ending as never);
  assert.equal(await fx.store.get("d0"), null);
  const left = await fx.redis.hGetAll("session:d0");
  assert.equal(
    left.userId,
    undefined,
    `the ended session's data stay in Redis for ever: ${JSON.stringify(left)}`,
  );
});
