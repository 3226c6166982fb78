/**
 * Local-cache tracking for ioredis 5 and 6 clusters (`new Cluster()`): each
 * master's pair of tracked connections (reads with `CLIENT TRACKING on REDIRECT`,
 * and a subscriber) is duplicated from the cluster's own connection to that master,
 * as for a standalone client. ioredis ends a master's connection when the master
 * leaves the topology or fails, and that closes the pair made from it.
 * @module
 */

import type { ClusterMaster, ClusterTopology } from "../cache/cluster_reads.ts";
import { ioRedisTracker } from "./ioredis_tracking.ts";

/** One node's connection, as an ioredis cluster keeps it. */
interface IoRedisNode {
  duplicate(overrides: object): IoRedisNode;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly options: { host?: string; port?: number };
}

/** The parts of an ioredis `Cluster` used here. */
interface IoRedisCluster {
  nodes(role: "master"): IoRedisNode[];
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  /** Each slot's nodes (`host:port`, the master first), by slot number. */
  readonly slots: readonly (readonly string[] | undefined)[];
  readonly options?: { keyPrefix?: unknown };
  /** Fetches CLUSTER SLOTS again (what a MOVED triggers). */
  refreshSlotsCache?(callback?: (error?: Error) => void): void;
}

/**
 * The topology of an ioredis cluster, for the cache.
 * @param client The app's cluster (left as it is).
 * @param timeout Milliseconds the end-to-end check of tracking may take.
 * @returns Its view.
 */
export function ioRedisClusterTopology(client: object, timeout: number): ClusterTopology {
  const cluster = client as IoRedisCluster;
  const keyPrefix = typeof cluster.options?.keyPrefix === "string" ? cluster.options.keyPrefix : "";
  const addressOf = (node: IoRedisNode) => `${node.options.host}:${node.options.port}`;
  const masters = () => new Map(cluster.nodes("master").map((node) => [addressOf(node), node]));
  // The masters by address, rebuilt when ioredis adds or drops a node connection, and when a
  // slot's master is not in it (a replica promoted changes role without an event).
  let byAddress = new Map<string, IoRedisNode>();
  for (const event of ["+node", "-node", "refresh"]) cluster.on(event, () => byAddress = new Map());
  return {
    library: "ioredis, invalidations redirected to a subscribed connection",
    keyPrefix,
    owner(slot): ClusterMaster | undefined {
      const address = cluster.slots[slot]?.[0];
      if (address === undefined) return undefined;
      if (!byAddress.has(address)) byAddress = masters();
      const node = byAddress.get(address);
      return node === undefined ? undefined : { address, client: node };
    },
    masters: () => [...masters().keys()],
    refresh: () => cluster.refreshSlotsCache?.(() => {/* the next MOVED tries again */}),
    tracker(node, checkTag) {
      const master = node as IoRedisNode;
      // The cluster's keyPrefix is the cluster's, not its nodes': the tracked connections
      // add it themselves. Nodes do not reconnect by themselves (ioredis makes new ones);
      // the tracked pair does, for as long as the node it was made from lives.
      const options = { keyPrefix, retryStrategy: (times: number) => Math.min(times * 50, 2000) };
      const view = {
        duplicate: (overrides: object) => master.duplicate({ ...options, ...overrides }),
        on: (event: string, listener: (...args: unknown[]) => void) => master.on(event, listener),
        off: (event: string, listener: (...args: unknown[]) => void) => master.off(event, listener),
        options: { ...master.options, keyPrefix },
      };
      return ioRedisTracker(view, timeout, { checkTag });
    },
  };
}
