/**
 * The Hono face as a drop-in for `hono-sessions`: its documented session
 * methods, options and key rotation, under Deno.serve over real HTTP against a
 * real redis-server.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { type HonoSessionOptions, type SessionVariables, smartRedisSession } from "../hono.ts";
import { CookieJar } from "./_face_scenarios.ts";
import { type Client, connectClient, startRedisServer, test } from "./_helpers.ts";

type App = Hono<{ Variables: SessionVariables }>;

function serve(app: App) {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** A Hono app as `hono-sessions`' README writes it, with our client instead of its store. */
function readmeApp(client: Client, options: Partial<HonoSessionOptions> = {}): App {
  const app: App = new Hono();
  app.use(smartRedisSession({
    client,
    encryptionKey: "password_at_least_32_characters_long",
    expireAfterSeconds: 900,
    cookieOptions: { sameSite: "Lax", path: "/", httpOnly: true },
    ...options,
  }));
  app.get("/", (c) => {
    const session = c.get("session");
    session.set("counter", ((session.get("counter") as number) || 0) + 1);
    return c.text(String(session.get("counter")));
  });
  app.get("/flash", (c) => {
    c.get("session").flash("message", "Login Successful");
    return c.text("flashed");
  });
  app.get("/read", (c) => c.text(JSON.stringify(c.get("session").get("message"))));
  app.get("/forget", (c) => {
    c.get("session").forget("counter");
    return c.text("forgotten");
  });
  app.get("/logout", (c) => {
    c.get("session").deleteSession();
    return c.text("bye");
  });
  app.get("/touch", (c) => {
    c.get("session").touch();
    return c.text("touched");
  });
  app.get("/rotate", (c) => {
    c.set("session_key_rotation", true);
    return c.text("rotated");
  });
  app.get("/id", (c) => c.text(c.get("session").id));
  return app;
}

test("hono: the hono-sessions README app runs: get/set, flash read once, forget, deleteSession", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using redis = await connectClient(server);
  await using app = serve(readmeApp(client));
  const jar = new CookieJar();
  assert.equal((await jar.get(app.url)).body, "1");
  assert.equal((await jar.get(app.url)).body, "2");
  await jar.get(`${app.url}/flash`);
  assert.equal((await jar.get(`${app.url}/read`)).body, '"Login Successful"');
  assert.equal((await jar.get(`${app.url}/read`)).body, "null", "a flash value was read twice");
  await jar.get(`${app.url}/forget`);
  assert.equal((await jar.get(app.url)).body, "1", "forget() kept the value");
  const sid = (await jar.get(`${app.url}/id`)).body;
  await jar.get(`${app.url}/logout`);
  assert.deepEqual({ ...await redis.hGetAll(`session:${sid}`) }, { "\0dead": "1" });
  assert.equal((await jar.get(app.url)).body, "1", "deleteSession() left the session alive");
});

test("hono: expireAfterSeconds and cookieOptions are taken as given (Max-Age in seconds, SameSite)", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using redis = await connectClient(server);
  await using app = serve(
    readmeApp(client, { cookieOptions: { sameSite: "Strict", path: "/", maxAge: 7200 } }),
  );
  const first = await new CookieJar().get(app.url);
  const cookie = first.setCookie.find((line) => line.startsWith("sid="))!;
  assert.match(cookie, /; Max-Age=7200(;|$)/, cookie);
  assert.match(cookie, /; SameSite=Strict(;|$)/, cookie);
  const sid = await (await fetch(`${app.url}/id`, { headers: { cookie: cookie.split(";")[0] } })).text();
  const pttl = await redis.pTTL(`session:${sid}`);
  assert.ok(pttl > 7_100_000 && pttl <= 7_200_000, `pttl ${pttl}`);
  await using plain = serve(readmeApp(client, { cookieOptions: undefined }));
  const life = (await new CookieJar().get(plain.url)).setCookie[0];
  assert.match(life, /; Max-Age=900(;|$)/, `expireAfterSeconds was not the life: ${life}`);
  await using bare = serve(readmeApp(client, { cookieOptions: { path: "/" } }));
  const exact = (await new CookieJar().get(bare.url)).setCookie[0];
  assert.doesNotMatch(exact, /SameSite|HttpOnly/i, `attributes not given were added: ${exact}`);
});

test("hono: session_key_rotation moves the session to a new id with its content; touch() re-sends the cookie", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  await using redis = await connectClient(server);
  await using app = serve(readmeApp(client));
  const jar = new CookieJar();
  await jar.get(app.url);
  const before = (await jar.get(`${app.url}/id`)).body;
  const rotated = await jar.get(`${app.url}/rotate`);
  assert.equal(rotated.setCookie.length, 1);
  const after = (await jar.get(`${app.url}/id`)).body;
  assert.notEqual(after, before);
  assert.deepEqual({ ...await redis.hGetAll(`session:${before}`) }, { "\0dead": "1" });
  assert.equal((await jar.get(app.url)).body, "2", "the content did not move to the new id");
  assert.equal((await jar.get(`${app.url}/id`)).setCookie.length, 0);
  assert.equal((await jar.get(`${app.url}/touch`)).setCookie.length, 1, "touch() sent no cookie");
});

test("hono: hono-sessions' store, autoExtendExpiration: false and unknown cookie attributes are refused", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const base = { client, secret: "s" };
  assert.throws(() => smartRedisSession({ ...base, store: {} } as never), /"store" of hono-sessions/);
  assert.throws(() => smartRedisSession({ ...base, autoExtendExpiration: false }), RangeError);
  assert.throws(() => smartRedisSession({ ...base, cookieOptions: { prefix: "host" } } as never), /"prefix"/);
  assert.throws(() => smartRedisSession({ ...base, expireAfterSeconds: -1 }), RangeError);
  assert.throws(() => smartRedisSession({ client } as never), /"secret" is required/);
});
