/**
 * The `encrypt` option: keys (the first encrypts, all decrypt) or an adapter of
 * the app's own (a KMS), and the checks that turn a bad value into a
 * `TypeError` / `RangeError` when the store is made.
 * @module
 */

import { describe } from "../options/option_checks.ts";

/** One key of the `encrypt` option. */
export interface EncryptionKey {
  /** Names the key in every value it encrypts (1–32 letters, digits, `_`, `.` or `-`); never reuse an id. */
  id: string;
  /**
   * 32 random bytes, or a string of at least 32 characters (such as
   * `crypto.randomBytes(32).toString("base64")`), from which an AES-256 key is derived (HKDF-SHA-256).
   */
  secret: string | Uint8Array;
}

/** What a value is encrypted for: the session and the property it belongs to. */
export interface EncryptionContext {
  /** The session id. */
  sid: string;
  /** The property (hash field) name. */
  field: string;
}

/**
 * Encryption by the app's own means, such as a KMS. Whatever it returns must bind the
 * context (for instance as the associated data of an AEAD, or a KMS encryption context)
 * so that a value moved to another session or property fails to decrypt.
 */
export interface EncryptionAdapter {
  /** Encrypts one serialized property; returns text (such as base64) that Redis stores. */
  encrypt(plain: string, context: EncryptionContext): Promise<string> | string;
  /** Decrypts what `encrypt` returned for the same context; throws when it cannot. */
  decrypt(cipher: string, context: EncryptionContext): Promise<string> | string;
  /**
   * Whether a value is encrypted the current way (`reencrypt()` moves the others), such as
   * under the newest KMS key version. Without it, `reencrypt()` only encrypts plain values.
   */
  isCurrent?(cipher: string): boolean;
  /**
   * Encrypt what the store writes; `false` writes plain values but still decrypts (turning encryption off).
   * @default {true}
   */
  write?: boolean;
  /**
   * What a read does with a plain value or a connect-redis string: `"read"` it (sessions stored before
   * the option was set), or `"refuse"` it like a value that fails decryption (once `reencrypt()` has run).
   * @default {"read"}
   */
  plain?: "read" | "refuse";
}

/** The `encrypt` option with keys of its own. */
export interface EncryptionKeys {
  /** The keys: the first encrypts, every one decrypts (add a new key first to rotate; drop the old after `reencrypt()`). */
  keys: readonly EncryptionKey[];
  /**
   * Encrypt what the store writes; `false` writes plain values but still decrypts (turning encryption off).
   * @default {true}
   */
  write?: boolean;
  /**
   * What a read does with a plain value or a connect-redis string: `"read"` it (sessions stored before
   * the option was set), or `"refuse"` it like a value that fails decryption (once `reencrypt()` has run).
   * @default {"read"}
   */
  plain?: "read" | "refuse";
  /**
   * How many characters of decrypted values (with their stored form) to keep in memory, by
   * session, property and stored value, so that reading an unchanged value again costs no
   * decryption; 0 keeps none.
   * @default {4000000}
   */
  remember?: number;
}

/** What reads do with plain values (option `encrypt.plain`), checked. */
export type PlainValues = "read" | "refuse";

/** The `encrypt` option: keys, or an adapter. */
export type EncryptOptions = EncryptionKeys | EncryptionAdapter;

/** The `encrypt` option, checked. */
export type ResolvedEncryption =
  | {
    kind: "keys";
    keys: readonly { id: string; secret: string | Uint8Array }[];
    write: boolean;
    plain: PlainValues;
    remember: number;
  }
  | { kind: "adapter"; adapter: EncryptionAdapter; write: boolean; plain: PlainValues; remember: number };

/** The default of `remember`: a few MB at most. */
const REMEMBER = 4_000_000;
/** Key ids are written into every value: short, and never the separator. */
const KEY_ID = /^[A-Za-z0-9_.-]{1,32}$/;
/** A string secret shorter than this cannot hold 128 bits even as base64. */
const MIN_SECRET_CHARS = 32;

