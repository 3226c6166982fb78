/**
 * Every supported client, end to end: node-redis 6, 5 and 4 (`createClient`,
 * `createCluster`) and ioredis 6 and 5 (`Redis`, `Cluster`), each handed to the store
 * as the user made it (not connected, no special options), behind Express and
 * express-session over real HTTP, against a real redis-server or a real local
 * three-master Redis Cluster.
 */

// suite: shards 3

import assert from "node:assert/strict";
import { createClient, createCluster } from "redis";
import { createClient as createClient4, createCluster as createCluster4 } from "redis4";
import { createClient as createClient6, createCluster as createCluster6 } from "redis6";
import { Cluster, Redis } from "ioredis";
import { Cluster as Cluster6, Redis as Redis6 } from "ioredis6";
import { type RedisCluster, startRedisCluster } from "../scripts/redis_cluster.ts";
import { SmartRedisStore, type SmartRedisStoreOptions } from "../mod.ts";
import { connectionFor } from "../src/clients/detect.ts";
import type { RedisConnection } from "../src/clients/connection.ts";
import { Browser, delay, shard, startApp, startRedisServer, test, visitRoutes } from "./_helpers.ts";
import { parallelWritersKeepAll, slowWriteRacingLogout } from "./_races.ts";
import { scaled, until } from "./_load.ts";

/** Where the clients connect: one redis-server, or the masters of a cluster. */
interface Target extends AsyncDisposable {
  readonly ports: readonly number[];
  readonly urls: readonly string[];
  /** Kills every server (a crash). */
  kill(): Promise<void>;
  /** Starts them again, empty. */
  restart(): Promise<void>;
}

/** A client library and the way users make its clients. */
interface ClientKind {
  name: string;
  cluster: boolean;
  /**
   * A client as a user would make it, with no special options: node-redis clients not connected
   * (the store connects them), ioredis ones connecting by themselves, as ioredis does by default.
   * With `otherStart`, the other way: node-redis clients already connecting (`connect()` called,
   * not awaited), ioredis ones with `lazyConnect` (the store connects them).
   */
  create(target: Target, options?: StartOptions): object;
  /** Closes a client made by `create`, whatever state it is in. */
  close(client: object): Promise<void>;
  /** The library with options that change what replies or keys look like, when it has such options. */
  configured?: { options: string; create(target: Target): object };
}

interface StartOptions {
  otherStart?: boolean;
}

type NodeRedisClient = { connect(): Promise<unknown>; disconnect(): Promise<unknown> };
type IoRedisClient = { disconnect(): void };

const closeNodeRedis = (client: object) => (client as NodeRedisClient).disconnect().then(() => {}, () => {});
const closeIoRedis = (client: object) => Promise.resolve((client as IoRedisClient).disconnect());
const rootNodes = (target: Target) => target.urls.map((url) => ({ url }));

/** A node-redis client, already connecting when `otherStart` asks for it. */
function nodeRedis<T extends object>(client: T, options?: StartOptions): T {
  if (options?.otherStart) (client as unknown as NodeRedisClient).connect().catch(() => {});
  return client;
}

