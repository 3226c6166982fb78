/**
 * Subscriptions of the store's own to Redis's "key expired" notifications
 * (`__keyevent@<db>__:expired`), on every master of the app's client: a
 * duplicate of a standalone client, the Sentinel client's own Pub/Sub
 * connection (which follows the master), one duplicate per master of a
 * cluster (keyspace notifications stay on the node where the key expired),
 * kept in step with the cluster's masters. Each subscription first reads the
 * node's `notify-keyspace-events`, so the store can say when the setting is off.
 * @module
 */

import { isIoRedisClient } from "./ioredis.ts";
import { ioRedisAddress } from "./ioredis.ts";
import { isIoRedisCluster } from "./ioredis_cluster.ts";
import { addressOf, isNodeRedisClient, type NodeRedisOptions } from "./node_redis.ts";
import { isNodeRedisCluster } from "./node_redis_cluster.ts";
import { isNodeRedisSentinel } from "./node_redis_sentinel.ts";
import { unrefTimer } from "./_util.ts";

/** What the subscriptions report. */
export interface ExpiredHandler {
  /**
   * A key expired.
   * @param key The key as Redis names it (an ioredis `keyPrefix` still on it).
   */
  expired(key: string): void;
  /**
   * A master's `notify-keyspace-events`, read as its subscription starts.
   * @param address The master's `host:port`.
   * @param flags The setting, or the error that refused reading it (ACLs, managed services).
   */
  setting(address: string, flags: string | Error): void;
}

/** The subscriptions of one store. */
export interface ExpiredSubscriptions {
  /** The masters subscribed to (`host:port`). */
  readonly addresses: readonly string[];
  /** Closes every subscription. */
  close(): void;
}

/** How often the masters of a cluster are compared with the subscriptions (in-memory lists only). */
const TOPOLOGY_POLL_MS = 1000;
const SETTING = ["CONFIG", "GET", "notify-keyspace-events"];

type Listener = (...args: unknown[]) => void;
interface Emitter {
  on(event: string, listener: Listener): unknown;
  removeListener?(event: string, listener: Listener): unknown;
}
interface NodeRedisLike extends Emitter {
  duplicate(overrides?: object): NodeRedisLike;
  connect(): Promise<unknown>;
  sendCommand(args: string[]): Promise<unknown>;
  subscribe(channel: string, listener: (message: unknown) => void): Promise<unknown>;
  close?(): Promise<unknown>;
  quit?(): Promise<unknown>;
  readonly isOpen: boolean;
  readonly options?: NodeRedisOptions & { database?: number };
}
interface IoRedisLike extends Emitter {
  duplicate(overrides?: object): IoRedisLike;
  connect(): Promise<unknown>;
  call(command: string, ...args: string[]): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  disconnect(): void;
  nodes?(role: "master"): IoRedisLike[];
  readonly status: string;
  readonly options?: { host?: string; port?: number; path?: string; db?: number; keyPrefix?: unknown };
}

/**
 * Why this client cannot deliver expired-key notifications, if it cannot.
 * @param client The client the app passed.
 * @returns The reason, or `undefined` when it can.
 */
export function expiredUnsupported(client: object): string | undefined {
  if (isIoRedisCluster(client) || isIoRedisClient(client)) {
    return typeof (client as Partial<IoRedisLike>).duplicate === "function"
      ? undefined
      : "an ioredis client without duplicate()";
  }
  if (isNodeRedisCluster(client) || isNodeRedisSentinel(client)) return undefined;
  if (isNodeRedisClient(client)) {
    return typeof (client as Partial<NodeRedisLike>).duplicate === "function"
      ? undefined
      : "a node-redis client without duplicate()";
  }
  return "a custom RedisConnection: the store cannot open a subscription through it";
}

/**
 * The ioredis `keyPrefix` the client puts before every key, which notifications carry.
 * @param client The client the app passed.
 * @returns The prefix, `""` for none.
 */
export function clientKeyPrefix(client: object): string {
  const prefix = (client as Partial<IoRedisLike>).options?.keyPrefix;
  return typeof prefix === "string" ? prefix : "";
}

/**
 * Subscribes to expired-key notifications on every master of the client.
 * @param client A client {@linkcode expiredUnsupported} accepts.
 * @param handler Where notifications and settings go.
 * @param closed Whether the app has closed its client (a cluster's subscriptions then close).
 * @returns The subscriptions.
 */
export function subscribeExpired(
  client: object,
  handler: ExpiredHandler,
  closed: () => boolean,
): ExpiredSubscriptions {
  if (isIoRedisCluster(client)) return perMaster(client as IoRedisLike, ioRedisMasters, handler, closed);
  if (isIoRedisClient(client)) {
    return single(client as IoRedisLike, ioRedisNode(client as IoRedisLike, handler));
  }
  if (isNodeRedisCluster(client)) return perMaster(client as Emitter, nodeRedisMasters, handler, closed);
  if (isNodeRedisSentinel(client)) return sentinel(client as SentinelLike, handler);
  return single(client as Emitter, nodeRedisNode(client as NodeRedisLike, handler));
}

/** One subscription: its address and how to end it. */
interface NodeSubscription {
  address: string;
  close(): void;
}

function single(app: Emitter, node: NodeSubscription): ExpiredSubscriptions {
  const close = () => node.close();
  // The app closing its client closes the store's subscription too.
  app.on("end", close);
  return {
    addresses: [node.address],
    close() {
      app.removeListener?.("end", close);
      close();
    },
  };
}

