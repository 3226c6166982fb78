/**
 * Proves that tracking works end to end before a tracker lets the cache serve
 * reads: a key of its own is read on the tracked connection, then written, and
 * Redis's invalidation of it must reach the cache. A redirect to a connection
 * that does not hear the invalidation (wrong protocol, lost subscription) then
 * keeps the cache off rather than stale.
 * @module
 */

import { randomBytes } from "node:crypto";
import type { LocalCache } from "./local_cache.ts";

/**
 * Reads, writes and awaits the invalidation of a short-lived key of the tracker's own.
 * @param send Sends a command on the tracked connection.
 * @param cache The cache the invalidations feed.
 * @param timeout Milliseconds to wait for the invalidation.
 * @param tag A hash tag for the key (on a Redis Cluster: one of a slot the checked master owns).
 * @returns Resolves once the invalidation arrived; rejects otherwise.
 */
export async function checkTracking(
  send: (args: string[]) => Promise<unknown>,
  cache: LocalCache,
  timeout: number,
  tag?: string,
): Promise<void> {
  const key = `connect-smart-redis:tracking-check:${tag === undefined ? "" : `{${tag}}:`}${
    randomBytes(8).toString("hex")
  }`;
  const seen = cache.invalidationOf(key, timeout);
  seen.catch(() => {/* awaited below */});
  await send(["GET", key]);
  await send(["SET", key, "1", "PX", String(Math.max(1000, timeout))]);
  await seen;
  send(["DEL", key]).catch(() => {/* it expires anyway */});
}
