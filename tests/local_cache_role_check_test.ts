/**
 * The role check of a cluster master's cache, alone: a node that answers `ROLE` as
 * anything but a master has its cache closed at once (connections included), and a
 * tracking check on one fails as such before it writes its check key.
 */

import assert from "node:assert/strict";
import type { RedisConnection } from "../src/clients/connection.ts";
import { LocalCache } from "../src/cache/local_cache.ts";
import { TrackedReads } from "../src/cache/tracked_reads.ts";
import { checkTracking, NotMasterError } from "../src/cache/tracking_check.ts";
import type { Tracker } from "../src/cache/tracker.ts";

const BOUNDS = { maxBytes: 1 << 20, maxEntries: 1000, maxAgeMs: 60_000 };
const SESSION = ["name", '"ann"'];

/** A node whose role the test sets; tracking is on from the start. */
function fakeNode() {
  const node = { role: "master", sent: [] as string[], stopped: 0 };
  const tracker: Tracker = {
    detail: "fake",
    start(cache: LocalCache): RedisConnection {
      cache.flush(true);
      return {
        send(_key, args) {
          node.sent.push(args[0]);
          if (args[0] === "ROLE") return Promise.resolve([node.role]);
          return Promise.resolve(args[0] === "HGETALL" ? SESSION : "OK");
        },
        masters: () => Promise.resolve([]),
        ready: true,
        address: "127.0.0.1:1",
        onStateChange() {},
      };
    },
    stop() {
      node.stopped++;
    },
  };
  return { node, tracker };
}

Deno.test("checkRole() leaves a master's cache serving, and closes a demoted one's at once", async () => {
  const { node, tracker } = fakeNode();
  let demoted = 0;
  const reads = new TrackedReads(tracker, BOUNDS, 1000, { onDemoted: () => demoted++ });
  assert.deepEqual(await reads.read("session:a"), SESSION); // a miss, stored
  assert.deepEqual(reads.read("session:a"), SESSION); // a hit
  await reads.checkRole();
  assert.equal(reads.stats().entries, 1);
  assert.equal(demoted, 0);

  node.role = "slave";
  await reads.checkRole();
  assert.equal(demoted, 1);
  assert.equal(node.stopped, 1, "its tracked connections are closed");
  assert.equal(reads.stats().entries, 0);
  assert.equal(reads.read("session:a"), undefined, "it serves nothing: read the usual way");
  await reads.checkRole();
  assert.equal(demoted, 1, "once");
});

Deno.test("checkRole() closes the cache of a node that does not answer", async () => {
  const { tracker } = fakeNode();
  const start = tracker.start;
  tracker.start = (cache) => ({ ...start(cache), send: () => Promise.reject(new Error("LOADING")) });
  let demoted = 0;
  const reads = new TrackedReads(tracker, BOUNDS, 1000, { onDemoted: () => demoted++ });
  await assert.rejects(async () => await reads.read("session:a"), /LOADING/);
  await reads.checkRole();
  assert.equal(demoted, 1);
  assert.equal(reads.read("session:a"), undefined);
});

Deno.test("a tracking check on a replica fails as one, and writes no check key", async () => {
  const sent: string[] = [];
  const send = (args: string[]) => {
    sent.push(args[0]);
    return Promise.resolve(args[0] === "ROLE" ? ["slave", "127.0.0.1", 7000, "connected", 1] : "OK");
  };
  const cache = new LocalCache(BOUNDS, "test");
  await assert.rejects(() => checkTracking(send, cache, 100, { master: true }), NotMasterError);
  assert.deepEqual(sent, ["ROLE"]);
  // A cluster node's tag search (CLUSTER NODES) would fail on a replica too: the role is what fails.
  const tag = () => Promise.reject(new Error("This cluster node owns no slot"));
  await assert.rejects(() => checkTracking(send, cache, 100, { master: true, tag }), NotMasterError);
});
