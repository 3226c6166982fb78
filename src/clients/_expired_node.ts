/**
 * One subscription of the store's own to expired-key notifications on one
 * Redis node: a duplicate of the app's node-redis or ioredis client (its
 * database and credentials included), which reads the node's
 * `notify-keyspace-events` before it subscribes. Used by
 * `expired_subscriptions.ts` and `expired_cluster.ts`.
 * @module
 */

import { ioRedisAddress } from "./ioredis.ts";
import { addressOf, type NodeRedisOptions } from "./node_redis.ts";

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

/** The command that reads the setting expired-key events need. */
export const SETTING = ["CONFIG", "GET", "notify-keyspace-events"];

/** An event listener. */
export type Listener = (...args: unknown[]) => void;

/** A client's event emitter. */
export interface Emitter {
  on(event: string, listener: Listener): unknown;
  removeListener?(event: string, listener: Listener): unknown;
}

/** The parts of a node-redis client (or cluster node client) a subscription uses. */
export interface NodeRedisLike extends Emitter {
  duplicate(overrides?: object): NodeRedisLike;
  connect(): Promise<unknown>;
  sendCommand(args: string[]): Promise<unknown>;
  subscribe(channel: string, listener: (message: unknown) => void): Promise<unknown>;
  close?(): Promise<unknown>;
  quit?(): Promise<unknown>;
  readonly isOpen: boolean;
  readonly options?: NodeRedisOptions & { database?: number };
}

/** The parts of an ioredis client (or cluster, or cluster node) a subscription uses. */
export interface IoRedisLike extends Emitter {
  once(event: string, listener: Listener): unknown;
  duplicate(overrides?: object): IoRedisLike;
  connect(): Promise<unknown>;
  call(command: string, ...args: string[]): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  disconnect(): void;
  nodes?(role: "master"): IoRedisLike[];
  readonly status: string;
  readonly options?: { host?: string; port?: number; path?: string; db?: number; keyPrefix?: unknown };
}

/** One subscription: its address and how to end it. */
export interface NodeSubscription {
  address: string;
  close(): void;
}

/**
 * The channel of expired-key events of a database.
 * @param db The database number (anything else: 0).
 * @returns `__keyevent@<db>__:expired`.
 */
export function channel(db: unknown): string {
  return `__keyevent@${Number.isInteger(db) ? db : 0}__:expired`;
}

/**
 * Reads `notify-keyspace-events`.
 * @param send Sends {@linkcode SETTING}.
 * @returns Its value, or the error that refused it.
 */
export async function readSetting(send: () => Promise<unknown>): Promise<string | Error> {
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
export function nodeRedisNode(client: NodeRedisLike, handler: ExpiredHandler): NodeSubscription {
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

/**
 * An ioredis connection of the store's own (on a Sentinel client it follows the master).
 * @param clusterNode `client` is a node of an ioredis Cluster: its `retryStrategy: null` (the
 *   cluster reconnects its nodes itself) would leave a cut subscription closed for good.
 */
export function ioRedisNode(
  client: IoRedisLike,
  handler: ExpiredHandler,
  clusterNode = false,
): NodeSubscription {
  const address = ioRedisAddress(client);
  const name = channel(client.options?.db);
  // RESP2: messages come as "message" events in ioredis 5 and 6 alike. The app's
  // `autoResubscribe: false` would leave the subscription dead after its first reconnect.
  const options = { lazyConnect: true, protocol: 2, autoResubscribe: true };
  const sub = client.duplicate(clusterNode ? { ...options, retryStrategy: reconnectDelay } : options);
  sub.on("error", () => {/* it reconnects and resubscribes by itself */});
  sub.on("message", (from, key) => {
    if (from === name) handler.expired(String(key));
  });
  let closed = false;
  // At its first ready, not when connect() settles: that rejects at a first failed attempt (Redis
  // down as the watch starts) while the connection goes on retrying, and would never subscribe.
  sub.once("ready", () => {
    (async () => {
      handler.setting(address, await readSetting(() => sub.call(...SETTING as [string, ...string[]])));
      if (!closed) await sub.subscribe(name);
    })().catch(() => {/* closed meanwhile, or the app's client reports the outage */});
  });
  sub.connect().catch(() => {/* it retries by itself, as the app's client does */});
  return {
    address,
    close() {
      closed = true;
      sub.disconnect();
    },
  };
}

/** ioredis's default reconnect delay: 50 ms more each attempt, at most 2 s. */
function reconnectDelay(attempts: number): number {
  return Math.min(attempts * 50, 2000);
}