function channel(db: unknown): string {
  return `__keyevent@${Number.isInteger(db) ? db : 0}__:expired`;
}

async function readSetting(send: () => Promise<unknown>): Promise<string | Error> {
  try {
    const reply = await send();
    const flat = Array.isArray(reply)
      ? reply
      : reply instanceof Map
      ? [...reply].flat()
      : Object.entries(reply as object).flat();
    return String(flat[1] ?? "");
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** A node-redis client of the store's own, duplicated from `client` (database and credentials included). */
function nodeRedisNode(client: NodeRedisLike, handler: ExpiredHandler): NodeSubscription {
  const address = addressOf(client.options);
  // RESP2 without a client-side cache: a subscriber needs neither.
  const sub = client.duplicate({ clientSideCache: undefined });
  sub.on("error", () => {/* it reconnects and resubscribes by itself */});
  let closed = false;
  (async () => {
    await sub.connect();
    handler.setting(address, await readSetting(() => sub.sendCommand(SETTING)));
    if (closed) return;
    await sub.subscribe(channel(client.options?.database), (key) => handler.expired(String(key)));
  })().catch(() => {/* closed meanwhile, or the app's client reports the outage */});
  return {
    address,
    close() {
      closed = true;
      if (!sub.isOpen) return;
      const closing = sub.close ? sub.close() : sub.quit?.();
      closing?.catch(() => {/* closed anyway */});
    },
  };
}

/** An ioredis connection of the store's own (on a Sentinel client it follows the master). */
function ioRedisNode(client: IoRedisLike, handler: ExpiredHandler): NodeSubscription {
  const address = ioRedisAddress(client);
  const name = channel(client.options?.db);
  // RESP2: messages come as "message" events in ioredis 5 and 6 alike.
  const sub = client.duplicate({ lazyConnect: true, protocol: 2 });
  sub.on("error", () => {/* it reconnects and resubscribes by itself */});
  sub.on("message", (from, key) => {
    if (from === name) handler.expired(String(key));
  });
  let closed = false;
  (async () => {
    await sub.connect();
    handler.setting(address, await readSetting(() => sub.call(...SETTING as [string, ...string[]])));
    if (!closed) await sub.subscribe(name);
  })().catch(() => {/* closed meanwhile, or the app's client reports the outage */});
  return {
    address,
    close() {
      closed = true;
      sub.disconnect();
    },
  };
}

/** node-redis's Sentinel client subscribes on the current master and moves with it. */
interface SentinelLike extends Emitter {
  sendCommand(isReadonly: boolean, args: string[]): Promise<unknown>;
  subscribe(channel: string, listener: (message: unknown) => void): Promise<unknown>;
  unsubscribe(channel: string, listener: (message: unknown) => void): Promise<unknown>;
  getMasterNode(): { host: string; port: number } | undefined;
}

function sentinel(client: SentinelLike, handler: ExpiredHandler): ExpiredSubscriptions {
  const master = client.getMasterNode();
  const address = master ? `${master.host}:${master.port}` : "the Sentinel master";
  const listener = (key: unknown) => handler.expired(String(key));
  const name = channel(
    (client as { options?: { nodeClientOptions?: { database?: number } } }).options
      ?.nodeClientOptions?.database,
  );
  let closed = false;
  (async () => {
    handler.setting(address, await readSetting(() => client.sendCommand(false, SETTING)));
    if (!closed) await client.subscribe(name, listener);
  })().catch(() => {/* the app's client reports the outage */});
  return {
    addresses: [address],
    close() {
      closed = true;
      client.unsubscribe(name, listener).catch(() => {/* closed anyway */});
    },
  };
}

/** The masters of a cluster now, each with how to subscribe on it. */
type MasterList = (cluster: object, handler: ExpiredHandler) => Promise<Map<string, () => NodeSubscription>>;

function ioRedisMasters(
  cluster: object,
  handler: ExpiredHandler,
): Promise<Map<string, () => NodeSubscription>> {
  const masters = new Map<string, () => NodeSubscription>();
  for (const node of (cluster as IoRedisLike).nodes!("master")) {
    masters.set(ioRedisAddress(node), () => ioRedisNode(node, handler));
  }
  return Promise.resolve(masters);
}

interface NodeRedisClusterLike {
  readonly masters: readonly { address?: string }[];
  nodeClient(node: object): NodeRedisLike | Promise<NodeRedisLike>;
  readonly isOpen: boolean;
}

async function nodeRedisMasters(
  cluster: object,
  handler: ExpiredHandler,
): Promise<Map<string, () => NodeSubscription>> {
  const { masters, nodeClient } = cluster as NodeRedisClusterLike;
  const masters_ = new Map<string, () => NodeSubscription>();
  await Promise.all(masters.map(async (master) => {
    const client = await nodeClient.call(cluster, master);
    const node = () => {
      const subscription = nodeRedisNode(client, handler);
      // The duplicate names its node by its own options; the cluster's name is the one to compare.
      return { ...subscription, address: master.address ?? subscription.address };
    };
    masters_.set(master.address ?? addressOf(client.options), node);
  }));
  return masters_;
}

/**
 * One subscription per master, compared with the cluster's masters every second and at
 * each topology event: a new master (a promoted replica, a node added) gets one, a node
 * that is no longer a master loses its.
 */
function perMaster(
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
