/**
 * The `expired` event: sessions that Redis ended by their expiry, heard from
 * Redis keyspace notifications on subscriptions of the store's own. It runs
 * only while someone listens for `expired`. The store never changes the
 * server's `notify-keyspace-events`: it reads it and, when expired-key events
 * are off (or it may not read it), says what to set with a process warning.
 *
 * A destroyed session's key holds its tombstone for `deleteExpiry` ms, and the
 * tombstone's end is an expiry too, indistinguishable once the key is gone.
 * The store skips the ends of the tombstones it wrote itself; a tombstone
 * another process wrote is reported (see docs/events_and_metrics.md).
 * @module
 */

import process from "node:process";
import {
  clientKeyPrefix,
  type ExpiredSubscriptions,
  expiredUnsupported,
  subscribeExpired,
} from "../clients/expired_subscriptions.ts";
import { isIndexKey } from "../users/user_fields.ts";

/** The warning's code, for `process.on("warning")` filters. */
export const EXPIRED_WARNING_CODE = "SMART_REDIS_EXPIRED_EVENTS";

/**
 * How long after its tombstone's expiry a destroyed session is still remembered: Redis
 * expires keys lazily or in sampling rounds, so the notification may come late.
 */
const TOMBSTONE_GRACE_MS = 60_000;

/** A running watch of expiries. */
export interface ExpiryWatch {
  /** This store destroyed `sid`: the end of its tombstone is not a session's expiry. */
  destroyed(sid: string): void;
  /** The masters subscribed to (`host:port`). */
  readonly addresses: readonly string[];
  /** Ends the subscriptions. */
  stop(): void;
}

/** What {@linkcode watchExpiry} needs of the store. */
export interface ExpirySettings {
  /** The session key prefix. */
  prefix: string;
  /** How long tombstones live, in ms (0: none). */
  deleteExpiry: number;
}

/**
 * Subscribes to expired-key notifications and reports the store's own sessions.
 * @param client The client the app passed.
 * @param closed Whether the app has closed its client.
 * @param settings The store's prefix and tombstone life.
 * @param report Called with the id of each session that expired.
 * @returns The watch.
 */
export function watchExpiry(
  client: unknown,
  closed: () => boolean,
  settings: ExpirySettings,
  report: (sid: string) => void,
): ExpiryWatch {
  const unsupported = typeof client === "object" && client !== null
    ? expiredUnsupported(client)
    : "no client";
  if (unsupported !== undefined) {
    throw new TypeError(
      `The "expired" event needs Redis keyspace notifications, which the store cannot subscribe to with ${unsupported}; ` +
        'pass a node-redis or ioredis client, or do not listen for "expired"',
    );
  }
  const { prefix, deleteExpiry } = settings;
  const keyPrefix = clientKeyPrefix(client as object);
  const full = keyPrefix + prefix;
  /** Sessions this store destroyed, until when their tombstone's end is expected (insertion order). */
  const tombstones = new Map<string, number>();
  /** The warning last given per master: a subscription made anew (a reconnect) does not repeat it. */
  const warned = new Map<string, string>();
  const subscriptions: ExpiredSubscriptions = subscribeExpired(client as object, {
    expired(key) {
      if (!key.startsWith(full) || key.length === full.length) return;
      const own = key.slice(keyPrefix.length);
      if (isIndexKey(prefix, own)) return;
      const sid = own.slice(prefix.length);
      if (tombstones.delete(sid)) return;
      report(sid);
    },
    setting(address, flags) {
      const warning = settingWarning(address, flags);
      if (warning === undefined) return void warned.delete(address);
      if (warned.get(address) === warning) return;
      warned.set(address, warning);
      process.emitWarning(warning, { code: EXPIRED_WARNING_CODE, type: "SmartRedisWarning" });
    },
  }, closed);
  return {
    destroyed(sid) {
      if (deleteExpiry === 0) return; // deleted, no tombstone: no expiry to come
      const now = Date.now();
      for (const [old, until] of tombstones) {
        if (until > now) break;
        tombstones.delete(old);
      }
      tombstones.delete(sid);
      tombstones.set(sid, now + deleteExpiry + TOMBSTONE_GRACE_MS);
    },
    get addresses() {
      return subscriptions.addresses;
    },
    stop() {
      subscriptions.close();
      tombstones.clear();
    },
  };
}

/**
 * What to tell the app about a master's `notify-keyspace-events`.
 * @param address The master.
 * @param flags Its setting, or why it could not be read.
 * @returns The warning, or `undefined` when expired-key events are on.
 */
export function settingWarning(address: string, flags: string | Error): string | undefined {
  if (flags instanceof Error) {
    return `Session "expired" events: could not read notify-keyspace-events on ${address} (${flags.message}). ` +
      'The store is subscribed, but Redis sends expired-key events only when that setting includes "E" and "x": ' +
      "check it with your provider or administrator (e.g. notify-keyspace-events Ex).";
  }
  const missing = missingFlags(flags);
  if (missing === "") return undefined;
  const wanted = flags + missing;
  return `Session "expired" events are off on ${address}: notify-keyspace-events is "${flags}", ` +
    `which lacks "${missing}". Run CONFIG SET notify-keyspace-events ${wanted} (or set ` +
    `"notify-keyspace-events ${wanted}" in redis.conf, or your provider's parameter group) on every master; ` +
    "the store does not change server settings itself.";
}

/**
 * The flags expired-key events need that a `notify-keyspace-events` value lacks.
 * @param flags The setting.
 * @returns `""`, or the missing letters among `E` (key-event channel) and `x` (expired; in `A`).
 */
export function missingFlags(flags: string): string {
  let missing = "";
  if (!flags.includes("E")) missing += "E";
  if (!flags.includes("x") && !flags.includes("A")) missing += "x";
  return missing;
}
