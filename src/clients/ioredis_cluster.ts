/**
 * Adapter for ioredis 5 and 6 clusters made by `new Cluster()`.
 * @module
 */

import type { RedisConnection, RedisNode } from "./connection.ts";
import { ioRedisAddress, type IoRedisClient, ioRedisSend, openIoRedis } from "./ioredis.ts";
import { StateReporter } from "./_util.ts";
import { retryRefused } from "./_cluster_retry.ts";
import { keySlot } from "./_key_slot.ts";

/** The parts of an ioredis `Cluster` the adapter uses. */
interface IoRedisCluster extends IoRedisClient {
  nodes(role: "master"): IoRedisClient[];
  readonly startupNodes?: readonly unknown[];
  /** Each slot's nodes (`host:port`, the master first), by slot number. */
  readonly slots?: readonly (readonly string[] | undefined)[];
}

/**
 * Whether `client` looks like an ioredis cluster.
 * @param client Any object.
 * @returns True for an ioredis 5 or 6 `new Cluster()` cluster.
 */
export function isIoRedisCluster(client: object): boolean {
  const candidate = client as Partial<IoRedisCluster>;
  return typeof candidate.call === "function" && typeof candidate.nodes === "function" &&
    typeof candidate.connect === "function" && typeof candidate.status === "string";
}

/**
 * Wraps an ioredis cluster. Connects it when it was made with `lazyConnect`,
 * and listens for its `error` and `node error` events. `call` routes each
 * command (EVALSHA included) to the master owning its key.
 * @param client A cluster from ioredis `new Cluster()`.
 * @returns The store's view of it.
 */
export function ioRedisClusterConnection(client: object): RedisConnection {
  const cluster = client as IoRedisCluster;
  const state = new StateReporter(() => cluster.status === "ready");
  cluster.on("error", (error) => state.update(error));
  cluster.on("node error", (error) => state.update(error));
  for (const event of ["ready", "connect", "close", "reconnecting", "end"]) {
    cluster.on(event, () => state.update());
  }

  const send = ioRedisSend(cluster);
  // ioredis follows ASK, MOVED, TRYAGAIN and CLUSTERDOWN itself, 16 times at most (about 1.6 s
  // of TRYAGAIN): the store keeps retrying for as long as its caller waits.
  const retrying = retryRefused((_key, args) => send(args));
  const address = () => {
    const masters = cluster.nodes("master");
    const nodes = masters.length > 0
      ? masters.map(ioRedisAddress)
      : (cluster.startupNodes ?? []).map(startupAddress);
    return `${nodes.join(", ") || "the startup nodes"} (Redis Cluster)`;
  };
  return {
    send: retrying.send,
    boundRetries: retrying.boundRetries,
    masters: () =>
      Promise.resolve(
        cluster.nodes("master").map((node): RedisNode => ({
          send: ioRedisSend({ call: (...args) => node.call(...args), options: cluster.options }),
        })),
      ),
    get ready() {
      return cluster.status === "ready";
    },
    get address() {
      return address();
    },
    addressOf(key) {
      const prefix = cluster.options?.keyPrefix;
      const slot = keySlot((typeof prefix === "string" ? prefix : "") + key);
      const owner = cluster.slots?.[slot]?.[0];
      return owner ? `${owner} (the master of slot ${slot} in the Redis Cluster)` : address();
    },
    get closed() {
      return cluster.status === "end";
    },
    open: () => openIoRedis(cluster, state),
    onStateChange: (listener) => state.listen(listener),
  };
}

function startupAddress(node: unknown): string {
  if (typeof node !== "object" || node === null) return String(node);
  const { host, port } = node as { host?: string; port?: number };
  return `${host ?? "localhost"}:${port ?? 6379}`;
}
