/**
 * Change tracking. A loaded session carries, hidden under a symbol, the string
 * of each field exactly as it was loaded; a commit serializes the session again
 * and sends only the fields whose strings differ.
 * @module
 */

import { COOKIE_FIELD, isReservedField } from "./fields.ts";
import type { Serializer, SessionRecord } from "../options/store_options.ts";

/** Where the snapshot hides on loaded data and on express-session's Session objects. */
export const SNAPSHOT: unique symbol = Symbol("connect-smart-redis snapshot");

/** The stored state of a session as this request knows it. */
export interface Snapshot {
  /** The session id it was loaded for; a snapshot never applies to another id. */
  readonly sid: string;
  /**
   * The store that took it; a snapshot never applies to another store (copying sessions
   * between stores writes them whole).
   */
  readonly owner: object;
  /** Field name → serialized value, as loaded or as last written. */
  readonly fields: Map<string, string>;
  /**
   * Option `encrypt`: field name → the value as stored where it differs from `fields`
   * (encrypted), which is what a compare-and-set compares with.
   */
  stored?: Map<string, string>;
  /** The sliding expiry stored with the session (its `\0ttl` field), "" for none. */
  sliding: string;
  /** When the stored session expires (ms since the epoch), `undefined` for never. */
  expires: number | undefined;
  /** The load already renewed the expiry exactly (`renewAfter: 0`), so a touch need not. */
  renewed: boolean;
  /**
   * When (ms since the epoch, taken before sending) a command last found the session
   * live. A destroy after that leaves a tombstone until at least `liveAt + deleteExpiry`.
   */
  liveAt: number;
  /** Loaded from a plain string value (connect-redis's format): that string, until it is converted. */
  legacy?: string;
  /** Lock mode: the token of the lock this request holds, until it commits, touches or releases. */
  lockToken?: string;
  /** Lock mode: loaded without the lock after waiting `lock.timeout`; writes are refused. */
  readOnly?: boolean;
  /** A commit found the session destroyed (or gone for good) and wrote nothing. */
  ended?: boolean;
  /** Sessions per user: the user the stored session belongs to (its `\0user`). */
  user?: string;
  /** Sessions per user: until when (ms since the epoch) the user's index keeps it (its `\0uexp`). */
  userDeadline?: number;
}

/**
 * How a field changes in a commit:
 * `u` update and `r` remove (both checked against `base`), `a` add (the field must be absent),
 * `w` write without a check (the cookie).
 */
export type FieldChange =
  | { kind: "u"; field: string; base: string; value: string }
  | { kind: "a"; field: string; value: string }
  | { kind: "r"; field: string; base: string }
  | { kind: "w"; field: string; value: string };

/** Reads the snapshot hidden on a session object, if it has one for `sid` taken by `owner`. */
export function snapshotOf(session: object, sid: string, owner: object): Snapshot | undefined {
  const snapshot = (session as { [SNAPSHOT]?: Snapshot })[SNAPSHOT];
  return snapshot?.sid === sid && snapshot.owner === owner ? snapshot : undefined;
}

/** Hides a snapshot on a session object (non-enumerable: JSON and express-session's hash ignore it). */
export function attachSnapshot(session: object, snapshot: Snapshot): void {
  Object.defineProperty(session, SNAPSHOT, { value: snapshot, configurable: true, writable: true });
}

/**
 * Serializes each top-level property of a session.
 * @param sid The session id, for error messages.
 * @param session The session.
 * @param serializer Turns one property into a string.
 * @param stored What to store of a property's value, when not the value itself.
 * @returns Field name → serialized value; properties serializing to `undefined` are left out.
 */
export function serializeFields(
  sid: string,
  session: SessionRecord,
  serializer: Serializer,
  stored: (name: string, value: unknown) => unknown = (_, value) => value,
): Map<string, string> {
  const fields = new Map<string, string>();
  for (const name of Object.keys(session)) {
    if (isReservedField(name)) {
      throw new TypeError(
        `Session "${sid}" has a property named ${
          JSON.stringify(name)
        }: names starting with a NUL character ` +
          "are reserved for the store's own metadata; rename the property",
      );
    }
    let text: string | undefined;
    try {
      text = serializer.stringify(stored(name, session[name]));
    } catch (error) {
      throw new TypeError(
        `Session "${sid}" property "${name}" cannot be serialized (${(error as Error)?.message ?? error}); ` +
          "store only data the serializer accepts (no circular references or BigInt with JSON)",
        { cause: error },
      );
    }
    if (text === undefined) continue;
    if (typeof text !== "string") {
      throw new TypeError(`The serializer must return a string for session "${sid}" property "${name}"`);
    }
    fields.set(name, text);
  }
  return fields;
}

/**
 * The changes that turn the snapshot's fields into `next`.
 * @param before The fields as loaded or last written.
 * @param next The fields as they are now.
 * @returns One change per field that differs; the cookie is written without a check.
 */
export function diffFields(
  before: ReadonlyMap<string, string>,
  next: ReadonlyMap<string, string>,
): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const [field, value] of next) {
    const base = before.get(field);
    if (base === value) continue;
    if (field === COOKIE_FIELD) changes.push({ kind: "w", field, value });
    else if (base === undefined) changes.push({ kind: "a", field, value });
    else changes.push({ kind: "u", field, base, value });
  }
  for (const [field, base] of before) {
    if (!next.has(field)) changes.push({ kind: "r", field, base });
  }
  return changes;
}
