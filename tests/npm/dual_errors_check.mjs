// One app, both copies of the package: a store made through require() (CommonJS) fails with an
// error that an ES module catches by the class it imported. Exits non-zero on failure.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { RedisUnavailableError, SessionDataError } from "connect-smart-redis";

setTimeout(() => {
  console.error("dual errors check: timed out");
  process.exit(2);
}, 20_000).unref();

const require = createRequire(import.meta.url);
const session = require("express-session");
const { createClient } = require("redis");
const cjs = require("connect-smart-redis");
const SmartRedis = cjs(session);
const client = createClient({ url: process.env.REDIS_URL });
const store = new SmartRedis({ client, prefix: "dual-check:" });
await store.set("sid", { cookie: { originalMaxAge: 60_000 }, visits: 1 });
await client.destroy(); // the app closes its client: the store fails at once, saying so
const error = await store.get("sid").then(() => undefined, (e) => e);
assert.equal(error?.name, "RedisUnavailableError");
assert.ok(error instanceof RedisUnavailableError, "the ESM class does not recognise the CommonJS error");
assert.ok(error instanceof cjs.RedisUnavailableError, "nor the CommonJS class its own error");
assert.ok(error instanceof Error);
assert.ok(!(error instanceof SessionDataError), "an error is recognised as another class");
assert.ok(!(new Error("x") instanceof RedisUnavailableError), "a plain Error is recognised as a store error");
console.log("dual: errors of either copy are instanceof the classes of both");
process.exit(0);
