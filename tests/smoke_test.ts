import assert from "node:assert/strict";
import { storeFixture, test } from "./_helpers.ts";

test("smoke", async () => {
  await using fx = await storeFixture();
  await fx.store.set(
    "a",
    { cookie: { originalMaxAge: 60000, expires: new Date(Date.now() + 60000) }, n: 1 } as never,
  );
  const got = await fx.store.get("a");
  console.log(got, await fx.redis.hGetAll("session:a"), await fx.redis.pTTL("session:a"));
  assert.equal((got as unknown as { n: number }).n, 1);
  (got as unknown as { n: number }).n = 2;
  await fx.store.set("a", got!);
  console.log(await fx.redis.hGetAll("session:a"));
  await fx.store.destroy("a");
  console.log(await fx.redis.hGetAll("session:a"), await fx.store.get("a"), await fx.store.length());
});
