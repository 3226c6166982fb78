/**
 * The Koa face as a drop-in for koa-session: what koa-session's own suite
 * found missing or different, each checked over real HTTP against a real
 * redis-server.
 */

import assert from "node:assert/strict";
import { inspect } from "node:util";
import Koa from "koa";
import { type KoaSessionOptions, type KoaSmartSession, smartRedisSession } from "../koa.ts";
import { CookieJar } from "./_face_scenarios.ts";
import { type Client, connectClient, delay, listenLoopback, startRedisServer, test } from "./_helpers.ts";

type Ctx = Koa.Context & { session: KoaSmartSession | null; sessionOptions: Record<string, unknown> };
type Handler = (ctx: Ctx) => unknown;

/** A Koa app with the face given `app` (koa-session's call), a handler, on a free port. */
async function start(client: Client, options: Partial<KoaSessionOptions>, handler: Handler) {
  const app = new Koa();
  app.silent = true;
  app.keys = ["koa drop-in secret"];
  app.use(smartRedisSession({ client, ...options }, app) as Koa.Middleware);
  app.use(async (ctx) => {
    const body = await handler(ctx as Ctx);
    if (ctx.body === undefined) ctx.body = body === undefined ? "" : String(body);
  });
  return Object.assign(await listenLoopback(app), { app });
}

function sessionCookie(lines: string[]): string | undefined {
  return lines.find((line) => line.startsWith("koa.sess="));
}

function idOf(lines: string[]): string {
  return decodeURIComponent(sessionCookie(lines)!.split(";")[0].slice("koa.sess=".length));
}

test("koa: ctx.session.save() stores an empty session and sends its cookie, as koa-session", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using redis = await connectClient(server);
  await using app = await start(client, {}, async (ctx) => {
    if (ctx.path === "/save") await ctx.session!.save();
    ctx.session!.save(); // not awaited: the commit waits for it
    return ctx.session!.isNew;
  });
  const jar = new CookieJar();
  const saved = await jar.get(`${app.url}/save`);
  assert.ok(sessionCookie(saved.setCookie), `no cookie: ${saved.setCookie.join(" | ")}`);
  assert.equal(await redis.exists(`session:${idOf(saved.setCookie)}`), 1, "the empty session was not stored");
  assert.equal((await jar.get(`${app.url}/`)).body, "false", "the saved session did not load");
  const unawaited = await new CookieJar().get(`${app.url}/`);
  assert.ok(sessionCookie(unawaited.setCookie), "a save() not awaited sent no cookie");
});

test("koa: save() on a session another request destroyed meanwhile writes nothing and sends no cookie", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using redis = await connectClient(server);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  let arrived!: () => void;
  const waiting = new Promise<void>((resolve) => arrived = resolve);
  await using app = await start(client, {}, async (ctx) => {
    if (ctx.path === "/login") ctx.session!.user = "ada";
    else if (ctx.path === "/logout") ctx.session = null;
    else if (ctx.path === "/slow") {
      arrived();
      await gate;
      ctx.session!.note = "late";
      await ctx.session!.save();
    }
  });
  const login = await new CookieJar().get(`${app.url}/login`);
  const cookie = login.setCookie.map((line) => line.split(";")[0]).join("; ");
  const slow = fetch(`${app.url}/slow`, { headers: { cookie } });
  await waiting;
  await (await fetch(`${app.url}/logout`, { headers: { cookie } })).text();
  release();
  const late = await slow;
  await late.text();
  assert.equal(
    sessionCookie(late.headers.getSetCookie()),
    undefined,
    "the destroyed session's cookie was sent",
  );
  assert.deepEqual({ ...await redis.hGetAll(`session:${idOf(login.setCookie)}`) }, { "\0dead": "1" });
});

test("koa: setting only ctx.session.maxAge stores the session and sends a cookie with that life", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using redis = await connectClient(server);
  await using app = await start(client, {}, (ctx) => {
    if (ctx.path === "/object") (ctx as { session: unknown }).session = { maxAge: 60_000 };
    else ctx.session!.maxAge = 60_000;
    return ctx.session!.maxAge;
  });
  for (const path of ["/", "/object"]) {
    const response = await new CookieJar().get(`${app.url}${path}`);
    assert.equal(response.body, "60000");
    const cookie = sessionCookie(response.setCookie);
    assert.match(cookie ?? "", /expires=/, `${path}: ${response.setCookie.join(" | ")}`);
    const pttl = await redis.pTTL(`session:${idOf(response.setCookie)}`);
    assert.ok(pttl > 50_000 && pttl <= 60_000, `${path}: pttl ${pttl}`);
  }
});

