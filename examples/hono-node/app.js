// A visit counter with a login and a logout: Hono on Node (@hono/node-server) and connect-smart-redis/hono.
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { createClient } from "redis";
import { smartRedisSession } from "connect-smart-redis/hono";

const app = new Hono();
app.use(smartRedisSession({
  client: createClient({ url: process.env.REDIS_URL }),
  secret: process.env.SESSION_SECRET ?? "keyboard cat",
}));

app.post("/login", async (c) => {
  const user = c.req.query("user");
  if (!user) return c.text("Say who: POST /login?user=alice", 400);
  const session = c.get("session");
  await session.regenerate(); // a new session id at login; the old session is destroyed
  session.user = user;
  return c.text(`Logged in as ${user}`);
});

app.get("/", (c) => {
  const session = c.get("session");
  if (!session.user) return c.text("Not logged in: POST /login?user=alice", 401);
  session.visits = (session.visits ?? 0) + 1;
  return c.text(`Hello ${session.user}, visit ${session.visits}`);
});

app.post("/logout", async (c) => {
  await c.get("session").destroy();
  return c.text("Logged out");
});

const port = Number(process.env.PORT ?? 3000);
serve({ fetch: app.fetch, port }, () => console.log(`Listening on http://localhost:${port}`));
