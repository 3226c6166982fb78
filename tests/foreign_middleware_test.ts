/**
 * The session middlewares that copy what the store loads (@fastify/session,
 * koa-session) cannot keep the store's guarantees: SmartRedisStore refuses them
 * loudly at the first save, naming the face to use, instead of losing writes.
 */

import assert from "node:assert/strict";
import Fastify from "fastify";
import fastifyCookie from "@fastify/cookie";
import fastifySession from "@fastify/session";
import Koa from "koa";
import koaSession from "koa-session";
import { SmartRedisStore } from "../mod.ts";
import { connectClient, listenLoopback, startRedisServer, test } from "./_helpers.ts";

const SECRET = "a secret of at least thirty-two characters";

test("@fastify/session with SmartRedisStore fails loudly, naming the Fastify face, instead of losing writes", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const app = Fastify();
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: SECRET,
    cookie: { secure: false },
    store: new SmartRedisStore({ client }) as unknown as fastifySession.SessionStore,
  });
  app.get("/", (request, reply) => {
    (request.session as unknown as Record<string, unknown>).visits = 1;
    reply.send("hi");
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  try {
    const answer = await fetch(`http://127.0.0.1:${(app.server.address() as { port: number }).port}/`);
    const body = await answer.text();
    assert.equal(answer.status, 500);
    assert.match(body, /@fastify\/session.*connect-smart-redis\/fastify/);
  } finally {
    await app.close();
  }
});

test("koa-session with SmartRedisStore fails loudly, naming the Koa face, instead of losing writes", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const app = new Koa();
  app.keys = ["koa test secret"];
  app.use(koaSession({ store: new SmartRedisStore({ client }) as never }, app));
  let failure: unknown;
  app.on("error", (error) => failure = error);
  app.use((ctx) => {
    (ctx.session as Record<string, unknown>).visits = 1;
    ctx.body = "hi";
  });
  await using listening = await listenLoopback(app);
  const answer = await fetch(listening.url);
  await answer.text();
  assert.equal(answer.status, 500);
  assert.match(String(failure), /koa-session.*connect-smart-redis\/koa/);
});
