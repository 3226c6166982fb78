/**
 * The argument checks of the write methods (commit, touch): `TypeError`s that
 * say what was passed instead.
 * @module
 */

import type { SessionRecord } from "../../options/store_options.ts";

/** A session id as the write methods take it: a non-empty string. */
export function checkSid(sid: unknown): string {
  if (typeof sid !== "string" || sid === "") {
    throw new TypeError(
      `A session id must be a non-empty string, got ${typeof sid === "string" ? '""' : typeof sid}`,
    );
  }
  return sid;
}

/** A session as the write methods take it: an object. */
export function checkSession(sid: string, session: unknown): SessionRecord {
  if (typeof session !== "object" || session === null || Array.isArray(session)) {
    throw new TypeError(
      `Session "${sid}" must be an object, got ${session === null ? "null" : typeof session}`,
    );
  }
  return session as SessionRecord;
}
