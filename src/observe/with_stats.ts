/**
 * Gives a face's middleware the store's `stats()`, `cacheStats()` and `reencrypt()`.
 * @module
 */

import type { CacheStats } from "../cache/local_cache.ts";
import type { StoreStats } from "./store_events.ts";
import type { ReencryptResult } from "../encryption/reencrypt.ts";

/** A middleware that also tells what its store did. */
export interface WithStats {
  /**
   * The store's counters (see `StoreStats`).
   * @returns A fresh object.
   */
  stats(): StoreStats;
  /**
   * The local cache's counters (option `localCache`): hits, misses, invalidations,
   * flushes, bytes and entries held, and how reads are cached (`mode`, `detail`).
   * @returns A fresh object.
   */
  cacheStats(): CacheStats;
  /**
   * Option `encrypt`: moves every stored property value to the current key (see `ReencryptResult`).
   * @returns How many sessions and values were looked at and rewritten.
   */
  reencrypt(): Promise<ReencryptResult>;
}

/** The engine's methods the middleware offers. */
type StatsSource = { stats(): StoreStats; cacheStats(): CacheStats; reencrypt(): Promise<ReencryptResult> };

/**
 * Adds `stats()`, `cacheStats()` and `reencrypt()` to a middleware function.
 * @param engine The face's engine.
 * @param middleware The middleware.
 * @returns The same function, with those methods.
 */
export function withStats<F extends object>(engine: StatsSource, middleware: F): F & WithStats {
  return Object.assign(middleware, {
    stats: () => engine.stats(),
    cacheStats: () => engine.cacheStats(),
    reencrypt: () => engine.reencrypt(),
  });
}
