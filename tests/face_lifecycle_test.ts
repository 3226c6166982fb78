/**
 * How the Fastify, Koa and Hono faces end a request: a changed session gets its
 * cookie again (so it lives as long as it is used), an aborted Fastify request
 * still commits what its handler changed (and holds its lock until then), a Hono
 * handler that throws writes nothing, Koa's ctx.session setter takes JSON safely,
 * and a logout without a session costs Redis nothing.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import Koa from "koa";
import { type SessionVariables, smartRedisSession } from "../hono.ts";
import { smartRedisSession as koaSession } from "../koa.ts";
import { connectClient, delay, Monitor, startRedisServer, test, withNodeProto } from "./_helpers.ts";
import type { AddressInfo } from "node:net";
import Fastify from "fastify";
import { smartRedisSession as fastifySession } from "../fastify.ts";
import { CookieJar } from "./_face_scenarios.ts";

/** A browser that honours Max-Age. */
class ExpiringJar {
  cookies = new Map<string, { value: string; until: number }>();
  async get(url: string) {
    const now = Date.now();
    for (const [k, v] of this.cookies) if (v.until <= now) this.cookies.delete(k);
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v.value}`).join("; ");
    const r = await fetch(url, { headers: cookie ? { cookie } : {} });
    for (const line of r.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const [name, value] = [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
      const ma = attrs.map((a) => a.trim()).find((a) => /^max-age=/i.test(a));
      const ex = attrs.map((a) => a.trim()).find((a) => /^expires=/i.test(a));
      const until = ma
        ? Date.now() + Number(ma.split("=")[1]) * 1000
        : ex
        ? Date.parse(ex.slice(8))
        : Infinity;
      this.cookies.set(name, { value, until });
    }
    return { body: await r.text(), setCookie: r.headers.getSetCookie().length };
  }
}

test("hono (rolling: false, the default): a session changed on every request gets its cookie again and outlives maxAge", async () => {
  await using rs = await startRedisServer();
  await using client = await connectClient(rs);
  const app = new Hono<{ Variables: SessionVariables }>();
  app.use(smartRedisSession({ client, secret: "s", cookie: { maxAge: 3000 } }));
  app.get("/", (c) => {
    const s = c.get("session");
    s.n = ((s.n as number) ?? 0) + 1;
    return c.text(String(s.n));
  });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
  try {
    const jar = new ExpiringJar();
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await jar.get(`http://127.0.0.1:${server.addr.port}/`);
      seen.push(`${r.body}${r.setCookie ? "+cookie" : ""}`);
      await delay(600);
    }
    assert.equal(seen.at(-1)!.split("+")[0], "8", "the session was lost while in use");
  } finally {
    await server.shutdown();
  }
});

test("koa (rolling: false, the default): a session changed on every request outlives maxAge", async () => {
  await using rs = await startRedisServer();
  await using client = await connectClient(rs);
  const app = new Koa();
  app.keys = ["k"];
  app.use(koaSession({ client, maxAge: 3000 } as never));
  // deno-lint-ignore no-explicit-any
  app.use((ctx: any) => {
    ctx.session.n = (ctx.session.n ?? 0) + 1;
    ctx.body = String(ctx.session.n);
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  try {
    const jar = new ExpiringJar();
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await jar.get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      seen.push(`${r.body}${r.setCookie ? "+cookie" : ""}`);
      await delay(600);
    }
    assert.equal(seen.at(-1)!.split("+")[0], "8", "the session was lost while in use");
  } finally {
    server.close();
  }
});

async function start(client: unknown, extra: Record<string, unknown> = {}) {
  const app = Fastify();
  await app.register(fastifySession, {
    client,
    secret: "a secret of at least thirty-two characters",
    cookie: { secure: false },
    rolling: false,
    saveUninitialized: false,
    ...extra,
  } as never);
  // deno-lint-ignore no-explicit-any
  app.get("/", (request: any) => {
    request.session.visits = 1;
    return "ok";
  });
  // deno-lint-ignore no-explicit-any
  app.get("/id", (request: any) => request.session.sessionId);
  // deno-lint-ignore no-explicit-any
  app.get("/slow", async (request: any) => {
    await delay(400);
    request.session.order = "placed";
    return "done";
  });
  // deno-lint-ignore no-explicit-any
  app.get("/incr", async (request: any) => {
    const n = (request.session.n ?? 0) + 1;
    await delay(400);
    request.session.n = n;
    return String(n);
  });
  // deno-lint-ignore no-explicit-any
  app.get("/n", (request: any) => String(request.session.n ?? "none"));
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}

test("fastify: a request whose client went away still commits what its handler changed", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using redis = await connectClient(server);
  const { app, url } = await start(client);
  try {
    const jar = new CookieJar();
    await jar.get(url);
    const sid = (await jar.get(`${url}/id`)).body;
    const ac = new AbortController();
    const c = await getCookie(jar, url);
    const p = fetch(`${url}/slow`, { headers: { cookie: c }, signal: ac.signal }).catch((e) => e);
    await delay(100);
    ac.abort();
    await p;
    await delay(700);
    assert.equal(
      await redis.hGet(`session:${sid}`, "order"),
      '"placed"',
      "the aborted request's change was dropped",
    );
  } finally {
    await app.close();
  }
});