test("koa: regenerate() keeps the content under a new id and destroys the old id", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using app = await start(client, {}, async (ctx) => {
    if (ctx.path === "/login") {
      ctx.session!.cart = ["book"];
      return;
    }
    if (ctx.path === "/regenerate") await ctx.session!.regenerate();
    return JSON.stringify(ctx.session!.cart ?? null);
  });
  const jar = new CookieJar();
  const first = await jar.get(`${app.url}/login`);
  const old = idOf(first.setCookie);
  const regenerated = await jar.get(`${app.url}/regenerate`);
  assert.equal(regenerated.body, '["book"]', "the content was lost");
  assert.notEqual(idOf(regenerated.setCookie), old);
  assert.equal((await jar.get(`${app.url}/`)).body, '["book"]', "the content did not reach the new id");
  const signature = first.setCookie.find((line) => line.startsWith("koa.sess.sig="))!.split(";")[0];
  const stale = await fetch(app.url, { headers: { cookie: `koa.sess=${old}; ${signature}` } });
  assert.equal(await stale.text(), "null", "the old id still holds the session");
});

test("koa: valid() refusing a loaded session starts a new one; beforeSave() stamps what is written", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const invalid: unknown[] = [];
  const uidOf = (ctx: Ctx) => ctx.get("x-uid");
  await using app = await start(client, {
    valid: (ctx: Ctx, data: Record<string, unknown>) => data.uid === uidOf(ctx),
    beforeSave: (ctx: Ctx, session: KoaSmartSession) => session.uid = uidOf(ctx),
  } as Partial<KoaSessionOptions>, (ctx) => {
    ctx.session!.visits = ((ctx.session!.visits as number) ?? 0) + 1;
    return ctx.session!.visits;
  });
  app.app.on("session:invalid", (event) => invalid.push(event.key));
  const send = (uid: string, cookie: string) =>
    fetch(app.url, { headers: { "x-uid": uid, cookie } }).then(async (r) => ({
      body: await r.text(),
      setCookie: r.headers.getSetCookie(),
    }));
  const first = await send("ada", "");
  const cookie = first.setCookie.map((line) => line.split(";")[0]).join("; ");
  assert.equal((await send("ada", cookie)).body, "2", "beforeSave did not stamp the uid valid() checks");
  const other = await send("bob", cookie);
  assert.equal(other.body, "1", "a session valid() refused was used");
  assert.notEqual(idOf(other.setCookie), idOf(first.setCookie));
  await delay(10);
  assert.deepEqual(invalid, [idOf(first.setCookie)]);
});

test("koa: renew sends the cookie again once less than half of its life is left", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const maxAge = 3000;
  await using app = await start(client, { renew: true, maxAge }, (ctx) => {
    if (ctx.path === "/set") ctx.session!.user = "ada";
    return ctx.session!.user;
  });
  const jar = new CookieJar();
  const set = await jar.get(`${app.url}/set`);
  const sentAt = Date.now();
  assert.ok(sessionCookie(set.setCookie));
  const early = await jar.get(`${app.url}/`);
  // Only meaningful while the request ended well before half the life (a loaded machine may be slow).
  if (Date.now() - sentAt < maxAge / 2 - 200) assert.equal(sessionCookie(early.setCookie), undefined);
  await delay(Math.max(0, sentAt + maxAge / 2 + 100 - Date.now()));
  const renewing = Date.now();
  const late = await jar.get(`${app.url}/`);
  assert.equal(late.body, "ada");
  assert.match(sessionCookie(late.setCookie) ?? "", /expires=/, "the cookie was not renewed");
  const again = await jar.get(`${app.url}/`);
  if (Date.now() - renewing < maxAge / 2 - 200) {
    assert.equal(sessionCookie(again.setCookie), undefined, "a renewed cookie was renewed again at once");
  }
});

