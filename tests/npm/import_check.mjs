// The ES module entry under Node: the default export is the seed's factory, SmartRedisStore is
// named, and both give express-session Stores that work against Redis. Exits non-zero on failure.
import assert from "node:assert/strict";
import session from "express-session";
import { createClient } from "redis";
import connectSmartRedis, { SmartRedisStore } from "connect-smart-redis";

setTimeout(() => {
  console.error("import check: timed out");
  process.exit(2);
}, 20_000).unref();

const client = createClient({ url: process.env.REDIS_URL });
try {
  const store = new SmartRedisStore({ client, prefix: "import-check:" });
  assert.ok(store instanceof session.Store, "new SmartRedisStore() is an express-session Store");

  const SmartRedis = connectSmartRedis(session);
  assert.equal(typeof SmartRedis, "function");
  const seedStyle = new SmartRedis({ client, ttl: 30 * 24 * 60 * 60, prefix: "import-check:" });
  assert.ok(seedStyle instanceof session.Store, "connectSmartRedis(session) makes express-session Stores");

  const data = { cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }, visits: 1 };
  await store.set("sid", data);
  assert.equal((await seedStyle.get("sid")).visits, 1);
  await seedStyle.destroy("sid");
  assert.equal(await store.get("sid"), null);
} finally {
  client.destroy();
}
console.log("import: default factory and SmartRedisStore make working express-session Stores");
process.exit(0);
