/**
 * Gives a face's middleware the store's `stats()` and `cacheStats()`.
 * @module
 */

import type { CacheStats } from "../cache/local_cache.ts";
import type { StoreStats } from "./store_events.ts";

/** A middleware that also tells what its store did. */
export interface WithStats {
  /**
   * What the store did since the middleware was made (see `StoreStats`).
   * @returns A copy of the counters.
   */
  stats(): StoreStats;
  /**
   * The local cache's counters (option `localCache`): hits, misses, invalidations,
   * flushes, bytes and entries held, and how reads are cached (`mode`, `detail`).
   * @returns A fresh object.
   */
  cacheStats(): CacheStats;
}

/**
 * Adds `stats()` and `cacheStats()` to a middleware function.
 * @param engine The face's engine.
 * @param middleware The middleware.
 * @returns The same function, with `stats()`.
 */
export function withStats<F extends object>(
  engine: { stats(): StoreStats; cacheStats(): CacheStats },
  middleware: F,
): F & WithStats {
  return Object.assign(middleware, { stats: () => engine.stats(), cacheStats: () => engine.cacheStats() });
}
