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
import type { CheckTag } from "./tracker.ts";

/** The tracked connection's node answered `ROLE` as something else than a master. */
export class NotMasterError extends Error {
  /**
   * @param role What the node answered (`slave`, `sentinel`...).
   */
  constructor(role: unknown) {
    super(`The tracked connection's node is a ${String(role)}, not a master`);
    this.name = "NotMasterError";
  }
}

/**
 * Asks the node of the tracked connection for its role.
 * @param send Sends a command on the tracked connection.
 * @returns Resolves when it is a master; rejects with {@linkcode NotMasterError} when not.
 */
export async function confirmMaster(send: (args: string[]) => Promise<unknown>): Promise<void> {
  const role = (await send(["ROLE"]) as unknown[] | null)?.[0];
  if (role !== "master") throw new NotMasterError(role);
}

/** What {@linkcode checkTracking} checks besides the invalidation. */
export interface CheckOptions {
  /**
   * Picks a hash tag for the key (on a Redis Cluster: one of a slot the checked master owns).
   * @default {undefined}
   */
  tag?: CheckTag;
  /**
   * Whether the node must answer `ROLE` as master (Sentinel, Redis Cluster): a replica still
   * sends invalidations for what it replicates, later than its master.
   * @default {false}
   */
  master?: boolean;
}

/**
 * Reads, writes and awaits the invalidation of a short-lived key of the tracker's own.
 * @param send Sends a command on the tracked connection.
 * @param cache The cache the invalidations feed.
 * @param timeout Milliseconds to wait for the invalidation.
 * @param options See {@linkcode CheckOptions}.
 * @returns Resolves once the invalidation arrived; rejects otherwise.
 */
export async function checkTracking(
  send: (args: string[]) => Promise<unknown>,
  cache: LocalCache,
  timeout: number,
  options: CheckOptions = {},
): Promise<void> {
  const role = options.master ? confirmMaster(send) : undefined;
  const picked = options.tag?.(send);
  picked?.catch(() => {/* awaited below */});
  await role; // first: a replica fails as one, whatever its tag's search says
  const tag = await picked;
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
