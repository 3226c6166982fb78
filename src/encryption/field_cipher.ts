/**
 * Encryption at rest of session properties (option `encrypt`). Each property's
 * stored value is encrypted on its own, for its session and property; metadata
 * fields stay plain (the scripts read them).
 *
 * A stored value that starts with U+0001 is encrypted: `\u00011` + key id + `:` +
 * base64 (the store's keys), or `\u0001a` + the adapter's text. Serialized JSON
 * never starts with a control character, so values written before encryption was
 * turned on are told apart without ambiguity, and still read (unless `encrypt.plain`
 * is "refuse").
 * @module
 */

import { SessionDataError } from "../errors.ts";
import { isReservedField } from "../engine/fields.ts";
import type { EncryptionAdapter, ResolvedEncryption } from "./encryption_options.ts";
import { KeyRing } from "./key_ring.ts";

/** What every encrypted value starts with. */
const MARK = "\u0001";
/** The format of a value encrypted by the store's keys, version 1. */
const KEYS_V1 = MARK + "1";
/** The format of a value encrypted by an adapter. */
const ADAPTER = MARK + "a";

/** Whether a stored value is encrypted (else it is plain, such as one written before `encrypt` was set). */
export function isSealed(stored: string): boolean {
  return stored.charCodeAt(0) === 1;
}

/** Encrypts and decrypts one store's property values. */
export class FieldCipher {
  #ring: KeyRing | undefined;
  #adapter: EncryptionAdapter | undefined;
  /** Whether writes encrypt (`encrypt.write`); reads always decrypt. */
  readonly writes: boolean;
  /** Whether reads refuse plain property values and connect-redis strings (`encrypt.plain: "refuse"`). */
  readonly refusesPlain: boolean;
  #memo = new Map<string, string>();
  #memoChars = 0;
  #remember: number;

  /** @param options The checked `encrypt` option. */
  constructor(options: ResolvedEncryption) {
    if (options.kind === "keys") this.#ring = new KeyRing(options.keys);
    else this.#adapter = options.adapter;
    this.writes = options.write;
    this.refusesPlain = options.plain === "refuse";
    this.#remember = options.remember;
  }

  /**
   * What to store for a property's serialized value: encrypted, or the value itself when
   * writes are plain (`encrypt.write: false`).
   * @param sid The session id.
   * @param field The property.
   * @param plain The serialized value.
   * @returns The stored form.
   */
  async seal(sid: string, field: string, plain: string): Promise<string> {
    if (isSealed(plain)) {
      throw new TypeError(
        `Session "${sid}" property "${field}" serializes to a string starting with U+0001, which marks ` +
          "encrypted values; use a serializer whose output never starts so (JSON never does)",
      );
    }
    if (!this.writes) return plain;
    const context = { sid, field };
    const stored = this.#ring
      ? KEYS_V1 + await this.#ring.encrypt(plain, context)
      : ADAPTER + checkedText(await this.#adapter!.encrypt(plain, context), "encrypt");
    this.#keep(sid, field, stored, plain);
    return stored;
  }

  /**
   * The serialized value of a stored property: decrypted, or as it is when stored plain.
   * Synchronous for plain values and for values decrypted before.
   * @returns The serialized value; a `SessionDataError` when it cannot be decrypted, or is
   *   plain while `encrypt.plain` is "refuse" (rejected, never thrown, like a failed decryption).
   */
  open(sid: string, field: string, stored: string): string | Promise<string> {
    if (!isSealed(stored)) {
      if (!this.refusesPlain || isReservedField(field)) return stored;
      return Promise.reject(refused(`Session "${sid}" property "${field}" is stored plain (not encrypted)`));
    }
    return this.#memo.get(memoKey(sid, field, stored)) ?? this.#decrypt(sid, field, stored);
  }

  /**
   * Checks that a session stored whole as a connect-redis string (plain JSON) may be read
   * and converted.
   * @throws A `SessionDataError` when `encrypt.plain` is "refuse".
   */
  admitString(sid: string): void {
    if (this.refusesPlain) {
      throw refused(`Session "${sid}" is stored as a connect-redis string (plain, not encrypted)`);
    }
  }

  /**
   * Whether `reencrypt()` should rewrite a stored value: plain while writes encrypt, under
   * another key than the first (or not current by the adapter), encrypted while writes are plain.
   */
  stale(stored: string): boolean {
    if (!isSealed(stored)) return this.writes;
    if (!this.writes) return true;
    if (this.#ring) {
      return !stored.startsWith(KEYS_V1) || this.#ring.keyOf(stored.slice(2)) !== this.#ring.current;
    }
    if (!stored.startsWith(ADAPTER)) return true;
    return this.#adapter!.isCurrent?.(stored.slice(2)) === false;
  }

  /**
   * Whether a stored value is plain while writes encrypt, or encrypted while they are plain:
   * such a value is moved by the next commit of its session. (One under an older key is
   * left to `reencrypt()`: during a rolling change of keys, servers with either key first
   * would otherwise rewrite each other's values at every commit.)
   */
  misplaced(stored: string): boolean {
    return isSealed(stored) !== this.writes;
  }

  async #decrypt(sid: string, field: string, stored: string): Promise<string> {
    const context = { sid, field };
    let plain: string;
    try {
      if (stored.startsWith(KEYS_V1) && this.#ring) {
        plain = await this.#ring.decrypt(stored.slice(2), context);
      } else if (stored.startsWith(ADAPTER) && this.#adapter) {
        plain = checkedText(await this.#adapter.decrypt(stored.slice(2), context), "decrypt");
      } else throw new Error("it is in a format these encrypt options cannot read");
    } catch (error) {
      throw new SessionDataError(
        `Session "${sid}" property "${field}" cannot be decrypted (${
          (error as Error)?.message || (error as Error)?.name || error
        }): it was altered, moved from another session or property, or encrypted with a key not given ` +
          'in the option "encrypt"; it was left in Redis as it is',
        { cause: error },
      );
    }
    this.#keep(sid, field, stored, plain);
    return plain;
  }

  /** Keeps a decrypted value, forgetting the oldest beyond `remember` characters. */
  #keep(sid: string, field: string, stored: string, plain: string): void {
    const key = memoKey(sid, field, stored);
    const size = key.length + plain.length;
    if (size * 4 > this.#remember || this.#memo.has(key)) return;
    this.#memo.set(key, plain);
    this.#memoChars += size;
    for (const [old, value] of this.#memo) {
      if (this.#memoChars <= this.#remember) break;
      this.#memo.delete(old);
      this.#memoChars -= old.length + value.length;
    }
  }
}

/** The error for plain data under `encrypt.plain: "refuse"`: what to do if it was expected. */
function refused(what: string): SessionDataError {
  return new SessionDataError(
    `${what} and option "encrypt.plain" is "refuse"; it was left in Redis as it is. If sessions stored ` +
      'before encryption was turned on are to be kept, run reencrypt() with encrypt.plain "read" first ' +
      '(it encrypts them), then set "refuse"',
  );
}

/** What an adapter returned, if a string. */
function checkedText(value: unknown, method: string): string {
  if (typeof value !== "string") {
    throw new TypeError(`The encrypt adapter's ${method}() must return a string`);
  }
  return value;
}

/** Session, property and stored value, length-prefixed so that no two triples share a key. */
function memoKey(sid: string, field: string, stored: string): string {
  return `${sid.length}:${field.length}:${sid}${field}${stored}`;
}
