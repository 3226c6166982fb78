/**
 * A store event listener that throws: the option `on`'s listener failing does
 * not keep the event from the store's own `store.on(...)` listeners, and the
 * request it watches completes. Against a real redis-server.
 */

import assert from "node:assert/strict";
import type { SessionData } from "express-session";
import { SmartRedisStore } from "../mod.ts";
import { connectClient, startRedisServer, test } from "./_helpers.ts";

test("an on-option listener that throws does not keep the event from store.on listeners", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const store = new SmartRedisStore({
    client,
    on: {
      destroy: () => {
        throw new Error("listener bug");
      },
    },
  });
  const heard: string[] = [];
  store.on("destroy", ({ sid }: { sid: string }) => heard.push(sid));
  const logged: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    await store.set("s1", { cookie: { originalMaxAge: 86_400_000 } } as unknown as SessionData);
    await store.destroy("s1");
  } finally {
    console.error = original;
  }
  assert.deepEqual(heard, ["s1"]);
  assert.equal(logged.length, 1, "the failing listener is logged");
});
