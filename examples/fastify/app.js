// A visit counter with a login and a logout: Fastify and connect-smart-redis/fastify (no @fastify/session).
import Fastify from "fastify";
import { createClient } from "redis";
import { smartRedisSession } from "connect-smart-redis/fastify";

const app = Fastify();
await app.register(smartRedisSession, {
  client: createClient({ url: process.env.REDIS_URL }),
  secret: process.env.SESSION_SECRET ?? "a secret of at least thirty-two characters",
  cookie: { secure: "auto", maxAge: 24 * 3600 * 1000 }, // "auto": a Secure cookie over HTTPS only
});

app.post("/login", async (request, reply) => {
  const { user } = request.query;
  if (!user) return reply.code(400).send("Say who: POST /login?user=alice");
  await request.session.regenerate(); // a new session id at login; the old session is destroyed
  request.session.user = user;
  return `Logged in as ${user}`;
});

app.get("/", (request, reply) => {
  if (!request.session.user) return reply.code(401).send("Not logged in: POST /login?user=alice");
  request.session.visits = (request.session.visits ?? 0) + 1;
  return reply.send(`Hello ${request.session.user}, visit ${request.session.visits}`);
});

app.post("/logout", async (request) => {
  await request.session.destroy();
  return "Logged out";
});

const port = Number(process.env.PORT ?? 3000);
await app.listen({ port });
console.log(`Listening on http://localhost:${port}`);
