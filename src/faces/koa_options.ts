/**
 * The Koa face's options: the store's, plus koa-session's, with their checks.
 * @module
 */

import type { SmartRedisStoreOptions } from "../options/store_options.ts";

/** Where the session id travels instead of the cookie (koa-session's `externalKey`). */
export interface KoaExternalKey {
  /** Reads the session id from the request; `undefined` or `""` when it has none. */
  get(ctx: never): string | undefined;
  /** Hands the client the session id of a stored session. */
  set(ctx: never, key: string): void;
}

/** Options of {@linkcode smartRedisSession} for Koa: the store's, plus koa-session's. */
export interface KoaSessionOptions extends SmartRedisStoreOptions {
  /**
   * The cookie's name.
   * @default {"koa.sess"}
   */
  key?: string;
  /**
   * Milliseconds the cookie and the session live, or `"session"` for a browser-session
   * cookie (the session then lives `ttl` seconds in Redis).
   * @default {86400000}
   */
  maxAge?: number | "session";
  /**
   * Sign the cookie with the app's `app.keys` (Koa's own cookie signing).
   * @default {true}
   */
  signed?: boolean;
  /**
   * Send the cookie again on every response (its expiry moves with the session's).
   * @default {false}
   */
  rolling?: boolean;
  /**
   * Send the cookie again (with a full `maxAge`) once less than half of its life is left, so an
   * active user stays logged in without a cookie on every response.
   * @default {false}
   */
  renew?: boolean;
  /**
   * Commit the session at the end of each request. `false`: the app calls
   * `ctx.session.manuallyCommit()`; a request that does not writes nothing and sends no cookie.
   * @default {true}
   */
  autoCommit?: boolean;
  /**
   * Hide the cookie from scripts.
   * @default {true}
   */
  httpOnly?: boolean;
  /**
   * Send the cookie over HTTPS only. Left out, Koa decides per request: secure on
   * HTTPS requests (behind a proxy, with `app.proxy`), as koa-session does.
   * @default {undefined}
   */
  secure?: boolean;
  /**
   * The cookie's SameSite attribute.
   * @default {undefined}
   */
  sameSite?: "lax" | "strict" | "none" | boolean;
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
   * Replace a cookie of the same name set earlier in the same response (Koa's cookies option).
   * @default {true}
   */
  overwrite?: boolean;
  /**
   * Makes a new session id; koa-session passes it the Koa context.
   * @default {24 random bytes, base64url}
   */
  genid?: (ctx: never) => string;
  /**
   * Checks a loaded session before the request uses it (`(ctx, data) => boolean`); a falsy
   * answer starts a new session instead (the stored one is left to expire).
   * @default {undefined}
   */
  valid?: (ctx: never, data: Record<string, unknown>) => unknown;
  /**
   * Called with `(ctx, session)` just before a session is written, e.g. to stamp it.
   * @default {undefined}
   */
  beforeSave?: (ctx: never, session: never) => void;
  /**
   * Carry the session id elsewhere than in the cookie (e.g. a header): `get(ctx)` reads it,
   * `set(ctx, id)` hands it out when the session is stored.
   * @default {undefined}
   */
  externalKey?: KoaExternalKey;
}

/** The names above: the rest are the store's. */
export const KOA_OPTIONS: readonly string[] = [
  "key",
  "maxAge",
  "signed",
  "rolling",
  "renew",
  "autoCommit",
  "httpOnly",
  "secure",
  "sameSite",
  "path",
  "domain",
  "overwrite",
  "genid",
  "valid",
  "beforeSave",
  "externalKey",
];

/** koa-session options that have no place here, and what to do instead. */
const REPLACED: Record<string, string> = {
  store: "sessions live in Redis here: remove the store option (the client option names the Redis to use)",
  ContextStore: "sessions live in Redis here: remove the ContextStore option",
  encode: "it encodes sessions kept in the cookie, and sessions live in Redis here: remove it " +
    "(the serializer option encodes each stored value)",
  decode: "it decodes sessions kept in the cookie, and sessions live in Redis here: remove it " +
    "(the serializer option decodes each stored value)",
  maxage: 'it was renamed: use "maxAge"',
};

/**
 * Checks koa-session's options that this face takes or refuses.
 * @param options What the app passed.
 */
export function checkKoaOptions(options: KoaSessionOptions): void {
  for (const [name, why] of Object.entries(REPLACED)) {
    if (Object.hasOwn(options, name) && (options as unknown as Record<string, unknown>)[name] !== undefined) {
      throw new TypeError(`Option "${name}" of koa-session is not taken: ${why}`);
    }
  }
  for (const name of ["genid", "valid", "beforeSave"] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== "function") {
      throw new TypeError(`Option "${name}" must be a function, got ${typeof value}`);
    }
  }
  const external = options.externalKey;
  if (
    external !== undefined &&
    (typeof external?.get !== "function" || typeof external?.set !== "function")
  ) {
    throw new TypeError('Option "externalKey" must be an object with get(ctx) and set(ctx, key) functions');
  }
}
