/**
 * Turns session properties into hash field strings and back, with the
 * serializer the store was given and errors that name the session and field.
 * @module
 */

import { SessionDataError } from "../errors.ts";
import { cookieExpiry } from "./expiry.ts";
import { COOKIE_FIELD } from "./fields.ts";
import type { Serializer, SessionRecord } from "../options/store_options.ts";
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

  /**
   * Whether two stored cookies hold the same settings. express-session derives a cookie's
   * `originalMaxAge` from the clock again each time it resets the cookie's expiry (at the
   * end of every request), so it comes out a millisecond short now and then: a drift of a
   * few ms is no change (else it would cost a write, and accumulate).
   * @param a A cookie field as stored, or `undefined`.
   * @param b Another.
   * @returns Whether they are the same but for such a drift.
   */
  sameCookie(a: string | undefined, b: string | undefined): boolean {
    if (a === b) return true;
    if (a === undefined || b === undefined) return false;
    let x: { originalMaxAge?: unknown }, y: { originalMaxAge?: unknown };
    try {
      [x, y] = [this.#serializer.parse(a), this.#serializer.parse(b)] as { originalMaxAge?: unknown }[];
    } catch {
      return false;
    }
    if (typeof x !== "object" || x === null || typeof y !== "object" || y === null) return false;
    if (!sameSpan(x.originalMaxAge, y.originalMaxAge)) return false;
    return this.#serializer.stringify({ ...x, originalMaxAge: y.originalMaxAge }) === b;
  }

  /** Parses one stored field; a `SessionDataError` (ENOENT) when the serializer rejects it. */
  parseField(sid: string, field: string, text: string): unknown {
    try {
      return this.#serializer.parse(text);
    } catch (error) {
      if (text.charCodeAt(0) === 1) {
        throw new SessionDataError(
          `Session "${sid}" field "${field}" is encrypted; give the option "encrypt" with its key to read it`,
          { cause: error },
        );
      }
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

/** How far (ms) express-session's `originalMaxAge` may drift from the maxAge set. */
const MAX_DRIFT = 5;

/**
 * Whether two spans of time (ms, as numbers or the strings stored in `\0ttl`) are the
 * same but for express-session's drift (see {@linkcode SessionCodec.sameCookie}).
 * @returns True for equal values, or two numbers at most a few ms apart.
 */
export function sameSpan(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === "" || b === "" || a === null || b === null) return false;
  const [x, y] = [Number(a), Number(b)];
  return Number.isFinite(x) && Number.isFinite(y) && Math.abs(x - y) <= MAX_DRIFT;
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
