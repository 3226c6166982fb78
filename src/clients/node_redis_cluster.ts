/**
 * Adapter for node-redis 4, 5 and 6 clusters made by `createCluster()`.
 * @module
 */

import type { RedisConnection, RedisNode } from "./connection.ts";
import { addressOf, FLAT_MAPS, type NodeRedisOptions } from "./node_redis.ts";
import { settleReply, shareConnect, StateReporter, unrefTimer } from "./_util.ts";
import { retryRefused } from "./_cluster_retry.ts";
import { keySlot } from "./_key_slot.ts";

/** A node-redis client for one cluster node (the parts the adapter uses). */
interface NodeClient {
  sendCommand(args: string[]): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly isReady?: boolean;
}

/** One master as the cluster lists it; `client` is a Promise while node-redis 4 connects it. */
interface ShardNode {
  readonly address?: string;
  readonly client?: NodeClient | Promise<NodeClient>;
}

/** The parts of a node-redis `createCluster()` cluster the adapter uses (the same in versions 4, 5 and 6). */
interface NodeRedisCluster {
  sendCommand(firstKey: string, isReadonly: boolean, args: string[], options?: object): Promise<unknown>;
  nodeClient(node: ShardNode): NodeClient | Promise<NodeClient>;
  connect(): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly masters: readonly ShardNode[];
  /** Each slot's shard, by slot number (node-redis 5 and 6). */
  readonly slots?: readonly ({ master?: ShardNode } | undefined)[];
  readonly isOpen: boolean;
  /** node-redis 5 keeps its options here; node-redis 4 keeps them private. */
  readonly _options?: { rootNodes?: NodeRedisOptions[] };
}

/**
 * Whether `client` looks like a node-redis cluster.
 * @param client Any object.
 * @returns True for a node-redis 4 or 5 `createCluster()` cluster.
 */
export function isNodeRedisCluster(client: object): boolean {
  const candidate = client as Partial<NodeRedisCluster>;
  return typeof candidate.sendCommand === "function" && typeof candidate.nodeClient === "function" &&
    typeof candidate.connect === "function" && "masters" in candidate && "isOpen" in candidate;
}

/**
 * Wraps a node-redis cluster. Connects it when it is not open yet and listens
 * for its `error` and `node-error` events, so a lost node never crashes the
 * process. It is ready while it is open, knows its masters and one of them at
 * least is up: a master away fails only the requests on its slots (each within
 * `commandTimeout`), and its sessions come back once the cluster has promoted its
 * replica and the client has learned it.
 * @param client A cluster from node-redis `createCluster()`.
 * @returns The store's view of it.
 */
