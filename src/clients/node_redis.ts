/**
 * Adapter for node-redis 4, 5 and 6 clients made by `createClient()`.
 * @module
 */

import type { RedisConnection, RedisNode } from "./connection.ts";
import { settleReply, shareConnect, StateReporter } from "./_util.ts";

/** The parts of a node-redis `createClient()` client the adapter uses (the same in versions 4, 5 and 6). */
interface NodeRedisClient {
  sendCommand(args: string[], options?: object): Promise<unknown>;
  connect(): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly isReady: boolean;
  readonly isOpen: boolean;
  readonly options?: NodeRedisOptions & { legacyMode?: boolean };
  /** node-redis 4 `legacyMode`: the Promise API lives here. */
  readonly v4?: { sendCommand?(args: string[]): Promise<unknown> };
}

/** Where a node-redis client connects to. */
export interface NodeRedisOptions {
  /** `redis://host:port`. */
  url?: string;
  /** Socket options. */
  socket?: { host?: string; port?: number; path?: string };
}

/**
 * Whether `client` looks like a node-redis standalone client.
 * @param client Any object.
 * @returns True for a node-redis 4 or 5 `createClient()` client.
 */
export function isNodeRedisClient(client: object): boolean {
  const candidate = client as Partial<NodeRedisClient> & { masters?: unknown };
  return typeof candidate.sendCommand === "function" && typeof candidate.connect === "function" &&
    "isReady" in candidate && "isOpen" in candidate && !("masters" in candidate);
}

/**
 * Wraps a node-redis client. Connects it at first use when nobody has, and listens
 * for its `error` events (node-redis would otherwise crash the process on them).
 * @param client A client from node-redis `createClient()`.
 * @returns The store's view of it.
 */
export function nodeRedisConnection(client: object): RedisConnection {
  const redis = client as NodeRedisClient;
  // node-redis 4 with `legacyMode: true` (connect-redis 6 required it) takes callbacks; its Promise API is `v4`.
  const v4 = redis.options?.legacyMode ? redis.v4 : undefined;
  if (redis.options?.legacyMode && typeof v4?.sendCommand !== "function") {
    throw new TypeError(
      "This node-redis client uses legacyMode but has no v4 API: create it without legacyMode " +
        "(the store needs no special client options)",
    );
  }
  const sendCommand = v4 ? v4.sendCommand!.bind(v4) : redis.sendCommand.bind(redis);
  const state = new StateReporter(() => redis.isReady);
  redis.on("ready", () => state.update());
  redis.on("error", (error) => state.update(error));
  redis.on("end", () => state.update());
  redis.on("reconnecting", () => state.update());

  // Connect a client nobody opened, once; never reopen one the app has closed.
  let mayOpen = !redis.isOpen;
  let opened = redis.isOpen;
  redis.on("connect", () => {
    mayOpen = false;
    opened = true;
  });

  const send = (args: readonly string[]) => settleReply(sendCommand([...args], FLAT_MAPS));
  const node: RedisNode = { send };
  return {
    send: (_key, args) => send(args),
    masters: () => Promise.resolve([node]),
    get ready() {
      return redis.isReady;
    },
    address: addressOf(redis.options),
    get closed() {
      return opened && !redis.isOpen;
    },
    open() {
      if (!mayOpen || redis.isOpen) return;
      mayOpen = false;
      redis.connect().catch((error) => state.update(error));
      shareConnect(redis, () => redis.isOpen, () => redis.isReady, redis);
    },
    onStateChange: (listener) => state.listen(listener),
  };
}

/**
 * Command options asking node-redis 5 and 6 (RESP3 by default in 6) for maps as flat
 * field, value arrays, as RESP2 gives them: an HGETALL reply needs no reshaping then.
 * node-redis 4 ignores them.
 */
export const FLAT_MAPS: object = { typeMapping: { 37: Array } };

/**
 * The `host:port` (or socket path) node-redis options point at.
 * @param options A client's or a root node's options.
 * @returns The address, for error messages.
 */
export function addressOf(options: NodeRedisOptions | undefined): string {
  if (options?.socket?.path) return options.socket.path;
  if (options?.url) {
    try {
      const url = new URL(options.url);
      return `${url.hostname || "localhost"}:${url.port || 6379}`;
    } catch {
      return "the configured url";
    }
  }
  return `${options?.socket?.host ?? "localhost"}:${options?.socket?.port ?? 6379}`;
}
