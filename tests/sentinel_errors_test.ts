/**
 * Redis Sentinel: while the master is lost and until the sentinels have promoted
 * its replica, every error the store surfaces is a `RedisUnavailableError` naming a
 * real node (host:port), never a client library's raw "Socket closed unexpectedly"
 * or "read ECONNRESET".
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { RedisUnavailableError, SmartRedisStore } from "../mod.ts";
import { startRedisSentinel } from "../scripts/redis_sentinel.ts";
import { redisCliCommand } from "../scripts/redis_server.ts";
import { delay, test } from "./_helpers.ts";
import { SENTINEL_CLIENTS } from "./_sentinel_clients.ts";

const kinds = SENTINEL_CLIENTS;

const cookie = () => ({ originalMaxAge: 600_000, expires: new Date(Date.now() + 600_000).toISOString() });

test("Sentinel master lost until its replica is promoted: every error is a RedisUnavailableError naming a node", async (t) => {
  for (const kind of kinds) {
    await t.step(kind.name, async () => {
      await using setup = await startRedisSentinel();
      const client = kind.create(setup);
      (client as { on(event: string, listener: () => void): void }).on("error", () => {});
      try {
        // Connected first: a short commandTimeout is for the failover, not for a slow start on a busy machine.
        if ("connect" in client && !(client instanceof Redis)) {
          await (client as { connect(): Promise<unknown> }).connect();
        }
        const store = new SmartRedisStore({ client, commandTimeout: 500 });
        for (let i = 0; i < 10; i++) await store.set(`s${i}`, { cookie: cookie(), i } as never);
        await delay(300); // the replica has them
        const from = await setup.masterPort();
        const errors: unknown[] = [];
        const started = Date.now();
        // Requests keep coming, so some are in flight when the master goes.
        const shutdown = delay(300).then(() =>
          new Deno.Command(redisCliCommand(), { args: ["-p", String(from), "SHUTDOWN", "NOSAVE"] }).output()
        );
        let recovered = 0;
        while (recovered < 5 || Date.now() - started < 1000) {
          assert.ok(Date.now() - started < 20_000, `${kind.name}: no recovery within 20 s`);
          const results = await Promise.all(
            Array.from(
              { length: 10 },
              (_, i) =>
                store.set(`w${i}`, { cookie: cookie(), i } as never).then(() => store.get(`s${i}`)).catch(
                  (error) => {
                    errors.push(error);
                    return null;
                  },
                ),
            ),
          );
          recovered = results.every(Boolean) ? recovered + 1 : 0;
          await delay(20);
        }
        await shutdown;
        assert.notEqual(await setup.masterPort(), from);
        assert.ok(errors.length > 0, `${kind.name}: no request failed while the master was away`);
        for (const error of errors) {
          assert.ok(error instanceof RedisUnavailableError, `${kind.name}: ${error}`);
          assert.match(error.message, /127\.0\.0\.1:\d+/, `${kind.name}: ${error.message}`);
          assert.doesNotMatch(error.message, /not found yet|Socket closed|ECONNRESET/, error.message);
        }
      } finally {
        await kind.close(client);
      }
    });
  }
});
