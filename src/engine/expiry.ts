/**
 * How long a session lives, in milliseconds, worked out from its cookie the way
 * express-session's cookie works: `expires` when it is a valid date, else the
 * `ttl` option (a `ttl` function decides first, as in connect-redis); and when a
 * request has to renew it.
 * @module
 */

import { MAX_MILLISECONDS } from "../options/options.ts";
import type { SessionRecord } from "../options/store_options.ts";

/** The expiry of one write. */
export interface Expiry {
  /** Milliseconds the Redis key should live: `-1` for no expiry, `0` when already expired (delete). */
  pttl: number;
  /** When the session expires, in ms since the epoch; `undefined` for never. */
  at: number | undefined;
  /**
   * Milliseconds a renewal extends the session by (its maxAge or ttl), or `undefined` for a
   * fixed expiry. Recorded even under `disableTouch` (where only writes renew), so that a
   * commit can tell another request changed it.
   */
  sliding: number | undefined;
}

/** What the expiry depends on besides the session itself. */
export interface ExpiryPolicy {
  ttl: number | ((session: SessionRecord) => number);
  disableTTL: boolean;
  disableTouch: boolean;
}

/**
 * Works out the expiry of a session written at `now`.
 * @param session The session, with its `cookie` if it has one.
 * @param policy The store's ttl settings.
 * @param now The current time in ms since the epoch.
 * @returns The key's lifetime, the session's end and its sliding renewal.
 */
export function expiryOf(session: SessionRecord, policy: ExpiryPolicy, now: number): Expiry {
  const cookie = session.cookie as { expires?: unknown; originalMaxAge?: unknown } | undefined;
  // A ttl function decides over the cookie, as in connect-redis; under disableTTL, where Redis
  // keeps no expiry, only the cookie can end the session.
  const decidedByTtl = typeof policy.ttl === "function" && !policy.disableTTL;
  const expires = decidedByTtl ? undefined : cookieExpiry(cookie);
  if (expires !== undefined) {
    const maxAge = cookie?.originalMaxAge;
    const slides = typeof maxAge === "number" && maxAge > 0 && Number.isFinite(maxAge);
    const pttl = milliseconds(expires - now);
    return {
      pttl: policy.disableTTL ? -1 : pttl,
      at: now + pttl,
      sliding: slides ? milliseconds(maxAge) : undefined,
    };
  }
  // Without a Redis expiry, only a cookie's own expiry ends a session.
  if (policy.disableTTL) return { pttl: -1, at: undefined, sliding: undefined };
  const ttl = ttlMilliseconds(session, policy.ttl);
  return {
    pttl: ttl,
    at: ttl < 0 ? undefined : now + ttl,
    sliding: ttl <= 0 ? undefined : ttl,
  };
}

/**
 * Whether a request must renew a session, or the stored expiry is close enough to
 * what a renewal would give: within `renewAfter` of the sliding expiry.
 * @param expiry What a renewal now would write.
 * @param stored When the stored session expires (`undefined`: never).
 * @param now The current time in ms since the epoch.
 * @param renewAfter The fraction of the sliding expiry a session may lose before it is renewed.
 * @returns True when the renewal is due.
 */
export function renewalDue(
  expiry: Expiry,
  stored: number | undefined,
  now: number,
  renewAfter: number,
): boolean {
  if (expiry.at === undefined || stored === undefined) return expiry.at !== stored;
  const span = expiry.sliding ?? Math.max(0, expiry.at - now);
  return expiry.at - stored > renewAfter * span;
}

/** A whole, non-negative number of milliseconds PEXPIRE accepts. */
function milliseconds(value: number): number {
  return Math.min(MAX_MILLISECONDS, Math.max(0, Math.ceil(value)));
}

/**
 * The time a cookie expires at, or `undefined` when it has no valid `expires`.
 * @param cookie A cookie object (express-session's `Cookie`, or its JSON).
 * @returns Milliseconds since the epoch.
 */
export function cookieExpiry(cookie: { expires?: unknown } | undefined | null): number | undefined {
  const expires = cookie?.expires;
  if (expires === null || expires === undefined || expires === false) return undefined;
  let time: number;
  if (expires instanceof Date) time = expires.getTime();
  else if (expires === lastParsed.text) time = lastParsed.time;
  else {
    time = new Date(expires as string).getTime();
    // A write reads the same cookie twice (its expiry, then what to store of it): parse it once.
    if (typeof expires === "string") {
      lastParsed.text = expires;
      lastParsed.time = time;
    }
  }
  return Number.isFinite(time) ? time : undefined;
}

/** The last date string {@linkcode cookieExpiry} parsed, and its time. */
const lastParsed: { text: string | undefined; time: number } = { text: undefined, time: NaN };

function ttlMilliseconds(session: SessionRecord, ttl: ExpiryPolicy["ttl"]): number {
  const seconds = typeof ttl === "function" ? ttl(session) : ttl;
  if (typeof seconds !== "number" || Number.isNaN(seconds)) {
    throw new TypeError(`Option "ttl" must give a number of seconds, got ${String(seconds)}`);
  }
  if (seconds === Infinity) return -1;
  return milliseconds(seconds * 1000);
}
