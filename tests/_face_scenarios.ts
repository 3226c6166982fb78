/**
 * The guarantees every face of its own (Fastify, Koa, Hono) must keep, as one
 * list of end-to-end tests over real HTTP against a real redis-server. Each face's
 * test file starts an app with the routes below and calls {@linkcode faceScenarios}.
 *
 * Routes: `/` visit counter, `/read` (visits or "none"), `/set/:name/:value?delay=ms`,
 * `/logout`, `/incr?delay=ms` (read-modify-write of `n`), `/n`, `/id` (the session id), `/others`
 * (`destroyUser(session.user, { except: session.id })`, answering the count).
 */

import assert from "node:assert/strict";
import { SmartRedisStore } from "../mod.ts";
import type { SmartRedisStoreOptions } from "../mod.ts";
import {
  type Client,
  connectClient,
  delay,
  Monitor,
  type RedisServer,
  startRedisServer,
  test,
} from "./_helpers.ts";

/** A running app of one face. */
export interface FaceApp extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`. */
  url: string;
}

/** Starts an app of the face on the client, with store options and face options. */
export type StartFace = (
  client: Client,
  store: Omit<SmartRedisStoreOptions, "client">,
  face?: Record<string, unknown>,
) => Promise<FaceApp>;

/** Keeps every cookie the server sets, like a browser (several cookies, removals). */
export class CookieJar {
  #cookies = new Map<string, string>();
  /** GETs a URL with the cookies and keeps the new ones; returns status and body. */
  async get(url: string): Promise<{ status: number; body: string; setCookie: string[] }> {
    const cookie = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    const response = await fetch(url, { headers: cookie ? { cookie } : {} });
    const setCookie = response.headers.getSetCookie();
    for (const line of setCookie) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const removed = value === "" || attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) ||
        attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (removed) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    return { status: response.status, body: await response.text(), setCookie };
  }
}

/** A redis-server, a client for the face and one to look into Redis. */
interface Bench extends AsyncDisposable {
  server: RedisServer;
  client: Client;
  redis: Client;
  /** A store on the same Redis, to read sessions and to count what one load costs. */
  store: SmartRedisStore;
}

async function bench(): Promise<Bench> {
  const server = await startRedisServer();
  const client = await connectClient(server);
  const redis = await connectClient(server);
  return {
    server,
    client,
    redis,
    store: new SmartRedisStore({ client: redis }),
    async [Symbol.asyncDispose]() {
      await client[Symbol.asyncDispose]();
      await redis[Symbol.asyncDispose]();
      await server.kill();
    },
  };
}

/**
 * Registers the guarantee tests for one face.
 * @param face The face's name, for test names.
 * @param start Starts an app of the face.
 * @param options `rolling`: face options that make it re-send the cookie on every response, if it can;
 *   `lock: false` for a middleware that cannot give the lock up after a read-only request.
 */
export function faceScenarios(
  face: string,
  start: StartFace,
  options: { rolling?: Record<string, unknown>; lock?: boolean } = {},
): void {
  const { rolling, lock = true } = options;
  test(`${face}: the visit counter counts 1, 2, 3 and stores only the user's properties`, async () => {
    await using b = await bench();
    await using app = await start(b.client, {});
    const jar = new CookieJar();
    for (const n of [1, 2, 3]) {
      assert.equal((await jar.get(app.url)).body, `You visited this site ${n} times!`);
    }
    const sid = (await jar.get(`${app.url}/id`)).body;
    assert.deepEqual(Object.keys(await b.redis.hGetAll(`session:${sid}`)).sort(), [
      "\0exp",
      "\0ttl",
      "cookie",
      "visits",
    ]);
  });

  test(`${face}: 20 parallel requests each setting its own property lose nothing`, async () => {
    await using b = await bench();
    await using app = await start(b.client, {});
    const jar = new CookieJar();
    await jar.get(app.url);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => jar.get(`${app.url}/set/p${i}/${i}?delay=${(i * 7) % 50}`)),
    );
    assert.ok(answers.every((answer) => answer.status === 200 && answer.body === "set"));
    const sid = (await jar.get(`${app.url}/id`)).body;
    const stored = await b.store.get(sid) as Record<string, unknown>;
    const kept = Array.from({ length: 20 }, (_, i) => stored[`p${i}`] === String(i)).filter(Boolean).length;
    assert.equal(kept, 20, `${kept} of 20 kept`);
    assert.equal(stored.visits, 1);
  });

  test(`${face}: a slow request writing while another destroys the session leaves it destroyed`, async () => {
    await using b = await bench();
    await using app = await start(b.client, {});
    const jar = new CookieJar();
    await jar.get(app.url);
    const sid = (await jar.get(`${app.url}/id`)).body;
    const slow = jar.get(`${app.url}/set/late/yes?delay=300`);
    await delay(50);
    assert.equal((await jar.get(`${app.url}/logout`)).body, "bye");
    const answer = await slow;
    assert.equal(answer.status, 200);
    assert.equal(await b.store.get(sid), null);
    assert.deepEqual({ ...await b.redis.hGetAll(`session:${sid}`) }, { "\0dead": "1" });
    assert.equal((await jar.get(`${app.url}/read`)).body, "none", "the next request starts afresh");
  });

  const roundTrips = (options: Record<string, unknown> | undefined, label: string) =>
    test(`${face}${label}: a read-only request costs one load and writes nothing; a change, one commit more`, async (t) => {
      await using b = await bench();
      await using app = await start(b.client, {}, options);
      const jar = new CookieJar();
      await jar.get(app.url);
      const sid = (await jar.get(`${app.url}/id`)).body;
      await using monitor = await Monitor.start(b.server);
      await b.store.get(sid);
      const load = (await monitor.commands()).map((args) => args[0]);
      assert.ok(load.length > 0);
      const before = await b.redis.hGetAll(`session:${sid}`);
      await monitor.commands(); // not the face's

      await t.step("read-only", async () => {
        assert.equal((await jar.get(`${app.url}/read`)).body, "1");
        assert.deepEqual((await monitor.commands()).map((args) => args[0]), load);
        assert.deepEqual({ ...await b.redis.hGetAll(`session:${sid}`) }, { ...before });
        await monitor.commands(); // not the face's
      });
      await t.step("changing: the load and one commit of the changed property only", async () => {
        await jar.get(`${app.url}/set/colour/blue`);
        const commands = await monitor.commands();
        assert.deepEqual(commands.slice(0, load.length).map((args) => args[0]), load);
        assert.equal(commands.length, load.length + 1, commands.map((args) => args[0]).join(" "));
        const commit = commands.at(-1)!;
        assert.ok(commit.includes("colour"), commit.join(" "));
        assert.ok(!commit.includes("cookie") && !commit.includes("visits"), commit.join(" "));
      });
    });
  roundTrips(undefined, "");
  if (rolling) roundTrips(rolling, " (rolling)");

  test(`${face}: sessions per user: logins listed, destroyUser() from a session keeps it, logout unlists`, async () => {
    await using b = await bench();
    const user = (session: Record<string, unknown>) => session.user;
    await using app = await start(b.client, { user });
    const jars = [new CookieJar(), new CookieJar(), new CookieJar()];
    const sids: string[] = [];
    for (const jar of jars) {
      await jar.get(app.url);
      assert.equal((await jar.get(`${app.url}/set/user/ann`)).body, "set");
      sids.push((await jar.get(`${app.url}/id`)).body);
    }
    const store = new SmartRedisStore({ client: b.redis, user });
    const listed = async () => (await store.sessionsOf("ann")).map((session) => session.id).sort();
    assert.deepEqual(await listed(), [...sids].sort());
    assert.equal((await jars[0].get(`${app.url}/others`)).body, "2");
    assert.deepEqual(await listed(), [sids[0]]);
    for (const jar of jars.slice(1)) assert.equal((await jar.get(`${app.url}/read`)).body, "none");
    assert.equal((await jars[0].get(`${app.url}/read`)).body, "1");
    assert.equal((await jars[0].get(`${app.url}/logout`)).body, "bye");
    assert.deepEqual(await listed(), []);
    assert.equal(await b.redis.exists("session:\0user:ann"), 0, "the emptied index stayed");
  });

  if (lock) lockScenario(face, start);
}

