/**
 * Names of the hash fields a session is stored in. User properties are fields
 * under their own names; metadata lives in fields starting with a NUL
 * character, a name no real session property has:
 * - `\0ttl`: the sliding expiry in ms ("" for none), in every session hash the store writes;
 * - `\0exp`: when the session expires, in ms since the epoch by the app's clock ("" for never),
 *   so that a plain `HGETALL` alone tells whether a session is live and when it expires;
 * - `\0dead`: a tombstone (the session was destroyed);
 * - `\0lock`: lock mode, `deadline:token`.
 * The Lua scripts spell these names out themselves.
 * @module
 */

/** The sliding expiry in ms. */
export const SLIDING_FIELD = "\0ttl";
/** The absolute expiry in ms since the epoch. */
export const EXPIRES_FIELD = "\0exp";
/** A tombstone. */
export const DEAD_FIELD = "\0dead";
/** The field express-session keeps its cookie in; it never conflicts. */
export const COOKIE_FIELD = "cookie";

/** Whether a hash field name is ours rather than a session property. */
export function isReservedField(name: string): boolean {
  return name.charCodeAt(0) === 0;
}
