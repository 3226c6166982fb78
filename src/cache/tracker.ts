/**
 * What a client adapter provides for the local cache: a connection of the
 * store's own whose reads Redis tracks, feeding the cache its invalidations
 * and telling it when tracking is confirmed or lost.
 * @module
 */

import type { RedisConnection } from "../clients/connection.ts";
import type { LocalCache } from "./local_cache.ts";

/**
 * Picks the hash tag of the check key, on a Redis Cluster node (a tag of a slot that node owns).
 * @param send Sends a command on the tracked connection.
 * @returns The tag.
 */
export type CheckTag = (send: (args: string[]) => Promise<unknown>) => Promise<string>;

/** A tracked read connection. */
export interface Tracker {
  /** How the cache learns of changes, for the stats. */
  readonly detail: string;
  /**
   * Opens the tracked connection(s). From then on the tracker calls `cache.flush(false)` whenever
   * tracking may be lost (error, close, reconnect), `cache.flush(true)` once it has confirmed
   * tracking again with Redis, and `cache.invalidate(...)` for each invalidation.
   * @param cache The cache to feed.
   * @returns The connection whose reads Redis tracks (ready whenever the cache is tracking).
   */
  start(cache: LocalCache): RedisConnection;
  /**
   * Closes the connections `start` opened, before the client they were made from closes: a
   * cluster node no longer a master keeps its connection in the client's pool.
   */
  stop?(): void;
}

/** Where the cache reads and what the store's writes tell it. */
export interface SessionReadCache {
  /**
   * The `HGETALL` reply of a session key: cached, or read on the tracked connection and cached.
   * @param key The Redis key.
   * @returns The flat reply, or `undefined` (at once or as the Promise's value) when the cache
   *   cannot serve it: read as usual.
   */
  read(key: string): Promise<readonly unknown[] | undefined> | readonly unknown[] | undefined;
  /**
   * The store is writing `key` (called before and after the write).
   * @param key The Redis key.
   */
  drop(key: string): void;
}