test("koa: externalKey carries the session id instead of the cookie", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using app = await start(client, {
    externalKey: {
      get: (ctx: Ctx) => ctx.get("x-session"),
      set: (ctx: Ctx, key: string) => ctx.set("x-session", key),
    },
  } as Partial<KoaSessionOptions>, (ctx) => {
    ctx.session!.n = ((ctx.session!.n as number) ?? 0) + 1;
    return ctx.session!.n;
  });
  const first = await fetch(app.url);
  assert.equal(await first.text(), "1");
  assert.equal(first.headers.getSetCookie().length, 0, "a cookie was sent");
  const key = first.headers.get("x-session")!;
  assert.ok(key);
  assert.equal(await (await fetch(app.url, { headers: { "x-session": key } })).text(), "2");
});

test("koa: with autoCommit: false nothing is written until ctx.session.manuallyCommit()", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using redis = await connectClient(server);
  await using app = await start(client, { autoCommit: false }, async (ctx) => {
    ctx.session!.n = 1;
    if (ctx.path === "/commit") await ctx.session!.manuallyCommit();
  });
  const skipped = await new CookieJar().get(app.url);
  assert.equal(sessionCookie(skipped.setCookie), undefined);
  assert.deepEqual(await redis.keys("session:*"), []);
  const committed = await new CookieJar().get(`${app.url}/commit`);
  assert.equal(await redis.hGet(`session:${idOf(committed.setCookie)}`, "n"), "1");
});

test("koa: given the app, ctx.session lives on app.context (a test can stub it); ctx.sessionOptions shows the cookie's", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using app = await start(client, { sameSite: "strict" }, (ctx) => {
    ctx.sessionOptions.path = "/a";
    ctx.session!.n = 1;
    return `${ctx.sessionOptions.sameSite} ${ctx.sessionOptions.key}`;
  });
  const response = await new CookieJar().get(app.url);
  assert.equal(response.body, "strict koa.sess");
  assert.match(sessionCookie(response.setCookie)!, /path=\/a/, "ctx.sessionOptions did not shape the cookie");
  Object.defineProperty(app.app.context, "session", { value: { stub: true }, configurable: true });
  const stubbed = await fetch(app.url);
  assert.equal(stubbed.status, 200);
  assert.equal(stubbed.headers.getSetCookie().length, 0, "the stubbed session was committed");
});

test("koa: without maxAge the cookie lasts the browser session and Redis keeps the session one day", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using redis = await connectClient(server);
  await using app = await start(client, { sameSite: "none" }, (ctx) => {
    ctx.session!.visits = ((ctx.session!.visits as number) ?? 0) + 1;
  });
  const jar = new CookieJar();
  const first = await jar.get(app.url);
  assert.match(sessionCookie(first.setCookie)!, /^koa\.sess=[^;]+; path=\/; samesite=none; httponly$/);
  const pttl = await redis.pTTL(`session:${idOf(first.setCookie)}`);
  assert.ok(pttl > 86_000_000 && pttl <= 86_400_000, `pttl ${pttl}`);
  const second = await jar.get(app.url);
  assert.ok(sessionCookie(second.setCookie), "a changed session with a browser-session cookie got no cookie");
});

test("koa: the session shows length, populated, externalKey, toJSON and inspect as koa-session's", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using app = await start(client, {}, (ctx) => {
    const session = ctx.session!;
    const before = [session.length, session.populated];
    session.foo = "bar";
    return JSON.stringify({
      before,
      after: [session.length, session.populated],
      key: session.externalKey === session.id,
      json: session,
      inspect: inspect(session),
    });
  });
  const result = JSON.parse((await new CookieJar().get(app.url)).body);
  assert.deepEqual(result, {
    before: [0, false],
    after: [1, true],
    key: true,
    json: { foo: "bar" },
    inspect: "{ foo: 'bar' }",
  });
});

test("koa: koa-session's store, ContextStore, encode and decode are refused with what to do instead", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  for (const name of ["store", "ContextStore", "encode", "decode"]) {
    assert.throws(
      () => smartRedisSession({ client, [name]: {} } as never),
      (error: Error) =>
        error instanceof TypeError && error.message.includes(`"${name}"`) &&
        /remove/.test(error.message),
    );
  }
  assert.throws(() => smartRedisSession({ client, valid: "yes" } as never), TypeError);
  assert.throws(
    () => smartRedisSession({ client, externalKey: {} } as never),
    /get\(ctx\) and set\(ctx, key\)/,
  );
});
