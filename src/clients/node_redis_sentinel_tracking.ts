/**
 * Local-cache tracking for node-redis 6 `createSentinel()` clients: a duplicate
 * of the app's Sentinel client, with one master connection and no replicas,
 * speaking RESP3 with a `clientSideCache` of node-redis's own. That cache is
 * there for its side effects only: node-redis then turns `CLIENT TRACKING ON` on
 * in the handshake of every master connection it opens (after a reconnect, after
 * a failover) and emits every invalidation push on it; the store's reads use
 * `sendCommand`, which that cache never holds.
 *
 * Every error of the master connection (passed through as an `error` event),
 * every master change and every state change of the Sentinel client flushes the cache; tracking is then confirmed
 * again (ROLE says master, TRACKINGINFO says on, an invalidation arrives end to
 * end) before the cache serves reads. node-redis moves to a new master when the
 * sentinels announce it, even while the old one is still up (a partition), and
 * the old master's demotion kills its connections; a tracked read a replica
 * answers also flushes.
 * @module
 */

import type { LocalCache } from "../cache/local_cache.ts";
import type { Tracker } from "../cache/tracker.ts";
import { checkTracking } from "../cache/tracking_check.ts";
import type { RedisConnection } from "./connection.ts";
import { FLAT_MAPS } from "./node_redis.ts";
import { nodeRedisSentinelConnection } from "./node_redis_sentinel.ts";
import { trackingOn } from "./node_redis_tracking.ts";
import { rearmDelay } from "./redirect_tracking.ts";
import { unrefTimer } from "./_util.ts";

/** The parts of a node-redis 6 Sentinel client the tracker uses. */
interface NodeRedisSentinel {
  duplicate(overrides: object): NodeRedisSentinel;
  sendCommand(isReadonly: boolean, args: string[], options?: object): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  close?(): Promise<unknown>;
  destroy?(): Promise<unknown>;
  readonly isOpen: boolean;
  readonly clientSideCache?: { on(event: string, listener: (key: unknown) => void): unknown };
}

/**
 * Whether this Sentinel client can be duplicated with other options (node-redis 6;
 * node-redis 5's `createSentinel()` has no `duplicate()`).
 * @param client A node-redis Sentinel client.
 * @returns True when it can.
 */
export function nodeRedisSentinelCanTrack(client: object): boolean {
  return typeof (client as Partial<NodeRedisSentinel>).duplicate === "function";
}

/**
 * The tracker of a node-redis 6 Sentinel client.
 * @param client The app's Sentinel client (left as it is: the store duplicates it).
 * @param timeout Milliseconds the end-to-end check of tracking may take.
 * @returns The tracker.
 */
export function nodeRedisSentinelTracker(client: object, timeout: number): Tracker {
  const main = client as NodeRedisSentinel;
  return {
    detail: "Redis tracking, RESP3 invalidation pushes on a master connection of the store's own " +
      "(node-redis Sentinel)",
    start(cache: LocalCache): RedisConnection {
      const tracked = main.duplicate({
        RESP: 3,
        clientSideCache: { maxEntries: 1 },
        masterPoolSize: 1,
        replicaPoolSize: 0,
        reserveClient: false,
        // The master connection's errors (a CLIENT KILL, a dropped socket) come out as "error" events:
        // node-redis 6 does not forward "client-error", and reconnects that connection silently.
        passthroughClientErrorEvents: true,
      });
      let generation = 0;
      let closed = false;
      let failures = 0;
      const send = (args: string[]) => tracked.sendCommand(false, args, FLAT_MAPS);
      const confirm = async (mine: number) => {
        const info = await send(["CLIENT", "TRACKINGINFO"]);
        if (mine !== generation) return;
        if (!trackingOn(info)) throw new Error("Tracking is not on");
        await checkTracking(send, cache, timeout, { master: true });
        if (mine === generation) cache.flush(true);
      };
      // No event says the master connection is back after a reconnect of its own: confirm at
      // once (the commands wait for it), and again, backing off, while that fails.
      const lost = () => {
        const mine = ++generation;
        cache.flush(false);
        if (closed) return;
        failures = 0;
        const later = () => unrefTimer(setTimeout(attempt, rearmDelay(++failures, timeout)));
        const attempt = () => {
          if (mine !== generation || closed) return;
          if (!tracked.isOpen) return later();
          confirm(mine).catch(later);
        };
        attempt();
      };
      tracked.clientSideCache?.on(
        "invalidate",
        (key) => cache.invalidate(key === null ? null : [String(key)]),
      );
      tracked.on("topology-change", (event) => {
        if ((event as { type?: string })?.type === "MASTER_CHANGE") lost();
      });
      for (const event of ["error", "ready", "reconnecting", "end"]) tracked.on(event, lost);
      // The app closing its client closes the store's connection too.
      main.on("end", () => {
        closed = true;
        lost();
        if (tracked.isOpen) (tracked.close?.() ?? tracked.destroy?.())?.catch(() => {/* closed anyway */});
      });
      return nodeRedisSentinelConnection(tracked, lost);
    },
  };
}