const KINDS: ClientKind[] = [
  {
    name: "node-redis 6 createClient()",
    cluster: false,
    create: (target, options) => nodeRedis(createClient6({ url: target.urls[0] }), options),
    close: closeNodeRedis,
    configured: { options: "RESP: 2", create: (target) => createClient6({ url: target.urls[0], RESP: 2 }) },
  },
  {
    name: "node-redis 5 createClient()",
    cluster: false,
    create: (target, options) => nodeRedis(createClient({ url: target.urls[0] }), options),
    close: closeNodeRedis,
    configured: { options: "RESP: 3", create: (target) => createClient({ url: target.urls[0], RESP: 3 }) },
  },
  {
    name: "node-redis 4 createClient()",
    cluster: false,
    create: (target, options) => nodeRedis(createClient4({ url: target.urls[0] }), options),
    close: closeNodeRedis,
  },
  {
    name: "ioredis 5 new Redis()",
    cluster: false,
    create: (target, options) =>
      new Redis({ host: "127.0.0.1", port: target.ports[0], lazyConnect: options?.otherStart }),
    close: closeIoRedis,
    configured: {
      options: 'keyPrefix: "app:"',
      create: (target) => new Redis({ host: "127.0.0.1", port: target.ports[0], keyPrefix: "app:" }),
    },
  },
  {
    name: "ioredis 6 new Redis()",
    cluster: false,
    create: (target, options) =>
      new Redis6({ host: "127.0.0.1", port: target.ports[0], lazyConnect: options?.otherStart }),
    close: closeIoRedis,
    configured: {
      options: 'keyPrefix: "app:", protocol: 3',
      create: (target) =>
        new Redis6({ host: "127.0.0.1", port: target.ports[0], keyPrefix: "app:", protocol: 3 }),
    },
  },
  {
    name: "node-redis 6 createCluster()",
    cluster: true,
    create: (target, options) => nodeRedis(createCluster6({ rootNodes: rootNodes(target) }), options),
    close: closeNodeRedis,
  },
  {
    name: "node-redis 5 createCluster()",
    cluster: true,
    create: (target, options) => nodeRedis(createCluster({ rootNodes: rootNodes(target) }), options),
    close: closeNodeRedis,
    configured: {
      options: "RESP: 3",
      create: (target) => createCluster({ rootNodes: rootNodes(target), RESP: 3 }),
    },
  },
  {
    name: "node-redis 4 createCluster()",
    cluster: true,
    create: (target, options) => nodeRedis(createCluster4({ rootNodes: rootNodes(target) }), options),
    close: closeNodeRedis,
  },
  {
    name: "ioredis 5 new Cluster()",
    cluster: true,
    create: (target, options) =>
      new Cluster(target.ports.map((port) => ({ host: "127.0.0.1", port })), {
        lazyConnect: options?.otherStart,
      }),
    close: closeIoRedis,
    configured: {
      options: 'keyPrefix: "app:"',
      create: (target) =>
        new Cluster(target.ports.map((port) => ({ host: "127.0.0.1", port })), { keyPrefix: "app:" }),
    },
  },
  {
    name: "ioredis 6 new Cluster()",
    cluster: true,
    create: (target, options) =>
      new Cluster6(target.ports.map((port) => ({ host: "127.0.0.1", port })), {
        lazyConnect: options?.otherStart,
      }),
    close: closeIoRedis,
  },
];

/** A node-redis 5 client on one server, for looking at Redis directly. */
type Admin = ReturnType<typeof createClient>;

async function startTarget(kind: ClientKind): Promise<Target> {
  if (kind.cluster) {
    const cluster: RedisCluster = await startRedisCluster();
    return cluster;
  }
  const server = await startRedisServer();
  return {
    ports: [server.port],
    urls: [server.url],
    kill: () => server.kill(),
    restart: () => server.restart(),
    [Symbol.asyncDispose]: () => server.kill(),
  };
}

/** A store on a fresh client of the kind, with its own key prefix, and admin clients on every master. */
interface Lab extends AsyncDisposable {
  store: SmartRedisStore;
  prefix: string;
  /** One admin client per master. */
  masters: Admin[];
  /** The admin client of the master that owns `key`. */
  ownerOf(key: string): Promise<Admin>;
  /** Every key under the prefix, over all masters. */
  keys(): Promise<string[]>;
}

let labs = 0;

