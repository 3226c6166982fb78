/**
 * Sessions per user, end to end through express-session over real HTTP: the
 * scenarios run both on one redis-server and on a local three-master Redis
 * Cluster (tests/user_sessions_test.ts).
 */

import assert from "node:assert/strict";
import type express from "express";
import type { SmartRedisStore, SmartRedisStoreOptions } from "../mod.ts";
import { type App, Browser, delay, startApp } from "./_helpers.ts";

/** What a scenario needs: stores on the target, and a way to look at Redis directly. */
export interface Target {
  /** A store on the target, with its own prefix so scenarios do not meet. */
  store(options: Omit<SmartRedisStoreOptions, "client">): SmartRedisStore;
  /** Members of a sorted set. */
  zRange(key: string): Promise<string[]>;
  /** Whether a key exists. */
  exists(key: string): Promise<boolean>;
}

/** A scenario's name and body. */
export interface Scenario {
  name: string;
  run(target: Target): Promise<void>;
}

let stores = 0;
/** A fresh prefix for each store. */
function nextPrefix(): string {
  return `us${++stores}:`;
}

/** The routes of these scenarios: log in and out, read, and the bulk operations. */
export function userRoutes(store: SmartRedisStore): (app: express.Express) => void {
  return (app) => {
    app.get("/login/:user", async (req, res) => {
      await delay(Number(req.query.delay ?? 0));
      if (req.query.regenerate) await new Promise((resolve) => req.session.regenerate(resolve));
      req.session.userId = req.params.user;
      if (req.query.maxAge) req.session.cookie.maxAge = Number(req.query.maxAge);
      res.send("in");
    });
    app.get("/me", (req, res) => res.send(String(req.session.userId ?? "nobody")));
    app.get("/visit", (req, res) => {
      req.session.visits = (req.session.visits ?? 0) + 1;
      res.send(String(req.session.visits));
    });
    app.get("/set/:name/:value", async (req, res) => {
      await delay(Number(req.query.delay ?? 0));
      req.session[req.params.name] = req.params.value;
      res.send("set");
    });
    app.get("/signout", (req, res) => {
      delete req.session.userId;
      res.send("out");
    });
    app.get("/logout", (req, res) => req.session.destroy(() => res.send("bye")));
    app.get("/sign-out-others", async (req, res) => {
      const count = await store.destroyUser(String(req.session.userId), { except: req.sessionID });
      res.send(String(count));
    });
  };
}

/** A store with the user option and an app on it. */
async function setUp(
  target: Target,
  options: Omit<SmartRedisStoreOptions, "client"> = {},
  cookie: { maxAge?: number } = {},
): Promise<{ store: SmartRedisStore; app: App; prefix: string }> {
  const prefix = nextPrefix();
  const store = target.store({ prefix, user: (session) => session.userId, ...options });
  const app = await startApp(store, userRoutes(store), { cookie });
  return { store, app, prefix };
}

const ids = async (store: SmartRedisStore, user: string) =>
  (await store.sessionsOf(user)).map((s) => s.id).sort();

async function loggedIn(count: number, url: string, user: string, query = ""): Promise<Browser[]> {
  const browsers = Array.from({ length: count }, () => new Browser());
  await Promise.all(browsers.map((browser) => browser.get(`${url}/login/${user}${query}`)));
  return browsers;
}

