/**
 * Names of the hash fields a session is stored in. User properties are fields
 * under their own names; metadata lives in fields starting with a NUL
 * character, a name no real session property has.
 * @module
 */

/** Marks a destroyed session; its presence makes every write a no-op. */
export const TOMBSTONE_FIELD = "\0dead";
/** The sliding expiry in ms that the load script renews. */
export const SLIDING_FIELD = "\0ttl";
/** Lock mode: `deadline:token` of the request that owns the session. */
export const LOCK_FIELD = "\0lock";
/** The field express-session keeps its cookie in; it never conflicts. */
export const COOKIE_FIELD = "cookie";

/** Whether a hash field name is ours rather than a session property. */
export function isReservedField(name: string): boolean {
  return name.charCodeAt(0) === 0;
}
