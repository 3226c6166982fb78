/**
 * Sessions per user (option `user`): the scenarios of tests/_user_scenarios.ts
 * on one redis-server and on a three-master Redis Cluster, and what the feature
 * costs per request.
 */

import assert from "node:assert/strict";
import { createCluster } from "redis";
import { startRedisCluster } from "../scripts/redis_cluster.ts";
import { SmartRedisStore } from "../mod.ts";
import { USER_INDEX_SCRIPT } from "../src/scripts/user_index_script.ts";
import { Browser, connectClient, delay, Monitor, startApp, startRedisServer, test } from "./_helpers.ts";
import { SCENARIOS, type Target, userRoutes } from "./_user_scenarios.ts";

for (const scenario of SCENARIOS) {
  test(`${scenario.name} (one Redis)`, async () => {
    await using server = await startRedisServer();
    await using client = await connectClient(server);
    await using redis = await connectClient(server);
    await scenario.run({
      store: (options) => new SmartRedisStore({ client, ...options }),
      zRange: (key) => redis.zRange(key, 0, -1),
      exists: async (key) => (await redis.exists(key)) === 1,
    });
  });
}

test("sessions per user on a three-master Redis Cluster", async (t) => {
  await using cluster = await startRedisCluster();
  const rootNodes = cluster.urls.map((url) => ({ url }));
  const client = createCluster({ rootNodes });
  const redis = createCluster({ rootNodes });
  await redis.connect();
  try {
    const target: Target = {
      store: (options) => new SmartRedisStore({ client, ...options }),
      zRange: (key) => redis.zRange(key, 0, -1),
      exists: async (key) => (await redis.exists(key)) === 1,
    };
    for (const scenario of SCENARIOS) await t.step(scenario.name, () => scenario.run(target));
  } finally {
    await client.close().catch(() => {});
    await redis.close();
  }
});

test("the user option costs nothing on requests that keep their user, one command on a login or logout", async (t) => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using monitor = await Monitor.start(server);
  const counts: Record<string, Record<string, number>> = {};
  for (const withUser of [false, true]) {
    const store = new SmartRedisStore({
      client,
      prefix: withUser ? "with:" : "without:",
      user: withUser ? (session) => session.userId : undefined,
    });
    await using app = await startApp(store, userRoutes(store));
    const browser = new Browser();
    const count = async (path: string, times = 1) => {
      await monitor.commands();
      for (let i = 0; i < times; i++) await browser.get(`${app.url}${path}`);
      const sent = await monitor.commands();
      const names = sent.map((args) => args[0]);
      assert.ok(names.every((name) => name === "evalsha" || name === "hgetall"), names.join(" "));
      return sent.length / times;
    };
    const label = withUser ? "with user" : "without user";
    counts[label] = {
      "new session": await count("/visit"),
      "login": await count("/login/alice"),
      "read only (x20)": await count("/me", 20),
      "changing (x20)": await count("/visit", 20),
      "logout (destroy)": await count("/logout"),
    };
    await browser.get(`${app.url}/visit`);
    counts[label]["login with regenerate"] = await count("/login/bob?regenerate=1");
    await t.step(`${label}: ${JSON.stringify(counts[label])}`, () => {});
  }
  const [without, withUser] = [counts["without user"], counts["with user"]];
  assert.deepEqual(without, {
    "new session": 1,
    "login": 2,
    "read only (x20)": 1,
    "changing (x20)": 2,
    "logout (destroy)": 2,
    "login with regenerate": 3,
  });
  assert.deepEqual(withUser, { ...without, "login": 3, "logout (destroy)": 3, "login with regenerate": 4 });
});

test("an active session's index entry is extended about once per half maxAge, not at each request", async (t) => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using monitor = await Monitor.start(server);
  const store = new SmartRedisStore({ client, user: (session) => session.userId });
  await using app = await startApp(store, userRoutes(store), { cookie: { maxAge: 1000 } });
  const browser = new Browser();
  await browser.get(`${app.url}/login/uma`);
  await monitor.commands();
  const started = Date.now();
  let requests = 0;
  while (Date.now() - started < 3200) {
    assert.equal((await browser.get(`${app.url}/me`)).body, "uma");
    requests++;
    await delay(50);
  }
  await delay(100); // the last extension, if one started, lands
  const sent = await monitor.commands();
  // An extension is one command more, the index update, sent together with the renewal that records it.
  const extensions = sent.filter((args) => args[0] === "evalsha" && args[1] === USER_INDEX_SCRIPT.sha).length;
  const others = sent.filter((args) => args[0] !== "evalsha" || args[1] !== USER_INDEX_SCRIPT.sha);
  const reads = others.filter((args) => args[0] === "hgetall").length;
  assert.equal(reads, requests, "one plain read per request");
  assert.ok(
    others.length <= 2 * requests,
    `${others.length} commands besides the index for ${requests} requests`,
  );
  // One lifetime of headroom plus 1 s, extended past half of it: every 1.5 s or so.
  assert.ok(extensions >= 1 && extensions <= 3, `${extensions} extensions in 3.2 s (${requests} requests)`);
  await t.step(
    `${extensions} extensions over ${requests} requests, ${sent.length} commands in all`,
    () => {},
  );
  assert.deepEqual((await store.sessionsOf("uma")).map((session) => session.id), [browser.sid]);
});