/** Every scenario. */
export const SCENARIOS: Scenario[] = [
  {
    name: "20 parallel logins are listed, destroyUser() logs all 20 out, bulk operations see no index",
    async run(target) {
      const { store, app, prefix } = await setUp(target);
      await using _ = app;
      const browsers = await loggedIn(20, app.url, "alice");
      const sids = browsers.map((browser) => browser.sid).sort();
      assert.deepEqual(await ids(store, "alice"), sids);
      assert.ok(await target.exists(`${prefix}\0user:alice`));
      assert.equal(await store.length(), 20, "length() counted an index key");
      assert.deepEqual((await store.ids()).sort(), sids);
      assert.equal((await store.all()).length, 20);
      const [first] = await store.sessionsOf("alice");
      assert.ok(first.loggedInAt! <= Date.now() && first.loggedInAt! > Date.now() - 60_000);
      assert.ok(first.expiresAt! > Date.now());

      assert.equal(await store.destroyUser("alice"), 20);
      assert.deepEqual(await store.sessionsOf("alice"), []);
      for (const browser of browsers) assert.equal((await browser.get(`${app.url}/me`)).body, "nobody");
      assert.equal(await target.exists(`${prefix}\0user:alice`), false, "the emptied index was not removed");
      assert.equal(await store.destroyUser("alice"), 0);
    },
  },
  {
    name: "requests in flight when destroyUser() runs do not bring their sessions back",
    async run(target) {
      const { store, app } = await setUp(target);
      await using _ = app;
      const browsers = await loggedIn(5, app.url, "bob");
      const slow = browsers.map((browser) => browser.get(`${app.url}/set/late/yes?delay=300`));
      await delay(50);
      const count = await new Promise((resolve, reject) =>
        store.destroyUser("bob", (error, value) => error ? reject(error) : resolve(value))
      );
      assert.equal(count, 5);
      for (const answer of await Promise.all(slow)) assert.equal(answer.body, "set");
      for (const browser of browsers) assert.equal(await store.get(browser.sid), null);
      assert.deepEqual(await store.sessionsOf("bob"), []);
      for (const browser of browsers) assert.equal((await browser.get(`${app.url}/me`)).body, "nobody");
    },
  },
  {
    name: "destroyUser() with except keeps exactly that session",
    async run(target) {
      const { store, app } = await setUp(target);
      await using _ = app;
      const browsers = await loggedIn(5, app.url, "carol", "?regenerate=1");
      assert.equal((await browsers[2].get(`${app.url}/sign-out-others`)).body, "4");
      assert.deepEqual(await ids(store, "carol"), [browsers[2].sid]);
      const seen = await Promise.all(
        browsers.map(async (browser) => (await browser.get(`${app.url}/me`)).body),
      );
      assert.deepEqual(seen, ["nobody", "nobody", "carol", "nobody", "nobody"]);
    },
  },
  {
    name: "maxSessionsPerUser 3: after 5 logins the 3 newest remain",
    async run(target) {
      const { store, app } = await setUp(target, { maxSessionsPerUser: 3 });
      await using _ = app;
      const browsers: Browser[] = [];
      for (let i = 0; i < 5; i++) browsers.push(...await loggedIn(1, app.url, "dave"));
      assert.deepEqual(await ids(store, "dave"), browsers.slice(2).map((browser) => browser.sid).sort());
      const seen = await Promise.all(
        browsers.map(async (browser) => (await browser.get(`${app.url}/me`)).body),
      );
      assert.deepEqual(seen, ["nobody", "nobody", "dave", "dave", "dave"]);

      // 20 parallel logins do not evict each other below the limit: the same 3 latest stay.
      const parallel = await loggedIn(20, app.url, "ella");
      const kept = await store.sessionsOf("ella");
      assert.equal(kept.length, 3);
      const stillIn = [];
      for (const browser of parallel) {
        if ((await browser.get(`${app.url}/me`)).body === "ella") stillIn.push(browser.sid);
      }
      assert.deepEqual(stillIn.sort(), kept.map((session) => session.id).sort());
    },
  },
  {
    name: "a session switching users moves from one index to the other",
    async run(target) {
      const { store, app, prefix } = await setUp(target);
      await using _ = app;
      const [browser] = await loggedIn(1, app.url, "erin");
      const [other] = await loggedIn(1, app.url, "erin");
      await browser.get(`${app.url}/login/frank`);
      assert.equal((await browser.get(`${app.url}/me`)).body, "frank");
      assert.deepEqual(await ids(store, "erin"), [other.sid]);
      assert.deepEqual(await ids(store, "frank"), [browser.sid]);
      assert.deepEqual(await target.zRange(`${prefix}\0user:erin`), [other.sid]);
      assert.equal(await store.destroyUser("erin"), 1);
      assert.equal((await browser.get(`${app.url}/me`)).body, "frank");
    },
  },
  {
    name: "sessions expiring by their maxAge leave the index, and the index key expires, without any call",
    async run(target) {
      const { store, app, prefix } = await setUp(target, {}, { maxAge: 500 });
      await using _ = app;
      const [active] = await loggedIn(1, app.url, "gina");
      await loggedIn(3, app.url, "hank");
      // An active session outlives its first index deadline (500 + 500 + 1000 ms) by far.
      const until = Date.now() + 3500;
      while (Date.now() < until) {
        assert.equal((await active.get(`${app.url}/me`)).body, "gina");
        await delay(100);
      }
      assert.equal(
        await target.exists(`${prefix}\0user:hank`),
        false,
        "the index of expired sessions stayed",
      );
      assert.deepEqual(await target.zRange(`${prefix}\0user:gina`), [active.sid]);
      assert.deepEqual(await ids(store, "gina"), [active.sid]);
      await delay(2300);
      assert.equal(await target.exists(`${prefix}\0user:gina`), false);
    },
  },
  {
    name: "after many logins, switches, logouts and expiries the index holds only live sessions",
    async run(target) {
      const { store, app, prefix } = await setUp(target);
      await using _ = app;
      const browsers = Array.from({ length: 24 }, () => new Browser());
      await Promise.all(browsers.map(async (browser, i) => {
        await browser.get(`${app.url}/visit`);
        await browser.get(`${app.url}/login/ivy${i % 6 === 5 ? "?maxAge=200" : ""}`);
        if (i % 6 === 1) await browser.get(`${app.url}/logout`);
        if (i % 6 === 2) await browser.get(`${app.url}/signout`);
        if (i % 6 === 3) await browser.get(`${app.url}/login/jack`);
        if (i % 6 === 4) await browser.get(`${app.url}/visit`);
      }));
      await delay(200 + 200 + 1000 + 300);
      const live = browsers.filter((_, i) => i % 6 === 0 || i % 6 === 4).map((browser) => browser.sid).sort();
      assert.deepEqual(await ids(store, "ivy"), live);
      // The read pruned the entries whose time had passed: what is left is exactly the live sessions.
      assert.deepEqual((await target.zRange(`${prefix}\0user:ivy`)).sort(), live);
      assert.deepEqual(
        await ids(store, "jack"),
        browsers.filter((_, i) => i % 6 === 3).map((b) => b.sid).sort(),
      );
    },
  },
  {
    name: "a login racing destroyUser() is either destroyed or listed afterwards",
    async run(target) {
      const { store, app } = await setUp(target);
      await using _ = app;
      for (let i = 0; i < 12; i++) {
        const browser = new Browser();
        await browser.get(`${app.url}/visit`);
        const login = browser.get(`${app.url}/login/kim?delay=${i % 4}${i % 2 ? "&regenerate=1" : ""}`);
        await delay(i % 3);
        await store.destroyUser("kim");
        await login;
        const me = (await browser.get(`${app.url}/me`)).body;
        const listed = (await ids(store, "kim")).includes(browser.sid);
        assert.ok(me === "nobody" || listed, `round ${i}: logged in as ${me} and not listed`);
        await store.destroyUser("kim");
      }
    },
  },
];
