// A visit counter with a login and a logout: Hono on Deno's built-in server, with the store's sources.
import { Hono } from "hono";
import { createClient } from "redis";
import { type SessionVariables, smartRedisSession } from "../../hono.ts";

const app = new Hono<{ Variables: SessionVariables }>();
app.use(smartRedisSession({
  client: createClient({ url: Deno.env.get("REDIS_URL") }),
  secret: Deno.env.get("SESSION_SECRET") ?? "keyboard cat",
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
  session.visits = ((session.visits as number | undefined) ?? 0) + 1;
  return c.text(`Hello ${session.user}, visit ${session.visits}`);
});

app.post("/logout", async (c) => {
  await c.get("session").destroy();
  return c.text("Logged out");
});

Deno.serve({ port: Number(Deno.env.get("PORT") ?? 3000) }, app.fetch);
