/**
 * Adapter for ioredis 5 and 6 standalone clients made by `new Redis()`.
 * @module
 */

import type { RedisConnection, RedisNode } from "./connection.ts";
import { scanThroughKeyPrefix, settleReply, shareConnect, StateReporter } from "./_util.ts";

/** The parts of an ioredis `Redis` (also of each node of an ioredis `Cluster`) the adapters use. */
export interface IoRedisClient {
  call(command: string, ...args: (string | string[])[]): Promise<unknown>;
  connect(): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly status: string;
  readonly options?: { host?: string; port?: number; path?: string; keyPrefix?: unknown };
}

/**
 * Whether `client` looks like an ioredis standalone client.
 * @param client Any object.
 * @returns True for an ioredis 5 or 6 `new Redis()` client.
 */
export function isIoRedisClient(client: object): boolean {
  const candidate = client as Partial<IoRedisClient> & { nodes?: unknown; isCluster?: unknown };
  return typeof candidate.call === "function" && typeof candidate.connect === "function" &&
    typeof candidate.status === "string" && typeof candidate.nodes !== "function" &&
    candidate.isCluster !== true;
}

/**
 * Wraps an ioredis client. Connects it when it was made with `lazyConnect`, and
 * listens for its `error` events.
 * @param client A client from ioredis `new Redis()`.
 * @returns The store's view of it.
 */
export function ioRedisConnection(client: object): RedisConnection {
  const redis = client as IoRedisClient;
  const state = new StateReporter(() => redis.status === "ready");
  redis.on("error", (error) => state.update(error));
  for (const event of ["ready", "connect", "close", "reconnecting", "end"]) {
    redis.on(event, () => state.update());
  }

  const node: RedisNode = { send: ioRedisSend(redis) };
  return {
    send: (_key, args) => node.send(args),
    masters: () => Promise.resolve([node]),
    get ready() {
      return redis.status === "ready";
    },
    address: ioRedisAddress(redis),
    get closed() {
      return redis.status === "end";
    },
    open: () => openIoRedis(redis, state),
    onStateChange: (listener) => state.listen(listener),
  };
}

/**
 * Connects an ioredis client or cluster made with `lazyConnect` that nobody has
 * connected, and lets the app's own later `connect()` resolve with it.
 * @param redis The client or cluster.
 * @param state Where a failed connect is reported.
 */
export function openIoRedis(
  redis: { readonly status: string; connect(): Promise<unknown> },
  state: StateReporter,
): void {
  if (redis.status !== "wait") return;
  redis.connect().catch((error) => state.update(error));
  shareConnect(
    redis,
    () => ["connecting", "connect", "ready"].includes(redis.status),
    () => redis.status === "ready",
    undefined,
  );
}

/**
 * Sends commands through an ioredis client's `call`, replies normalized.
 * @param redis An ioredis client or cluster node.
 * @returns Its `send`.
 */
export function ioRedisSend(redis: Pick<IoRedisClient, "call" | "options">): RedisNode["send"] {
  return scanThroughKeyPrefix(
    // One array, not spread: ioredis flattens it, and a spread of many thousand arguments
    // overflows the stack.
    (args) => settleReply(redis.call(args[0], args.slice(1))),
    redis.options?.keyPrefix,
  );
}

/**
 * An ioredis client's address.
 * @param redis The client.
 * @returns `host:port` or the socket path.
 */
export function ioRedisAddress(redis: Pick<IoRedisClient, "options">): string {
  const options = redis.options;
  return options?.path ?? `${options?.host ?? "localhost"}:${options?.port ?? 6379}`;
}
