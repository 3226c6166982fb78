/**
 * Names of the hash fields a session is stored in. User properties are fields
 * under their own names; metadata lives in fields starting with a NUL
 * character, a name no real session property has: `\0ttl` (the sliding expiry
 * in ms, in every session hash the store writes), `\0dead` (a tombstone: the
 * session was destroyed) and `\0lock` (lock mode: `deadline:token`). The Lua
 * scripts spell these names out themselves.
 * @module
 */

/** The sliding expiry in ms that the load script renews. */
export const SLIDING_FIELD = "\0ttl";
/** The field express-session keeps its cookie in; it never conflicts. */
export const COOKIE_FIELD = "cookie";

/** Whether a hash field name is ours rather than a session property. */
export function isReservedField(name: string): boolean {
  return name.charCodeAt(0) === 0;
}
