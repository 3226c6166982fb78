// The built package under Node with Hono and @hono/node-server over real HTTP, from
// connect-smart-redis/hono: the visit counter counts, and 20 parallel requests on one session,
// each setting its own property, lose none of them. Exits non-zero on failure.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { serve } from "@hono/node-server";
import { createClient } from "redis";
import { smartRedisSession } from "connect-smart-redis/hono";

setTimeout(() => {
  console.error("hono check: timed out");
  process.exit(2);
}, 30_000).unref();

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const client = createClient({ url: process.env.REDIS_URL });
const app = new Hono();
app.use(smartRedisSession({ client, prefix: "hono-check:", secret: "hono check secret" }));
app.get("/", (c) => {
  const session = c.get("session");
  session.visits = (session.visits ?? 0) + 1;
  return c.text(`visits ${session.visits}`);
});
app.get("/set/:i", async (c) => {
  await delay(Math.random() * 50);
  c.get("session")[`p${c.req.param("i")}`] = Number(c.req.param("i"));
  return c.text("ok");
});
app.get("/id", (c) => c.text(c.get("session").id));
const server = await new Promise((resolve) => {
  const started = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(started));
});
const base = `http://127.0.0.1:${server.address().port}`;

try {
  let cookie = "";
  for (const n of [1, 2, 3]) {
    const response = await fetch(base, { headers: cookie ? { cookie } : {} });
    assert.equal(await response.text(), `visits ${n}`);
    cookie = response.headers.getSetCookie()[0]?.split(";")[0] ?? cookie;
  }
  console.log("hono: visits 1, 2, 3 counted");
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) => fetch(`${base}/set/${i}`, { headers: { cookie } }).then((r) => r.text())),
  );
  assert.deepEqual(answers, Array(20).fill("ok"));
  const sid = await (await fetch(`${base}/id`, { headers: { cookie } })).text();
  const stored = await client.hGetAll(`hono-check:${sid}`);
  for (let i = 0; i < 20; i++) assert.equal(stored[`p${i}`], String(i), `p${i} survived the parallel writes`);
  console.log("hono: 20 parallel requests on one session: all 20 properties kept");
} finally {
  server.close();
  await client.close();
}
