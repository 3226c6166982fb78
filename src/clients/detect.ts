/**
 * Picks the adapter for the client handed to the store.
 * @module
 */

import type { RedisConnection } from "./connection.ts";
import { ioRedisConnection, isIoRedisClient } from "./ioredis.ts";
import { ioRedisClusterConnection, isIoRedisCluster } from "./ioredis_cluster.ts";
import { ioRedisSentinelConnection, isIoRedisSentinel } from "./ioredis_sentinel.ts";
import { isNodeRedisClient, nodeRedisConnection } from "./node_redis.ts";
import { isNodeRedisCluster, nodeRedisClusterConnection } from "./node_redis_cluster.ts";
import { isNodeRedisSentinel, nodeRedisSentinelConnection } from "./node_redis_sentinel.ts";

/**
 * Turns a user's client into the store's {@linkcode RedisConnection}.
 * @param client A node-redis client, cluster or Sentinel client, an ioredis client or cluster, or
 *   an object already implementing `RedisConnection`.
 * @returns The connection.
 */
export function connectionFor(client: unknown): RedisConnection {
  if (typeof client !== "object" || client === null) {
    throw new TypeError(
      'Option "client" is required: pass a Redis client, e.g. { client: createClient() } from "redis"',
    );
  }
  if (isRedisConnection(client)) return client;
  // Stores sharing one client (a store per tenant prefix) share its adapter: the client gets the
  // adapter's listeners once, however many stores there are.
  let connection = adapters.get(client);
  if (!connection) adapters.set(client, connection = adapt(client));
  return connection;
}

const adapters = new WeakMap<object, RedisConnection>();

function adapt(client: object): RedisConnection {
  if (isIoRedisCluster(client)) return ioRedisClusterConnection(client);
  if (isIoRedisSentinel(client)) return ioRedisSentinelConnection(client);
  if (isIoRedisClient(client)) return ioRedisConnection(client);
  if (isNodeRedisCluster(client)) return nodeRedisClusterConnection(client);
  // Before plain clients: a Sentinel client has their shape, with another sendCommand.
  if (isNodeRedisSentinel(client)) return nodeRedisSentinelConnection(client);
  if (isNodeRedisClient(client)) return nodeRedisConnection(client);
  throw new TypeError(
    'Option "client" is not a supported Redis client: pass a node-redis client from createClient(), ' +
      "createCluster() or createSentinel(), an ioredis Redis or Cluster, or an object implementing RedisConnection " +
      "(send, masters, ready, address, onStateChange)",
  );
}

function isRedisConnection(client: object): client is RedisConnection {
  const candidate = client as Partial<RedisConnection>;
  return typeof candidate.send === "function" && typeof candidate.masters === "function" &&
    typeof candidate.onStateChange === "function" && "ready" in candidate;
}
