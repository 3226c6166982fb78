/**
 * Adapter for node-redis 4, 5 and 6 clients made by `createClient()`.
 * @module
 */

import type { RedisConnection, RedisNode } from "./connection.ts";
import { settleReply, StateReporter } from "./_util.ts";

/** The parts of a node-redis `createClient()` client the adapter uses (the same in versions 4, 5 and 6). */
interface NodeRedisClient {
  sendCommand(args: string[]): Promise<unknown>;
  connect(): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly isReady: boolean;
  readonly isOpen: boolean;
  readonly options?: NodeRedisOptions;
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
  const state = new StateReporter(() => redis.isReady);
  redis.on("ready", () => state.update());
  redis.on("error", (error) => state.update(error));
  redis.on("end", () => state.update());
  redis.on("reconnecting", () => state.update());

  // Connect a client nobody opened, once; never reopen one the app has closed.
  let mayOpen = !redis.isOpen;
  redis.on("connect", () => mayOpen = false);

  const send = (args: readonly string[]) => settleReply(redis.sendCommand([...args]));
  const node: RedisNode = { send };
  return {
    send: (_key, args) => send(args),
    masters: () => Promise.resolve([node]),
    get ready() {
      return redis.isReady;
    },
    address: addressOf(redis.options),
    open() {
      if (!mayOpen || redis.isOpen) return;
      mayOpen = false;
      redis.connect().catch((error) => state.update(error));
    },
    onStateChange: (listener) => state.listen(listener),
  };
}

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
