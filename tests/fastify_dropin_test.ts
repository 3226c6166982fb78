/**
 * The Fastify face as a drop-in for @fastify/session, over real HTTP on a real
 * redis-server: each case is a behaviour @fastify/session's own suite checks
 * (see tests/peer_suites/), guarded here because CI cannot run that suite.
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import {
  type FastifySessionOptions,
  type FastifySessionStore,
  type FastifySmartSession,
  smartRedisSession,
} from "../fastify.ts";
import { type Client, connectClient, startRedisServer, test } from "./_helpers.ts";

declare module "fastify" {
  interface FastifyRequest {
    session: FastifySmartSession;
  }
}

const SECRET = "a secret of at least thirty-two characters";

interface Running extends AsyncDisposable {
  app: FastifyInstance;
  get(path: string, headers?: Record<string, string>): Promise<{ body: string; cookies: string[] }>;
}

/** A Fastify app with the face, its routes added by `routes`, listening on loopback. */
async function start(
  client: Client,
  options: Partial<FastifySessionOptions>,
  routes: (app: FastifyInstance) => void,
): Promise<Running> {
  const app = Fastify({ trustProxy: true });
  await app.register(smartRedisSession, { client, secret: SECRET, cookie: { secure: false }, ...options });
  routes(app);
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as { port: number };
  return {
    app,
    async get(path, headers = {}) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
      return { body: await response.text(), cookies: response.headers.getSetCookie() };
    },
    async [Symbol.asyncDispose]() {
      await app.close();
    },
  };
}

const pair = (setCookie: string) => setCookie.split(";", 1)[0];

test("fastify drop-in: idGenerator gets the request, and at regenerate() sees the session it replaces", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using web = await start(client, {
    idGenerator: (request) =>
      `${request?.session?.returningVisitor ? "returning" : "custom"}-${Math.random()}`,
  }, (app) => {
    app.get("/", (request) => request.session.sessionId);
    app.get("/login", async (request) => {
      request.session.returningVisitor = true;
      await request.session.regenerate(["returningVisitor"]);
      return request.session.sessionId;
    });
  });
  const first = await web.get("/");
  assert.match(first.body, /^custom-/);
  const login = await web.get("/login", { cookie: pair(first.cookies[0]) });
  assert.match(login.body, /^returning-/);
  assert.match((await web.get("/", { cookie: pair(login.cookies[0]) })).body, /^returning-/);
});

test("fastify drop-in: cookie.expires is sent and ends the session in Redis then", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const expires = new Date(Date.now() + 3_600_000);
  await using web = await start(client, { cookie: { secure: false, expires } }, (app) => {
    app.get("/", (request) => {
      request.session.n = 1;
      return request.session.sessionId;
    });
  });
  const { body, cookies } = await web.get("/");
  assert.match(cookies[0], new RegExp(`; Expires=${expires.toUTCString()}; HttpOnly$`));
  const pttl = await client.pTTL(`session:${body}`);
  assert.ok(Math.abs(pttl - (expires.getTime() - Date.now())) < 5_000, `PTTL ${pttl}`);
});

test("fastify drop-in: Set-Cookie as @fastify/session writes it (Expires, no Max-Age, no default SameSite)", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using web = await start(client, { cookie: { secure: false, maxAge: 400 } }, (app) => {
    app.get("/", (request) => {
      request.session.n = 1;
      return request.session.sessionId;
    });
  });
  const before = Date.now();
  const { body, cookies } = await web.get("/");
  assert.match(cookies[0], /^sessionId=[^;]+; Path=\/; Expires=[^;]+; HttpOnly$/);
  // A sub-second maxAge is no Max-Age=0 (which deletes the cookie): the browser keeps it as Redis does.
  const expires = Date.parse(/Expires=([^;]+)/.exec(cookies[0])![1]);
  assert.ok(expires >= Math.floor(before / 1000) * 1000, cookies[0]);
  assert.ok(await client.pTTL(`session:${body}`) > 0);
});

test("fastify drop-in: secure 'auto' with sameSite 'none' falls back to Lax without Secure over plain HTTP", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using web = await start(client, { cookie: { secure: "auto", sameSite: "none" } }, (app) => {
    app.get("/", (request) => {
      request.session.n = 1;
      return "ok";
    });
  });
  const plain = await web.get("/");
  assert.match(plain.cookies[0], /; HttpOnly; SameSite=Lax$/);
  const https = await web.get("/", { "x-forwarded-proto": "https" });
  assert.match(https.cookies[0], /; HttpOnly; Secure; SameSite=None$/);
});

test("fastify drop-in: request.session.cookie, touch() and options() as in @fastify/session", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using web = await start(
    client,
    { cookie: { secure: false, maxAge: 60_000 }, rolling: false },
    (app) => {
      app.get("/", (request) => {
        const cookie = request.session.cookie;
        const expires = cookie.expires!.getTime();
        request.session.touch();
        return {
          originalMaxAge: cookie.originalMaxAge,
          left: cookie.maxAge,
          expires,
          touched: cookie.expires,
        };
      });
      app.get("/long", (request) => {
        request.session.n = 1;
        request.session.options({ maxAge: 3_600_000, httpOnly: false });
        return request.session.sessionId;
      });
    },
  );
  const seen = JSON.parse((await web.get("/")).body);
  assert.equal(seen.originalMaxAge, 60_000);
  assert.ok(seen.left > 55_000 && seen.left <= 60_000);
  assert.ok(Date.parse(seen.touched) >= seen.expires);
  const long = await web.get("/long");
  assert.doesNotMatch(long.cookies[0], /HttpOnly/);
  assert.ok(
    await client.pTTL(`session:${long.body}`) > 3_500_000,
    "options({ maxAge }) is the life in Redis",
  );
  // The session keeps its own settings at its next load.
  const again = JSON.parse((await web.get("/", { cookie: pair(long.cookies[0]) })).body);
  assert.equal(again.originalMaxAge, 3_600_000);
});

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

function sig(value: string, algorithm = "sha256", secret = SECRET): string {
  return createHmac(algorithm, secret).update(value).digest("base64").replace(/=+$/, "");
}

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
