/**
 * The Fastify face as a drop-in for @fastify/session, over real HTTP on a real
 * redis-server: the session's methods, decorators and options (each case a
 * behaviour @fastify/session's own suite checks, see tests/peer_suites/).
 */

import assert from "node:assert/strict";
import Fastify, { type FastifyInstance } from "fastify";
import {
  type FastifySessionOptions,
  type FastifySessionStore,
  type FastifySmartSession,
  smartRedisSession,
} from "../fastify.ts";
import { connectClient, startRedisServer, test } from "./_helpers.ts";
import { pair, SECRET, sig, start } from "./_fastify_app.ts";

test("fastify drop-in: isModified() and isSaved(); a session saved by hand gets its cookie", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using web = await start(client, { saveUninitialized: false, rolling: false }, (app) => {
    app.get("/", async (request) => {
      const states = [request.session.isModified(), request.session.isSaved()];
      request.session.userId = 42;
      states.push(request.session.isModified());
      await request.session.save();
      states.push(request.session.isModified(), request.session.isSaved());
      return states;
    });
  });
  const { body, cookies } = await web.get("/");
  assert.deepEqual(JSON.parse(body), [false, false, true, false, true]);
  assert.equal(cookies.length, 1);
});

test("fastify drop-in: reload() on a session never saved drops its unsaved changes", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using web = await start(client, {}, (app) => {
    app.get("/", async (request) => {
      request.session.someData = "some-data";
      await request.session.reload();
      return String(request.session.someData);
    });
    app.get("/cb", (request, reply) => {
      request.session.someData = "some-data";
      request.session.reload((error) => reply.send(`${error} ${request.session.someData}`));
    });
  });
  assert.equal((await web.get("/")).body, "undefined");
  assert.equal((await web.get("/cb")).body, "null undefined");
});

test("fastify drop-in: after destroy() request.session is null, and the cookie is cleared", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using web = await start(client, {}, (app) => {
    app.get("/", (request) => {
      request.session.n = 1;
      return request.session.sessionId;
    });
    app.get("/logout", (request, reply) => {
      request.session.destroy((error) => reply.send(`${error} ${request.session}`));
    });
  });
  const first = await web.get("/");
  const logout = await web.get("/logout", { cookie: pair(first.cookies[0]) });
  assert.equal(logout.body, "null null");
  assert.match(logout.cookies[0], /^sessionId=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT/);
  assert.deepEqual({ ...await client.hGetAll(`session:${first.body}`) }, { "\0dead": "1" });
});

test("fastify drop-in: a cookie naming no session is cleared when nothing is saved", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using web = await start(client, { saveUninitialized: false }, (app) => {
    app.get("/", () => "ok");
  });
  const stale = `sessionId=${encodeURIComponent(`gone.${sig("gone")}`)}`;
  const { cookies } = await web.get("/", { cookie: stale });
  assert.deepEqual(cookies, [
    "sessionId=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Lax",
  ]);
  assert.deepEqual((await web.get("/")).cookies, [], "no cookie, nothing to clear");
});

test("fastify drop-in: encryptedSessionId is the cookie's value; decryptSession loads a session onto any object", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using web = await start(client, {}, (app) => {
    app.get("/", (request) => {
      request.session.user = "ada";
      return request.session.encryptedSessionId;
    });
  });
  const { body, cookies } = await web.get("/");
  assert.equal(pair(cookies[0]), `sessionId=${encodeURIComponent(body)}`);
  const holder: { session?: FastifySmartSession } = {};
  await new Promise<void>((resolve, reject) =>
    (web.app as unknown as { decryptSession: (...args: unknown[]) => void }).decryptSession(
      body,
      holder,
      (error: unknown) => error ? reject(error) : resolve(),
    )
  );
  assert.equal(holder.session?.user, "ada");
  assert.equal(holder.session?.encryptedSessionId, body);
});

test("fastify drop-in: the algorithm option and a signer object as secret sign the cookie", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const route = (app: FastifyInstance) => app.get("/", (request) => request.session.sessionId);
  await using sha512 = await start(client, { algorithm: "sha512" }, route);
  const signed = await sha512.get("/");
  assert.equal(
    pair(signed.cookies[0]),
    `sessionId=${encodeURIComponent(`${signed.body}.${sig(signed.body, "sha512")}`)}`,
  );
  const signer = {
    sign: (value: string) => `${value}.mine`,
    unsign: (value: string) => ({ valid: value.endsWith(".mine"), renew: false, value: value.slice(0, -5) }),
  };
  await using custom = await start(client, { secret: signer }, route);
  const first = await custom.get("/");
  assert.equal(pair(first.cookies[0]), `sessionId=${encodeURIComponent(`${first.body}.mine`)}`);
  assert.equal((await custom.get("/", { cookie: pair(first.cookies[0]) })).body, first.body);
});

test("fastify drop-in: registration errors read as @fastify/session's", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const cases: [unknown, string][] = [
    [
      undefined,
      "the secret option is required, and must be a String, Array of Strings, or a signer object with .sign and .unsign methods",
    ],
    ["short", "the secret must have length 32 or greater"],
    [[], "at least one secret is required"],
    [
      { sign: () => "" },
      "the secret option is required, and must be a String, Array of Strings, or a signer object with .sign and .unsign methods",
    ],
  ];
  for (const [secret, message] of cases) {
    const app = Fastify();
    app.register(smartRedisSession, { client, secret } as FastifySessionOptions);
    await assert.rejects(async () => await app.ready(), { message });
    await app.close();
  }
  // A store cannot keep the guarantees (the plugin owns the session object): said, not ignored.
  const app = Fastify();
  app.register(smartRedisSession, { client, secret: SECRET, store: {} } as FastifySessionOptions);
  await assert.rejects(async () => await app.ready(), /Unknown option "store".*or one of this middleware's/);
  await app.close();
});

test("fastify drop-in: an async handler calling reply.send() without returning it still sends its payload", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using web = await start(client, {}, (app) => {
    app.get("/", async (request, reply) => {
      request.session.n = 1;
      await request.session.regenerate(["n"]);
      reply.send("sent");
    });
  });
  const { body, cookies } = await web.get("/");
  assert.equal(body, "sent");
  assert.equal(cookies.length, 1);
});

test("fastify drop-in: request.sessionStore reads, seeds and destroys sessions by id", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using web = await start(client, {}, (app) => {
    app.get("/seed", async (request) => {
      const store = (request as unknown as { sessionStore: FastifySessionStore }).sessionStore;
      await store.set("seeded", { user: "ada", cookie: { originalMaxAge: 60_000 } });
      const loaded = await store.get("seeded");
      await store.destroy("gone");
      return loaded?.user;
    });
    app.get("/", (request) => String(request.session.user));
  });
  assert.equal((await web.get("/seed")).body, "ada");
  assert.equal(
    (await web.get("/", { cookie: `sessionId=${encodeURIComponent(`seeded.${sig("seeded")}`)}` })).body,
    "ada",
  );
});

test("fastify drop-in: a commit that fails answers 500 (the error goes out through the plugin's hook again)", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using web = await start(client, { commandTimeout: 300 }, (app) => {
    app.get("/", async (request) => {
      await server.kill();
      request.session.n = 1;
      return "written?";
    });
  });
  const answer = await fetch(`${web.url}/`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(answer.status, 500);
  assert.match(await answer.text(), /"statusCode":500/);
});
