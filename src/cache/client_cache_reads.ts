/**
 * Reads through the `clientSideCache` of the app's node-redis client (made with
 * `createClient({ RESP: 3, clientSideCache })`). node-redis consults that cache
 * only for typed commands with the default type mapping, so the read here is
 * the typed `hGetAll`, not the store's usual `sendCommand`; node-redis keeps the
 * cache exact (its connection tracks, pending entries an invalidation hits are
 * dropped, errors and closes clear it). The store still drops a key it writes.
 * @module
 */

import type { CacheStats } from "./local_cache.ts";
import type { SessionReadCache } from "./tracker.ts";

/** The parts of a node-redis client with `clientSideCache` used here. */
interface CachingClient {
  hGetAll(key: string): Promise<Record<string, unknown>>;
  readonly isReady: boolean;
  readonly clientSideCache?: {
    invalidate(key: string | null): void;
    size(): number;
    stats(): { hitCount: number; missCount: number; evictionCount?: number };
  };
}

/**
 * Whether the app's node-redis client has a `clientSideCache` of its own.
 * @param client A node-redis `createClient()` client.
 * @returns True when it has one.
 */
export function hasClientSideCache(client: object): boolean {
  const cache = (client as Partial<CachingClient>).clientSideCache;
  return typeof cache === "object" && cache !== null && typeof cache.invalidate === "function" &&
    typeof (client as Partial<CachingClient>).hGetAll === "function";
}

/** Session reads through the client's own cache. */
export class ClientCacheReads implements SessionReadCache {
  #client: CachingClient;
  #invalidations = 0;

  /** @param client A node-redis client with `clientSideCache`. */
  constructor(client: object) {
    this.#client = client as CachingClient;
  }

  /** See {@linkcode SessionReadCache.read}. */
  read(key: string): Promise<readonly unknown[]> | undefined {
    if (!this.#client.isReady) return undefined;
    return this.#client.hGetAll(key).then((hash) => {
      const pairs: unknown[] = [];
      for (const field in hash) pairs.push(field, hash[field]);
      return pairs;
    });
  }

  /** See {@linkcode SessionReadCache.drop}. */
  drop(key: string): void {
    this.#invalidations++;
    this.#client.clientSideCache!.invalidate(key);
  }

  /**
   * The client cache's counters, as node-redis keeps them.
   * @returns A fresh object.
   */
  stats(): CacheStats {
    const cache = this.#client.clientSideCache!;
    const stats = cache.stats();
    return {
      mode: "client",
      detail: "the node-redis client's own clientSideCache, read through the typed hGetAll",
      tracking: this.#client.isReady,
      hits: stats.hitCount,
      misses: stats.missCount,
      invalidations: this.#invalidations,
      flushes: 0,
      bytes: 0,
      entries: cache.size(),
    };
  }
}
