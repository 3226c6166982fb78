// The built package under Node with Fastify over real HTTP, imported as ESM from
// connect-smart-redis/fastify: the visit counter counts, and 20 parallel requests on one
// session, each setting its own property, lose none of them. Exits non-zero on failure.
import assert from "node:assert/strict";
import Fastify from "fastify";
import { createClient } from "redis";
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
  let cookie = "";
  for (const n of [1, 2, 3]) {
    const response = await fetch(base, { headers: cookie ? { cookie } : {} });
    assert.equal(await response.text(), `visits ${n}`);
    cookie = response.headers.getSetCookie()[0]?.split(";")[0] ?? cookie;
  }
  console.log("fastify: visits 1, 2, 3 counted");
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) => fetch(`${base}/set/${i}`, { headers: { cookie } }).then((r) => r.text())),
  );
  assert.deepEqual(answers, Array(20).fill("ok"));
  const sid = await (await fetch(`${base}/id`, { headers: { cookie } })).text();
  const stored = await client.hGetAll(`fastify-check:${sid}`);
  for (let i = 0; i < 20; i++) assert.equal(stored[`p${i}`], String(i), `p${i} survived the parallel writes`);
  assert.equal(stored.visits, "3");
  console.log("fastify: 20 parallel requests on one session: all 20 properties kept");
} finally {
  await app.close();
  await client.close();
}
