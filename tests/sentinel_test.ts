/**
 * Redis with Sentinel, end to end: node-redis 6 and 5 `createSentinel()` and
 * ioredis 6 and 5 `new Redis({ sentinels, name })`, handed to the store as users
 * make them, behind Express over real HTTP, against a real master, replica and
 * sentinel, through a real `SENTINEL FAILOVER`.
 */

import assert from "node:assert/strict";
import { createClient, createSentinel as createSentinel5 } from "redis";
import { createSentinel as createSentinel6 } from "redis6";
import { Redis } from "ioredis";
import { Redis as Redis6 } from "ioredis6";
import { type RedisSentinel, startRedisSentinel } from "../scripts/redis_sentinel.ts";
import { RedisUnavailableError, SmartRedisStore } from "../mod.ts";
import { connectionFor } from "../src/clients/detect.ts";
import { ALL_SCRIPTS } from "../src/scripts/all_scripts.ts";
import { type App, Browser, delay, startApp, test, visitRoutes } from "./_helpers.ts";
import { slowWriteRacingLogout } from "./_races.ts";
import { scaled } from "./_load.ts";

/** A client library's Sentinel mode. */
interface SentinelKind {
  name: string;
  create(setup: RedisSentinel): object;
  close(client: object): Promise<void>;
}

const sentinels = (setup: RedisSentinel) => [{ host: "127.0.0.1", port: setup.port }];
const closeNodeRedis = (client: object) =>
  (client as { destroy(): Promise<unknown> }).destroy().then(() => {}, () => {});
const closeIoRedis = (client: object) => Promise.resolve((client as { disconnect(): void }).disconnect());

const KINDS: SentinelKind[] = [
  {
    name: "node-redis 6 createSentinel()",
    create: (setup) => createSentinel6({ name: setup.name, sentinelRootNodes: sentinels(setup) }),
    close: closeNodeRedis,
  },
  {
    name: "node-redis 5 createSentinel()",
    create: (setup) => createSentinel5({ name: setup.name, sentinelRootNodes: sentinels(setup) }),
    close: closeNodeRedis,
  },
  {
    name: "ioredis 6 new Redis({ sentinels })",
    create: (setup) => new Redis6({ name: setup.name, sentinels: sentinels(setup) }),
    close: closeIoRedis,
  },
  {
    name: "ioredis 5 new Redis({ sentinels })",
    create: (setup) => new Redis({ name: setup.name, sentinels: sentinels(setup) }),
    close: closeIoRedis,
  },
];

/** A store on a fresh client of the kind, with its own key prefix, behind an app. */
interface Lab extends AsyncDisposable {
  client: object;
  store: SmartRedisStore;
  app: App;
}

let labs = 0;
const shas = ALL_SCRIPTS.map((script) => script.sha);

async function openLab(kind: SentinelKind, setup: RedisSentinel, commandTimeout?: number): Promise<Lab> {
  const client = kind.create(setup);
  // Unless the case needs its own, the default 2 s stretched by the load measured now.
  const store = new SmartRedisStore({
    client,
    prefix: `sentinel${++labs}:`,
    commandTimeout: commandTimeout ?? scaled(2000),
  });
  const app = await startApp(store, visitRoutes);
  return {
    client,
    store,
    app,
    async [Symbol.asyncDispose]() {
      await app[Symbol.asyncDispose]();
      await kind.close(client);
    },
  };
}

/** A node-redis client on one data server, for looking at it directly. */
async function admin(port: number) {
  const client = createClient({ url: `redis://127.0.0.1:${port}` });
  client.on("error", () => {});
  await client.connect();
  return Object.assign(client, {
    async [Symbol.asyncDispose]() {
      if (client.isOpen) await client.close();
    },
  });
}

