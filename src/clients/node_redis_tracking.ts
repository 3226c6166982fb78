/**
 * Local-cache tracking for node-redis 5.12+ and 6 standalone clients: a
 * connection of the store's own, duplicated from the app's client, speaking
 * RESP3 with `emitInvalidate` (node-redis then turns `CLIENT TRACKING ON` on in
 * its handshake, on every connect, and emits each invalidation push). Only the
 * store's session reads go through it, so default tracking tracks exactly the
 * session keys the cache holds, with no `CLIENT CACHING yes` per read; replies
 * and invalidations share one socket, so they arrive in the order Redis sent them.
 * @module
 */

import type { LocalCache } from "../cache/local_cache.ts";
import type { CheckTag, Tracker } from "../cache/tracker.ts";
import type { RedisConnection } from "./connection.ts";
import { FLAT_MAPS, nodeRedisConnection } from "./node_redis.ts";
import { normalizeReply } from "./_util.ts";
import { checkTracking } from "../cache/tracking_check.ts";

/** The parts of a node-redis client the tracker uses. */
interface NodeRedisClient {
  duplicate(overrides: object): NodeRedisClient;
  sendCommand(args: string[], options?: object): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off?(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly isReady: boolean;
  close?(): Promise<void>;
  quit?(): Promise<unknown>;
  readonly options?: { clientSideCache?: unknown };
}

/**
 * Whether this node-redis client can carry the store's tracked connection (node-redis 5 or 6: the
 * versions with RESP3 push handling). node-redis 4 has no `clientSideCache` accessor.
 * @param client A node-redis `createClient()` client.
 * @returns Whether it is recent enough.
 */
export function nodeRedisCanTrack(client: object): boolean {
  return typeof (client as Partial<NodeRedisClient>).duplicate === "function" && "clientSideCache" in client;
}

/**
 * The tracker of a node-redis standalone client.
 * @param client The app's node-redis client (left as it is: the store duplicates it).
 * @param timeout Milliseconds the end-to-end check of tracking may take.
 * @param checkTag Picks the check key's hash tag, when the client is one node of a Redis Cluster.
 * @returns The tracker.
 */
export function nodeRedisTracker(client: object, timeout: number, checkTag?: CheckTag): Tracker {
  const main = client as NodeRedisClient;
  let stop = () => {/* not started */};
  return {
    detail: "Redis tracking, RESP3 invalidation pushes on a connection of the store's own (node-redis)",
    start(cache: LocalCache): RedisConnection {
      const tracked = main.duplicate({ RESP: 3, emitInvalidate: true, clientSideCache: undefined });
      let generation = 0;
      const lost = () => {
        generation++;
        cache.flush(false);
      };
      tracked.on("invalidate", (key) => cache.invalidate(key === null ? null : [String(key)]));
      for (const event of ["error", "end", "reconnecting"]) tracked.on(event, lost);
      tracked.on("ready", () => {
        lost();
        const confirming = generation;
        // Confirm the handshake turned tracking on (a node-redis without emitInvalidate ignores it).
        const send = (args: string[]) => tracked.sendCommand(args, FLAT_MAPS);
        send(["CLIENT", "TRACKINGINFO"]).then(async (reply) => {
          if (confirming !== generation) return;
          if (!trackingOn(reply)) {
            cache.detail =
              "off: this node-redis version does not turn tracking on; use node-redis 5.12 or later";
            return;
          }
          await checkTracking(send, cache, timeout, { tag: checkTag, master: checkTag !== undefined });
          if (confirming === generation && tracked.isReady) cache.flush(true);
        }).catch(() => {/* the connection's next event decides */});
      });
      stop = () => {
        main.off?.("end", stop); // a cluster node's client outlives many caches opened on it
        lost();
        // Gracefully: destroying it mid-handshake leaves node-redis with a rejection nobody handles.
        const closing = tracked.close ? tracked.close() : tracked.quit?.();
        closing?.catch(() => {/* closed anyway */});
      };
      // The app closing its client closes the store's connection too.
      main.on("end", stop);
      return nodeRedisConnection(tracked);
    },
    stop: () => stop(),
  };
}

/**
 * Whether a `CLIENT TRACKINGINFO` reply says tracking is on.
 * @param reply The reply, flat or as a map.
 * @param redirect The id invalidations must be redirected to, if any.
 * @returns True when its flags include `on`.
 */
export function trackingOn(reply: unknown, redirect?: string): boolean {
  const flat = normalizeReply(reply) as unknown[];
  const flags = flat[flat.indexOf("flags") + 1];
  const on = Array.isArray(flags) && flags.includes("on");
  return on && (redirect === undefined || String(flat[flat.indexOf("redirect") + 1]) === redirect);
}
