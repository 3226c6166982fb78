/**
 * The store's lifecycle events and counters: what each event carries, the
 * listeners an app passes (option `on`), and the counters `stats()` returns.
 * @module
 */

/** What each store event carries. Every event names the session it is about. */
export interface StoreEvents {
  /** A session was written whole for the first time (a new session, or one handed over without its snapshot). */
  create: { sid: string; properties: string[] };
  /** A commit wrote changes to a live session; `properties` names the changed, added and removed ones. */
  update: { sid: string; properties: string[] };
  /** A request that changed nothing kept its session alive; `renewed` tells whether that took a write. */
  touch: { sid: string; renewed: boolean };
  /** A session was destroyed (a tombstone now holds its key for `deleteExpiry` ms). */
  destroy: { sid: string };
  /** A commit found `properties` changed by another request since it loaded them, and merged them. */
  merged: { sid: string; properties: string[] };
  /** A commit gave up after `attempts` rounds of concurrent changes (the request sees a SessionConflictError). */
  conflict: { sid: string; attempts: number };
  /** A write met a destroyed session's tombstone and wrote nothing: a logout was not undone. */
  blocked: { sid: string; operation: "commit" | "touch" };
  /** Lock mode: a load waited `ms` for another request's lock; `acquired` is false when it gave up. */
  lockWait: { sid: string; ms: number; acquired: boolean };
  /** `maxSessionsPerUser`: a login of `user` (session `sid`) ended the user's older sessions `ended`. */
  userLimit: { user: string; sid: string; ended: string[] };
  /**
   * Redis ended a session by its expiry (heard from keyspace notifications, which must be on:
   * `notify-keyspace-events Ex`). Listening for it opens the store's subscription.
   */
  expired: { sid: string };
}

/** A store event's name. */
export type StoreEventName = keyof StoreEvents;

/** Listeners by event name (option `on`). */
export type StoreListeners = { [E in StoreEventName]?: (event: StoreEvents[E]) => void };

/** The names of every store event. */
export const STORE_EVENTS: readonly StoreEventName[] = [
  "create",
  "update",
  "touch",
  "destroy",
  "merged",
  "conflict",
  "blocked",
  "lockWait",
  "userLimit",
  "expired",
];

/** What the store did since it was created (`stats()`): counts of operations and occurrences. */
export interface StoreStats {
  /** Sessions read (found or not). */
  loads: number;
  /** Commits that wrote changes (whole writes included). */
  commits: number;
  /** Requests that kept an unchanged session alive. */
  touches: number;
  /** Renewals of a session's expiry that took a write (the rest were skipped). */
  renewals: number;
  /** Sessions destroyed (by logout, by their own end, by `destroyUser` or `maxSessionsPerUser`). */
  destroys: number;
  /** Properties merged with another request's concurrent change. */
  merges: number;
  /** Commits given up after `conflictRetries` (SessionConflictError). */
  conflicts: number;
  /** Writes refused by a tombstone: resurrections prevented. */
  blocked: number;
  /** Lock mode: loads that had to wait for another request's lock. */
  lockWaits: number;
  /** Sessions Redis ended by their expiry (`expired` events; counted only while they are listened for). */
  expirations: number;
  /** Local cache (option `localCache`): reads served from it (`cacheStats().hits`). */
  cacheHits: number;
  /** Local cache: reads that went to Redis while tracking was on (`cacheStats().misses`). */
  cacheMisses: number;
  /** Local cache: keys Redis said had changed (`cacheStats().invalidations`). */
  cacheInvalidations: number;
  /** Local cache: times it was emptied whole (`cacheStats().flushes`). */
  cacheFlushes: number;
}

/** The counters `stats()` copies from the local cache's, by their `cacheStats()` names. */
export const CACHE_COUNTERS = {
  cacheHits: "hits",
  cacheMisses: "misses",
  cacheInvalidations: "invalidations",
  cacheFlushes: "flushes",
} as const;

/** A counter the store counts itself (not the local cache's). */
export type OwnCounter = Exclude<keyof StoreStats, keyof typeof CACHE_COUNTERS>;

/** Every counter at zero. */
export function zeroStats(): StoreStats {
  return {
    loads: 0,
    commits: 0,
    touches: 0,
    renewals: 0,
    destroys: 0,
    merges: 0,
    conflicts: 0,
    blocked: 0,
    lockWaits: 0,
    expirations: 0,
    cacheHits: 0,
    cacheMisses: 0,
    cacheInvalidations: 0,
    cacheFlushes: 0,
  };
}

/**
 * Checks the `on` option.
 * @param on What the user passed.
 * @returns The listeners.
 */
export function checkListeners(on: unknown): StoreListeners {
  if (typeof on !== "object" || on === null) {
    throw new TypeError(
      `Option "on" must be an object of listeners such as { merged: (event) => ... }, got ${String(on)}`,
    );
  }
  for (const [name, listener] of Object.entries(on)) {
    if (!(STORE_EVENTS as readonly string[]).includes(name)) {
      throw new TypeError(
        `Unknown event "${name}" in option "on": expected one of ${STORE_EVENTS.join(", ")}`,
      );
    }
    if (typeof listener !== "function") {
      throw new TypeError(`Listener "${name}" in option "on" must be a function, got ${typeof listener}`);
    }
  }
  return on as StoreListeners;
}
