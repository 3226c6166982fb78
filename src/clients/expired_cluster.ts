/**
 * Expired-key subscriptions on a Redis Cluster: keyspace notifications stay on
 * the node where the key expired, so the store keeps one subscription per
 * master, compared with the client's masters every second and at each of its
 * topology events (a promoted replica, an added node, a lost master).
 * @module
 */

import {
  type Emitter,
  type ExpiredHandler,
  type IoRedisLike,
  ioRedisNode,
  type NodeRedisLike,
  nodeRedisNode,
  type NodeSubscription,
} from "./_expired_node.ts";
import type { ExpiredSubscriptions } from "./expired_subscriptions.ts";
import { ioRedisAddress } from "./ioredis.ts";
import { addressOf } from "./node_redis.ts";
import { unrefTimer } from "./_util.ts";

/** How often the masters of a cluster are compared with the subscriptions (in-memory lists only). */
const TOPOLOGY_POLL_MS = 1000;

/** The masters of a cluster now, each with how to subscribe on it. */
type MasterList = (cluster: object, handler: ExpiredHandler) => Promise<Map<string, () => NodeSubscription>>;

export function ioRedisMasters(
  cluster: object,
  handler: ExpiredHandler,
): Promise<Map<string, () => NodeSubscription>> {
  const masters = new Map<string, () => NodeSubscription>();
  for (const node of (cluster as IoRedisLike).nodes!("master")) {
    masters.set(ioRedisAddress(node), () => ioRedisNode(node, handler, true));
  }
  return Promise.resolve(masters);
}

interface NodeRedisClusterLike {
  readonly masters: readonly { address?: string }[];
  nodeClient(node: object): NodeRedisLike | Promise<NodeRedisLike>;
  readonly isOpen: boolean;
}

export async function nodeRedisMasters(
  cluster: object,
  handler: ExpiredHandler,
): Promise<Map<string, () => NodeSubscription>> {
  const { masters, nodeClient } = cluster as NodeRedisClusterLike;
  const found = new Map<string, () => NodeSubscription>();
  await Promise.all(masters.map(async (master) => {
    const client = await nodeClient.call(cluster, master);
    const node = () => {
      const subscription = nodeRedisNode(client, handler);
      // The duplicate names its node by its own options; the cluster's name is the one to compare.
      return { ...subscription, address: master.address ?? subscription.address };
    };
    found.set(master.address ?? addressOf(client.options), node);
  }));
  return found;
}

/**
 * One subscription per master, compared with the cluster's masters every second and at
 * each topology event: a new master (a promoted replica, a node added) gets one, a node
 * that is no longer a master loses its.
 */
export function perMaster(
  cluster: Emitter,
  list: MasterList,
  handler: ExpiredHandler,
  isClosed: () => boolean,
): ExpiredSubscriptions {
  const open = new Map<string, NodeSubscription>();
  let closed = false;
  let syncing = false;
  const sync = async () => {
    if (closed || syncing) return;
    syncing = true;
    try {
      if (isClosed()) return close();
      const masters = await list(cluster, handler);
      if (closed) return;
      for (const [address, subscribe] of masters) if (!open.has(address)) open.set(address, subscribe());
      for (const [address, subscription] of open) {
        if (masters.has(address)) continue;
        subscription.close();
        open.delete(address);
      }
    } catch {
      // Topology unknown for now (the cluster is reconnecting): the next round tries again.
    } finally {
      syncing = false;
    }
  };
  const timer = setInterval(sync, TOPOLOGY_POLL_MS);
  unrefTimer(timer);
  const events = ["refresh", "+node", "-node", "ready", "connect"];
  const onEnd = () => close();
  for (const event of events) cluster.on(event, sync);
  cluster.on("end", onEnd);
  const close = () => {
    closed = true;
    clearInterval(timer);
    for (const event of events) cluster.removeListener?.(event, sync);
    cluster.removeListener?.("end", onEnd);
    for (const subscription of open.values()) subscription.close();
    open.clear();
  };
  sync();
  return {
    get addresses() {
      return [...open.keys()];
    },
    close,
  };
}
