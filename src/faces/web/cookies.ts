/**
 * Session cookies for the faces that do not have a cookie library of their
 * own (Fastify, Hono): signing in the `cookie-signature` format that
 * express-session and `@fastify/cookie` use (so existing cookies stay valid),
 * reading a `Cookie` header, and writing a `Set-Cookie` header.
 * @module
 */

import { Buffer } from "node:buffer";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** Attributes of the session cookie. */
export interface CookieOptions {
  /**
   * Milliseconds the cookie and the session live; `null` for a browser-session cookie
   * (the session then lives `ttl` seconds in Redis). Each face documents its default
   * (one day for Koa and Hono, `null` for Fastify, as `@fastify/session`).
   */
  maxAge?: number | null;
  /**
   * The cookie's path.
   * @default {"/"}
   */
  path?: string;
  /**
   * The cookie's domain.
   * @default {undefined}
   */
  domain?: string;
  /**
   * Hide the cookie from scripts.
   * @default {true}
   */
  httpOnly?: boolean;
  /**
   * Send the cookie over HTTPS only; `"auto"`: when the request came over HTTPS.
   * @default {false}
   */
  secure?: boolean | "auto";
  /**
   * The cookie's SameSite attribute.
   * @default {"lax"}
   */
  sameSite?: "lax" | "strict" | "none" | boolean;
  /**
   * The cookie's Partitioned attribute (CHIPS).
   * @default {false}
   */
  partitioned?: boolean;
}

/**
 * Signs a value: `value.signature`, the signature an HMAC in base64 without padding.
 * @param value The value, e.g. a session id.
 * @param secret The secret.
 * @param algorithm The HMAC's digest (`@fastify/cookie`'s `algorithm`).
 * @returns The signed value.
 */
export function sign(value: string, secret: string, algorithm = "sha256"): string {
  return `${value}.${createHmac(algorithm, secret).update(value).digest("base64").replace(/=+$/, "")}`;
}

/**
 * Checks a signed value against each secret in turn.
 * @param signed The signed value.
 * @param secrets The secrets, the current one first.
 * @param algorithm The HMAC's digest.
 * @returns The value and the index of the secret that signed it, or `undefined` when none did.
 */
export function unsignWith(
  signed: string,
  secrets: readonly string[],
  algorithm = "sha256",
): { value: string; secret: number } | undefined {
  const dot = signed.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const value = signed.slice(0, dot);
  const given = Buffer.from(signed);
  for (let i = 0; i < secrets.length; i++) {
    const expected = Buffer.from(sign(value, secrets[i], algorithm));
    if (expected.length === given.length && timingSafeEqual(expected, given)) return { value, secret: i };
  }
  return undefined;
}

/**
 * Checks a signed value against each secret in turn.
 * @param signed The signed value.
 * @param secrets The secrets, the current one first.
 * @returns The value, or `undefined` when no secret signed it.
 */
export function unsign(signed: string, secrets: readonly string[]): string | undefined {
  return unsignWith(signed, secrets)?.value;
}

/**
 * Reads one cookie from a `Cookie` request header.
 * @param header The header, if the request had one.
 * @param name The cookie name.
 * @returns The decoded value, or `undefined`.
 */
export function readCookie(header: string | null | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      return decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Writes a `Set-Cookie` header value.
 * @param name The cookie name.
 * @param value The value (URL-encoded here).
 * @param options The attributes; `maxAge` 0 removes the cookie.
 * @param https Whether the request came over HTTPS (for `secure: "auto"`).
 * @returns The header value.
 */
export function serializeCookie(name: string, value: string, options: CookieOptions, https: boolean): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${options.path ?? "/"}`];
  if (options.domain) parts.push(`Domain=${options.domain}`);
  const maxAge = options.maxAge;
  if (typeof maxAge === "number") {
    parts.push(`Expires=${new Date(Date.now() + maxAge).toUTCString()}`);
    // Max-Age counts whole seconds: rounded up, so that the browser keeps the cookie as long as
    // Redis keeps the session (a maxAge of 500 ms is Max-Age=1, never 0, which deletes it).
    parts.push(`Max-Age=${maxAge > 0 ? Math.ceil(maxAge / 1000) : 0}`);
  }
  if (options.httpOnly ?? true) parts.push("HttpOnly");
  if (options.secure === true || (options.secure === "auto" && https)) parts.push("Secure");
  const sameSite = options.sameSite ?? "lax";
  if (sameSite !== false) {
    const text = sameSite === true ? "Strict" : sameSite[0].toUpperCase() + sameSite.slice(1);
    parts.push(`SameSite=${text}`);
  }
  if (options.partitioned) parts.push("Partitioned");
  return parts.join("; ");
}

/**
 * A new random session id: 24 bytes, base64url.
 * @returns The id.
 */
export function newSessionId(): string {
  return randomBytes(24).toString("base64url");
}
