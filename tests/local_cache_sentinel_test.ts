/**
 * The local cache on Sentinel clients (ioredis 5 and 6 `new Redis({ sentinels })`,
 * node-redis 6 `createSentinel()`): another store's writes reach the cache, a
 * CLIENT KILL of the tracked connection flushes it, and
 * through a real `SENTINEL FAILOVER` under cached reads the cache is flushed,
 * tracking moves to the new master (never a replica), and no read after recovery
 * is stale.
 */

import assert from "node:assert/strict";
import { createClient } from "redis";
import { createSentinel } from "redis6";
import { Redis } from "ioredis";
import { Redis as Redis6 } from "ioredis6";
import { SmartRedisStore } from "../mod.ts";
import { type RedisSentinel, startRedisSentinel } from "../scripts/redis_sentinel.ts";
import { redisCliCommand } from "../scripts/redis_server.ts";
import { delay, test } from "./_helpers.ts";
import { cacheIt, sessionWith, waitForStats } from "./_cache_helpers.ts";
import { scaled, until } from "./_load.ts";

interface Kind {
  name: string;
  /** A client; `follow`: ioredis's own failoverDetector, so the app's client follows a partition too. */
  create(setup: RedisSentinel, follow?: boolean): object;
}

const sentinels = (setup: RedisSentinel) => [{ host: "127.0.0.1", port: setup.port }];
const nodeRedis6 = (setup: RedisSentinel) =>
  createSentinel({ name: setup.name, sentinelRootNodes: sentinels(setup) });

const KINDS: Kind[] = [
  { name: "node-redis 6 createSentinel()", create: nodeRedis6 },
  {
    name: "ioredis 5",
    create: (setup, follow) =>
      new Redis({ name: setup.name, sentinels: sentinels(setup), failoverDetector: follow }),
  },
  {
    name: "ioredis 6",
    create: (setup, follow) =>
      new Redis6({ name: setup.name, sentinels: sentinels(setup), failoverDetector: follow }),
  },
];

function close(client: object): Promise<unknown> {
  const nodeRedis = client as { destroy?(): Promise<unknown> };
  if (nodeRedis.destroy) return nodeRedis.destroy().catch(() => {});
  return Promise.resolve((client as { disconnect(): void }).disconnect());
}

/** The tracking connections (flag t) on a data server; `kill`: CLIENT KILL them too. */
async function trackingClients(port: number, kill = false): Promise<number> {
  const client = createClient({ url: `redis://127.0.0.1:${port}` });
  client.on("error", () => {});
  await client.connect();
  try {
    const list = String(await client.sendCommand(["CLIENT", "LIST"]));
    const ids = list.split("\n").filter((line) => /flags=\S*t/.test(line)).map((line) =>
      /id=(\d+)/.exec(line)![1]
    );
    if (kill) { for (const id of ids) await client.sendCommand(["CLIENT", "KILL", "ID", id]); }
    return ids.length;
  } finally {
    await client.close();
  }
}

/** Retries a write until the store has followed the failover. */
async function write(store: SmartRedisStore, sid: string, n: number): Promise<void> {
  const started = Date.now();
  const limit = scaled(15_000);
  for (;;) {
    try {
      const loaded = await store.get(sid);
      await store.set(sid, loaded ? { ...loaded, n } : sessionWith({ n }));
      return;
    } catch (error) {
      if (Date.now() - started > limit) throw error;
      await delay(50);
    }
  }
}

