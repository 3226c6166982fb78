// The built package under Node with Hono and @hono/node-server over real HTTP, from
// connect-smart-redis/hono: the visit counter counts, and 20 parallel requests on one session,
// each setting its own property, lose none of them. Exits non-zero on failure.
import { Hono } from "hono";
import { serve } from "@hono/node-server";
import { createClient } from "redis";
import { checkVisitsAndParallelWrites } from "./_visit_check.mjs";
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
  await checkVisitsAndParallelWrites("hono", base, client, "hono-check:");
} finally {
  server.close();
  await client.close();
}
