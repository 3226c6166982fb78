/**
 * Local-cache tracking for node-redis 5 and 6 clusters (`createCluster()`): each
 * master's tracked connection is duplicated from the cluster's own client of that
 * master, as for a standalone client (RESP3, `emitInvalidate`). node-redis
 * destroys a master's client when the master leaves the topology, and that closes
 * the tracked connection made from it.
 * @module
 */

import type { ClusterMaster, ClusterTopology } from "../cache/cluster_reads.ts";
import { nodeRedisTracker } from "./node_redis_tracking.ts";

/** One master as node-redis 5 and 6 list it. */
interface ShardNode {
  readonly address?: string;
  readonly client?: object;
}

/** The parts of a node-redis 5 or 6 cluster used here. */
interface NodeRedisCluster {
  readonly slots?: readonly ({ master?: ShardNode } | undefined)[];
  readonly masters: readonly ShardNode[];
  nodeClient(node: ShardNode): unknown;
  readonly isOpen?: boolean;
  /** The slots' owner (node-redis 5 and 6): `rediscover` is what a MOVED triggers. */
  readonly _slots?: { rediscover?(startWith?: object): Promise<unknown> };
}

/**
 * Whether a node-redis cluster can carry tracked connections (node-redis 5 or 6; 4 has no RESP3).
 * @param client A node-redis `createCluster()` cluster.
 * @returns Whether it is recent enough.
 */
export function nodeRedisClusterCanTrack(client: object): boolean {
  return "clientSideCache" in client && Array.isArray((client as Partial<NodeRedisCluster>).slots);
}

/**
 * The topology of a node-redis 5 or 6 cluster, for the cache.
 * @param client The app's cluster (left as it is).
 * @param timeout Milliseconds the end-to-end check of tracking may take.
 * @returns Its view.
 */
export function nodeRedisClusterTopology(client: object, timeout: number): ClusterTopology {
  const cluster = client as NodeRedisCluster;
  return {
    library: "node-redis, RESP3 invalidation pushes",
    keyPrefix: "",
    owner(slot): ClusterMaster | undefined {
      const master = cluster.slots?.[slot]?.master;
      if (master?.address === undefined) return undefined;
      const node = master.client;
      if (node === undefined || typeof (node as Partial<Promise<unknown>>).then === "function") {
        // Not connected yet (option minimizeConnections): have it connected for the next read.
        Promise.resolve(cluster.nodeClient(master)).catch(() => {/* the cluster reports it */});
        return undefined;
      }
      return { address: master.address, client: node };
    },
    masters: () => cluster.masters.map((master) => master.address ?? ""),
    refresh(node) {
      // node-redis 5 reads `startWith.options` unguarded: without a client it only throws. With
      // one, it connects the nodes anew even once the app closed the cluster.
      if (cluster.isOpen === false) return;
      cluster._slots?.rediscover?.(node)?.catch(() => {/* the cluster reports it */});
    },
    tracker: (node, checkTag) => nodeRedisTracker(node, timeout, checkTag),
  };
}
