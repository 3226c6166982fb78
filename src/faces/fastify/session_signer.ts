/**
 * How the Fastify face signs its cookie: with the `secret` option (a string, or
 * several: the first signs, all verify) and the `algorithm` option, or with a
 * signer object the app passes as `secret` (`@fastify/cookie`'s `Signer`, or
 * any object with its `sign` and `unsign`).
 * @module
 */

import { createHmac } from "node:crypto";
import { sign, unsignWith } from "../web/cookies.ts";

/** A cookie signer, as `@fastify/cookie` defines one. */
export interface CookieSigner {
  /** Signs a value. */
  sign(value: string): string;
  /** Checks a signed value: `valid`, the `value`, and `renew` when an older secret signed it. */
  unsign(signed: string): { valid: boolean; renew: boolean; value: string | null };
}

/** `@fastify/session`'s message for a `secret` that is none of the accepted kinds. */
const SECRET_REQUIRED =
  "the secret option is required, and must be a String, Array of Strings, or a signer object with .sign and .unsign methods";

/**
 * The signer of the `secret` and `algorithm` options, or the error `@fastify/session` gives for them.
 * @param secret The `secret` option.
 * @param algorithm The `algorithm` option.
 * @returns The signer, or the error to fail the registration with.
 */
export function signerOf(secret: unknown, algorithm: unknown = "sha256"): CookieSigner | Error {
  if (typeof secret === "string") {
    if (secret.length < 32) return new RangeError("the secret must have length 32 or greater");
  } else if (Array.isArray(secret)) {
    if (secret.length === 0) return new TypeError("at least one secret is required");
    if (secret.some((s) => typeof s !== "string" || s === "")) {
      return new TypeError('Option "secret" must hold non-empty strings only');
    }
  } else if (isSigner(secret)) {
    return secret;
  } else {
    return new TypeError(SECRET_REQUIRED);
  }
  if (typeof algorithm !== "string" || !supported(algorithm)) {
    return new TypeError(
      `Option "algorithm" must be an HMAC digest Node supports, such as "sha256"; got ${
        JSON.stringify(algorithm)
      }`,
    );
  }
  const secrets: string[] = typeof secret === "string" ? [secret] : secret;
  return {
    sign: (value) => sign(value, secrets[0], algorithm),
    unsign(signed) {
      const found = unsignWith(signed, secrets, algorithm);
      return found
        ? { valid: true, renew: found.secret > 0, value: found.value }
        : { valid: false, renew: false, value: null };
    },
  };
}

function isSigner(value: unknown): value is CookieSigner {
  const signer = value as Partial<CookieSigner> | null;
  return typeof signer === "object" && signer !== null && typeof signer.sign === "function" &&
    typeof signer.unsign === "function";
}

function supported(algorithm: string): boolean {
  try {
    createHmac(algorithm, "probe");
    return true;
  } catch {
    return false;
  }
}
