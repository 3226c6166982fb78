/**
 * The Fastify face as a drop-in for @fastify/session, over real HTTP on a real
 * redis-server: the session cookie (each case a behaviour @fastify/session's own
 * suite checks, see tests/peer_suites/; guarded here because CI cannot run it).
 */

import assert from "node:assert/strict";
import { connectClient, Monitor, startRedisServer, test } from "./_helpers.ts";
import { pair, start } from "./_fastify_app.ts";

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

test("fastify drop-in: the cookie's settings stored with the session cost a read-only request nothing more", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  // A day: the lazy renewal (due after 1 % of the life) cannot fall due between the two requests on a busy machine.
  const cookie = { secure: false, maxAge: 24 * 3600_000, sameSite: "strict" as const, domain: "127.0.0.1" };
  await using web = await start(client, { cookie, rolling: true }, (app) => {
    app.get("/", (request) => {
      request.session.n = 1;
      return "set";
    });
    app.get("/read", (request) => String(request.session.n));
  });
  const first = await web.get("/");
  await using monitor = await Monitor.start(server);
  const read = await web.get("/read", { cookie: pair(first.cookies[0]) });
  assert.equal(read.body, "1");
  assert.match(read.cookies[0], /; Domain=127\.0\.0\.1; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Strict$/);
  const commands = (await monitor.commands()).map((args) => args[0]);
  assert.equal(commands.length, 1, commands.join(" "));
});
