/**
 * What a commit or touch decides before it writes: whether a request that changed
 * no data must still write, and whether the write ends the session.
 * @module
 */

import type { EngineContext } from "../engine_context.ts";
import { type Expiry, renewalDue } from "../expiry.ts";
import { COOKIE_FIELD } from "../fields.ts";
import type { SessionRecord } from "../../options/store_options.ts";
import { sameSpan } from "../session_codec.ts";
import type { Snapshot } from "../snapshot.ts";
import { slidingArg } from "./write_expiry.ts";

/** Whether a request that changed no data must still write: cookie settings, maxAge, or a due renewal. */
export function touchDue(
  ctx: EngineContext,
  snapshot: Snapshot,
  expiry: Expiry,
  now: number,
  cookie: string | undefined,
): boolean {
  if (!ctx.codec.sameCookie(cookie, snapshot.fields.get(COOKIE_FIELD))) return true;
  if (ctx.options.disableTouch) return false;
  if (!sameSpan(slidingArg(expiry), snapshot.sliding)) return true;
  if (snapshot.renewed) return false;
  return renewalDue(expiry, snapshot.expires, now, ctx.options.renewAfter);
}

/**
 * Whether this write ends the session: its expiry has passed, and by this request's
 * own doing (a whole write, a cookie changed to end it such as `maxAge = 0`, or a `ttl`
 * function saying 0). Such an end leaves a tombstone, as `destroy` does, so that a
 * request still in flight cannot bring the session back. (One whose cookie merely ran
 * out meanwhile goes through the scripts, which keep a longer expiry another request
 * gave it.) Under `disableTTL` too: the key has no expiry then, so only this ends it.
 */
export function endsHere(
  ctx: EngineContext,
  id: string,
  record: SessionRecord,
  snapshot: Snapshot | undefined,
  expiry: Expiry,
  now: number,
): boolean {
  if (expiry.at === undefined || expiry.at > now || snapshot?.readOnly) return false;
  const { options, codec } = ctx;
  if (!snapshot || (typeof options.ttl === "function" && !options.disableTTL)) return true;
  return !codec.sameCookie(codec.cookieText(id, record), snapshot.fields.get(COOKIE_FIELD));
}
