/**
 * Local-cache tracking for node-redis 4 standalone clients, which have no RESP3:
 * a REDIRECT pair (see {@linkcode RedirectArming}) of two duplicates of the app's
 * client. node-redis 4 resubscribes a reconnected subscriber in its handshake,
 * and a subscribed RESP2 connection may not send `CLIENT ID`: so at each ready
 * the subscriber first leaves the channel, asks its id, and subscribes again
 * (the data connection redirects to it only after that).
 * @module
 */

import type { LocalCache } from "../cache/local_cache.ts";
import type { Tracker } from "../cache/tracker.ts";
import type { RedisConnection } from "./connection.ts";
import { nodeRedisConnection } from "./node_redis.ts";
import { INVALIDATE_CHANNEL, RedirectArming } from "./redirect_tracking.ts";

/** The parts of a node-redis 4 client the tracker uses. */
interface NodeRedis4Client {
  duplicate(overrides: object): NodeRedis4Client;
  sendCommand(args: string[]): Promise<unknown>;
  subscribe(channel: string, listener: (message: unknown) => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  connect(): Promise<unknown>;
  disconnect(): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly isReady: boolean;
  readonly isOpen: boolean;
  readonly isPubSubActive: boolean;
}

/**
 * The tracker of a node-redis 4 client.
 * @param client The app's node-redis 4 client (left as it is: the store duplicates it).
 * @param timeout Milliseconds the end-to-end check of tracking may take.
 * @returns The tracker.
 */
export function nodeRedis4Tracker(client: object, timeout: number): Tracker {
  const main = client as NodeRedis4Client;
  return {
    detail:
      "Redis tracking, invalidations redirected to a subscribed connection of the store's own (node-redis 4)",
    start(cache: LocalCache): RedisConnection {
      // Without legacyMode: the Promise API (a connect-redis 6 era app may have set it).
      const data = main.duplicate({ legacyMode: false });
      const sub = main.duplicate({ legacyMode: false });
      const arming = new RedirectArming(cache, {
        send: (args) => data.sendCommand(args),
        live: () => data.isReady && sub.isReady,
        masterOnly: false,
        keyPrefix: "",
      }, timeout);
      const arm = () => arming.arm();
      // node-redis 4 hands invalidations over as an array of keys, or null (FLUSHALL).
      const listener = (message: unknown) => arming.message(message);

      sub.on("ready", () => {
        arming.subscribed((async () => {
          if (sub.isPubSubActive) await sub.unsubscribe(INVALIDATE_CHANNEL);
          const id = String(await sub.sendCommand(["CLIENT", "ID"]));
          await sub.subscribe(INVALIDATE_CHANNEL, listener);
          return id;
        })());
      });
      for (const event of ["error", "end", "reconnecting"]) {
        sub.on(event, () => arming.subscribed(undefined));
        data.on(event, arm);
      }
      data.on("ready", arm);
      sub.connect().catch(() => {/* node-redis retries by itself */});
      // The app closing its client closes the store's connections too.
      main.on("end", () => {
        arming.close();
        for (const connection of [data, sub]) {
          if (connection.isOpen) connection.disconnect().catch(() => {/* closed anyway */});
        }
      });
      return nodeRedisConnection(data);
    },
  };
}