for (const kind of KINDS) {
  test(`${kind.name}: sessions work through Redis Sentinel`, async (t) => {
    await using setup = await startRedisSentinel();
    const master = await setup.masterPort();

    await t.step("the adapter sends to the master and names it", async () => {
      await using lab = await openLab(kind, setup);
      const browser = new Browser();
      assert.equal((await browser.get(lab.app.url)).body, "You visited this site 1 times!");
      const address = connectionFor(lab.client).address;
      assert.ok(address.includes(`127.0.0.1:${master}`), address);
      await using direct = await admin(master);
      assert.equal(await direct.exists(`sentinel${labs}:${browser.sid}`), 1);
    });

    await t.step("the visit counter counts 1, 2, 3 over HTTP", async () => {
      await using lab = await openLab(kind, setup);
      const browser = new Browser();
      for (const n of [1, 2, 3]) {
        assert.equal((await browser.get(lab.app.url)).body, `You visited this site ${n} times!`);
      }
    });

    await t.step("20 parallel requests each setting its own property lose nothing", async () => {
      await using lab = await openLab(kind, setup);
      const browser = new Browser();
      await browser.get(lab.app.url);
      const answers = await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) => browser.get(`${lab.app.url}/set/p${i}/${i}?delay=${(i * 7) % 50}`),
        ),
      );
      assert.ok(answers.every((answer) => answer.status === 200 && answer.body === "set"));
      const stored = await lab.store.get(browser.sid) as Record<string, unknown>;
      for (let i = 0; i < 20; i++) assert.equal(stored[`p${i}`], String(i), `p${i} was lost`);
    });

    await t.step("a slow write racing a logout answers 200 and the session stays destroyed", async () => {
      await using lab = await openLab(kind, setup);
      await slowWriteRacingLogout(lab.store, lab.app.url);
      assert.equal(await lab.store.length(), 0);
    });

    await t.step("a master that does not answer is named in the error", async () => {
      await using lab = await openLab(kind, setup, 300);
      const browser = new Browser();
      await browser.get(lab.app.url);
      await using direct = await admin(master);
      // Reads are plain commands: pause them all, shorter than the sentinel's down-after (1000 ms).
      await direct.sendCommand(["CLIENT", "PAUSE", "600", "ALL"]);
      const error = await lab.store.get(browser.sid).then(() => undefined, (error) => error);
      assert.ok(error instanceof RedisUnavailableError, String(error));
      assert.ok(error.message.includes(`127.0.0.1:${master}`), error.message);
      await delay(500); // let the pause end before the next step
    });
  });
}

test("SENTINEL FAILOVER: every client's requests recover by themselves, scripts reload, nothing is lost", async (t) => {
  await using setup = await startRedisSentinel();
  const labs: Lab[] = [];
  const browsers: Browser[] = [];
  try {
    await t.step("before: each client's app counts visits and takes 20 parallel writes", async () => {
      for (const kind of KINDS) {
        const lab = await openLab(kind, setup, scaled(1000));
        labs.push(lab);
        const browser = new Browser();
        browsers.push(browser);
        for (const n of [1, 2]) {
          assert.equal((await browser.get(lab.app.url)).body, `You visited this site ${n} times!`, kind.name);
        }
        const answers = await Promise.all(
          Array.from({ length: 20 }, (_, i) => browser.get(`${lab.app.url}/set/p${i}/${i}`)),
        );
        assert.ok(answers.every((answer) => answer.status === 200), kind.name);
      }
    });

    // The replica may hold the scripts the master loaded: make it forget them, as one that
    // started after the loads would have.
    const current = await setup.masterPort();
    const replica = setup.dataPorts.find((port) => port !== current)!;
    {
      await using direct = await admin(replica);
      await direct.scriptFlush();
      assert.deepEqual(await direct.scriptExists(shas), shas.map(() => 0));
    }
    const { to } = await setup.failover();
    assert.equal(to, replica);
    await using promoted = await admin(to);
    assert.match(await promoted.info("replication"), /role:master/);

    await t.step("after: requests answer again within 10 s, with every value written before", async () => {
      for (const [i, kind] of KINDS.entries()) {
        const started = Date.now();
        let answer = await browsers[i].get(labs[i].app.url);
        while (answer.status !== 200 && Date.now() - started < 10_000) {
          await delay(100);
          answer = await browsers[i].get(labs[i].app.url);
        }
        assert.equal(answer.body, "You visited this site 3 times!", `${kind.name}: ${answer.body}`);
        const stored = await labs[i].store.get(browsers[i].sid) as Record<string, unknown>;
        for (let p = 0; p < 20; p++) assert.equal(stored[`p${p}`], String(p), `${kind.name}: p${p} was lost`);
        const address = connectionFor(labs[i].client).address;
        assert.ok(address.includes(`127.0.0.1:${to}`), `${kind.name} names ${address}`);
      }
    });

    await t.step(
      "the scripts were loaded again on the new master, and no write reached a replica",
      async () => {
        assert.deepEqual(await promoted.scriptExists(shas), shas.map(() => 1));
        assert.doesNotMatch(await promoted.info("errorstats"), /errorstat_READONLY/);
      },
    );
  } finally {
    for (const lab of labs) await lab[Symbol.asyncDispose]();
  }
});

test("a Sentinel client the app closed fails store calls at once, saying it is closed", async (t) => {
  await using setup = await startRedisSentinel();
  for (const kind of KINDS) {
    await t.step(kind.name, async () => {
      const client = kind.create(setup);
      (client as { on(event: string, listener: () => void): void }).on("error", () => {});
      const store = new SmartRedisStore({ client, prefix: `closed${++labs}:` });
      await store.set("a", { cookie: { originalMaxAge: 60000 }, v: 1 } as never);
      await kind.close(client);
      const started = Date.now();
      const error = await store.get("a").then(() => undefined, (error) => error);
      // The store's own error, or (ioredis, the moment after disconnect()) the client's.
      assert.match(String(error?.message), /closed/i);
      assert.ok(Date.now() - started < 500, `took ${Date.now() - started} ms`);
    });
  }
});
