/**
 * Adapter for node-redis 4 and 5 clients made by `createClient()`.
 * @module
 */

import type { ConnectionState, RedisConnection, RedisNode } from "./connection.ts";

/** The parts of a node-redis `createClient()` client the adapter uses. */
interface NodeRedisClient {
  sendCommand(args: string[]): Promise<unknown>;
  connect(): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly isReady: boolean;
  readonly isOpen: boolean;
  readonly options?: { url?: string; socket?: { host?: string; port?: number; path?: string } };
}

/** Whether `client` looks like a node-redis standalone client. */
export function isNodeRedisClient(client: object): boolean {
  const candidate = client as Partial<NodeRedisClient> & { masters?: unknown };
  return typeof candidate.sendCommand === "function" && typeof candidate.connect === "function" &&
    "isReady" in candidate && "isOpen" in candidate && !("masters" in candidate);
}

/**
 * Wraps a node-redis client. Connects it when it is not open yet, and listens
 * for its `error` events (node-redis would otherwise crash the process on them).
 * @param client A client from node-redis `createClient()`.
 * @returns The store's view of it.
 */
export function nodeRedisConnection(client: object): RedisConnection {
  const redis = client as NodeRedisClient;
  const listeners: ((state: ConnectionState) => void)[] = [];
  const report = (state: ConnectionState) => listeners.forEach((listener) => listener(state));
  redis.on("ready", () => report({ ready: true }));
  redis.on("error", (error) => report({ ready: false, error }));
  redis.on("end", () => report({ ready: false }));
  redis.on("reconnecting", () => report({ ready: false }));
  if (!redis.isOpen) redis.connect().catch((error) => report({ ready: false, error }));

  const node: RedisNode = { send: (args) => redis.sendCommand([...args]) };
  return {
    send: (_key, args) => redis.sendCommand([...args]),
    masters: () => Promise.resolve([node]),
    get ready() {
      return redis.isReady;
    },
    address: addressOf(redis.options),
    onStateChange: (listener) => void listeners.push(listener),
  };
}

function addressOf(options: NodeRedisClient["options"]): string {
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
