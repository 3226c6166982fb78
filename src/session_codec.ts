/**
 * Turns session properties into hash field strings and back, with the
 * serializer the store was given and errors that name the session and field.
 * @module
 */

import { SessionDataError } from "./errors.ts";
import { cookieExpiry } from "./expiry.ts";
import { COOKIE_FIELD } from "./fields.ts";
import type { Serializer, SessionRecord } from "./options.ts";
import { serializeFields } from "./snapshot.ts";

/** Parses and serializes one store's sessions. */
export class SessionCodec {
  #serializer: Serializer;

  /** @param serializer The store's serializer. */
  constructor(serializer: Serializer) {
    this.#serializer = serializer;
  }

  /**
   * Serializes each property of a session. The cookie is stored without its
   * `expires` when it has a `maxAge`: the session's `\0exp` field holds that, so
   * the cookie's field changes only when its settings do (commits do not rewrite
   * it, and a small session stays within Redis's compact hash encoding).
   * @returns Field name → serialized value.
   */
  serialize(sid: string, record: SessionRecord): Map<string, string> {
    return serializeFields(sid, record, this.#serializer, storedValue);
  }

  /** The cookie's field as {@linkcode serialize} would write it, or `undefined` without a cookie. */
  cookieText(sid: string, record: SessionRecord): string | undefined {
    if (record.cookie === undefined) return undefined;
    return serializeFields(sid, { cookie: record.cookie }, this.#serializer, storedValue).get(COOKIE_FIELD);
  }

  /** Parses one stored field; a `SessionDataError` (ENOENT) when the serializer rejects it. */
  parseField(sid: string, field: string, text: string): unknown {
    try {
      return this.#serializer.parse(text);
    } catch (error) {
      throw new SessionDataError(
        `Session "${sid}" field "${field}" cannot be parsed by the serializer (${
          (error as Error)?.message
        }); it was left in Redis as it is`,
        { cause: error },
      );
    }
  }

  /** Parses a session stored whole as one string (connect-redis's format). */
  parseWhole(sid: string, text: string): SessionRecord {
    let value: unknown;
    try {
      value = this.#serializer.parse(text);
    } catch (error) {
      throw new SessionDataError(
        `Session "${sid}" is stored as a string the serializer cannot parse (${
          (error as Error)?.message
        }); it was left in Redis as it is`,
        { cause: error },
      );
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new SessionDataError(`Session "${sid}" is stored as a string that is not an object`);
    }
    return value as SessionRecord;
  }
}

/** What to store of a property: the cookie without `expires` when `\0exp` can give it back. */
function storedValue(name: string, value: unknown): unknown {
  const cookie = value as { expires?: unknown; originalMaxAge?: unknown; toJSON?: () => object } | null;
  if (
    name !== COOKIE_FIELD || typeof cookie !== "object" || cookie === null ||
    typeof cookie.originalMaxAge !== "number" || cookieExpiry(cookie) === undefined
  ) return value;
  const { expires: _, ...settings } = (typeof cookie.toJSON === "function" ? cookie.toJSON() : cookie) as {
    expires?: unknown;
  };
  return settings;
}

/**
 * Sets a property as own data, even `__proto__` (which assignment would turn into the
 * prototype) or `toString` (which assignment cannot shadow under frozen intrinsics).
 */
export function define(target: SessionRecord, name: string, value: unknown): void {
  if (name in Object.prototype) {
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[name] = value;
  }
}
