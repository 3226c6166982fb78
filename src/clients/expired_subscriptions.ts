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
import { isIoRedisCluster } from "./ioredis_cluster.ts";
import { isNodeRedisClient } from "./node_redis.ts";
import { isNodeRedisCluster } from "./node_redis_cluster.ts";
import { isNodeRedisSentinel } from "./node_redis_sentinel.ts";
import { unrefTimer } from "./_util.ts";
import {
  channel,
  type Emitter,
  type ExpiredHandler,
  type IoRedisLike,
  ioRedisNode,
  type NodeRedisLike,
  nodeRedisNode,
  type NodeSubscription,
  readSetting,
  SETTING,
} from "./_expired_node.ts";
import { ioRedisMasters, nodeRedisMasters, perMaster } from "./expired_cluster.ts";

export type { ExpiredHandler };

/** The subscriptions of one store. */
export interface ExpiredSubscriptions {
  /** The masters subscribed to (`host:port`). */
  readonly addresses: readonly string[];
  /** Closes every subscription. */
  close(): void;
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
  if (isNodeRedisSentinel(client)) return sentinel(client as SentinelLike, handler, closed);
  return single(client as Emitter, nodeRedisNode(client as NodeRedisLike, handler));
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

/** node-redis's Sentinel client subscribes on the current master and moves with it. */
interface SentinelLike extends Emitter {
  sendCommand(isReadonly: boolean, args: string[]): Promise<unknown>;
  subscribe(channel: string, listener: (message: unknown) => void): Promise<unknown>;
  unsubscribe(channel: string, listener: (message: unknown) => void): Promise<unknown>;
  getMasterNode(): { host: string; port: number } | undefined;
  readonly isReady: boolean;
}

function sentinel(client: SentinelLike, handler: ExpiredHandler, ended: () => boolean): ExpiredSubscriptions {
  const listener = (key: unknown) => handler.expired(String(key));
  const name = channel(
    (client as { options?: { nodeClientOptions?: { database?: number } } }).options
      ?.nodeClientOptions?.database,
  );
  const masterAddress = () => {
    const master = client.getMasterNode();
    return master ? `${master.host}:${master.port}` : "the Sentinel master";
  };
  let closed = false;
  let subscribed = false;
  // The store connects the app's client at its first command: wait for it (its Pub/Sub needs it).
  const start = async () => {
    if (closed || ended()) return;
    if (!client.isReady) return void unrefTimer(setTimeout(start, SENTINEL_WAIT_MS));
    handler.setting(masterAddress(), await readSetting(() => client.sendCommand(false, SETTING)));
    if (closed) return;
    await client.subscribe(name, listener);
    subscribed = true;
    // Closed while the SUBSCRIBE was on its way: close() could not undo it then.
    if (closed) unsubscribe();
  };
  const unsubscribe = () => client.unsubscribe(name, listener).catch(() => {/* closed anyway */});
  start().catch(() => {/* the app's client reports the outage */});
  return {
    get addresses() {
      return [masterAddress()];
    },
    close() {
      closed = true;
      if (subscribed) unsubscribe();
    },
  };
}

/** How often a Sentinel client not yet connected is looked at again. */
const SENTINEL_WAIT_MS = 100;
