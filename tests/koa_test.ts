/**
 * End-to-end: the Koa face (connect-smart-redis/koa) over real HTTP, against a
 * real redis-server; and koa-generic-session with SmartRedisStore, which keeps
 * the loaded object and so the change tracking.
 */

import assert from "node:assert/strict";
import Koa from "koa";
// @ts-types="@types/koa"
import type { Context } from "koa";
import genericSession from "koa-generic-session";
import { smartRedisSession } from "../koa.ts";
import { SmartRedisStore } from "../mod.ts";
import type { SmartSession } from "../koa.ts";
import { CookieJar, faceScenarios, type StartFace } from "./_face_scenarios.ts";
import { connectClient, delay, listenLoopback, startRedisServer, test } from "./_helpers.ts";

type SessionContext = Context & { session: SmartSession | null; sessionId?: string };

/** The scenario routes, for any middleware putting the session at ctx.session. */
function routes(
  app: Koa,
  idOf: (ctx: SessionContext) => string,
  store?: SmartRedisStore, // koa-generic-session's: sessions per user through the store, not the session
): void {
  app.use(async (raw) => {
    const ctx = raw as SessionContext;
    const session = ctx.session!;
    const url = new URL(ctx.url, "http://x");
    const wait = Number(url.searchParams.get("delay") ?? 0);
    const set = /^\/set\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (url.pathname === "/") {
      session.visits = ((session.visits as number) || 0) + 1;
      ctx.body = `You visited this site ${session.visits} times!`;
    } else if (url.pathname === "/read") ctx.body = String(session.visits ?? "none");
    else if (set) {
      await delay(wait);
      session[set[1]] = set[2];
      ctx.body = "set";
    } else if (url.pathname === "/incr") {
      const n = ((session.n as number) ?? 0) + 1;
      await delay(wait);
      session.n = n;
      ctx.body = String(n);
    } else if (url.pathname === "/n") ctx.body = String(session.n ?? "none");
    else if (url.pathname === "/logout") {
      ctx.session = null;
      ctx.body = "bye";
    } else if (url.pathname === "/others") {
      const options = { except: idOf(ctx) };
      const destroyed = store
        ? store.destroyUser(String(session.user), options)
        : session.destroyUser(String(session.user), options);
      ctx.body = String(await destroyed);
    } else if (url.pathname === "/id") ctx.body = idOf(ctx);
    else if (url.pathname === "/boom") {
      session.half = "done";
      throw new Error("boom");
    } else ctx.status = 404;
  });
}

const startKoa: StartFace = (client, store, face = {}) => {
  const app = new Koa();
  app.silent = true; // the /boom route's error is expected
  app.keys = ["koa test secret"];
  app.use(smartRedisSession({ client, ...store, ...face }) as Koa.Middleware);
  routes(app, (ctx) => ctx.session!.id);
  return listenLoopback(app);
};

faceScenarios("koa", startKoa, { rolling: { rolling: true } });

test("koa: the cookie is signed with app.keys, ctx.session = null logs out, and no bookkeeping is stored", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using redis = await connectClient(server);
  await using app = await startKoa(client, {}, { maxAge: 60_000 });
  const jar = new CookieJar();
  const first = await jar.get(app.url);
  assert.ok(first.setCookie.some((line) => line.startsWith("koa.sess.sig=")), first.setCookie.join(" | "));
  const sid = (await jar.get(`${app.url}/id`)).body;
  const stored = await redis.hGetAll(`session:${sid}`);
  assert.deepEqual(Object.keys(stored).sort(), ["\0exp", "\0ttl", "cookie", "visits"]);
  assert.equal(stored.cookie, '{"originalMaxAge":60000}');
  const pttl = await redis.pTTL(`session:${sid}`);
  assert.ok(pttl > 59_000 && pttl <= 60_000, `pttl ${pttl}`);
  const forged = new CookieJar();
  await forged.get(app.url);
  const unsigned = await fetch(`${app.url}/read`, { headers: { cookie: `koa.sess=${sid}` } });
  assert.equal(await unsigned.text(), "none", "an unsigned cookie is not trusted");
  assert.equal((await jar.get(`${app.url}/logout`)).body, "bye");
  assert.equal((await jar.get(`${app.url}/read`)).body, "none");
});

const startGeneric: StartFace = async (client, store, face = {}) => {
  const app = new Koa();
  app.keys = ["koa test secret"];
  const smart = new SmartRedisStore({ client, ...store });
  app.use(genericSession({ store: smart, prefix: "", ...face }) as Koa.Middleware);
  routes(app, (ctx) => ctx.sessionId!, smart);
  const listening = await listenLoopback(app);
  return {
    url: listening.url,
    async [Symbol.asyncDispose]() {
      // koa-generic-session turns a "disconnect" event not followed by "connect" within 10 s into
      // an unhandled rejection: the teardown's closing client must not announce one.
      smart.removeAllListeners("disconnect");
      await listening[Symbol.asyncDispose]();
    },
  };
};

// koa-generic-session keeps the object the store loaded, so SmartRedisStore's change tracking survives. It has
// no hook at the end of a request that changed nothing, so lock mode is for the Koa face only.
faceScenarios("koa-generic-session + SmartRedisStore", startGeneric, {
  rolling: { rolling: true },
  lock: false,
});

test("koa: a request that throws writes nothing and, in lock mode, gives its lock up", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using redis = await connectClient(server);
  await using app = await startKoa(client, { lock: true, lockExpiry: 5000, retryTime: 10 });
  const jar = new CookieJar();
  await jar.get(app.url);
  const sid = (await jar.get(`${app.url}/id`)).body;
  assert.equal((await jar.get(`${app.url}/boom`)).status, 500);
  assert.equal(await redis.hExists(`session:${sid}`, "\0lock"), 0, "the lock was released");
  assert.equal(await redis.hGet(`session:${sid}`, "half"), null);
  const started = Date.now();
  assert.equal((await jar.get(`${app.url}/read`)).body, "1");
  assert.ok(Date.now() - started < 1000);
});
