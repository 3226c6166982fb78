/**
 * The local session cache: raw `HGETALL` replies kept exact by Redis's
 * invalidations. A reply is stored only when nothing could have made it stale
 * on the way: the tracking that covers it was confirmed before the read was
 * sent and never lost since, and no invalidation or own write of its key came
 * while the read was in flight (a per-key in-flight ticket records both).
 * @module
 */

import { ByteLru } from "./byte_lru.ts";
import type { ResolvedLocalCache } from "./cache_options.ts";
import { unrefTimer } from "../clients/_util.ts";

/** What {@linkcode SmartRedisStore.cacheStats} reports. */
export interface CacheStats {
  /**
   * How reads are cached: `"local"` (the store's own cache, kept exact by Redis tracking on a
   * connection of its own), `"client"` (the node-redis client's `clientSideCache`), or `"off"`.
   */
  mode: "local" | "client" | "off";
  /** How the cache learns of changes, or why it is off; for logs. */
  detail: string;
  /** Whether Redis tracking is confirmed right now (reads are cached only then). */
  tracking: boolean;
  /** Reads served from the cache. */
  hits: number;
  /** Reads that went to Redis while tracking was on. */
  misses: number;
  /** Keys Redis told the cache had changed (including the store's own writes). */
  invalidations: number;
  /** Times the whole cache was emptied: connection lost or reconnected, FLUSHALL, tracking lost. */
  flushes: number;
  /** Estimated bytes held. */
  bytes: number;
  /** Sessions held. */
  entries: number;
}

/** One read in flight. */
interface Ticket {
  key: string;
  epoch: number;
  stale: boolean;
}

/** The cache. The tracker feeds it invalidations and tells it when tracking is on or lost. */
export class LocalCache {
  #lru: ByteLru;
  #maxAgeMs: number;
  #inFlight = new Map<string, Set<Ticket>>();
  /** Changes whenever tracking is lost or regained: tickets of another epoch store nothing. */
  #epoch = 0;
  #tracking = false;
  #counts = { hits: 0, misses: 0, invalidations: 0, flushes: 0 };
  #awaited = new Map<string, () => void>();
  /** When the latest heartbeat that proved invalidations flowing was sent (this epoch). */
  #provenAt = -Infinity;
  /** How the cache learns of changes. */
  detail: string;

  /**
   * @param bounds The resolved `localCache` option.
   * @param detail How the cache learns of changes, for the stats.
   */
  constructor(bounds: ResolvedLocalCache, detail: string) {
    this.#lru = new ByteLru(bounds.maxBytes, bounds.maxEntries);
    this.#maxAgeMs = bounds.maxAgeMs;
    this.detail = detail;
  }

  /** Whether tracking is confirmed: only then are reads cached. */
  get tracking(): boolean {
    return this.#tracking;
  }

