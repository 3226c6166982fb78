// The CommonJS entry under Node: require() returns the seed's factory, which also carries every
// named export; a store made through it works against Redis with callbacks and Promises.
// Exits non-zero on failure.
"use strict";
const assert = require("node:assert/strict");
const session = require("express-session");
const { createClient } = require("redis");
const connectSmartRedis = require("connect-smart-redis");
const { SmartRedisStore, default: byDefault, connectSmartRedis: byName } = require("connect-smart-redis");

setTimeout(() => {
  console.error("require check: timed out");
  process.exit(2);
}, 20_000).unref();

async function main() {
  assert.equal(typeof connectSmartRedis, "function", "require() returns the factory");
  const SmartRedis = connectSmartRedis(session);
  assert.equal(SmartRedis, SmartRedisStore, "the factory returns SmartRedisStore for this express-session");
  assert.equal(byDefault, connectSmartRedis);
  assert.equal(byName, connectSmartRedis);
  const errorNames = Object.keys(connectSmartRedis).filter((name) => name.endsWith("Error"));
  assert.ok(errorNames.includes("RedisUnavailableError") && errorNames.includes("SessionConflictError"));
  for (const name of errorNames) {
    const error = new connectSmartRedis[name]("message");
    assert.ok(error instanceof Error, name);
    assert.equal(error.name, name);
  }
  const imported = await import("connect-smart-redis");
  assert.deepEqual(
    Object.keys(connectSmartRedis).sort(),
    Object.keys(imported).sort(),
    "require and import agree",
  );

  const client = createClient({ url: process.env.REDIS_URL });
  try {
    const store = new SmartRedis({ client, ttl: 60, prefix: "require-check:" });
    assert.ok(store instanceof session.Store);
    const data = { cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }, user: "ada" };
    await new Promise((resolve, reject) =>
      store.set("sid", data, (error) => error ? reject(error) : resolve())
    );
    const loaded = await new Promise((resolve, reject) =>
      store.get("sid", (error, value) => error ? reject(error) : resolve(value))
    );
    assert.equal(loaded.user, "ada");
    assert.deepEqual(await store.ids(), ["sid"]);
    await store.destroy("sid");
    assert.equal(await store.get("sid"), null);
    // @opentelemetry/api is an optional peer this project does not install: no metrics, all else works.
    assert.throws(() => require.resolve("@opentelemetry/api"), { code: "MODULE_NOT_FOUND" });
    const destroyed = [];
    store.on("destroy", (event) => destroyed.push(event.sid));
    await store.destroy("other");
    assert.deepEqual(destroyed, ["other"]);
    const stats = store.stats();
    assert.deepEqual([stats.commits, stats.loads, stats.destroys], [1, 2, 2]);
  } finally {
    client.destroy();
  }
  console.log("require(): factory, named exports and a store round trip work");
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