function lockScenario(face: string, start: StartFace): void {
  test(`${face}: lock mode makes 20 parallel increments 20 and releases the lock after every request`, async (t) => {
    await using b = await bench();
    await using app = await start(b.client, { lock: true, retryTime: 10, lockExpiry: 5000 });
    const jar = new CookieJar();
    await jar.get(app.url);
    const sid = (await jar.get(`${app.url}/id`)).body;
    const key = `session:${sid}`;
    await t.step("20 parallel read-modify-writes", async () => {
      await Promise.all(Array.from({ length: 20 }, () => jar.get(`${app.url}/incr?delay=5`)));
      assert.equal((await jar.get(`${app.url}/n`)).body, "20");
      assert.equal(await b.redis.hExists(key, "\0lock"), 0, "the lock was released");
    });
    await t.step("a read-only request gives the lock up at its end", async () => {
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        assert.equal((await jar.get(`${app.url}/read`)).body, "1");
        assert.ok(Date.now() - started < 1000, `waited ${Date.now() - started} ms for a lock`);
        assert.equal(await b.redis.hExists(key, "\0lock"), 0, "a read-only request left its lock");
      }
    });
    await t.step("a logout leaves the session destroyed, not locked", async () => {
      assert.equal((await jar.get(`${app.url}/logout`)).body, "bye");
      assert.deepEqual({ ...await b.redis.hGetAll(key) }, { "\0dead": "1" });
    });
  });
}