async function openLab(
  kind: ClientKind,
  target: Target,
  options: Omit<SmartRedisStoreOptions, "client"> = {},
  create: (target: Target) => object = kind.create,
): Promise<Lab> {
  const client = create(target);
  const prefix = `lab${++labs}:`;
  // The default 2 s is short for a cluster client on a loaded machine: stretched by the load measured now.
  const store = new SmartRedisStore({ client, prefix, commandTimeout: scaled(2000), ...options });
  // An ioredis client connects by itself; on a loaded machine its first slots refresh can time out
  // (ioredis's own 1 s), and until it is ready the store fails requests at once: let it get there.
  const status = () => (client as { status?: string }).status;
  if (status() !== undefined) await until(() => status() === "ready", 10_000);
  const masters: Admin[] = [];
  for (const url of target.urls) {
    const admin = createClient({ url });
    admin.on("error", () => {});
    masters.push(await admin.connect());
  }
  return {
    store,
    prefix,
    masters,
    async ownerOf(key) {
      if (masters.length === 1) return masters[0];
      const slot = Number(await masters[0].sendCommand(["CLUSTER", "KEYSLOT", key]));
      for (const admin of masters) {
        if (Number(await admin.sendCommand(["CLUSTER", "COUNTKEYSINSLOT", String(slot)])) > 0) return admin;
      }
      throw new Error(`No master holds ${key}`);
    },
    async keys() {
      const found: string[] = [];
      for (const admin of masters) found.push(...await admin.keys(`${prefix}*`));
      return found.sort();
    },
    async [Symbol.asyncDispose]() {
      await kind.close(client);
      await Promise.all(masters.map((admin) => admin.isOpen ? admin.destroy() : undefined));
    },
  };
}

async function untilReady(connection: RedisConnection): Promise<void> {
  assert.ok(await until(() => connection.ready, 5000), `${connection.address} did not become ready`);
}

/** A client's own word on its state, for failure messages: ioredis `status`, node-redis `isOpen` and `isReady`. */
function clientState(client: object): string {
  const { status, isOpen, isReady } = client as { status?: unknown; isOpen?: unknown; isReady?: unknown };
  return status !== undefined ? `status "${status}"` : `isOpen ${isOpen}, isReady ${isReady}`;
}

async function rejection(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (error) {
    return error as Error;
  }
  throw new Error("Expected a rejection");
}

