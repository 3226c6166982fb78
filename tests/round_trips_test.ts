/**
 * Round trips, counted on the wire: a TCP proxy in front of Redis counts each
 * time the store sends after having been answered (commands pipelined together
 * count once). Requests run one at a time, so every round trip is the store's.
 */

import assert from "node:assert/strict";
import { createClient } from "redis";
import { SmartRedisStore } from "../mod.ts";
import {
  Browser,
  delay,
  Monitor,
  type RedisServer,
  startApp,
  startRedisServer,
  test,
  visitRoutes,
} from "./_helpers.ts";

/** A loopback proxy to one Redis that counts round trips. */
class RoundTripCounter implements AsyncDisposable {
  #listener: Deno.Listener;
  #conns: Deno.Conn[] = [];
  #count = 0;

  private constructor(listener: Deno.Listener, target: number) {
    this.#listener = listener;
    this.#accept(target);
  }

  static start(server: RedisServer): RoundTripCounter {
    return new RoundTripCounter(Deno.listen({ hostname: "127.0.0.1", port: 0 }), server.port);
  }

  get url(): string {
    return `redis://127.0.0.1:${(this.#listener.addr as Deno.NetAddr).port}`;
  }

  /** Round trips since the last call. */
  take(): number {
    const count = this.#count;
    this.#count = 0;
    return count;
  }

  async #accept(target: number) {
    for await (const client of this.#listener) {
      const redis = await Deno.connect({ hostname: "127.0.0.1", port: target });
      this.#conns.push(client, redis);
      let awaitingReply = false;
      const pump = async (from: Deno.Conn, to: Deno.Conn, fromClient: boolean) => {
        try {
          for await (const chunk of from.readable) {
            if (fromClient && !awaitingReply) this.#count++;
            awaitingReply = fromClient;
            await to.write(chunk);
          }
        } catch { /* closed */ }
      };
      pump(client, redis, true);
      pump(redis, client, false);
    }
  }

  async [Symbol.asyncDispose]() {
    this.#listener.close();
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await delay(10);
  }
}

for (const withUser of [false, true]) {
  const label = withUser ? " (a logged-in session, option user: destroy 2)" : "";
  test(`round trips on the wire: read 1, change 2, destroy 1, and a due renewal adds 1 once${label}`, async (t) => {
    await using server = await startRedisServer();
    await using counter = RoundTripCounter.start(server);
    const client = createClient({ url: counter.url });
    client.on("error", () => {});
    await client.connect();
    try {
      const user = withUser ? (session: Record<string, unknown>) => session.userId : undefined;
      const store = new SmartRedisStore({ client, renewAfter: 0.02, user }); // renewal due 2 s after the last
      await using app = await startApp(store, visitRoutes, { cookie: { maxAge: 100_000 } });
      const browser = new Browser();
      await browser.get(app.url);
      if (withUser) {
        const session = (await store.get(browser.sid))!;
        await store.set(browser.sid, Object.assign(session, { userId: "ann" }));
        assert.deepEqual((await store.sessionsOf("ann")).map((listed) => listed.id), [browser.sid]);
      }
      await delay(100); // the connection's own setup and the script preload are done
      counter.take();

      await t.step("a request that only reads its session: 1", async () => {
        for (let i = 0; i < 3; i++) {
          assert.equal((await browser.get(`${app.url}/read`)).body, "1");
          assert.equal(counter.take(), 1);
        }
      });
      await t.step("a request that changes it: 2", async () => {
        await browser.get(app.url);
        assert.equal(counter.take(), 2);
      });
      await t.step(
        "once the session lost more than renewAfter of its maxAge, one read renews it: 2, then 1",
        async () => {
          await delay(2100);
          await browser.get(`${app.url}/read`);
          assert.equal(counter.take(), 2);
          await browser.get(`${app.url}/read`);
          assert.equal(counter.take(), 1);
        },
      );
      await t.step(
        withUser ? "destroy: 2 (the index removal follows the tombstone)" : "destroy: 1",
        async () => {
          await store.destroy(browser.sid);
          assert.equal(counter.take(), withUser ? 2 : 1);
        },
      );
    } finally {
      await client.close();
    }
  });
}

test("express-session's drift of originalMaxAge (a ms short now and then) costs no write", async () => {
  await using server = await startRedisServer();
  const client = createClient({ url: server.url });
  client.on("error", () => {});
  await client.connect();
  try {
    const store = new SmartRedisStore({ client });
    const cookie = (maxAge: number) => ({ originalMaxAge: maxAge, expires: new Date(Date.now() + maxAge) });
    await store.set("drift", { cookie: cookie(86_400_000), visits: 1 } as never);
    await using monitor = await Monitor.start(server);
    // A read-only request whose cookie express-session reset with the clock ticking in between.
    const read = (await store.get("drift"))! as unknown as { cookie: object; visits: number };
    read.cookie = cookie(86_399_999);
    await store.touch("drift", read as never);
    assert.deepEqual((await monitor.commands()).map((args) => args[0]), ["hgetall"]);
    // A changing one writes its change, not the cookie.
    const changing = (await store.get("drift"))! as unknown as { cookie: object; visits: number };
    changing.cookie = cookie(86_399_998);
    changing.visits = 2;
    await store.set("drift", changing as never);
    const commit = (await monitor.commands()).find((args) => args[0] === "evalsha")!;
    assert.ok(commit.includes("visits") && !commit.includes("cookie"), `the commit wrote ${commit.slice(3)}`);
    const stored = JSON.parse((await client.hGet("session:drift", "cookie"))!);
    assert.equal(stored.originalMaxAge, 86_400_000);
  } finally {
    await client.close();
  }
});
