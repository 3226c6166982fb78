/**
 * What the store surfaces when a client library fails a command: its connection
 * and cluster failures become a `RedisUnavailableError` naming the node that owns
 * the key; Redis's own answers (which the store reads) pass unchanged. With a small
 * injected connection in place of a client library.
 */

import assert from "node:assert/strict";
import { RedisUnavailableError } from "../mod.ts";
import type { RedisConnection } from "../src/clients/connection.ts";
import { GuardedConnection } from "../src/clients/guarded_connection.ts";

/** A ready connection whose every command fails with `error`. */
function failingWith(error: unknown): RedisConnection {
  return {
    send: () => Promise.reject(error),
    masters: () => Promise.resolve([{ send: () => Promise.reject(error) }]),
    ready: true,
    address: "127.0.0.1:7000, 127.0.0.1:7001 (Redis Cluster)",
    addressOf: (key) => `127.0.0.1:7001 (the master of ${key}'s slot)`,
    onStateChange: () => {},
  };
}

Deno.test("connection and cluster failures become RedisUnavailableError naming the key's node", async () => {
  for (
    const message of [
      "Socket closed unexpectedly",
      "read ECONNRESET",
      "Connection is closed.",
      "Too many Cluster redirections. Last error: ReplyError: TRYAGAIN",
      "CLUSTERDOWN The cluster is down",
      "MOVED 12 127.0.0.1:7002",
      "READONLY You can't write against a read only replica.",
      "NOREPLICAS Not enough good replicas to write.",
      "LOADING Redis is loading the dataset in memory",
    ]
  ) {
    const cause = new Error(message);
    const connection = new GuardedConnection(failingWith(cause), 1000);
    await assert.rejects(connection.send("session:a", ["HGETALL", "session:a"]), (error: Error) => {
      assert.ok(error instanceof RedisUnavailableError, message);
      assert.match(
        error.message,
        /^Redis at 127\.0\.0\.1:7001 \(the master of session:a's slot\) failed HGETALL/,
      );
      assert.ok(error.message.includes(message));
      assert.equal(error.cause, cause);
      return true;
    });
    // Bulk commands go to a node: the connection's address.
    const [node] = await connection.masters();
    await assert.rejects(
      connection.sendTo(node, ["SCAN", "0"]),
      /Redis at 127\.0\.0\.1:7000, 127\.0\.0\.1:7001/,
    );
  }
});

Deno.test("Redis's answers to the command itself pass unchanged, for the store to read", async () => {
  for (
    const error of [
      new Error("NOSCRIPT No matching script."),
      new Error("WRONGTYPE Operation against a key holding the wrong kind of value"),
      new Error("ERR invalid tombstone life in ms: x"),
      new TypeError("Invalid argument type"),
    ]
  ) {
    const connection = new GuardedConnection(failingWith(error), 1000);
    await assert.rejects(connection.send("k", ["GET", "k"]), (thrown) => thrown === error);
  }
});