test("fastify lock mode: an aborted request keeps its lock until its handler ends (two increments → 2)", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const { app, url } = await start(client, { lock: true, retryTime: 10 });
  try {
    const jar = new CookieJar();
    await jar.get(url);
    const c = await getCookie(jar, url);
    const ac = new AbortController();
    const first = fetch(`${url}/incr`, { headers: { cookie: c }, signal: ac.signal }).catch((e) => e);
    await delay(100);
    ac.abort();
    await first;
    assert.equal(await (await fetch(`${url}/incr`, { headers: { cookie: c } })).text(), "2");
    await delay(100);
    const n = await (await fetch(`${url}/n`, { headers: { cookie: c } })).text();
    assert.equal(n, "2", "lock mode: two increments must give 2");
  } finally {
    await app.close();
  }
});

async function getCookie(jar: CookieJar, _url: string): Promise<string> {
  // The jar keeps cookies privately: capture the header it sends through a tiny echo.
  const echo = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    (req) => new Response(req.headers.get("cookie") ?? ""),
  );
  try {
    return (await jar.get(`http://127.0.0.1:${echo.addr.port}/`)).body;
  } finally {
    await echo.shutdown();
  }
}

test("hono: a handler that throws writes none of its changes", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using redis = await connectClient(server);
  const app = new Hono<{ Variables: SessionVariables }>();
  app.use(smartRedisSession({ client, secret: "s" }));
  app.get("/", (c) => {
    c.get("session").v = 1;
    return c.text(c.get("session").id);
  });
  app.get("/boom", (c) => {
    c.get("session").half = "written";
    throw new Error("boom");
  });
  // The throw is the case: answered 500 as Hono's default handler does, without printing it.
  app.onError((_error, c) => c.text("Internal Server Error", 500));
  const served = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
  try {
    const url = `http://127.0.0.1:${served.addr.port}`;
    const first = await fetch(url);
    const sid = await first.text();
    const cookie = first.headers.get("set-cookie")!.split(";")[0];
    const boom = await fetch(`${url}/boom`, { headers: { cookie } });
    assert.equal(boom.status, 500);
    await boom.text();
    assert.equal(await redis.hGet(`session:${sid}`, "half"), null);
    assert.equal(await redis.hGet(`session:${sid}`, "v"), "1");
  } finally {
    await served.shutdown();
  }
});

test("koa: ctx.session = JSON with __proto__ stores it as data; a logout without a session sends nothing", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using redis = await connectClient(server);
  const app = new Koa();
  app.keys = ["k"];
  app.use(koaSession({ client } as never));
  // deno-lint-ignore no-explicit-any
  app.use((ctx: any) => {
    if (ctx.path === "/replace") {
      ctx.session = JSON.parse('{"__proto__":{"isAdmin":true},"user":"eve"}');
      ctx.body = `${typeof ctx.session.save} ${ctx.session.isAdmin} ${ctx.session.id}`;
    } else if (ctx.path === "/logout") {
      ctx.session = null;
      ctx.body = "bye";
    } else ctx.body = "ok";
  });
  const listening = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => listening.once("listening", resolve));
  const url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  try {
    const answer = await withNodeProto(async () => await (await fetch(`${url}/replace`)).text());
    const [save, isAdmin, sid] = answer.split(" ");
    assert.equal(save, "function", "the session lost its methods");
    assert.equal(isAdmin, "undefined", "the session took a prototype from user JSON");
    assert.equal(await redis.hGet(`session:${sid}`, "__proto__"), '{"isAdmin":true}');
    await using monitor = await Monitor.start(server);
    assert.equal(await (await fetch(`${url}/logout`)).text(), "bye");
    assert.deepEqual(await monitor.commands(), []);
  } finally {
    listening.close();
  }
});
