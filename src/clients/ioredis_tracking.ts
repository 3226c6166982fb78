/**
 * Local-cache tracking for ioredis 5 and 6 clients, standalone or Sentinel-backed,
 * which speak RESP2 only: a REDIRECT pair (see {@linkcode RedirectArming}) of two
 * connections of the store's own, duplicated from the app's client. Every close,
 * end or reconnect of either flushes the cache; every ready arms tracking again.
 *
 * With Sentinel, each duplicate asks the sentinels for the master whenever it
 * connects, and is made with `failoverDetector` so that a `+switch-master` ends
 * it even while the old master is still up (a partition): both then reconnect to
 * the new master. Tracking is confirmed only on a node that answers ROLE as
 * master, and a tracked read a replica answers flushes the cache and arms again.
 * @module
 */

import type { LocalCache } from "../cache/local_cache.ts";
import type { CheckTag, Tracker } from "../cache/tracker.ts";
import type { RedisConnection } from "./connection.ts";
import { type IoRedisClient, ioRedisConnection } from "./ioredis.ts";
import { ioRedisSentinelConnection } from "./ioredis_sentinel.ts";
import { INVALIDATE_CHANNEL, RedirectArming } from "./redirect_tracking.ts";

/** The parts of an ioredis client the tracker uses. */
interface IoRedisDuplicable extends IoRedisClient {
  duplicate(overrides: object): IoRedisDuplicable;
  subscribe(channel: string): Promise<unknown>;
  disconnect(): void;
  off?(event: string, listener: (...args: unknown[]) => void): unknown;
}

/**
 * The tracker of an ioredis client.
 * @param client The app's ioredis client (left as it is: the store duplicates it).
 * @param timeout Milliseconds the end-to-end check of tracking may take.
 * @param options `sentinel`: the client finds its master through sentinels; `checkTag` picks the
 *   check key's hash tag, when the client is one node of a Redis Cluster.
 * @returns The tracker.
 */
export function ioRedisTracker(
  client: object,
  timeout: number,
  options: { sentinel?: boolean; checkTag?: CheckTag } = {},
): Tracker {
  const { sentinel = false, checkTag } = options;
  const main = client as IoRedisDuplicable;
  const keyPrefix = typeof main.options?.keyPrefix === "string" ? main.options.keyPrefix : "";
  let stop = () => {/* not started */};
  return {
    detail: `Redis tracking, invalidations redirected to a subscribed connection of the store's own (ioredis${
      sentinel ? ", following the Sentinel master" : ""
    })`,
    start(cache: LocalCache): RedisConnection {
      const follow = sentinel ? { failoverDetector: true } : {};
      const data = main.duplicate({ lazyConnect: true, ...follow });
      // RESP2 (ioredis 6 speaks RESP3 by default, and drops the "invalidate" pushes a RESP3
      // redirect target gets): invalidations then come as messages on the channel.
      const sub = main.duplicate({ lazyConnect: true, autoResubscribe: false, protocol: 2, ...follow });
      const arming = new RedirectArming(cache, {
        send: (args) => data.call(args[0], args.slice(1)),
        live: () => data.status === "ready" && sub.status === "ready",
        masterOnly: sentinel,
        keyPrefix,
        checkTag,
      }, timeout);
      const arm = () => arming.arm();

      sub.on("messageBuffer", (channel: unknown, message: unknown) => {
        if (String(channel) === INVALIDATE_CHANNEL) arming.message(message);
      });
      sub.on("ready", () => {
        arming.subscribed((async () => {
          const id = String(await sub.call("CLIENT", "ID"));
          await sub.subscribe(INVALIDATE_CHANNEL);
          return id;
        })());
      });
      for (const event of ["close", "end", "reconnecting"]) {
        sub.on(event, () => arming.subscribed(undefined));
        data.on(event, arm);
      }
      data.on("ready", arm);
      sub.on("error", () => {/* reported by its close */});
      sub.connect().catch(() => {/* ioredis retries by itself */});
      stop = () => {
        main.off?.("end", stop); // a cluster node's connection outlives many caches opened on it
        arming.close();
        data.disconnect();
        sub.disconnect();
      };
      // The app closing its client closes the store's connections too.
      main.on("end", stop);
      return sentinel ? ioRedisSentinelConnection(data, arm) : ioRedisConnection(data);
    },
    stop: () => stop(),
  };
}
