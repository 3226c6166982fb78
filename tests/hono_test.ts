/**
 * End-to-end: the Hono face (connect-smart-redis/hono) under Deno.serve over
 * real HTTP, against a real redis-server.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { type SessionVariables, smartRedisSession } from "../hono.ts";
import { CookieJar, faceScenarios, type StartFace } from "./_face_scenarios.ts";
import { connectClient, delay, startRedisServer, test } from "./_helpers.ts";

const startHono: StartFace = (client, store, face = {}) => {
  const app = new Hono<{ Variables: SessionVariables }>();
  app.use(smartRedisSession({ client, ...store, secret: "hono test secret", ...face }));
  app.get("/", (c) => {
    const session = c.get("session");
    session.visits = ((session.visits as number) || 0) + 1;
    return c.text(`You visited this site ${session.visits} times!`);
  });
  app.get("/read", (c) => c.text(String(c.get("session").visits ?? "none")));
  app.get("/set/:name/:value", async (c) => {
    await delay(Number(c.req.query("delay") ?? 0));
    c.get("session")[c.req.param("name")] = c.req.param("value");
    return c.text("set");
  });
  app.get("/incr", async (c) => {
    const session = c.get("session");
    const n = ((session.n as number) ?? 0) + 1;
    await delay(Number(c.req.query("delay") ?? 0));
    session.n = n;
    return c.text(String(n));
  });
  app.get("/n", (c) => c.text(String(c.get("session").n ?? "none")));
  app.get("/logout", async (c) => {
    await c.get("session").destroy();
    return c.text("bye");
  });
  app.get("/login", async (c) => {
    await c.get("session").regenerate();
    c.get("session").user = "ada";
    return c.text("in");
  });
  app.get("/others", async (c) => {
    const session = c.get("session");
    return c.text(String(await session.destroyUser(String(session.user), { except: session.id })));
  });
  app.get("/id", (c) => c.text(c.get("session").id));
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
  return Promise.resolve({
    url: `http://127.0.0.1:${server.addr.port}`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  });
};

faceScenarios("hono", startHono, { rolling: { rolling: true } });

test("hono: regenerate() at login destroys the old session and sends a new cookie", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using redis = await connectClient(server);
  await using app = await startHono(client, {});
  const jar = new CookieJar();
  await jar.get(app.url);
  const before = (await jar.get(`${app.url}/id`)).body;
  const login = await jar.get(`${app.url}/login`);
  assert.equal(login.setCookie.length, 1);
  const after = (await jar.get(`${app.url}/id`)).body;
  assert.notEqual(after, before);
  assert.deepEqual({ ...await redis.hGetAll(`session:${before}`) }, { "\0dead": "1" });
  assert.equal(await redis.hGet(`session:${after}`, "user"), '"ada"');
  assert.equal((await jar.get(`${app.url}/read`)).body, "none", "nothing of the old session is carried over");
});

test("hono: a tampered cookie starts a new session", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using app = await startHono(client, {});
  const jar = new CookieJar();
  await jar.get(app.url);
  const sid = (await jar.get(`${app.url}/id`)).body;
  const tampered = await fetch(`${app.url}/read`, { headers: { cookie: `sid=${sid}.AAAA` } });
  assert.equal(await tampered.text(), "none");
});

test("hono: a misspelt option is refused, naming the store's options and the middleware's", () => {
  const client = { send: () => Promise.resolve(null), masters: () => Promise.resolve([]), ready: true };
  assert.throws(
    () =>
      smartRedisSession({
        client: { ...client, address: "x", onStateChange: () => {} },
        secret: "s",
        cokie: {},
      } as never),
    (error: Error) =>
      error instanceof TypeError && /"cokie"/.test(error.message) && /ttl/.test(error.message) &&
      /cookieName/.test(error.message),
  );
  assert.throws(() => smartRedisSession({ client } as never), TypeError, "a secret is required");
  return Promise.resolve();
});
