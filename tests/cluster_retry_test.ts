/**
 * The cluster adapters' retry of commands Redis refused without running them
 * (ASK, MOVED, TRYAGAIN, CLUSTERDOWN, and ioredis's "Too many Cluster
 * redirections" around them), with a small injected `send`.
 */

import assert from "node:assert/strict";
import { isRefusedForNow, retryRefused } from "../src/clients/_cluster_retry.ts";

/** A `send` failing with the given messages, one per call, then answering "OK". */
function failing(...messages: string[]) {
  const calls: number[] = [];
  return {
    calls,
    send: (_key: string, _args: readonly string[]) => {
      calls.push(Date.now());
      const message = messages.shift();
      return message === undefined ? Promise.resolve("OK") : Promise.reject(new Error(message));
    },
  };
}

Deno.test("commands refused for now are sent again until they run", async () => {
  const fake = failing(
    "CLUSTERDOWN The cluster is down",
    "TRYAGAIN Multiple keys request during rehashing of slot",
    "ASK 12 127.0.0.1:7001",
    "MOVED 12 127.0.0.1:7001",
    "Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down",
  );
  assert.equal(await retryRefused(fake.send).send("k", ["GET", "k"]), "OK");
  assert.equal(fake.calls.length, 6);
});

Deno.test("other errors are not retried: the command may have run", async () => {
  for (
    const message of [
      "ERR Script attempted to access a non local key",
      "Socket closed unexpectedly",
      "NOSCRIPT x",
    ]
  ) {
    const fake = failing(message);
    await assert.rejects(retryRefused(fake.send).send("k", ["GET", "k"]), new RegExp(message));
    assert.equal(fake.calls.length, 1);
    assert.equal(isRefusedForNow(new Error(message)), false);
  }
});

Deno.test("retries stop after the bound the store sets (its commandTimeout)", async () => {
  const fake = failing(...Array.from({ length: 1000 }, () => "CLUSTERDOWN The cluster is down"));
  const retrying = retryRefused(fake.send);
  retrying.boundRetries(300);
  const started = Date.now();
  await assert.rejects(retrying.send("k", ["GET", "k"]), /CLUSTERDOWN/);
  const took = Date.now() - started;
  assert.ok(took < 300 + 200, `gave up after ${took} ms`);
  assert.ok(fake.calls.length >= 3, `${fake.calls.length} attempts`);
});

Deno.test("a command's own deadline bounds its retries, whatever bound another store set", async () => {
  const fake = failing(...Array.from({ length: 1000 }, () => "TRYAGAIN slot 12 is being migrated"));
  const retrying = retryRefused(fake.send);
  retrying.boundRetries(60_000); // a store with a long commandTimeout made last
  const started = Date.now();
  await assert.rejects(retrying.send("k", ["GET", "k"], started + 300), /TRYAGAIN/);
  const took = Date.now() - started;
  assert.ok(took < 300 + 200, `gave up after ${took} ms`);
  const attempts = fake.calls.length;
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.equal(fake.calls.length, attempts, "nothing sent after the deadline");
  assert.ok(fake.calls.every((at) => at < started + 300));
});
