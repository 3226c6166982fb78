/**
 * A relogin in one tab while a slow request that changed the session is still
 * running in another (one browser, one cookie jar): the slow request must not
 * re-send the old session's cookie over the new login's.
 */

import assert from "node:assert/strict";
import type express from "express";
import { Browser, delay, Monitor, startApp, storeFixture, test } from "./_helpers.ts";

function loginRoutes(app: express.Express): void {
  app.get("/login", (req, res, next) => {
    req.session.regenerate((error) => {
      if (error) return next(error);
      req.session.login = String(req.query.user);
      res.send(`logged in as ${req.session.login}`);
    });
  });
  app.get("/slow", async (req, res) => {
    await delay(Number(req.query.delay));
    req.session.lastSeen = Date.now();
    res.send("slow done");
  });
  app.get("/whoami", (req, res) => res.send(String(req.session.login ?? "nobody")));
}

for (const maxAge of [undefined, 24 * 3600 * 1000]) {
  const cookie = maxAge ? "a maxAge cookie" : "a browser-session cookie";
  test(`express: a slow write ending after a relogin in another tab keeps the new login (${cookie})`, async () => {
    await using fx = await storeFixture();
    await using app = await startApp(fx.store, loginRoutes, { cookie: { maxAge } });
    const browser = new Browser();
    assert.equal((await browser.get(`${app.url}/login?user=alice`)).body, "logged in as alice");
    const alice = browser.sid;
    const tabA = fetch(`${app.url}/slow?delay=300`, { headers: { cookie: browser.cookie } });
    await delay(50);
    assert.equal((await browser.get(`${app.url}/login?user=bob`)).body, "logged in as bob");
    const slow = await tabA;
    assert.equal(await slow.text(), "slow done");
    assert.equal(slow.headers.get("set-cookie"), null, "the destroyed session's cookie is not sent again");
    assert.equal((await browser.get(`${app.url}/whoami`)).body, "bob");
    assert.equal(await fx.redis.hGet(`session:${alice}`, "lastSeen"), null, "the slow write was not stored");
  });
}

test("express: a changing request whose session lives on still gets its cookie, for one load and one commit", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, loginRoutes, { cookie: { maxAge: 60_000 } });
  const browser = new Browser();
  await browser.get(`${app.url}/login?user=carol`);
  await using monitor = await Monitor.start(fx.server);
  const response = await fetch(`${app.url}/slow?delay=0`, { headers: { cookie: browser.cookie } });
  assert.equal(await response.text(), "slow done");
  assert.match(response.headers.get("set-cookie") ?? "", /^connect\.sid=/);
  assert.deepEqual((await monitor.commands()).map((args) => args[0]), ["hgetall", "evalsha"]);
  assert.notEqual(await fx.redis.hGet(`session:${browser.sid}`, "lastSeen"), null);
});

test("express: a response streamed before its end still stores the change and keeps its cookie", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, (app) => {
    loginRoutes(app);
    app.get("/stream", (req, res) => {
      req.session.streamed = "yes";
      res.write("part one, ");
      res.end("part two");
    });
  }, { cookie: { maxAge: 60_000 } });
  const browser = new Browser();
  await browser.get(`${app.url}/login?user=dora`);
  const response = await fetch(`${app.url}/stream`, { headers: { cookie: browser.cookie } });
  assert.equal(await response.text(), "part one, part two");
  assert.match(response.headers.get("set-cookie") ?? "", /^connect\.sid=/);
  assert.equal(await fx.redis.hGet(`session:${browser.sid}`, "streamed"), '"yes"');
});
