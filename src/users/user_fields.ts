/**
 * What a session hash records about its user, in reserved fields (names start
 * with NUL, like the store's other metadata): `\0user` the user ("" for none),
 * `\0uat` when the session was bound to that user (ms since the epoch) and
 * `\0uexp` until when the user's index keeps the session (ms since the epoch,
 * "-1" for as long as the session lives). The Lua scripts spell these names out
 * themselves. Index keys are `prefix + "\0user:" + user`: under the prefix, yet
 * never taken for a session by the bulk operations.
 * @module
 */

import { describe } from "../options/option_checks.ts";

/** The user a session belongs to ("" or absent: none). */
export const USER_FIELD = "\0user";
/** When the session was bound to its user. */
export const LOGIN_FIELD = "\0uat";
/** Until when the user's index keeps the session. */
export const INDEX_DEADLINE_FIELD = "\0uexp";
/** Between the prefix and the user in an index key. */
export const INDEX_INFIX = "\0user:";

/** What a loaded session hash said about its user. */
export interface StoredUser {
  /** The user the hash records, or `undefined` for none. */
  user: string | undefined;
  /** Until when (ms since the epoch) that user's index keeps the session; `Infinity`: always. */
  userDeadline: number | undefined;
}

/**
 * Whether a hash field is one of the user fields.
 * @param name The field name.
 * @returns `true` for `\0user`, `\0uat` and `\0uexp`.
 */
export function isUserField(name: string): boolean {
  return name === USER_FIELD || name === LOGIN_FIELD || name === INDEX_DEADLINE_FIELD;
}

/**
 * Takes the user fields out of a loaded session's fields.
 * @param fields Field name → value as loaded; the user fields are removed from it.
 * @returns What they said.
 */
export function takeUserFields(fields: Map<string, string>): StoredUser {
  const user = fields.get(USER_FIELD) || undefined;
  const deadline = fields.get(INDEX_DEADLINE_FIELD);
  fields.delete(USER_FIELD);
  fields.delete(LOGIN_FIELD);
  fields.delete(INDEX_DEADLINE_FIELD);
  return { user, userDeadline: deadline === undefined ? undefined : parseDeadline(deadline) };
}

/** A stored deadline: ms since the epoch, or "-1" for none. */
export function parseDeadline(text: string): number {
  const value = Number(text);
  return value < 0 ? Infinity : value;
}

/**
 * The Redis key of a user's index.
 * @param prefix The store's prefix.
 * @param user The user.
 * @returns The key.
 */
export function indexKey(prefix: string, user: string): string {
  return prefix + INDEX_INFIX + user;
}

/**
 * Whether a key under the prefix is a user index rather than a session.
 * @param prefix The store's prefix.
 * @param key A key that starts with the prefix.
 * @returns `true` for index keys.
 */
export function isIndexKey(prefix: string, key: string): boolean {
  return key.startsWith(INDEX_INFIX, prefix.length);
}

/** A UTF-16 surrogate without its other half: Redis clients store it as U+FFFD, another id. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Checks a user id: a non-empty, well-formed string, or a finite number (made a string).
 * @param value The value.
 * @param what Who gave it, for the error message.
 * @param optional Whether `undefined`, `null` and `""` mean "no user".
 * @returns The user id, or `undefined` for none.
 */
export function checkUser(value: unknown, what: string, optional = false): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "string" && value !== "") {
    if (!LONE_SURROGATE.test(value)) return value;
    throw new TypeError(
      `${what} ${
        JSON.stringify(value)
      }, which holds a lone UTF-16 surrogate: Redis would store it as another ` +
        "id (U+FFFD); give a well-formed string (check how the id is built or decoded)",
    );
  }
  if (optional && (value === undefined || value === null || value === "")) return undefined;
  throw new TypeError(
    `${what} ${describe(value)}: a user must be a non-empty string or a finite number`,
  );
}
