/**
 * `request.session.cookie` under the Fastify face: the cookie's settings as
 * `@fastify/session` shows them (`maxAge`, `expires`, `originalMaxAge`,
 * `path`, `domain`, `secure`, `sameSite`, `httpOnly`, `partitioned`), and the
 * `Set-Cookie` headers written from them, attribute for attribute as
 * `@fastify/session` (through `@fastify/cookie`) writes them.
 * @module
 */

/** The session cookie's attributes, as the Fastify face's `cookie` option takes them. */
export interface FastifyCookieOptions {
  /**
   * Milliseconds the cookie and the session live (sliding: each saved request starts them
   * again); `null` for a browser-session cookie (the session then lives `ttl` seconds in Redis).
   * @default {null}
   */
  maxAge?: number | null;
  /**
   * A fixed end for the cookie and the session, when `maxAge` is not given.
   * @default {undefined}
   */
  expires?: Date | string | number | null;
  /**
   * The cookie's path; requests outside it get no session.
   * @default {"/"}
   */
  path?: string;
  /**
   * The cookie's domain.
   * @default {undefined}
   */
  domain?: string | null;
  /**
   * Hide the cookie from scripts.
   * @default {true}
   */
  httpOnly?: boolean;
  /**
   * Send the cookie over HTTPS only; `"auto"`: when the request came over HTTPS (over plain
   * HTTP the cookie is then sent without `Secure` and with `SameSite=Lax`, as browsers reject
   * `SameSite=None` without `Secure`). A request over plain HTTP stores nothing when `true`.
   * @default {true}
   */
  secure?: boolean | "auto" | null;
  /**
   * The cookie's SameSite attribute; none sent when left out.
   * @default {undefined}
   */
  sameSite?: "lax" | "strict" | "none" | boolean | null;
  /**
   * The cookie's Partitioned attribute (CHIPS).
   * @default {undefined}
   */
  partitioned?: boolean;
}

/** The cookie's settings as they are stored with the session (`cookie.toJSON()`). */
export interface StoredCookie {
  /** When the cookie ends, or `null` for a browser-session cookie. */
  expires: Date | null;
  /** The cookie's life in ms as set, or `null`. */
  originalMaxAge: number | null;
  /** The fixed end set by the `expires` option, if any. */
  originalExpires?: Date;
  /** The SameSite attribute, or `null` for none. */
  sameSite: FastifyCookieOptions["sameSite"];
  /** The Secure attribute (`"auto"` already decided), or `null`. */
  secure: boolean | null;
  /** The path. */
  path: string;
  /** The HttpOnly attribute. */
  httpOnly: boolean;
  /** The domain, or `null`. */
  domain: string | null;
  /** The Partitioned attribute. */
  partitioned?: boolean;
}

/** What a session cookie is built from: the options, or what a stored session kept of them. */
export type CookieSource = FastifyCookieOptions & {
  originalMaxAge?: number | null;
  originalExpires?: unknown;
};

/** The session cookie of one request, with `@fastify/session`'s fields and rules. */
export class SessionCookie {
  /** The path. */
  path: string;
  /** The Secure attribute, or `null` (not secure). */
  secure: boolean | null;
  /** The SameSite attribute, or `null` for none. */
  sameSite: FastifyCookieOptions["sameSite"];
  /** The domain, or `null`. */
  domain: string | null;
  /** The HttpOnly attribute. */
  httpOnly: boolean;
  /** The Partitioned attribute. */
  partitioned: boolean | undefined;
  /** The cookie's life in ms as set (`maxAge`), or `null`. */
  originalMaxAge: number | null = null;
  /** The fixed end set by the `expires` option, if any. */
  originalExpires: Date | undefined;
  /** When the cookie ends, or `null` for a browser-session cookie. */
  expires: Date | null = null;

