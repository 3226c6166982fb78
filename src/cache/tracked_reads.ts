/**
 * Reads through the store's own cache: a hit costs no round trip; a miss reads
 * on the tracked connection and stores the reply if nothing invalidated it on
 * the way.
 * @module
 */

import { GuardedConnection } from "../clients/guarded_connection.ts";
import { unrefTimer } from "../clients/_util.ts";
import { isRefusal } from "../clients/_cluster_retry.ts";
import { checkTracking, confirmMaster, NotMasterError } from "./tracking_check.ts";
import type { ResolvedLocalCache } from "./cache_options.ts";
import { type CacheStats, LocalCache } from "./local_cache.ts";
import type { CheckTag, SessionReadCache, Tracker } from "./tracker.ts";

/** Milliseconds between checks while tracking must be proven again, and the most one waits. */
const RETRY_MS = 250;
const RECHECK_TIMEOUT_MS = 1000;

/** How one tracked connection is used (the defaults are a standalone Redis's). */
export interface TrackedReadsOptions {
  /**
   * Picks the hash tag of the check key before each check (on a Redis Cluster: a slot of this master).
   * @default {undefined}
   */
  checkTag?: CheckTag;
  /**
   * Whether "not found" replies are cached. On a Redis Cluster they are not: a key created on
   * another master after its slot moved there sends this master no invalidation.
   * @default {true}
   */
  keepMissing?: boolean;
  /**
   * Holds the node to being a master (Redis Cluster): every check asks `ROLE`, and when the node
   * answers as anything else (or {@linkcode TrackedReads.checkRole} gets no answer) the cache is
   * closed, its connections too, and this is called with what the check met (the
   * {@linkcode NotMasterError}, or the error `ROLE` failed with).
   * @default {undefined}
   */
  onDemoted?: (reason: unknown) => void;
}

/** The store's cache and its tracked connection, opened at the first read. */
export class TrackedReads implements SessionReadCache {
  #cache: LocalCache;
  #tracker: Tracker;
  #timeout: number;
  #connection: GuardedConnection | undefined;
  #maxAgeMs: number;
  #options: TrackedReadsOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Tracking must be proven again before the cache serves (see {@linkcode recheck}). */
  #unsure = false;
  #rechecking = false;
  #closed = false;

  /**
   * @param tracker The client's tracker.
   * @param bounds The resolved `localCache` option.
   * @param timeout Milliseconds a read may take (option `commandTimeout`).
   * @param options See {@linkcode TrackedReadsOptions}.
   */
  constructor(
    tracker: Tracker,
    bounds: ResolvedLocalCache,
    timeout: number,
    options: TrackedReadsOptions = {},
  ) {
    this.#tracker = tracker;
    this.#cache = new LocalCache(bounds, tracker.detail);
    this.#timeout = timeout;
    this.#maxAgeMs = bounds.maxAgeMs;
    this.#options = options;
  }

  /** See {@linkcode SessionReadCache.read}. */
  read(key: string): Promise<readonly unknown[]> | readonly unknown[] | undefined {
    const connection = this.#connection ?? this.#start();
    const hit = this.#cache.lookup(key);
    if (hit !== undefined) return hit;
    const ticket = this.#cache.begin(key);
    if (ticket === undefined) return undefined;
    const readAt = Date.now();
    const keepMissing = this.#options.keepMissing ?? true;
    return connection.send(key, ["HGETALL", key]).then(
      (reply) => {
        const pairs = reply as readonly unknown[];
        this.#cache.finish(ticket, pairs.length > 0 || keepMissing ? pairs : undefined, readAt);
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
    this.#timer = setInterval(() => {
      if (!this.#cache.tracking || this.#cache.stats().entries === 0) return;
      const beat = this.#cache.heartbeat();
      this.#check().then(
        () => this.#cache.proven(beat),
        // No proof: entries age out. A refusal (this master lost the check's slot) is a
        // topology change: check again at once; a node no longer a master is left.
        (error) => error instanceof NotMasterError ? this.#demote(error) : isRefusal(error) && this.recheck(),
      );
    }, Math.max(10, this.#maxAgeMs / 3));
    unrefTimer(this.#timer);
    return connection;
  }

  #check(timeout = this.#timeout): Promise<void> {
    const connection = this.#connection!;
    const send = (args: string[]) => connection.send(args[1], args);
    const master = this.#options.onDemoted !== undefined;
    return checkTracking(send, this.#cache, timeout, { tag: this.#options.checkTag, master });
  }

  /**
   * Asks the node for its role on the tracked connection (once it is open). Anything but
   * "master", or no answer within `commandTimeout`, closes the cache (see
   * {@linkcode TrackedReadsOptions.onDemoted}): a demoted master's copies are kept fresh only
   * by what it replicates, later than its successor has it, and its client may not notice.
   * @returns Resolves once checked.
   */
  async checkRole(): Promise<void> {
    const connection = this.#connection;
    if (connection === undefined || this.#closed || this.#options.onDemoted === undefined) return;
    await confirmMaster((args) => connection.send(args[0], args)).catch((error) => this.#demote(error));
  }

  #demote(reason: unknown): void {
    if (this.#closed) return;
    this.close();
    this.#options.onDemoted?.(reason);
  }

  /**
   * Empties the cache and keeps it off until a new check proves tracking: for what the
   * connection's own events do not show (a slot of this master moved, a failover elsewhere).
   */
  recheck(): void {
    this.#cache.flush(false);
    this.#unsure = true;
    this.#confirmAgain();
  }

  /** Runs checks until one proves tracking within its epoch; a failed one waits for the timer. */
  async #confirmAgain(): Promise<void> {
    if (this.#rechecking || this.#connection === undefined) return;
    this.#rechecking = true;
    try {
      // Until a check proves tracking within its epoch (or the tracker, reconnecting, did).
      while (this.#unsure && !this.#cache.tracking && !this.#closed) {
        const beat = this.#cache.heartbeat();
        // Briefly: now and then (seen with ioredis during a reshard) a check hears nothing; the next one does.
        await this.#check(Math.min(this.#timeout, RECHECK_TIMEOUT_MS));
        this.#cache.confirm(beat);
      }
      this.#unsure = false;
    } catch (error) {
      if (error instanceof NotMasterError) return this.#demote(error);
      // A node just promoted or a slot just moved may refuse for a while: try again soon.
      unrefTimer(setTimeout(() => this.#confirmAgain(), RETRY_MS));
    } finally {
      this.#rechecking = false;
    }
  }

  /** Stops serving and checking, and closes the tracked connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#cache.flush(false);
    if (this.#connection !== undefined) this.#tracker.stop?.();
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