  /**
   * A cached reply of `key`, if tracking is on and the entry is young enough.
   * @param key The Redis key.
   * @returns The flat reply (empty: not found), or `undefined` on a miss.
   */
  lookup(key: string): readonly unknown[] | undefined {
    if (!this.#tracking) return undefined;
    const entry = this.#lru.get(key);
    if (entry !== undefined && Date.now() - Math.max(entry.storedAt, this.#provenAt) <= this.#maxAgeMs) {
      this.#counts.hits++;
      return entry.pairs;
    }
    if (entry !== undefined) this.#lru.delete(key);
    this.#counts.misses++;
    return undefined;
  }

  /**
   * Registers a read about to be sent on the tracked connection.
   * @param key The Redis key.
   * @returns Its ticket, or `undefined` when tracking is off (the reply must not be stored).
   */
  begin(key: string): Ticket | undefined {
    if (!this.#tracking) return undefined;
    const ticket: Ticket = { key, epoch: this.#epoch, stale: false };
    let tickets = this.#inFlight.get(key);
    if (tickets === undefined) this.#inFlight.set(key, tickets = new Set());
    tickets.add(ticket);
    return ticket;
  }

  /**
   * Ends a read: stores its reply unless something may have changed the key meanwhile.
   * @param ticket From {@linkcode begin}.
   * @param pairs The reply, or `undefined` when the read failed.
   * @param readAt When the read was sent (the entry's age counts from then).
   */
  finish(ticket: Ticket | undefined, pairs: readonly unknown[] | undefined, readAt: number): void {
    if (ticket === undefined) return;
    const tickets = this.#inFlight.get(ticket.key);
    tickets?.delete(ticket);
    if (tickets?.size === 0) this.#inFlight.delete(ticket.key);
    if (pairs === undefined || ticket.stale || ticket.epoch !== this.#epoch || !this.#tracking) return;
    this.#lru.set(ticket.key, pairs, readAt);
  }

  /**
   * Forgets a key the store itself is writing (before and after the write): reads in
   * flight may carry what the write replaces.
   * @param key The Redis key.
   */
  drop(key: string): void {
    this.#lru.delete(key);
    const tickets = this.#inFlight.get(key);
    if (tickets) { for (const ticket of tickets) ticket.stale = true; }
  }

  /**
   * Redis said these keys changed (`null`: everything, e.g. FLUSHALL).
   * @param keys The keys.
   */
  invalidate(keys: readonly string[] | null): void {
    if (keys === null) return this.flush(this.#tracking);
    for (const key of keys) {
      const awaited = this.#awaited.get(key);
      if (awaited) {
        this.#awaited.delete(key);
        awaited();
        continue;
      }
      this.#counts.invalidations++;
      this.drop(key);
    }
  }

  /**
   * Resolves once Redis invalidates `key`: how a tracker proves, end to end, that
   * invalidations reach the cache before it confirms tracking.
   * @param key A key of the tracker's own (not a session's).
   * @param timeout Milliseconds to wait.
   * @returns Resolves when seen, rejects after `timeout`.
   */
  invalidationOf(key: string, timeout: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#awaited.delete(key);
        reject(new Error(`No invalidation of ${key} within ${timeout} ms`));
      }, timeout);
      // A check in flight must not hold the process open at shutdown (its socket keeps it open while it can arrive).
      unrefTimer(timer);
      this.#awaited.set(key, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Empties the cache and makes every read in flight store nothing.
   * @param tracking Whether tracking is (still, or now again) confirmed.
   */
  flush(tracking: boolean): void {
    if (this.#lru.size > 0 || this.#tracking) this.#counts.flushes++;
    this.#lru.clear();
    this.#epoch++;
    this.#provenAt = -Infinity;
    this.#tracking = tracking;
  }

  /**
   * Starts a heartbeat: call before sending the check of {@linkcode invalidationOf}.
   * @returns What {@linkcode proven} takes once the check's invalidation has arrived.
   */
  heartbeat(): { epoch: number; sentAt: number } {
    return { epoch: this.#epoch, sentAt: Date.now() };
  }

  /**
   * Turns tracking on again after a check begun with {@linkcode heartbeat} proved it, unless
   * tracking was lost or regained since (another epoch).
   * @param beat What {@linkcode heartbeat} returned before the check was sent.
   * @returns Whether tracking is on now because of it.
   */
  confirm(beat: { epoch: number }): boolean {
    if (beat.epoch !== this.#epoch) return false;
    this.flush(true);
    return true;
  }

  /**
   * A heartbeat's invalidation arrived. Redis sends invalidations in the order of the writes,
   * on one connection, so every change made before the heartbeat's own write has been heard
   * of: every entry still held was current when the heartbeat was sent, and its age counts
   * from then (entries of a silently dead connection get no such proof and age out).
   * @param beat What {@linkcode heartbeat} returned.
   */
  proven(beat: { epoch: number; sentAt: number }): void {
    if (beat.epoch === this.#epoch && this.#tracking) this.#provenAt = Math.max(this.#provenAt, beat.sentAt);
  }

  /**
   * The counters and sizes.
   * @returns A fresh object.
   */
  stats(): CacheStats {
    return {
      mode: "local",
      detail: this.detail,
      tracking: this.#tracking,
      ...this.#counts,
      bytes: this.#lru.bytes,
      entries: this.#lru.size,
    };
  }
}