/**
 * Checks the `encrypt` option.
 * @param value What the user passed.
 * @returns The checked option, or `undefined` without it.
 */
export function resolveEncryption(value: unknown): ResolvedEncryption | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null) {
    throw new TypeError(
      `Option "encrypt" must be { keys: [{ id, secret }] } or an adapter { encrypt, decrypt }, got ${
        describe(value)
      }`,
    );
  }
  const write = (value as { write?: unknown }).write ?? true;
  if (typeof write !== "boolean") {
    throw new TypeError(`Option "encrypt.write" must be true or false, got ${describe(write)}`);
  }
  const plain = checkPlain((value as { plain?: unknown }).plain ?? "read", write);
  const adapter = value as Partial<EncryptionAdapter>;
  if (typeof adapter.encrypt === "function" || typeof adapter.decrypt === "function") {
    if (typeof adapter.encrypt !== "function" || typeof adapter.decrypt !== "function") {
      throw new TypeError('Option "encrypt" as an adapter needs both encrypt() and decrypt()');
    }
    return { kind: "adapter", adapter: adapter as EncryptionAdapter, write, plain, remember: REMEMBER };
  }
  const { keys, remember = REMEMBER } = value as { keys?: unknown; remember?: unknown };
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new TypeError('Option "encrypt.keys" must be a non-empty array of { id, secret }');
  }
  if (typeof remember !== "number" || !Number.isSafeInteger(remember) || remember < 0) {
    throw new RangeError(`Option "encrypt.remember" must be a whole number ≥ 0, got ${describe(remember)}`);
  }
  const ids = new Set<string>();
  for (const key of keys as unknown[]) {
    const { id, secret } = (key ?? {}) as { id?: unknown; secret?: unknown };
    if (typeof id !== "string" || !KEY_ID.test(id)) {
      throw new TypeError(
        `Each key of option "encrypt.keys" needs an id of 1 to 32 letters, digits, "_", "." or "-", got ${
          describe(id)
        }`,
      );
    }
    if (ids.has(id)) {
      throw new TypeError(`Option "encrypt.keys" has the id "${id}" twice: give each key its own`);
    }
    ids.add(id);
    checkSecret(id, secret);
  }
  return { kind: "keys", keys: keys as EncryptionKey[], write, plain, remember };
}

/** `encrypt.plain`: "refuse" reads back only what the store encrypted, so its writes must encrypt. */
function checkPlain(plain: unknown, write: boolean): PlainValues {
  if (plain !== "read" && plain !== "refuse") {
    throw new TypeError(`Option "encrypt.plain" must be "read" or "refuse", got ${describe(plain)}`);
  }
  if (plain === "refuse" && !write) {
    throw new TypeError(
      'Option "encrypt.plain": "refuse" contradicts "encrypt.write": false (the store would refuse the ' +
        'plain values it writes); turn encryption off with plain: "read"',
    );
  }
  return plain;
}

function checkSecret(id: string, secret: unknown): void {
  if (secret instanceof Uint8Array) {
    if (secret.byteLength !== 32) {
      throw new RangeError(
        `Key "${id}" of option "encrypt.keys": a secret given as bytes must be 32 bytes, got ${secret.byteLength}`,
      );
    }
    return;
  }
  if (typeof secret !== "string") {
    throw new TypeError(
      `Key "${id}" of option "encrypt.keys" needs a secret: 32 random bytes or a string of at least ` +
        `${MIN_SECRET_CHARS} characters, got ${describe(secret)}`,
    );
  }
  if (secret.length < MIN_SECRET_CHARS) {
    throw new RangeError(
      `Key "${id}" of option "encrypt.keys": its secret has ${secret.length} characters, too few to be ` +
        `safe; use at least ${MIN_SECRET_CHARS}, such as crypto.randomBytes(32).toString("base64")`,
    );
  }
}
