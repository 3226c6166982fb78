/**
 * A session written whole (no snapshot of this store: a new session, a plain
 * object, or one whose key vanished mid-request) onto an id that was destroyed:
 * Redis keeps the tombstone, and the store says so — a blocked write, not a
 * created session, and no cookie sent again for it.
 */

import assert from "node:assert/strict";
import type { SessionData } from "express-session";
import { SmartRedisStore, type StoreEventName } from "../mod.ts";
import { Browser, connectClient, startApp, startRedisServer, storeFixture, test } from "./_helpers.ts";
import { scaled } from "./_load.ts";

/** A cookie maxAge whose lazy renewal cannot fall due within a test. */
const DAY = 24 * 3600 * 1000;
const cookie = () => ({ originalMaxAge: DAY, expires: new Date(Date.now() + DAY) });

function record(store: SmartRedisStore, names: StoreEventName[]): [StoreEventName, unknown][] {
  const seen: [StoreEventName, unknown][] = [];
  for (const name of names) store.on(name, (payload: unknown) => seen.push([name, payload]));
  return seen;
}

test("a whole write onto a destroyed id writes nothing and is reported as blocked, not created", async () => {
  await using fx = await storeFixture();
  await fx.store.set("gone", { cookie: cookie(), cart: ["pen"] } as unknown as SessionData);
  await fx.store.destroy("gone");
  const seen = record(fx.store, ["create", "blocked"]);
  await fx.store.set("gone", { cookie: cookie(), cart: ["book"] } as unknown as SessionData);
  assert.equal(await fx.store.get("gone"), null, "the destroyed session came back");
  assert.equal(await fx.redis.hExists("session:gone", "\0dead"), 1, "the tombstone is gone");
  assert.deepEqual(seen, [["blocked", { sid: "gone", operation: "commit" }]]);
  const stats = fx.store.stats();
  assert.equal(stats.commits, 1, "only the first write is a commit");
  assert.equal(stats.blocked, 1);
});

test("express: a session that vanished, then was destroyed while its rewrite was decided, sends no cookie", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using redis = await connectClient(server);
  // The rewrite of a vanished key first asks Redis whether it may evict keys (INFO): let a
  // logout in another request land just then, deterministically.
  let logoutAtInfo: string | undefined;
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((args: string[], ...rest: unknown[]) => {
    const sid = logoutAtInfo;
    if (args[0] !== "INFO" || sid === undefined) return (send as (...a: unknown[]) => unknown)(args, ...rest);
    logoutAtInfo = undefined;
    return store.destroy(sid).then(() => (send as (...a: unknown[]) => unknown)(args, ...rest));
  }) as typeof client.sendCommand;
  const store = new SmartRedisStore({ client, commandTimeout: scaled(2000) });
  const seen = record(store, ["create", "blocked"]);
  await using app = await startApp(store, (app) => {
    app.get("/login", (req, res) => {
      req.session.step = 0;
      res.send("in");
    });
    app.get("/vanish", async (req, res) => {
      await redis.del(`session:${req.sessionID}`); // as if it had expired meanwhile
      logoutAtInfo = req.sessionID;
      req.session.step = 1;
      res.send("changed");
    });
  }, { cookie: { maxAge: DAY } });
  const browser = new Browser();
  await browser.get(`${app.url}/login`);
  seen.length = 0;
  const response = await fetch(`${app.url}/vanish`, { headers: { cookie: browser.cookie } });
  assert.equal(await response.text(), "changed");
  assert.equal(logoutAtInfo, undefined, "the rewrite did not ask INFO");
  assert.equal(response.headers.get("set-cookie"), null, "the destroyed session's cookie is sent again");
  assert.equal(await store.get(browser.sid), null, "the destroyed session came back");
  assert.deepEqual(seen.filter(([name]) => name !== "blocked"), [], "a create was reported");
});
