/**
 * AES-256-GCM with the keys of the `encrypt` option, through Web Crypto (the
 * same code on Deno and Node ≥ 18, no native dependency). Each key is derived
 * and imported once. A value is the key's id, then base64 of a random 96-bit
 * IV, the ciphertext and the 128-bit tag; the session id and the property name
 * are its associated data.
 * @module
 */

import { Buffer } from "node:buffer";
import { randomBytes, webcrypto } from "node:crypto";
import type { EncryptionContext, EncryptionKey } from "./encryption_options.ts";

const subtle = webcrypto.subtle;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const IV_BYTES = 12;
/** HKDF's fixed inputs: a string secret always yields the same key for this purpose, and only for it. */
const SALT = encoder.encode("connect-smart-redis encrypt");
const INFO = encoder.encode("AES-256-GCM session property v1");

/** Encrypts with the first key, decrypts with any. */
export class KeyRing {
  #keys: Map<string, Promise<webcrypto.CryptoKey>>;
  /** The id of the key that encrypts. */
  readonly current: string;

  /** @param keys The checked keys; the first encrypts. */
  constructor(keys: readonly EncryptionKey[]) {
    this.current = keys[0].id;
    this.#keys = new Map(keys.map((key) => {
      const imported = importKey(key.secret);
      imported.catch(() => {/* reported by each use of the key */});
      return [key.id, imported];
    }));
  }

  /** Whether a key of that id is known. */
  has(id: string): boolean {
    return this.#keys.has(id);
  }

  /**
   * Encrypts with the current key.
   * @returns `id:base64(iv ‖ ciphertext ‖ tag)`.
   */
  async encrypt(plain: string, context: EncryptionContext): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const key = await this.#keys.get(this.current)!;
    const sealed = await subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: associatedData(context) },
      key,
      encoder.encode(plain),
    );
    return this.current + ":" + Buffer.concat([iv, new Uint8Array(sealed)]).toString("base64");
  }

  /**
   * Decrypts what {@linkcode encrypt} returned for the same context; rejects when the key
   * is unknown or the value fails authentication.
   */
  async decrypt(text: string, context: EncryptionContext): Promise<string> {
    const colon = text.indexOf(":");
    const key = this.#keys.get(text.slice(0, colon));
    if (colon < 1 || !key) {
      throw new Error(`no key "${text.slice(0, Math.max(colon, 0))}" among the keys given`);
    }
    const bytes = Buffer.from(text.slice(colon + 1), "base64");
    if (bytes.byteLength < IV_BYTES + 16) throw new Error("too short to be encrypted by the store");
    const plain = await subtle.decrypt(
      { name: "AES-GCM", iv: bytes.subarray(0, IV_BYTES), additionalData: associatedData(context) },
      await key,
      bytes.subarray(IV_BYTES),
    );
    return decoder.decode(plain);
  }

  /** The id of the key a value was encrypted with. */
  keyOf(text: string): string {
    return text.slice(0, text.indexOf(":"));
  }
}

/** The session id and the property, length-prefixed so that no two pairs give the same bytes. */
function associatedData({ sid, field }: EncryptionContext) {
  return encoder.encode(`${sid.length}:${sid}:${field}`);
}

/** 32 bytes are the key; a string is stretched into one with HKDF-SHA-256. */
async function importKey(secret: string | Uint8Array): Promise<webcrypto.CryptoKey> {
  const usage: webcrypto.KeyUsage[] = ["encrypt", "decrypt"];
  if (typeof secret !== "string") {
    return await subtle.importKey("raw", Uint8Array.from(secret), "AES-GCM", false, usage);
  }
  const material = await subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
  return await subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: SALT, info: INFO },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    usage,
  );
}
