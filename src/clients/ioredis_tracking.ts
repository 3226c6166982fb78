/**
 * Local-cache tracking for ioredis 5 and 6 standalone clients, which speak
 * RESP2 only: two connections of the store's own, duplicated from the app's
 * client. One is SUBSCRIBEd to `__redis__:invalidate`; the other, which carries
 * the store's session reads, has `CLIENT TRACKING on REDIRECT <id of the first>`.
 * Either reconnecting silently ends the invalidations (the redirect breaks, or
 * tracking is off on a new connection), so every close of either flushes the
 * cache, and every ready sets tracking up again and confirms it with
 * `CLIENT TRACKINGINFO` before the cache serves reads again.
 * @module
 */

import type { LocalCache } from "../cache/local_cache.ts";
import type { CheckTag, Tracker } from "../cache/tracker.ts";
import type { RedisConnection } from "./connection.ts";
import { type IoRedisClient, ioRedisConnection } from "./ioredis.ts";
import { trackingOn } from "./node_redis_tracking.ts";
import { checkTracking } from "../cache/tracking_check.ts";

/** The channel Redis sends invalidations on to a RESP2 redirect target. */
const CHANNEL = "__redis__:invalidate";

/** The parts of an ioredis client the tracker uses. */
interface IoRedisDuplicable extends IoRedisClient {
  duplicate(overrides: object): IoRedisDuplicable;
  subscribe(channel: string): Promise<unknown>;
  disconnect(): void;
}

/**
 * The tracker of an ioredis standalone client.
 * @param client The app's ioredis client (left as it is: the store duplicates it).
 * @param timeout Milliseconds the end-to-end check of tracking may take.
 * @param checkTag Picks the check key's hash tag, when the client is one node of a Redis Cluster.
 * @returns The tracker.
 */
export function ioRedisTracker(client: object, timeout: number, checkTag?: CheckTag): Tracker {
  const main = client as IoRedisDuplicable;
  const keyPrefix = typeof main.options?.keyPrefix === "string" ? main.options.keyPrefix : "";
  return {
    detail:
      "Redis tracking, invalidations redirected to a subscribed connection of the store's own (ioredis)",
    start(cache: LocalCache): RedisConnection {
      const data = main.duplicate({ lazyConnect: true });
      // RESP2 (ioredis 6 speaks RESP3 by default, and drops the "invalidate" pushes a RESP3
      // redirect target gets): invalidations then come as messages on the channel.
      const sub = main.duplicate({ lazyConnect: true, autoResubscribe: false, protocol: 2 });
      let generation = 0;
      let subscribed: Promise<string> | undefined;

      const arm = async () => {
        const mine = ++generation;
        cache.flush(false);
        if (data.status !== "ready" || subscribed === undefined) return;
        try {
          const id = await subscribed;
          if (mine !== generation) return;
          // Off first: an existing redirect (to a dead subscriber) cannot be changed in place.
          const [, , info] = await Promise.all([
            data.call("CLIENT", "TRACKING", "off"),
            data.call("CLIENT", "TRACKING", "on", "REDIRECT", id),
            data.call("CLIENT", "TRACKINGINFO"),
          ]);
          if (mine !== generation || !trackingOn(info, id)) return;
          const send = (args: string[]) => data.call(args[0], args.slice(1));
          await checkTracking(send, cache, timeout, await checkTag?.(send));
          const live = data.status === "ready" && sub.status === "ready";
          if (mine === generation && live) cache.flush(true);
        } catch {
          // The connection that failed reports it; its next ready arms again.
        }
      };

      sub.on("messageBuffer", (channel: unknown, message: unknown) => {
        if (String(channel) !== CHANNEL) return;
        if (message === null || !Array.isArray(message)) return cache.invalidate(null);
        const keys: string[] = [];
        for (const key of message) {
          const text = String(key);
          if (text.startsWith(keyPrefix)) keys.push(text.slice(keyPrefix.length));
        }
        cache.invalidate(keys);
      });
      sub.on("ready", () => {
        const subscribing = (async () => {
          const id = String(await sub.call("CLIENT", "ID"));
          await sub.subscribe(CHANNEL);
          return id;
        })();
        subscribing.catch(() => {/* the subscriber's next event decides */});
        subscribed = subscribing;
        arm();
      });
      for (const event of ["close", "end", "reconnecting"]) {
        sub.on(event, () => {
          subscribed = undefined;
          arm();
        });
        data.on(event, arm);
      }
      data.on("ready", arm);
      sub.on("error", () => {/* reported by its close */});
      sub.connect().catch(() => {/* ioredis retries by itself */});
      // The app closing its client closes the store's connections too.
      main.on("end", () => {
        generation++;
        cache.flush(false);
        data.disconnect();
        sub.disconnect();
      });
      return ioRedisConnection(data);
    },
  };
}
