/**
 * What users of each framework's usual session plugin expect of the faces: the
 * callback style, path-scoped and Secure cookies, and a login that a slow request on
 * the old session cannot undo.
 */

import assert from "node:assert/strict";
import Fastify from "fastify";
import Koa from "koa";
import koaSession from "koa-session";
import { type FastifySmartSession, smartRedisSession as fastifySession } from "../fastify.ts";
import { smartRedisSession as koaFace } from "../koa.ts";
import { connectClient, listenLoopback, startRedisServer, test } from "./_helpers.ts";

declare module "fastify" {
  interface FastifyRequest {
    session: FastifySmartSession;
  }
}

const SECRET = "a secret of at least thirty-two characters";

test("fastify: @fastify/session's callback style destroy(cb) answers instead of hanging", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const app = Fastify();
  await app.register(fastifySession, { client, secret: SECRET, cookie: { secure: false } });
  app.get("/", (request, reply) => {
    request.session.visits = 1;
    reply.send("hi");
  });
  // As @fastify/session's README shows it: a callback, the reply sent from it.
  app.get("/logout", (request, reply) => {
    (request.session.destroy as unknown as (cb: (error?: Error) => void) => void)((error) => {
      reply.send(error ? "error" : "bye");
    });
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  try {
    const { port } = app.server.address() as { port: number };
    const first = await fetch(`http://127.0.0.1:${port}/`);
    const cookie = first.headers.getSetCookie()[0].split(";")[0];
    await first.text();
    const answer = await fetch(`http://127.0.0.1:${port}/logout`, {
      headers: { cookie },
      signal: AbortSignal.timeout(3000),
    }).then((response) => response.text(), (error) => `no answer: ${error.name}`);
    assert.equal(answer, "bye");
  } finally {
    await app.close();
  }
});

test("fastify: with the default secure cookie, plain-HTTP requests store no session (as @fastify/session)", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using redis = await connectClient(server);
  const app = Fastify();
  // Defaults of @fastify/session: cookie.secure = true, saveUninitialized = true.
  await app.register(fastifySession, { client, secret: SECRET });
  app.get("/", () => "hello");
  await app.listen({ port: 0, host: "127.0.0.1" });
  try {
    const { port } = app.server.address() as { port: number };
    const setCookies: string[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/`);
      setCookies.push(...response.headers.getSetCookie());
      await response.text();
    }
    // A browser drops a Secure cookie set over http, so every request is a new visitor.
    const keys = await redis.keys("session:*");
    assert.equal(keys.length, 0, `${keys.length} sessions stored; Set-Cookie: ${setCookies[0]}`);
  } finally {
    await app.close();
  }
});

test("koa: over HTTPS (behind a proxy) the session cookie is Secure by default, as koa-session's", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const headers = { "x-forwarded-proto": "https" };
  // koa-session, for reference: Koa's cookies mark a cookie Secure on an HTTPS request by default.
  const reference = new Koa({ proxy: true, keys: ["k"] });
  reference.use(koaSession({}, reference));
  reference.use((ctx) => {
    ctx.session!.visits = 1;
    ctx.body = "ok";
  });
  await using ref = await listenLoopback(reference);
  const refCookie = (await fetch(ref.url, { headers })).headers.getSetCookie()[0];
  assert.match(refCookie, /secure/i, "koa-session's cookie is Secure over HTTPS");

  const app = new Koa({ proxy: true, keys: ["k"] });
  app.use(koaFace({ client }) as Koa.Middleware);
  app.use((ctx) => {
    (ctx as unknown as { session: Record<string, unknown> }).session.visits = 1;
    ctx.body = "ok";
  });
  await using face = await listenLoopback(app);
  const response = await fetch(face.url, { headers });
  await response.text();
  const cookie = response.headers.getSetCookie().find((line) => line.startsWith("koa.sess="))!;
  assert.match(cookie, /secure/i, `the face's cookie over HTTPS: ${cookie}`);
});

test("fastify: with cookie.path /admin, a visit outside /admin does not replace the /admin session cookie", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const app = Fastify();
  // As @fastify/session (which leaves requests outside cookie.path without a session).
  await app.register(fastifySession, { client, secret: SECRET, cookie: { secure: false, path: "/admin" } });
  app.get("/", () => "home");
  app.get("/admin/login", (request) => {
    request.session.user = "ada";
    return "in";
  });
  app.get("/admin/me", (request) => String(request.session.user ?? "nobody"));
  await app.listen({ port: 0, host: "127.0.0.1" });
  try {
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    // A browser keeps one cookie per (name, host, path): it sends the /admin cookie only under /admin,
    // and a Set-Cookie with Path=/admin from any page replaces it.
    let adminCookie = "";
    const keep = (response: Response) => {
      for (const line of response.headers.getSetCookie()) {
        if (/;\s*Path=\/admin(;|$)/i.test(line)) adminCookie = line.split(";")[0];
      }
      return response.text();
    };
    await keep(await fetch(`${base}/admin/login`));
    assert.equal(await keep(await fetch(`${base}/admin/me`, { headers: { cookie: adminCookie } })), "ada");
    await keep(await fetch(`${base}/`)); // the home page: the browser sends no /admin cookie there
    assert.equal(await keep(await fetch(`${base}/admin/me`, { headers: { cookie: adminCookie } })), "ada");
  } finally {
    await app.close();
  }
});

/** A browser's cookie store for one cookie name: Set-Cookie lines are applied in the order responses arrive. */
class OneCookie {
  value = "";
  async fetch(url: string): Promise<string> {
    const response = await fetch(url, { headers: this.value ? { cookie: this.value } : {} });
    const body = await response.text();
    for (const line of response.headers.getSetCookie()) this.value = line.split(";")[0];
    return body;
  }
}

test("hono: a slow request on the old session, ending after a login's regenerate(), does not log the user out", async (t) => {
  const slowChanges = {
    "a property": (session: Record<string, unknown>) => session.lastSeen = "now", // e.g. analytics
    "only the cookie's life": (session: Record<string, unknown>) => session.maxAge = 7 * 86400000, // "remember me"
  };
  for (const [name, change] of Object.entries(slowChanges)) {
    await t.step(name, async () => {
      const { Hono } = await import("hono");
      const { smartRedisSession: honoFace } = await import("../hono.ts");
      await using server = await startRedisServer();
      await using client = await connectClient(server);
      const app = new Hono();
      app.use(honoFace({ client, secret: "hono secret" }));
      const session = (c: { get(key: never): unknown }) =>
        c.get("session" as never) as Record<string, unknown>;
      app.get("/visit", (c) => {
        session(c).visits = 1;
        return c.text("hi");
      });
      app.get("/slow", async (c) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        change(session(c));
        return c.text("slow");
      });
      app.get("/login", async (c) => {
        await (session(c).regenerate as () => Promise<void>)();
        session(c).user = "ada";
        return c.text("in");
      });
      app.get("/me", (c) => c.text(String(session(c).user ?? "nobody")));
      const http = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
      try {
        const base = `http://127.0.0.1:${http.addr.port}`;
        const browser = new OneCookie();
        await browser.fetch(`${base}/visit`);
        const slow = browser.fetch(`${base}/slow`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.equal(await browser.fetch(`${base}/login`), "in");
        assert.equal(await browser.fetch(`${base}/me`), "ada");
        await slow; // answers after the login, on the old (now destroyed) session
        assert.equal(
          await browser.fetch(`${base}/me`),
          "ada",
          "the user was logged out by the slow response",
        );
      } finally {
        await http.shutdown();
      }
    });
  }
});

// A read-only request under rolling: true still sends its (old) cookie again: the face cannot know
// the session was destroyed without a round trip more (README, Fastify).
test("fastify: a changing request on the old session, ending after a login's regenerate(), does not log the user out", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const app = Fastify();
  await app.register(fastifySession, { client, secret: SECRET, cookie: { secure: false } }); // rolling: true
  app.get("/visit", (request) => {
    request.session.visits = 1;
    return "hi";
  });
  app.get("/slow", async (request) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    request.session.visits = 2;
    return "slow";
  });
  app.get("/login", async (request) => {
    await request.session.regenerate();
    request.session.user = "ada";
    return "in";
  });
  app.get("/me", (request) => String(request.session.user ?? "nobody"));
  await app.listen({ port: 0, host: "127.0.0.1" });
  try {
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const browser = new OneCookie();
    await browser.fetch(`${base}/visit`);
    const slow = browser.fetch(`${base}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await browser.fetch(`${base}/login`), "in");
    assert.equal(await browser.fetch(`${base}/me`), "ada");
    await slow;
    assert.equal(await browser.fetch(`${base}/me`), "ada", "the user was logged out by the slow response");
  } finally {
    await app.close();
  }
});

test("koa: ctx.session.maxAge = 'session' makes a browser-session cookie, as in koa-session", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const app = new Koa({ keys: ["k"] });
  app.use(koaFace({ client }) as Koa.Middleware);
  app.use((ctx) => {
    const session = (ctx as unknown as { session: { maxAge: unknown; visits?: number } }).session;
    session.maxAge = "session";
    session.visits = 1;
    ctx.body = String(session.maxAge);
  });
  await using face = await listenLoopback(app);
  const response = await fetch(face.url);
  assert.equal(await response.text(), "null");
  const cookie = response.headers.getSetCookie().find((line) => line.startsWith("koa.sess="))!;
  assert.doesNotMatch(cookie, /expires/i, `not a browser-session cookie: ${cookie}`);
});

test("koa: without app.keys a signed session fails before anything is stored", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using redis = await connectClient(server);
  const app = new Koa();
  app.silent = true;
  app.use(koaFace({ client }) as Koa.Middleware);
  app.use((ctx) => {
    (ctx as unknown as { session: Record<string, unknown> }).session.visits = 1;
    ctx.body = "ok";
  });
  await using face = await listenLoopback(app);
  const response = await fetch(face.url);
  await response.text();
  assert.equal(response.status, 500);
  assert.deepEqual(await redis.keys("*"), [], "a session was stored though its cookie could not be set");
});

test("fastify: an empty secret among several is refused", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const app = Fastify();
  await assert.rejects(
    (async () => await app.register(fastifySession, { client, secret: [""], cookie: { secure: false } }))(),
    TypeError,
  );
  await app.close().catch(() => {});
});

test("fastify: a request outside cookie.path still has a request.session (as @fastify/session)", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const app = Fastify();
  await app.register(fastifySession, { client, secret: SECRET, cookie: { secure: false, path: "/app" } });
  // A global auth check, as apps write it.
  app.addHook("preHandler", (request, _reply, done) => {
    (request as unknown as { user: unknown }).user = request.session.user ?? null;
    done();
  });
  app.get("/public", () => "public");
  await app.listen({ port: 0, host: "127.0.0.1" });
  try {
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const response = await fetch(`${base}/public`);
    const body = await response.text();
    assert.equal(response.status, 200, `outside cookie.path: ${body}`);
  } finally {
    await app.close();
  }
});