export function nodeRedisClusterConnection(client: object): RedisConnection {
  const cluster = client as NodeRedisCluster;
  const watched = new WeakSet<object>();
  // node-redis 6 says when its slots are ready (it lists masters during discovery, before that);
  // 4 and 5 do not, so the adapter reads it off the masters.
  const isReady = () =>
    cluster.isOpen && (cluster as { isReady?: boolean }).isReady !== false && cluster.masters.length > 0 &&
    cluster.masters.some((master) => isUp(master.client));
  const state = new StateReporter(isReady);
  /** Whether the cluster was ever open: closed after that means the app closed it. */
  let opened = cluster.isOpen;
  const update = (error?: unknown) => {
    if (cluster.isOpen) opened = true; // on "connect" too; node-redis 4 emits none of its own
    cluster.masters.forEach((master) => watch(master.client));
    state.update(error);
  };
  // node-redis 5 forwards node events; node-redis 4 forwards node errors as "error" and
  // tells nothing else, so the adapter also listens to each master's own client.
  const watch = (node: ShardNode["client"]) => {
    if (node === undefined || watched.has(node)) return;
    watched.add(node);
    if (isPromise(node)) {
      node.then(() => update(), (error) => update(error));
      return;
    }
    node.on("ready", () => update());
    node.on("end", () => update());
    node.on("reconnecting", () => {
      update();
      rediscover();
    });
    node.on("error", (error) => update(error));
  };
  // A master lost for good (its replica promoted in its place): node-redis 6 then asks the
  // cluster for its slots again by itself, node-redis 5 only on a MOVED reply, which the lost
  // master's slots never get. So the adapter asks for it, through a master still up, at most
  // once a second while a master keeps reconnecting. (node-redis 4 keeps that call private.)
  let rediscovered = 0;
  const rediscover = () => {
    const slots = (cluster as { _slots?: { rediscover?: (startWith: unknown) => Promise<unknown> } })._slots;
    if ((cluster as { isReady?: boolean }).isReady !== undefined || typeof slots?.rediscover !== "function") {
      return;
    }
    if (Date.now() - rediscovered < 1000) return;
    const healthy = cluster.masters.map((master) => master.client)
      .find((node) => node !== undefined && !isPromise(node) && node.isReady === true);
    if (!healthy) return;
    rediscovered = Date.now();
    slots.rediscover(healthy).then(() => update(), () => {/* the next reconnection tries again */});
  };
  cluster.on("error", (error) => update(error));
  cluster.on("node-error", (error) => update(error));
  for (const event of ["connect", "disconnect", "node-ready", "node-reconnecting", "node-disconnect"]) {
    cluster.on(event, () => update());
  }
  // Connect a cluster nobody opened, once; never reopen one the app has closed, even one
  // closed before it ever connected (while the store was still trying to connect it).
  let mayOpen = !cluster.isOpen;
  let closedByApp = false;
  for (const name of ["destroy", "close", "quit", "disconnect"]) {
    const original = (cluster as unknown as Record<string, unknown>)[name];
    if (typeof original !== "function") continue;
    Object.defineProperty(cluster, name, {
      configurable: true,
      writable: true,
      value(this: unknown, ...args: unknown[]) {
        closedByApp = true;
        return original.apply(this, args);
      },
    });
  }
  const open = () => {
    if (!mayOpen || cluster.isOpen) return;
    mayOpen = false;
    // node-redis gives up on a cluster whose first connection fails; the store keeps trying
    // (with backoff, up to every 2 s) until it connects once, then node-redis reconnects by itself.
    const connect = (attempt: number): unknown =>
      !closedByApp && cluster.connect().then(() => update(), (error) => {
        update(error);
        if (!cluster.isOpen && !closedByApp) {
          unrefTimer(setTimeout(() => connect(attempt + 1), Math.min(100 * 2 ** attempt, 2000)));
        }
      });
    connect(0);
    shareConnect(cluster, () => cluster.isOpen, () => cluster.isOpen, cluster);
  };
  if (cluster.isOpen && cluster.masters.length === 0) {
    // Opened by the caller and still discovering: node-redis 4 announces no end to that.
    const poll = setInterval(() => {
      if (cluster.isOpen && cluster.masters.length === 0) return;
      clearInterval(poll);
      update();
    }, 20);
    unrefTimer(poll);
  }
  update();

  // node-redis follows ASK and MOVED (up to a limit), but not TRYAGAIN nor CLUSTERDOWN.
  const retrying = retryRefused((key, args) =>
    settleReply(cluster.sendCommand(key, false, [...args], FLAT_MAPS)).catch((error) => {
      // A slot no master serves (cluster-require-full-coverage no): node-redis 5 and 6 throw a
      // TypeError reading its master; the store reports the slot instead (nothing was sent).
      const slot = keySlot(key);
      if (error instanceof TypeError && cluster.slots !== undefined && cluster.slots[slot] === undefined) {
        throw new Error(`slot ${slot} is served by no master the client knows`, { cause: error });
      }
      throw error;
    })
  );
  const address = () => {
    const nodes = cluster.masters.length > 0
      ? cluster.masters.map((master) => master.address ?? "?")
      : (cluster._options?.rootNodes ?? []).map(addressOf);
    return `${nodes.join(", ") || "the root nodes"} (Redis Cluster)`;
  };
  return {
    send: retrying.send,
    boundRetries: retrying.boundRetries,
    async masters() {
      const clients = await Promise.all(cluster.masters.map((master) => cluster.nodeClient(master)));
      clients.forEach(watch);
      return clients.map((node): RedisNode => ({ send: (args) => settleReply(node.sendCommand([...args])) }));
    },
    get ready() {
      return isReady();
    },
    get address() {
      return address();
    },
    addressOf(key) {
      const slot = keySlot(key);
      const owner = cluster.slots?.[slot]?.master?.address;
      return owner ? `${owner} (the master of slot ${slot} in the Redis Cluster)` : address();
    },
    get closed() {
      return (opened || closedByApp) && !cluster.isOpen;
    },
    open,
    onStateChange: (listener) => state.listen(listener),
  };
}

/** A master's connection is up, or not made yet (node-redis connects it at first use). */
function isUp(node: ShardNode["client"]): boolean {
  if (node === undefined) return true;
  if (isPromise(node)) return false;
  return node.isReady !== false;
}

function isPromise(node: NonNullable<ShardNode["client"]>): node is Promise<NodeClient> {
  return typeof (node as Partial<Promise<NodeClient>>).then === "function";
}
