/**
 * Gives a face's middleware the store's `stats()` and `reencrypt()`.
 * @module
 */

import type { StoreStats } from "./store_events.ts";
import type { ReencryptResult } from "../encryption/reencrypt.ts";

/** A middleware that also tells what its store did. */
export interface WithStats {
  /**
   * What the store did since the middleware was made (see `StoreStats`).
   * @returns A copy of the counters.
   */
  stats(): StoreStats;
  /**
   * Option `encrypt`: moves every stored property value to the current key (see `ReencryptResult`).
   * @returns How many sessions and values were looked at and rewritten.
   */
  reencrypt(): Promise<ReencryptResult>;
}

/**
 * Adds `stats()` and `reencrypt()` to a middleware function.
 * @param engine The face's engine.
 * @param middleware The middleware.
 * @returns The same function, with `stats()`.
 */
export function withStats<F extends object>(
  engine: { stats(): StoreStats; reencrypt(): Promise<ReencryptResult> },
  middleware: F,
): F & WithStats {
  return Object.assign(middleware, { stats: () => engine.stats(), reencrypt: () => engine.reencrypt() });
}
