/**
 * Reads through the store's own cache: a hit costs no round trip; a miss reads
 * on the tracked connection and stores the reply if nothing invalidated it on
 * the way.
 * @module
 */

import { GuardedConnection } from "../clients/guarded_connection.ts";
import { unrefTimer } from "../clients/_util.ts";
import { checkTracking } from "./tracking_check.ts";
import type { ResolvedLocalCache } from "./cache_options.ts";
import { type CacheStats, LocalCache } from "./local_cache.ts";
import type { SessionReadCache, Tracker } from "./tracker.ts";

/** The store's cache and its tracked connection, opened at the first read. */
export class TrackedReads implements SessionReadCache {
  #cache: LocalCache;
  #tracker: Tracker;
  #timeout: number;
  #connection: GuardedConnection | undefined;
  #maxAgeMs: number;

  /**
   * @param tracker The client's tracker.
   * @param bounds The resolved `localCache` option.
   * @param timeout Milliseconds a read may take (option `commandTimeout`).
   */
  constructor(tracker: Tracker, bounds: ResolvedLocalCache, timeout: number) {
    this.#tracker = tracker;
    this.#cache = new LocalCache(bounds, tracker.detail);
    this.#timeout = timeout;
    this.#maxAgeMs = bounds.maxAgeMs;
  }

  /** See {@linkcode SessionReadCache.read}. */
  read(key: string): Promise<readonly unknown[]> | readonly unknown[] | undefined {
    const connection = this.#connection ?? this.#start();
    const hit = this.#cache.lookup(key);
    if (hit !== undefined) return hit;
    const ticket = this.#cache.begin(key);
    if (ticket === undefined) return undefined;
    const readAt = Date.now();
    return connection.send(key, ["HGETALL", key]).then(
      (reply) => {
        const pairs = reply as readonly unknown[];
        this.#cache.finish(ticket, pairs, readAt);
        return pairs;
      },
      (error) => {
        this.#cache.finish(ticket, undefined, readAt);
        throw error;
      },
    );
  }

  /**
   * Opens the tracked connection, and starts the heartbeat: every third of `maxAgeMs`, a
   * check key written and its invalidation awaited renews the age of every entry held (see
   * {@linkcode LocalCache.proven}), so entries leave by age only when invalidations stop.
   */
  #start(): GuardedConnection {
    const connection = this.#connection = new GuardedConnection(
      this.#tracker.start(this.#cache),
      this.#timeout,
    );
    const send = (args: string[]) => connection.send(args[1], args);
    const timer = setInterval(() => {
      if (!this.#cache.tracking || this.#cache.stats().entries === 0) return;
      const beat = this.#cache.heartbeat();
      checkTracking(send, this.#cache, this.#timeout).then(
        () => this.#cache.proven(beat),
        () => {/* no proof: entries age out */},
      );
    }, Math.max(10, this.#maxAgeMs / 3));
    unrefTimer(timer);
    return connection;
  }

  /** See {@linkcode SessionReadCache.drop}. */
  drop(key: string): void {
    this.#cache.drop(key);
  }

  /**
   * The cache's counters.
   * @returns A fresh object.
   */
  stats(): CacheStats {
    return this.#cache.stats();
  }
}
