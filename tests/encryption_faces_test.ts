/**
 * The `encrypt` option on the faces of their own (Fastify, Koa, Hono), over real
 * HTTP against a real redis-server: sessions count as without it, Redis holds
 * only encrypted property values, each face offers `reencrypt()` where it
 * offers `stats()`, and with `plain: "refuse"` a plain value or a connect-redis
 * string set by hand starts the request on a new session.
 */

import assert from "node:assert/strict";
import Fastify from "fastify";
import { Hono } from "hono";
import Koa from "koa";
import { smartRedisSession as fastifySession } from "../fastify.ts";
import { type SessionVariables, smartRedisSession as honoSession } from "../hono.ts";
import { smartRedisSession as koaSession } from "../koa.ts";
import type { EncryptOptions, ReencryptResult } from "../mod.ts";
import { CookieJar } from "./_face_scenarios.ts";
import { type Client, connectClient, listenLoopback, startRedisServer, test } from "./_helpers.ts";

const KEYS = [{ id: "face", secret: "a secret of well over thirty-two characters, for faces" }];
const SECRET = "a secret of at least thirty-two characters";
const DAY = 86400000;

/** An app of one face counting visits at `/`, with the store's `reencrypt()`. */
interface Counter extends AsyncDisposable {
  url: string;
  reencrypt(): Promise<ReencryptResult>;
}

const FACES: Record<string, (client: Client, encrypt: EncryptOptions) => Promise<Counter>> = {
  hono(client, encrypt) {
    const app = new Hono<{ Variables: SessionVariables }>();
    const middleware = honoSession({ client, encrypt, secret: SECRET });
    app.use(middleware);
    app.get("/", (c) => {
      const session = c.get("session");
      session.visits = ((session.visits as number) || 0) + 1;
      return c.text(`visits ${session.visits}`);
    });
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
    return Promise.resolve({
      url: `http://127.0.0.1:${server.addr.port}`,
      reencrypt: () => middleware.reencrypt(),
      [Symbol.asyncDispose]: () => server.shutdown(),
    });
  },
  async koa(client, encrypt) {
    const app = new Koa();
    app.keys = [SECRET];
    const middleware = koaSession({ client, encrypt }, app);
    app.use(middleware as Koa.Middleware);
    app.use((ctx) => {
      const session = (ctx as unknown as { session: Record<string, number> }).session;
      session.visits = (session.visits || 0) + 1;
      ctx.body = `visits ${session.visits}`;
    });
    const listening = await listenLoopback(app);
    return Object.assign(listening, { reencrypt: () => middleware.reencrypt() });
  },
  async fastify(client, encrypt) {
    const app = Fastify();
    await app.register(fastifySession, {
      client,
      encrypt,
      secret: SECRET,
      cookie: { secure: false },
      saveUninitialized: false,
    });
    let store: { reencrypt(): Promise<ReencryptResult> } | undefined;
    app.get("/", (request, reply) => {
      const session = (request as unknown as { session: Record<string, number> }).session;
      store = (request as unknown as { sessionStore: typeof store }).sessionStore;
      session.visits = (session.visits || 0) + 1;
      reply.send(`visits ${session.visits}`);
    });
    const url = await app.listen({ port: 0, host: "127.0.0.1" });
    return { url, reencrypt: () => store!.reencrypt(), [Symbol.asyncDispose]: () => app.close() };
  },
};

for (const [face, start] of Object.entries(FACES)) {
  test(`${face}: with encrypt, visits count 1, 2, 3, Redis holds them encrypted, reencrypt() finds nothing to do`, async () => {
    await using server = await startRedisServer();
    await using client = await connectClient(server);
    await using redis = await connectClient(server);
    await using app = await start(client, { keys: KEYS });
    const jar = new CookieJar();
    for (const n of [1, 2, 3]) assert.equal((await jar.get(app.url)).body, `visits ${n}`);
    const [key] = await redis.keys("session:*");
    const hash = await redis.hGetAll(key);
    assert.ok(Object.keys(hash).includes("visits"), JSON.stringify(Object.keys(hash)));
    for (const [field, value] of Object.entries(hash)) {
      if (field.charCodeAt(0) !== 0) assert.ok(value.startsWith("\u00011face:"), `${field}: ${value}`);
    }
    assert.deepEqual(await app.reencrypt(), { sessions: 1, updated: 0, values: 0, unreadable: 0 });
  });
}

for (const [face, start] of Object.entries(FACES)) {
  test(`${face}: with encrypt.plain "refuse", a plain value or a connect-redis string set by hand starts a new session`, async () => {
    await using server = await startRedisServer();
    await using client = await connectClient(server);
    await using redis = await connectClient(server);
    await using app = await start(client, { keys: KEYS, plain: "refuse" });
    const jar = new CookieJar();
    for (const n of [1, 2]) assert.equal((await jar.get(app.url)).body, `visits ${n}`);
    const [first] = await redis.keys("session:*");
    await redis.hSet(first, "visits", "99");
    assert.equal((await jar.get(app.url)).body, "visits 1", "a new session");
    assert.equal(await redis.hGet(first, "visits"), "99", "left as it was");

    const [second] = (await redis.keys("session:*")).filter((key) => key !== first);
    const cookie = { originalMaxAge: DAY, expires: new Date(Date.now() + DAY).toISOString(), path: "/" };
    const text = JSON.stringify({ cookie, visits: 99 });
    await redis.del(second);
    await redis.set(second, text, { PX: DAY });
    assert.equal((await jar.get(app.url)).body, "visits 1", "a new session");
    assert.equal(await redis.get(second), text, "left as it was");
  });
}
