/**
 * Adapter for ioredis 5 and 6 clients made by `new Redis({ sentinels, name })`:
 * the standalone adapter, naming the master the client is connected to.
 * @module
 */

import type { RedisConnection } from "./connection.ts";
import { ioRedisConnection, isIoRedisClient } from "./ioredis.ts";
import { masterOnlyReads } from "./_util.ts";

/** The parts of a Sentinel-backed ioredis client the adapter reads besides the standalone ones. */
interface IoRedisSentinelClient {
  readonly options?: { sentinels?: readonly { host?: string; port?: number }[]; name?: string };
  readonly stream?: { remoteAddress?: string; remotePort?: number };
}

/**
 * Whether `client` is an ioredis client that finds its master through sentinels.
 * @param client Any object.
 * @returns True for ioredis `new Redis({ sentinels })`.
 */
export function isIoRedisSentinel(client: object): boolean {
  const sentinels = (client as IoRedisSentinelClient).options?.sentinels;
  return isIoRedisClient(client) && Array.isArray(sentinels) && sentinels.length > 0;
}

/**
 * Wraps a Sentinel-backed ioredis client. ioredis asks the sentinels for the
 * master on every (re)connection, so commands follow failovers (reads only once
 * the node answers as master); the address in
 * error messages is the master the client is connected to, or the sentinels.
 * @param client A client from ioredis `new Redis({ sentinels, name })`.
 * @param onReplica Called when a replica answered a read (see {@linkcode masterOnlyReads}).
 * @returns The store's view of it.
 */
export function ioRedisSentinelConnection(client: object, onReplica?: () => void): RedisConnection {
  const redis = client as IoRedisSentinelClient;
  const base = ioRedisConnection(client);
  const reads = masterOnlyReads((args) => base.send("", args), onReplica);
  return {
    send: (_key, args, deadline) => reads.send(args, deadline),
    masters: () => base.masters(),
    boundRetries: reads.boundRetries,
    get ready() {
      return base.ready;
    },
    get address() {
      const stream = redis.stream;
      if (base.ready && stream?.remoteAddress && stream.remotePort) {
        return `${stream.remoteAddress}:${stream.remotePort} (the master "${redis.options?.name}")`;
      }
      const sentinels = (redis.options?.sentinels ?? [])
        .map((node) => `${node.host ?? "localhost"}:${node.port ?? 26379}`);
      return `the master "${redis.options?.name}" the sentinels at ${sentinels.join(", ")} name`;
    },
    get closed() {
      return base.closed;
    },
    open: () => base.open?.(),
    onStateChange: (listener) => base.onStateChange(listener),
  };
}
