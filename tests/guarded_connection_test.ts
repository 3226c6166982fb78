/**
 * The command time bound (`commandTimeout`) alone, on a connection whose replies
 * the test hands out by hand: commands answered in time resolve as answered,
 * those that are not fail once their deadline passes, and answers that come
 * after the deadline change nothing.
 */

import assert from "node:assert/strict";
import type { RedisConnection } from "../mod.ts";
import { RedisUnavailableError } from "../src/errors.ts";
import { GuardedConnection } from "../src/clients/guarded_connection.ts";
import { scaled } from "./_load.ts";

/** A ready connection whose commands wait until the test answers them. */
function handOperated() {
  const waiting = new Map<string, (reply: unknown) => void>();
  const connection: RedisConnection = {
    send: (_key, args) => new Promise((resolve) => waiting.set(args[1], resolve)),
    masters: () => Promise.resolve([]),
    ready: true,
    address: "127.0.0.1:1",
    onStateChange: () => {},
  };
  const answer = (id: string, reply: unknown) => waiting.get(id)!(reply);
  return { connection, answer };
}

/**
 * Keeps the event loop running while `fn` waits: the time bound's timer does not (a real
 * client's socket does), so that it never holds a process open by itself.
 */
async function alive<T>(fn: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => {}, 1000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/** How a command ended: its reply, or the error it failed with ("still pending" after a long while). */
function outcome(work: Promise<unknown>): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Promise((resolve) => timer = setTimeout(() => resolve("still pending"), scaled(3000)));
  return Promise.race([work.then((reply) => reply, (error) => error), pending])
    .finally(() => clearTimeout(timer));
}

Deno.test("commands answered in time resolve while a command nobody answers fails at its deadline", () =>
  alive(async () => {
    const timeout = scaled(100);
    const { connection, answer } = handOperated();
    const guarded = new GuardedConnection(connection, timeout);
    const started = Date.now();
    const hung = outcome(guarded.send("k", ["GET", "hung"]));
    const early = outcome(guarded.send("k", ["GET", "early"]));
    answer("early", "first");
    assert.equal(await early, "first");
    const late = outcome(guarded.send("k", ["GET", "late"])); // sent while "hung" still waits
    answer("late", "second");
    assert.equal(await late, "second");

    const error = await hung;
    assert.ok(error instanceof RedisUnavailableError, String(error));
    assert.match(error.message, new RegExp(`did not answer GET within ${timeout} ms`));
    assert.ok(Date.now() - started >= timeout, `failed after ${Date.now() - started} ms`);
    answer("hung", "too late"); // an answer after the deadline is ignored
    assert.equal(await hung, error);
  }));

Deno.test("the time bound holds again once every command was answered", () =>
  alive(async () => {
    const timeout = scaled(50);
    const { connection, answer } = handOperated();
    const guarded = new GuardedConnection(connection, timeout);
    for (let i = 0; i < 3; i++) {
      const answered = guarded.send("k", ["GET", `answered${i}`]);
      answer(`answered${i}`, i);
      assert.equal(await answered, i);
    }
    // Nothing is in flight now: a new command that hangs still gets its deadline.
    const error = await outcome(guarded.send("k", ["GET", "hung"]));
    assert.ok(error instanceof RedisUnavailableError, String(error));
  }));