for (const kind of KINDS) {
  test(`localCache (${kind.name}): a failover under cached reads leaves no stale read`, async (t) => {
    await using setup = await startRedisSentinel();
    const clientA = nodeRedis6(setup);
    const clientB = kind.create(setup);
    for (const client of [clientA, clientB]) {
      (client as { on(event: string, listener: () => void): void }).on("error", () => {});
    }
    const commandTimeout = scaled(2000);
    const a = new SmartRedisStore({ client: clientA, commandTimeout });
    const b = new SmartRedisStore({ client: clientB, commandTimeout, localCache: true });
    const bound = scaled(5000);
    try {
      await t.step("another store's change reaches the cache", async () => {
        await write(a, "s1", 1);
        await cacheIt(b, "s1");
        assert.equal(b.cacheStats().mode, "local");
        assert.match(b.cacheStats().detail, /Sentinel/);
        const before = b.cacheStats().invalidations;
        await write(a, "s1", 2);
        await waitForStats(b, (stats) => stats.invalidations > before, bound);
        assert.equal((await b.get("s1"))?.n, 2);
        assert.equal(await trackingClients(await setup.masterPort()), 1);
      });

      await t.step("CLIENT KILL of the tracked connection: flushed, fresh, then tracking again", async () => {
        await cacheIt(b, "s1");
        const flushes = b.cacheStats().flushes;
        assert.equal(await trackingClients(await setup.masterPort(), true), 1);
        await write(a, "s1", 10);
        assert.ok(await until(async () => (await b.get("s1").catch(() => null))?.n === 10, 5000));
        assert.ok(b.cacheStats().flushes > flushes, JSON.stringify(b.cacheStats()));
        await waitForStats(b, (stats) => stats.tracking, bound);
        await cacheIt(b, "s1");
        assert.equal((await b.get("s1"))?.n, 10);
      });

      await t.step(
        "SENTINEL FAILOVER while reads hit the cache: flushed, then fresh from the new master",
        async () => {
          await cacheIt(b, "s1");
          const flushes = b.cacheStats().flushes;
          let reading = true;
          let reads = 0;
          const reader = (async () => {
            while (reading) {
              await b.get("s1").then(() => reads++, () => {/* the failover may fail a read */});
              await delay(5);
            }
          })();
          const { from, to } = await setup.failover();
          // A's write lands on the new master; the old master is a replica of it by now.
          await write(a, "s1", 3);
          reading = false;
          await reader;
          assert.ok(reads > 0, "no read succeeded while the failover ran");
          assert.ok(b.cacheStats().flushes > flushes, `not flushed: ${JSON.stringify(b.cacheStats())}`);
          assert.equal((await b.get("s1"))?.n, 3);
          // Recovered: tracking confirmed again, on the new master only.
          await waitForStats(b, (stats) => stats.tracking, bound);
          assert.equal((await b.get("s1"))?.n, 3);
          await cacheIt(b, "s1");
          assert.equal((await b.get("s1"))?.n, 3);
          assert.equal(await trackingClients(to), 1, "no tracked connection on the new master");
          assert.equal(await trackingClients(from), 0, "a tracked connection on the replica");
        },
      );

      await t.step("after recovery, another store's change on the new master reaches the cache", async () => {
        const before = b.cacheStats().invalidations;
        await write(a, "s1", 4);
        await waitForStats(b, (stats) => stats.invalidations > before, bound);
        assert.equal((await b.get("s1"))?.n, 4);
        await a.destroy("s1");
        await waitForStats(b, (stats) => stats.invalidations > before + 1, bound);
        assert.equal(await b.get("s1"), null);
      });
    } finally {
      await close(clientB);
      await close(clientA);
    }
  });
}

/** Runs one command with the command-line client. */
async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await new Deno.Command(redisCliCommand(), {
    args: ["-h", "127.0.0.1", "-p", String(port), ...args],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(stdout).trim();
}

for (const kind of KINDS) {
  test(`localCache (${kind.name}): a failover that leaves the old master up (a partition) moves tracking to the new master`, async () => {
    await using setup = await startRedisSentinel();
    const clientA = nodeRedis6(setup);
    const clientB = kind.create(setup, true);
    for (const client of [clientA, clientB]) {
      (client as { on(event: string, listener: () => void): void }).on("error", () => {});
    }
    const commandTimeout = scaled(2000);
    const a = new SmartRedisStore({ client: clientA, commandTimeout });
    const b = new SmartRedisStore({ client: clientB, commandTimeout, localCache: true });
    try {
      await write(a, "s1", 1);
      await cacheIt(b, "s1");
      const from = await setup.masterPort();
      const to = setup.dataPorts.find((port) => port !== from)!;
      // The sentinel cannot demote the old master: it stays up as a master, its clients
      // connected (what a partition between it and the sentinels looks like to this app).
      assert.equal(await cli(from, "ACL", "SETUSER", "default", "-replicaof", "-slaveof"), "OK");
      assert.equal(await cli(setup.port, "SENTINEL", "FAILOVER", setup.name), "OK");
      assert.ok(await until(async () => await setup.masterPort() === to, 15_000), "no failover");
      // A writes once its client has followed the announcement too.
      const followed = () =>
        (clientA as { getMasterNode(): { port: number } | undefined }).getMasterNode()?.port === to;
      assert.ok(await until(followed, 15_000), "A's client did not follow the failover");
      await write(a, "s1", 2);
      assert.match(await cli(from, "ROLE"), /^master/);
      assert.equal(await cli(from, "HGET", "session:s1", "n"), "1", "A wrote to the old master");
      // B follows the sentinels' announcement: its next reads, cached or not, come from the new master.
      assert.ok(
        await until(async () => (await b.get("s1"))?.n === 2, 5000),
        `still ${(await b.get("s1"))?.n}: ${JSON.stringify(b.cacheStats())}`,
      );
      await waitForStats(b, (stats) => stats.tracking, scaled(5000));
      await cacheIt(b, "s1");
      assert.equal((await b.get("s1"))?.n, 2);
      assert.equal(await trackingClients(to), 1, "no tracked connection on the new master");
      assert.equal(await trackingClients(from), 0, "a tracked connection left on the old master");
    } finally {
      await close(clientB);
      await close(clientA);
    }
  });
}
