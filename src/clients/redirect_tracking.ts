/**
 * Local-cache tracking over two connections, for clients without RESP3 push
 * support (ioredis, node-redis 4): one connection SUBSCRIBEd to
 * `__redis__:invalidate`, the other, which carries the store's session reads,
 * with `CLIENT TRACKING on REDIRECT <id of the first>`. Either reconnecting
 * silently ends the invalidations (the redirect breaks, or tracking is off on a
 * new connection), so the adapter reports every close or reconnect of either
 * here: the cache is flushed, and tracking is set up again and proven end to end
 * before the cache serves reads again. The adapters only wire their library's
 * events to {@linkcode RedirectArming}.
 * @module
 */

import type { LocalCache } from "../cache/local_cache.ts";
import type { CheckTag } from "../cache/tracker.ts";
import { checkTracking } from "../cache/tracking_check.ts";
import { trackingOn } from "./node_redis_tracking.ts";
import { unrefTimer } from "./_util.ts";

/** The channel Redis sends invalidations on to a RESP2 redirect target. */
export const INVALIDATE_CHANNEL = "__redis__:invalidate";

/**
 * How long to wait before setting tracking up again after `failures` failed attempts while the
 * connections were up: soon at first (a failover settling), then backing off to 30 s (an ACL
 * that refuses the check key keeps failing).
 * @param failures Failed attempts in a row, at least 1.
 * @param timeout Milliseconds a command may take (option `commandTimeout`).
 * @returns Milliseconds.
 */
export function rearmDelay(failures: number, timeout: number): number {
  return Math.min(30_000, Math.min(1000, timeout) * 2 ** (failures - 1));
}

/** What the adapter gives the arming. */
export interface RedirectEnds {
  /**
   * Sends a command on the data connection.
   * @param args The command.
   * @returns The reply.
   */
  send(args: string[]): Promise<unknown>;
  /**
   * Whether both connections are up now.
   * @returns True when they are.
   */
  live(): boolean;
  /**
   * Sentinel clients: tracking counts only on a master (a replica never sees the sessions' writes
   * first). A cluster node (one with a `checkTag`) is held to that too.
   */
  masterOnly: boolean;
  /** A key prefix the client adds to every key (ioredis `keyPrefix`); invalidations carry it. */
  keyPrefix: string;
  /** Picks the check key's hash tag, when the data connection is one node of a Redis Cluster. */
  checkTag?: CheckTag;
}

/**
 * Keeps a REDIRECT pair's tracking set up. Each change of either connection ends
 * the current arming (a generation counter) and starts a new one once both are up.
 */
export class RedirectArming {
  #cache: LocalCache;
  #ends: RedirectEnds;
  #timeout: number;
  #generation = 0;
  #subscriber: Promise<string> | undefined;
  #closed = false;
  #failures = 0;

  /**
   * @param cache The cache to feed.
   * @param ends The adapter's connections.
   * @param timeout Milliseconds the end-to-end check of tracking may take.
   */
  constructor(cache: LocalCache, ends: RedirectEnds, timeout: number) {
    this.#cache = cache;
    this.#ends = ends;
    this.#timeout = timeout;
  }

  /**
   * The subscriber is subscribed again (or lost: `undefined`).
   * @param id Resolves to its client id once it is subscribed.
   */
  subscribed(id: Promise<string> | undefined): void {
    id?.catch(() => {/* the subscriber's next event decides */});
    this.#subscriber = id;
    this.arm();
  }

  /** Either connection closed, reconnected or became ready: flush, and arm again when both are up. */
  arm(): void {
    this.#failures = 0;
    this.#armNow();
  }

  #armNow(): void {
    const mine = ++this.#generation;
    this.#cache.flush(false);
    if (this.#closed || !this.#ends.live() || this.#subscriber === undefined) return;
    this.#armAs(mine, this.#subscriber).catch(() => {
      // Both up and still failing (the two on different servers during a failover, or a
      // replica): try again later; a close or reconnect of either arms again by itself.
      const retry = setTimeout(() => {
        if (mine === this.#generation && this.#ends.live()) this.#armNow();
      }, this.#retryDelay());
      unrefTimer(retry);
    });
  }

  /**
   * How long to wait before arming again after a failure. A cluster master (one with a check
   * tag) that keeps failing is mid-reshard or just promoted, which passes within a second or
   * two: it is retried at the cluster's pace, every second, rather than backing off to 30 s.
   */
  #retryDelay(): number {
    const delay = rearmDelay(++this.#failures, this.#timeout);
    return this.#ends.checkTag ? Math.min(1000, delay) : delay;
  }

  async #armAs(mine: number, subscriber: Promise<string>): Promise<void> {
    const id = await subscriber;
    if (mine !== this.#generation) return;
    const send = this.#ends.send;
    // Off first: an existing redirect (to a dead subscriber) cannot be changed in place.
    const [, , info] = await Promise.all([
      send(["CLIENT", "TRACKING", "off"]),
      send(["CLIENT", "TRACKING", "on", "REDIRECT", id]),
      send(["CLIENT", "TRACKINGINFO"]),
    ]);
    if (mine !== this.#generation) return;
    if (!trackingOn(info, id)) throw new Error("Tracking did not turn on");
    const { masterOnly, checkTag } = this.#ends;
    await checkTracking(send, this.#cache, this.#timeout, {
      tag: checkTag,
      master: masterOnly || checkTag !== undefined,
    });
    if (mine === this.#generation && this.#ends.live()) this.#cache.flush(true);
  }

  /**
   * An invalidation message arrived on the subscriber.
   * @param message The keys (strings or buffers), or anything else for "everything" (FLUSHALL).
   */
  message(message: unknown): void {
    if (message === null || !Array.isArray(message)) return this.#cache.invalidate(null);
    const prefix = this.#ends.keyPrefix;
    const keys: string[] = [];
    for (const key of message) {
      const text = String(key);
      if (text.startsWith(prefix)) keys.push(text.slice(prefix.length));
    }
    this.#cache.invalidate(keys);
  }

  /** The app closed its client: flush, and never arm again. */
  close(): void {
    this.#closed = true;
    this.#generation++;
    this.#cache.flush(false);
  }
}
