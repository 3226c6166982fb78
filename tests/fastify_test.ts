/**
 * End-to-end: the Fastify face (connect-smart-redis/fastify) over real HTTP,
 * against a real redis-server.
 */

import assert from "node:assert/strict";
import Fastify from "fastify";
import { type FastifySmartSession, smartRedisSession } from "../fastify.ts";
import { CookieJar, faceScenarios, type StartFace } from "./_face_scenarios.ts";
import { connectClient, delay, startRedisServer, test } from "./_helpers.ts";

declare module "fastify" {
  interface FastifyRequest {
    session: FastifySmartSession;
  }
}

const SECRET = "a secret of at least thirty-two characters";

const startFastify: StartFace = async (client, store, face = {}) => {
  const app = Fastify();
  await app.register(smartRedisSession, {
    client,
    ...store,
    secret: SECRET,
    cookie: { secure: false },
    rolling: false,
    saveUninitialized: false,
    ...face,
  });
  app.get("/", (request, reply) => {
    request.session.visits = ((request.session.visits as number) || 0) + 1;
    reply.send(`You visited this site ${request.session.visits} times!`);
  });
  app.get("/read", (request, reply) => {
    reply.send(String(request.session.visits ?? "none"));
  });
  app.get<{ Params: { name: string; value: string }; Querystring: { delay?: string } }>(
    "/set/:name/:value",
    async (request) => {
      await delay(Number(request.query.delay ?? 0));
      request.session.set(request.params.name, request.params.value);
      return "set";
    },
  );
  app.get<{ Querystring: { delay?: string } }>("/incr", async (request) => {
    const n = (request.session.get<number>("n") ?? 0) + 1;
    await delay(Number(request.query.delay ?? 0));
    request.session.n = n;
    return String(n);
  });
  app.get("/n", (request, reply) => {
    reply.send(String(request.session.n ?? "none"));
  });
  app.get("/logout", async (request) => {
    await request.session.destroy();
    return "bye";
  });
  app.get("/login", async (request) => {
    request.session.user = "ada";
    await request.session.regenerate(["user"]);
    return "in";
  });
  app.get("/others", async (request) => {
    const session = request.session;
    return String(await session.destroyUser(String(session.user), { except: session.sessionId }));
  });
  app.get("/id", (request, reply) => {
    reply.send(request.session.sessionId);
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      await app.close();
    },
  };
};

faceScenarios("fastify", startFastify, { rolling: { rolling: true } });

test("fastify: the cookie is signed as @fastify/session signs it, and a forged one starts a new session", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using app = await startFastify(client, {}, { cookieName: "sid" });
  const first = await fetch(app.url);
  const cookie = first.headers.getSetCookie()[0].split(";")[0];
  await first.text();
  const [, value] = cookie.split("=");
  const [sid, signature] = decodeURIComponent(value).split(".");
  const { createHmac } = await import("node:crypto");
  assert.equal(signature, createHmac("sha256", SECRET).update(sid).digest("base64").replace(/=+$/, ""));
  const again = await fetch(app.url, { headers: { cookie } });
  assert.equal(await again.text(), "You visited this site 2 times!");
  const forged = await fetch(app.url, { headers: { cookie: `sid=${encodeURIComponent(`${sid}.forged`)}` } });
  assert.equal(await forged.text(), "You visited this site 1 times!");
});

test("fastify: with rolling: true every response re-sends the cookie, at no extra Redis cost", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using app = await startFastify(client, {}, {
    rolling: true,
    cookie: { secure: false, maxAge: 60_000 },
  });
  const first = await fetch(app.url);
  const cookie = first.headers.getSetCookie()[0].split(";")[0];
  await first.text();
  const read = await fetch(`${app.url}/read`, { headers: { cookie } });
  assert.equal(await read.text(), "1");
  const resent = read.headers.getSetCookie();
  assert.equal(resent.length, 1);
  // As @fastify/session: Expires (one maxAge from now), no Max-Age.
  const expires = Date.parse(/Expires=([^;]+)/.exec(resent[0])![1]);
  assert.ok(Math.abs(expires - (Date.now() + 60_000)) < 5_000, resent[0]);
  assert.doesNotMatch(resent[0], /Max-Age/);
});

test("fastify: regenerate(keys) moves the listed properties to a new id and destroys the old session", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using redis = await connectClient(server);
  await using app = await startFastify(client, {});
  const jar = new CookieJar();
  await jar.get(app.url);
  const before = (await jar.get(`${app.url}/id`)).body;
  assert.equal((await jar.get(`${app.url}/login`)).body, "in");
  const after = (await jar.get(`${app.url}/id`)).body;
  assert.notEqual(after, before);
  assert.deepEqual({ ...await redis.hGetAll(`session:${before}`) }, { "\0dead": "1" });
  assert.equal(await redis.hGet(`session:${after}`, "user"), '"ada"');
  assert.equal(await redis.hGet(`session:${after}`, "visits"), null, "only the listed properties are kept");
});
