// The built package under Node with Fastify over real HTTP, imported as ESM from
// connect-smart-redis/fastify: the visit counter counts, and 20 parallel requests on one
// session, each setting its own property, lose none of them. Exits non-zero on failure.
import assert from "node:assert/strict";
import Fastify from "fastify";
import { createClient } from "redis";
import { checkVisitsAndParallelWrites } from "./_visit_check.mjs";
import { smartRedisSession } from "connect-smart-redis/fastify";

setTimeout(() => {
  console.error("fastify check: timed out");
  process.exit(2);
}, 30_000).unref();

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const client = createClient({ url: process.env.REDIS_URL });
const app = Fastify();
await app.register(smartRedisSession, {
  client,
  prefix: "fastify-check:",
  secret: "a secret of at least thirty-two characters",
  cookie: { secure: false },
});
app.get("/", async (request) => {
  request.session.visits = (request.session.visits ?? 0) + 1;
  await delay(0);
  return `visits ${request.session.visits}`;
});
app.get("/set/:i", async (request) => {
  await delay(Math.random() * 50);
  request.session.set(`p${request.params.i}`, Number(request.params.i));
  return "ok";
});
app.get("/id", async (request) => {
  await delay(0);
  return request.session.sessionId;
});
await app.listen({ port: 0, host: "127.0.0.1" });
const base = `http://127.0.0.1:${app.server.address().port}`;

try {
  const stored = await checkVisitsAndParallelWrites("fastify", base, client, "fastify-check:");
  assert.equal(stored.visits, "3");
} finally {
  await app.close();
  await client.close();
}
