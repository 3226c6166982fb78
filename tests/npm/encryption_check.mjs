// The built package under Node with the option `encrypt`: what the store writes is encrypted (Web Crypto
// through node:crypto, Node ≥ 18), reads back, is refused when moved to another session, and reencrypt()
// moves it to a new key. Exits non-zero on failure.
import assert from "node:assert/strict";
import { createClient } from "redis";
import { SessionDataError, SmartRedisStore } from "connect-smart-redis";

setTimeout(() => {
  console.error("encryption check: timed out");
  process.exit(2);
}, 30_000).unref();

const OLD = { id: "old", secret: "an old secret of thirty-two characters or more" };
const NEW = { id: "new", secret: new Uint8Array(32).fill(7) };
const client = createClient({ url: process.env.REDIS_URL });
const prefix = "encryption-check:";
const store = new SmartRedisStore({ client, prefix, encrypt: { keys: [OLD] } });
const cookie = { originalMaxAge: 86400000, expires: new Date(Date.now() + 86400000) };
try {
  await store.set("a", { cookie, secret: "swordfish" });
  await store.set("b", { cookie, secret: "marlin" });
  const stored = await client.hGet(`${prefix}a`, "secret");
  assert.ok(stored.startsWith("\u00011old:") && !stored.includes("swordfish"), stored);
  assert.equal((await store.get("a")).secret, "swordfish");
  await client.hSet(`${prefix}b`, "secret", stored);
  await assert.rejects(store.get("b"), (error) => error instanceof SessionDataError);
  const rotated = new SmartRedisStore({ client, prefix, encrypt: { keys: [NEW, OLD] } });
  const done = await rotated.reencrypt();
  assert.deepEqual(done, { sessions: 2, updated: 2, values: 3, unreadable: 1 });
  const only = new SmartRedisStore({ client, prefix, encrypt: { keys: [NEW] } });
  assert.equal((await only.get("a")).secret, "swordfish");
  console.log("encrypted under Node, refused when moved, moved to a new key by reencrypt()");
} finally {
  client.destroy();
}
