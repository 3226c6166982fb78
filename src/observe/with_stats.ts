/**
 * Gives a face's middleware the store's `stats()`.
 * @module
 */

import type { StoreStats } from "./store_events.ts";

/** A middleware that also tells what its store did. */
export interface WithStats {
  /**
   * What the store did since the middleware was made (see `StoreStats`).
   * @returns A copy of the counters.
   */
  stats(): StoreStats;
}

/**
 * Adds `stats()` to a middleware function.
 * @param engine The face's engine.
 * @param middleware The middleware.
 * @returns The same function, with `stats()`.
 */
export function withStats<F extends object>(engine: { stats(): StoreStats }, middleware: F): F & WithStats {
  return Object.assign(middleware, { stats: () => engine.stats() });
}
