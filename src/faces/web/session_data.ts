/**
 * Between the app's session object and the record the engine stores: copying
 * the data in and out, the stored cookie that holds the session's life, and
 * whether the data differ from what Redis holds.
 * @module
 */

import type { Serializer, SessionRecord } from "../../options/store_options.ts";
import { serializeFields, type Snapshot } from "../../engine/snapshot.ts";
import { COOKIE_FIELD } from "../../engine/fields.ts";

/** Removes every data property of the session. */
export function clearData(session: SessionRecord): void {
  for (const name of Object.keys(session)) delete session[name];
}

/** Replaces the session's data by a stored record's (its cookie aside). */
export function fillData(session: SessionRecord, record: SessionRecord): void {
  clearData(session);
  for (const name of Object.keys(record)) {
    if (name !== COOKIE_FIELD) define(session, name, record[name]);
  }
}

/** A copy of the session's data, as a record to store. */
export function copyData(session: SessionRecord): SessionRecord {
  const record: SessionRecord = {};
  for (const name of Object.keys(session)) define(record, name, session[name]);
  return record;
}

/** Sets an own data property, even one named like an `Object.prototype` member (`__proto__`). */
export function define(target: object, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Whether the data differ from the snapshot of what Redis holds (without one, for a
 * session never stored: whether there are any).
 */
export function dataChanged(
  sid: string,
  session: SessionRecord,
  serializer: Serializer,
  snapshot: Snapshot | undefined,
): boolean {
  const fields = serializeFields(sid, session, serializer);
  if (fields.has(COOKIE_FIELD)) {
    throw new TypeError('The session property "cookie" is reserved for the session\'s own settings');
  }
  if (!snapshot) return fields.size > 0;
  if (fields.size !== snapshot.fields.size - (snapshot.fields.has(COOKIE_FIELD) ? 1 : 0)) return true;
  for (const [name, text] of fields) if (snapshot.fields.get(name) !== text) return true;
  return false;
}

/**
 * The stored cookie holding the session's life: `originalMaxAge` (`null` for a browser-session
 * cookie), `expires`, and `issuedAt` when the face tracks it.
 */
export function lifeCookie(maxAge: number | null, issuedAt: number | undefined): Record<string, unknown> {
  if (maxAge === null) return { originalMaxAge: null };
  return issuedAt === undefined
    ? { originalMaxAge: maxAge, expires: new Date(Date.now() + maxAge) }
    : { originalMaxAge: maxAge, expires: new Date(Date.now() + maxAge), issuedAt };
}