for (const kind of shard(KINDS)) {
  test(`${kind.name}: sessions work end to end${kind.cluster ? " on a Redis Cluster" : ""}`, async (t) => {
    await using target = await startTarget(kind);

    await t.step(
      "the adapter is detected, connects the client, speaks plain RESP2 values and Redis errors",
      async () => {
        const client = kind.create(target, { otherStart: true });
        try {
          const connection = connectionFor(client);
          connection.open?.(); // what the store does before its first command
          await untilReady(connection);
          assert.equal(connection.address.endsWith("(Redis Cluster)"), kind.cluster, connection.address);
          assert.equal((await connection.masters()).length, target.ports.length);
          const key = "contract:{a}";
          const reply = await connection.send(key, [
            "EVAL",
            "redis.call('SET', KEYS[1], 'x') return {1, 'two', false, {3, KEYS[1]}}",
            "1",
            key,
          ]);
          assert.deepEqual(reply, [1, "two", null, [3, key]]);
          const noScript = await rejection(connection.send(key, ["EVALSHA", "0".repeat(40), "1", key]));
          assert.ok(noScript instanceof Error && noScript.message.startsWith("NOSCRIPT"), String(noScript));
          const wrongType = await rejection(connection.send(key, ["HSET", key, "field", "value"]));
          assert.ok(
            wrongType instanceof Error && wrongType.message.startsWith("WRONGTYPE"),
            String(wrongType),
          );
          const pages = await Promise.all(
            (await connection.masters()).map((node) =>
              node.send(["SCAN", "0", "MATCH", "contract:*", "COUNT", "100"])
            ),
          );
          for (const page of pages) {
            assert.ok(
              Array.isArray(page) && typeof page[0] === "string" && Array.isArray(page[1]),
              String(page),
            );
          }
          assert.deepEqual(pages.flatMap((page) => (page as [string, string[]])[1]), [key]);
        } finally {
          await kind.close(client);
        }
      },
    );

    await t.step("the visit counter counts 1, 2, 3 over HTTP", async () => {
      await using lab = await openLab(kind, target);
      await using app = await startApp(lab.store, visitRoutes);
      const browser = new Browser();
      for (const n of [1, 2, 3]) {
        assert.equal((await browser.get(app.url)).body, `You visited this site ${n} times!`);
      }
      const key = lab.prefix + browser.sid;
      const stored = await (await lab.ownerOf(key)).hGetAll(key);
      assert.equal(stored.visits, "3");
      assert.ok("cookie" in stored);
    });

    await t.step("20 parallel requests each setting its own property lose nothing", async () => {
      await using lab = await openLab(kind, target);
      await using app = await startApp(lab.store, visitRoutes);
      await parallelWritersKeepAll(lab.store, app.url);
    });

    await t.step("a slow write racing a logout answers 200 and the session stays destroyed", async () => {
      await using lab = await openLab(kind, target);
      await using app = await startApp(lab.store, visitRoutes);
      const sid = await slowWriteRacingLogout(lab.store, app.url);
      const key = lab.prefix + sid;
      assert.deepEqual({ ...await (await lab.ownerOf(key)).hGetAll(key) }, { "\0dead": "1" });
      assert.equal(await lab.store.length(), 0);
    });

    await t.step("length, ids, all and clear count exactly the live sessions", async () => {
      await using lab = await openLab(kind, target);
      await using app = await startApp(lab.store, visitRoutes);
      const browsers = Array.from({ length: 30 }, () => new Browser());
      for (const answer of await Promise.all(browsers.map((browser) => browser.get(app.url)))) {
        assert.equal(answer.body, "You visited this site 1 times!");
      }
      const destroyed = browsers.slice(0, 5);
      await Promise.all(destroyed.map((browser) => browser.get(`${app.url}/logout`)));
      const live = browsers.slice(5).map((browser) => browser.sid).sort();

      assert.equal((await lab.keys()).length, 30, "25 sessions and 5 tombstones in Redis");
      if (kind.cluster) {
        for (const admin of lab.masters) {
          assert.ok((await admin.keys(`${lab.prefix}*`)).length > 0, "every master holds some sessions");
        }
      }
      assert.equal(await lab.store.length(), 25);
      assert.deepEqual((await lab.store.ids()).sort(), live);
      const all = await lab.store.all();
      assert.deepEqual(all.map((session) => session.id).sort(), live);
      assert.ok(all.every((session) => session.visits === 1));

      await lab.store.clear();
      assert.equal(await lab.store.length(), 0);
      assert.deepEqual(await lab.store.ids(), []);
      assert.equal((await browsers[10].get(`${app.url}/read`)).body, "none");
    });

    await t.step("a session idle past its cookie maxAge is gone", async () => {
      await using lab = await openLab(kind, target);
      const maxAge = scaled(1000); // long enough for two requests on a loaded machine
      await using app = await startApp(lab.store, visitRoutes, { cookie: { maxAge } });
      const browser = new Browser();
      await browser.get(app.url);
      assert.equal((await browser.get(`${app.url}/read`)).body, "1");
      await delay(maxAge * 1.3);
      assert.equal(await lab.store.get(browser.sid), null);
      assert.deepEqual(await lab.keys(), []);
      assert.equal(await lab.store.length(), 0);
      assert.equal((await browser.get(`${app.url}/read`)).body, "none");
    });

    await t.step("SCRIPT FLUSH on every master while requests run fails no request", async () => {
      await using lab = await openLab(kind, target);
      await using app = await startApp(lab.store, visitRoutes);
      const browsers = Array.from({ length: 10 }, () => new Browser());
      await Promise.all(browsers.map((browser) => browser.get(app.url)));
      await Promise.all(lab.masters.map((admin) => admin.configResetStat()));
      const flush = () => Promise.all(lab.masters.map((admin) => admin.scriptFlush()));
      for (let round = 2; round <= 6; round++) {
        const [answers] = await Promise.all([
          Promise.all(browsers.map((browser) => browser.get(app.url))),
          delay(round % 3).then(flush),
        ]);
        for (const answer of answers) {
          assert.equal(answer.status, 200, answer.body);
          assert.equal(answer.body, `You visited this site ${round} times!`);
        }
      }
      const errors = (await Promise.all(lab.masters.map((admin) => admin.info("errorstats")))).join("\n");
      const count = (error: string) =>
        [...errors.matchAll(new RegExp(`errorstat_${error}:count=(\\d+)`, "g"))]
          .reduce((sum, match) => sum + Number(match[1]), 0);
      assert.ok(count("NOSCRIPT") > 0, "SCRIPT FLUSH never caused a NOSCRIPT");
      assert.equal(count("MOVED") + count("ASK"), 0, "a command went to a master that does not own its key");
    });

    if (kind.configured) {
      const { options, create } = kind.configured;
      await t.step(`a client made with { ${options} } works the same`, async () => {
        await using lab = await openLab(kind, target, {}, create);
        await using app = await startApp(lab.store, visitRoutes);
        const browsers = Array.from({ length: 12 }, () => new Browser());
        await Promise.all(browsers.map((browser) => browser.get(app.url)));
        assert.equal((await browsers[0].get(app.url)).body, "You visited this site 2 times!");
        await browsers[1].get(`${app.url}/logout`);
        assert.equal(await lab.store.length(), 11);
        assert.deepEqual(
          (await lab.store.ids()).sort(),
          browsers.slice(0, 1).concat(browsers.slice(2)).map((b) => b.sid).sort(),
        );
        await lab.store.clear();
        assert.equal(await lab.store.length(), 0);
      });
    }

    await t.step(
      `the store emits 'disconnect' when Redis dies, requests proceed without a session, and 'connect' on return`,
      async () => {
        const commandTimeout = scaled(1000);
        await using lab = await openLab(kind, target, { commandTimeout });
        await using app = await startApp(lab.store, visitRoutes);
        const browser = new Browser();
        assert.equal((await browser.get(app.url)).body, "You visited this site 1 times!");
        const events: string[] = [];
        lab.store.on("disconnect", () => events.push("disconnect"));
        lab.store.on("connect", () => events.push("connect"));

        await target.kill();
        await until(() => events.includes("disconnect"), 3000);
        assert.deepEqual(events, ["disconnect"]);
        const started = Date.now();
        assert.equal((await browser.get(`${app.url}/has`)).body, "no");
        assert.ok(
          Date.now() - started < commandTimeout,
          `a request took ${Date.now() - started} ms while Redis was down`,
        );

        // A client handed to a store while Redis is down gets connected once Redis is back.
        const late = kind.create(target);
        const lateMade = Date.now();
        try {
          const lateStore = new SmartRedisStore({ client: late, commandTimeout });
          const lateEvents: string[] = [];
          lateStore.on("connect", () => lateEvents.push("connect"));
          // Everything it announced, with when, for the failure message.
          const lateAnnounced: string[] = [];
          for (const event of ["connect", "disconnect"]) {
            lateStore.on(event, () => lateAnnounced.push(`${event} at ${Date.now() - lateMade} ms`));
          }
          await using lateApp = await startApp(lateStore, visitRoutes);
          // Its first request, while Redis is down, connects the client; the answer comes fast.
          const lateStarted = Date.now();
          await new Browser().get(lateApp.url);
          assert.ok(Date.now() - lateStarted < commandTimeout * 1.5, `took ${Date.now() - lateStarted} ms`);
          await delay(200);

          await target.restart();
          await until(() => events.at(-1) === "connect", 6000);
          assert.deepEqual(events, ["disconnect", "connect"]);
          assert.equal((await browser.get(`${app.url}/has`)).body, "yes");
          assert.equal(
            (await browser.get(app.url)).body,
            "You visited this site 1 times!",
            "Redis restarted empty",
          );

          await until(() => lateEvents.includes("connect"), 6000);
          assert.deepEqual(
            lateEvents,
            ["connect"],
            `the store made while Redis was down never connected (it announced ${
              lateAnnounced.join(", ") || "nothing"
            }; ${Date.now() - lateMade} ms after it was made its client has ${clientState(late)})`,
          );
          assert.equal((await new Browser().get(lateApp.url)).body, "You visited this site 1 times!");
          // The first request's save, while Redis was down, may have failed after its response went
          // out (express-session then calls next(err)): expected.
          lateApp.lateErrors.splice(0);
        } finally {
          await kind.close(late);
        }
      },
    );
  });
}
