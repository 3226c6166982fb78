/**
 * Chooses how the store caches session reads (option `localCache`) for the
 * client it was given, or says why it cannot do so safely.
 * @module
 */

import { isIoRedisClient } from "../clients/ioredis.ts";
import { isIoRedisCluster } from "../clients/ioredis_cluster.ts";
import { isIoRedisSentinel } from "../clients/ioredis_sentinel.ts";
import { ioRedisTracker } from "../clients/ioredis_tracking.ts";
import { isNodeRedisClient } from "../clients/node_redis.ts";
import { isNodeRedisCluster } from "../clients/node_redis_cluster.ts";
import { isNodeRedisSentinel } from "../clients/node_redis_sentinel.ts";
import { nodeRedisCanTrack, nodeRedisTracker } from "../clients/node_redis_tracking.ts";
import { nodeRedis4Tracker } from "../clients/node_redis4_tracking.ts";
import {
  nodeRedisSentinelCanTrack,
  nodeRedisSentinelTracker,
} from "../clients/node_redis_sentinel_tracking.ts";
import type { ResolvedOptions } from "../options/options.ts";
import { ClientCacheReads, hasClientSideCache } from "./client_cache_reads.ts";
import type { CacheStats } from "./local_cache.ts";
import { TrackedReads } from "./tracked_reads.ts";
import { ClusterReads } from "./cluster_reads.ts";
import { ioRedisClusterTopology } from "../clients/ioredis_cluster_tracking.ts";
import {
  nodeRedisClusterCanTrack,
  nodeRedisClusterTopology,
} from "../clients/node_redis_cluster_tracking.ts";
import type { SessionReadCache, Tracker } from "./tracker.ts";

/** A read cache with its counters. */
export type ReadCache = SessionReadCache & { stats(): CacheStats };

/**
 * Sets up the read cache the options ask for.
 * @param client The client the app passed.
 * @param options The resolved options.
 * @returns The cache, or `undefined` when `localCache` is off or bypassed (then see {@linkcode offStats}).
 */
export function readCacheFor(client: unknown, options: ResolvedOptions): ReadCache | undefined {
  const bounds = options.localCache;
  if (bounds === undefined || bypassReason(options) !== undefined) return undefined;
  const app = client as object;
  const cannot = (why: string) =>
    new TypeError(`Option "localCache" cannot be used with ${why}; leave localCache off for this client`);
  if (isIoRedisCluster(app)) {
    return new ClusterReads(
      ioRedisClusterTopology(app, options.commandTimeout),
      bounds,
      options.commandTimeout,
    );
  }
  if (isNodeRedisCluster(app)) {
    if (!nodeRedisClusterCanTrack(app)) {
      throw cannot("a node-redis 4 cluster: it has no RESP3 push support; use node-redis 5 or 6");
    }
    const topology = nodeRedisClusterTopology(app, options.commandTimeout);
    return new ClusterReads(topology, bounds, options.commandTimeout);
  }
  const tracked = (tracker: Tracker) => new TrackedReads(tracker, bounds, options.commandTimeout);
  if (isNodeRedisSentinel(app)) {
    if (!nodeRedisSentinelCanTrack(app)) {
      throw cannot(
        "a node-redis 5 createSentinel() client: it has no duplicate(), so the store cannot open a " +
          "tracked master connection with the client's options; use node-redis 6 or ioredis",
      );
    }
    return tracked(nodeRedisSentinelTracker(app, options.commandTimeout));
  }
  if (isIoRedisClient(app)) {
    if (typeof (app as { duplicate?: unknown }).duplicate !== "function") {
      throw cannot("an ioredis client without duplicate()");
    }
    return tracked(ioRedisTracker(app, options.commandTimeout, { sentinel: isIoRedisSentinel(app) }));
  }
  if (isNodeRedisClient(app)) {
    if (hasClientSideCache(app)) return new ClientCacheReads(app);
    const tracker = nodeRedisCanTrack(app) ? nodeRedisTracker : nodeRedis4Tracker;
    return tracked(tracker(app, options.commandTimeout));
  }
  throw cannot("a custom RedisConnection: the store cannot open tracked connections through it");
}

/**
 * Why the cache is not used with these options, if it is bypassed.
 * @param options The resolved options.
 * @returns The reason, or `undefined`.
 */
export function bypassReason(options: ResolvedOptions): string | undefined {
  if (options.localCache === undefined) return "off: option localCache is not set";
  if (options.lock) return "off: lock mode reads every session through its lock script";
  if (options.renewAfter === 0) return "off: renewAfter 0 renews every session at its read";
  return undefined;
}

/**
 * The stats of a store without a cache.
 * @param options The resolved options.
 * @returns Zero counters, and why.
 */
export function offStats(options: ResolvedOptions): CacheStats {
  return {
    mode: "off",
    detail: bypassReason(options) ?? "off",
    tracking: false,
    hits: 0,
    misses: 0,
    invalidations: 0,
    flushes: 0,
    bytes: 0,
    entries: 0,
  };
}
