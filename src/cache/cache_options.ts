/**
 * The `localCache` option: its documented defaults and its checks.
 * @module
 */

import { describe, MAX_TIMER, positive, wholeNumber } from "../options/option_checks.ts";

/** Bounds of the local session cache (option `localCache`). */
export interface LocalCacheOptions {
  /**
   * Most bytes the cached replies may take (estimated as JavaScript strings: two bytes a
   * character plus a fixed overhead per field and per entry); the least recently used go first.
   * @default {33554432}
   */
  maxBytes?: number;
  /**
   * Most sessions the cache holds (each one also costs Redis a tracking-table entry).
   * @default {100000}
   */
  maxEntries?: number;
  /**
   * Milliseconds a cached reply may serve reads. Redis's invalidation keeps entries exact; this
   * bound only limits how long a silently dead connection (no invalidations arriving, no error
   * seen) could leave a stale session in use.
   * @default {10000}
   */
  maxAgeMs?: number;
}

/** The cache bounds with defaults applied. */
export type ResolvedLocalCache = Required<LocalCacheOptions>;

const DEFAULTS: ResolvedLocalCache = { maxBytes: 32 * 1024 * 1024, maxEntries: 100_000, maxAgeMs: 10_000 };

/**
 * Checks the `localCache` option and fills in defaults.
 * @param value What the user passed: `undefined`, a boolean or {@linkcode LocalCacheOptions}.
 * @returns The bounds, or `undefined` when the cache is off.
 */
export function resolveLocalCache(value: unknown): ResolvedLocalCache | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { ...DEFAULTS };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `Option "localCache" must be true, false or { maxBytes, maxEntries, maxAgeMs }, got ${describe(value)}`,
    );
  }
  const resolved: ResolvedLocalCache = { ...DEFAULTS };
  for (const [name, item] of Object.entries(value)) {
    if (!Object.hasOwn(DEFAULTS, name)) {
      throw new TypeError(`Unknown localCache option "${name}": expected maxBytes, maxEntries or maxAgeMs`);
    }
    if (item !== undefined) resolved[name as keyof ResolvedLocalCache] = item;
  }
  wholeNumber("localCache.maxBytes", resolved.maxBytes, 1024);
  wholeNumber("localCache.maxEntries", resolved.maxEntries, 1);
  positive("localCache.maxAgeMs", resolved.maxAgeMs, "milliseconds", false, MAX_TIMER);
  return resolved;
}