  /**
   * Builds the cookie from options (or a stored session's cookie over them).
   * @param source The settings.
   * @param https Whether the request came over HTTPS (for `secure: "auto"`).
   */
  constructor(source: CookieSource, https: boolean) {
    const originalMaxAge = source.originalMaxAge || source.maxAge || null;
    this.path = source.path || "/";
    this.secure = (source.secure ?? null) as boolean | null;
    this.sameSite = source.sameSite || null;
    this.domain = source.domain || null;
    this.httpOnly = source.httpOnly !== undefined ? source.httpOnly : true;
    this.partitioned = source.partitioned;
    const expires = validDate(source.expires);
    if (expires) this.originalExpires = expires;
    if (originalMaxAge) this.maxAge = originalMaxAge;
    else if (expires) this.expires = expires;
    if ((source.secure as unknown) === "auto") {
      this.secure = https;
      // Browsers reject SameSite=None without Secure: over plain HTTP the cookie falls back to Lax.
      if (!https && this.sameSite !== "strict" && this.sameSite !== true) this.sameSite = "lax";
    }
  }

  /** Milliseconds left until `expires`, or `null`; setting it starts a new life of that length. */
  get maxAge(): number | null {
    return this.expires instanceof Date ? this.expires.getTime() - Date.now() : null;
  }

  set maxAge(ms: number | null) {
    if (ms === null) {
      this.expires = null;
      this.originalMaxAge = null;
      return;
    }
    if (typeof ms !== "number" || !(ms > 0) || !Number.isFinite(ms)) {
      throw new RangeError(
        `The cookie's maxAge must be a positive number of milliseconds or null, got ${ms}`,
      );
    }
    this.expires = new Date(Date.now() + ms);
    this.originalMaxAge = ms;
  }

  /**
   * The settings as stored with the session (and as `@fastify/session` shows them).
   * @returns The stored form.
   */
  toJSON(): StoredCookie {
    return {
      expires: this.expires,
      originalMaxAge: this.originalMaxAge,
      originalExpires: this.originalExpires,
      sameSite: this.sameSite,
      secure: this.secure,
      path: this.path,
      httpOnly: this.httpOnly,
      domain: this.domain,
      partitioned: this.partitioned,
    };
  }
}

/** A date from a Date, an ISO string or a number; `undefined` when there is none or it is invalid. */
function validDate(value: unknown): Date | undefined {
  if (value === null || value === undefined || value === false || value === "") return undefined;
  const date = new Date(value as string);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * The `Set-Cookie` value for the session cookie, in the attribute order of the `cookie`
 * package: `Expires` and no `Max-Age`, as `@fastify/session` sends it (so no rounding of a
 * `maxAge` to whole seconds shortens the cookie).
 * @param name The cookie name.
 * @param value The signed id (URL-encoded here).
 * @param cookie The session's cookie.
 * @returns The header value.
 */
export function sessionCookieHeader(name: string, value: string, cookie: SessionCookie): string {
  let header = `${name}=${encodeURIComponent(value)}`;
  if (cookie.domain) header += `; Domain=${cookie.domain}`;
  header += `; Path=${cookie.path}`;
  if (cookie.expires instanceof Date) header += `; Expires=${cookie.expires.toUTCString()}`;
  if (cookie.httpOnly) header += "; HttpOnly";
  if (cookie.secure) header += "; Secure";
  if (cookie.partitioned) header += "; Partitioned";
  const sameSite = cookie.sameSite;
  if (sameSite === true || sameSite === "strict") header += "; SameSite=Strict";
  else if (sameSite === "lax") header += "; SameSite=Lax";
  else if (sameSite === "none") header += "; SameSite=None";
  return header;
}

/**
 * The `Set-Cookie` value that removes the session cookie, as `@fastify/session` clears it.
 * @param name The cookie name.
 * @param where The cookie's domain and path.
 * @returns The header value.
 */
export function clearCookieHeader(name: string, where: { domain?: string | null; path?: string }): string {
  const domain = where.domain ? `; Domain=${where.domain}` : "";
  return `${name}=; Max-Age=0${domain}; Path=${where.path || "/"}; Expires=${
    new Date(0).toUTCString()
  }; SameSite=Lax`;
}
