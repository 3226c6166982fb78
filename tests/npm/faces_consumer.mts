// A TypeScript consumer of the framework faces' types (connect-smart-redis/fastify, /koa, /hono);
// type-checked (not run) with tsconfig.nodenext.json and tsconfig.bundler.json.
import Fastify from "fastify";
import Koa from "koa";
import { Hono } from "hono";
import { createClient } from "redis";
import { type FastifySmartSession, smartRedisSession as fastifySession } from "connect-smart-redis/fastify";
import { smartRedisSession as koaSession, type SmartSession } from "connect-smart-redis/koa";
import { type SessionVariables, smartRedisSession as honoSession } from "connect-smart-redis/hono";

declare module "fastify" {
  interface FastifyRequest {
    session: FastifySmartSession;
  }
}

const fastify = Fastify();
await fastify.register(fastifySession, { client: createClient(), secret: "a secret of at least 32 characters" });
fastify.get("/", async (request) => {
  request.session.set("visits", (request.session.get<number>("visits") ?? 0) + 1);
  return request.session.sessionId;
});

const koa = new Koa();
koa.use(koaSession({ client: createClient(), maxAge: "session", lock: true }));
koa.use((ctx) => {
  const session = (ctx as unknown as { session: SmartSession }).session;
  session.maxAge = 60_000;
  ctx.body = session.id;
});

const hono = new Hono<{ Variables: SessionVariables }>();
hono.use(honoSession({ client: createClient(), secret: "a secret", cookie: { sameSite: "strict" } }));
hono.get("/", async (c) => {
  await c.get("session").regenerate();
  return c.text(c.get("session").id);
});

export { fastify, hono, koa };
