/**
 * The test helpers' servers: each test talks to the server it started, never to one
 * another test process happened to start on the same port (which once let a parallel
 * run's commands into a MONITOR count).
 */

import assert from "node:assert/strict";
import { PortTakenError, startRedisServer } from "../scripts/redis_server.ts";
import { connectClient, test } from "./_helpers.ts";

test("a server whose port another server holds fails to start, leaving the other alone", async () => {
  await using first = await startRedisServer();
  await assert.rejects(startRedisServer({ port: first.port }), PortTakenError);
  await using redis = await connectClient(first);
  assert.equal(await redis.ping(), "PONG");
});

test("servers started side by side each answer on a port of their own", async () => {
  const servers = await Promise.all(Array.from({ length: 6 }, () => startRedisServer()));
  try {
    assert.equal(new Set(servers.map((server) => server.port)).size, servers.length);
  } finally {
    await Promise.all(servers.map((server) => server.kill()));
  }
});
