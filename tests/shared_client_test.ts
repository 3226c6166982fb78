/**
 * One Redis client shared by several stores (a store per tenant prefix): each store
 * sees only its own sessions, and the client gets the store's listeners once.
 */

import assert from "node:assert/strict";
import process from "node:process";
import { createClient } from "redis";
import { SmartRedisStore } from "../mod.ts";
import { delay, startRedisServer, test } from "./_helpers.ts";

test("a store per tenant prefix on one client: separate sessions, no EventEmitter leak warning", async () => {
  await using server = await startRedisServer();
  const client = createClient({ url: server.url });
  client.on("error", () => {});
  await client.connect();
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
  process.on("warning", onWarning);
  try {
    const stores = Array.from(
      { length: 12 },
      (_, i) => new SmartRedisStore({ client, prefix: `tenant${i}:` }),
    );
    await Promise.all(
      stores.map((store, i) =>
        store.set("same-id", { cookie: { originalMaxAge: 60_000 }, tenant: i } as never)
      ),
    );
    const sessions = await Promise.all(stores.map((store) => store.get("same-id")));
    assert.deepEqual(
      sessions.map((session) => (session as { tenant?: number }).tenant),
      stores.map((_, i) => i),
    );
    assert.deepEqual(await Promise.all(stores.map((store) => store.length())), stores.map(() => 1));
    await delay(50);
    assert.deepEqual(warnings, []);
  } finally {
    process.off("warning", onWarning);
    await client.close();
  }
});
