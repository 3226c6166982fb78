/**
 * The Hono face: a session middleware for Hono on any runtime with
 * `node:crypto` (Deno with its built-in server, Node with `@hono/node-server`),
 * owning the session object and calling the engine directly.
 * @module
 */

import type { SmartRedisStoreOptions } from "../options/store_options.ts";
import { type CookieOptions, readCookie, serializeCookie, sign, unsign } from "./web/cookies.ts";
import { faceSetup } from "./web/face_engine.ts";
import { type WithStats, withStats } from "../observe/with_stats.ts";
import { SessionHandle } from "./web/session_handle.ts";
import { bindHonoSession, HonoSmartSession } from "./hono_session.ts";

/** Options of {@linkcode smartRedisSession} for Hono: the store's, plus the cookie's. */
export interface HonoSessionOptions extends SmartRedisStoreOptions {
  /**
   * The secret signing the cookie, or several: the first signs, all verify. Required, unless
   * `encryptionKey` (`hono-sessions`' name) gives it.
   * @default {undefined}
   */
  secret?: string | string[];
  /**
   * `hono-sessions`' secret, or a function returning it: taken as `secret` when that is left out
   * (the cookie's id is signed with it, not encrypted: the id is no secret, a forged one is refused).
   * @default {undefined}
   */
  encryptionKey?: string | (() => string);
  /**
   * The cookie's name.
   * @default {"sid"}
   */
  cookieName?: string;
  /**
   * `hono-sessions`' name for `cookieName`.
   * @default {undefined}
   */
  sessionCookieName?: string;
  /**
   * `hono-sessions`' session life: seconds after the last request, the same as `cookie.maxAge`
   * in ms (which wins when both are given).
   * @default {undefined}
   */
  expireAfterSeconds?: number;
  /**
   * `hono-sessions`' cookie attributes in Hono's `setCookie` form (`maxAge` in seconds,
   * `sameSite: "Lax"`), sent as given: what is left out stays out (no SameSite, no HttpOnly).
   * `cookie` (our form, `maxAge` in ms) wins where both set one.
   * @default {undefined}
   */
  cookieOptions?: HonoCookieOptions;
  /**
   * `hono-sessions`' sliding expiry: every request moves the session's end (always so here;
   * `false` is refused).
   * @default {true}
   */
  autoExtendExpiration?: boolean;
  /**
   * The cookie's attributes; `maxAge` (ms) is also the session's life in Redis.
   * @default {{ maxAge: 86400000 }}
   */
  cookie?: CookieOptions;
  /**
   * Send the cookie again on every response (its expiry moves with the session's).
   * @default {false}
   */
  rolling?: boolean;
  /**
   * Store a new session even when the request put nothing in it.
   * @default {false}
   */
  saveUninitialized?: boolean;
  /**
   * Makes a new session id.
   * @default {24 random bytes, base64url}
   */
  genid?: () => string;
}

/** Hono's `setCookie` attributes, as `hono-sessions` takes them. */
export interface HonoCookieOptions {
  /** Seconds the cookie lives (also the session's life here). */
  maxAge?: number;
  /** The cookie's path. */
  path?: string;
  /** The cookie's domain. */
  domain?: string;
  /** HTTPS only. */
  secure?: boolean;
  /** Hide the cookie from scripts. */
  httpOnly?: boolean;
  /** `"Strict"`, `"Lax"` or `"None"` (any case). */
  sameSite?: string;
  /** The Partitioned attribute. */
  partitioned?: boolean;
}

const OWN = [
  "cookieOptions",
  "secret",
  "encryptionKey",
  "cookieName",
  "sessionCookieName",
  "expireAfterSeconds",
  "autoExtendExpiration",
  "cookie",
  "rolling",
  "saveUninitialized",
  "genid",
];

/** The part of Hono's context the middleware uses. */
export interface HonoContextLike {
  /** The request. */
  req: { url: string; header(name: string): string | undefined };
  /** Sets a context variable. */
  set(key: "session", value: HonoSmartSession): void;
  /** Reads a context variable (`session_key_rotation`, as `hono-sessions` reads it). */
  get?(key: string): unknown;
  /** Sets a response header. */
  header(name: string, value: string, options?: { append?: boolean }): void;
  /** The error a handler threw, which Hono caught and turned into a response. */
  readonly error?: unknown;
}

/** A Hono middleware (use it on a `Hono<{ Variables: SessionVariables }>`). */
export type HonoMiddleware = (c: HonoContextLike, next: () => Promise<void>) => Promise<void>;

/** The context variables the middleware sets: `c.get("session")`. */
export interface SessionVariables {
  /** The request's session. */
  session: HonoSmartSession;
  /** Set it to `true` to move the session to a new id, content kept (`hono-sessions`' key rotation). */
  session_key_rotation?: boolean;
}

/**
 * A Hono session middleware on Redis. It puts the session at
 * `c.get("session")` (a {@linkcode SmartSession}: set and delete its
 * properties; `destroy()`, `regenerate()`), writes only what a request changed,
 * merges parallel requests' changes, keeps destroyed sessions destroyed, and
 * costs one round trip for a request that only reads its session.
 *
 * @example Use it under Deno
 * ```ts ignore
 * import { Hono } from "hono";
 * import { createClient } from "redis";
 * import { smartRedisSession, type SessionVariables } from "connect-smart-redis/hono";
 *
 * const app = new Hono<{ Variables: SessionVariables }>();
 * app.use(smartRedisSession({ client: createClient(), secret: "a secret" }));
 * app.get("/", (c) => {
 *   const session = c.get("session");
 *   session.visits = ((session.visits as number) ?? 0) + 1;
 *   return c.text(`visits: ${session.visits}`);
 * });
 * export default app; // run with `deno serve`, or pass app.fetch to Deno's serve()
 * ```
 * @param options The Redis client, the store's settings, the secret and the cookie's settings.
 * @returns The middleware; its `stats()` tells what the store did (events: the `on` option).
 */
export function smartRedisSession(options: HonoSessionOptions): HonoMiddleware & WithStats {
  const secrets = secretsOf(options);
  checkPeerOptions(options);
  const life = options.expireAfterSeconds;
  const cookie: CookieOptions = {
    maxAge: life === undefined ? 86400000 : life * 1000,
    ...honoCookie(options.cookieOptions),
    ...options.cookie,
  };
  const { engine, settings } = faceSetup(options, OWN, {
    maxAge: cookie.maxAge ?? null,
    saveUninitialized: options.saveUninitialized ?? false,
    genid: options.genid,
  });
  const name = options.cookieName ?? options.sessionCookieName ?? "sid";
  const rolling = options.rolling ?? false;
  return withStats(engine, async (c: HonoContextLike, next: () => Promise<void>) => {
    const value = readCookie(c.req.header("cookie"), name);
    const sid = value === undefined ? undefined : unsign(value, secrets);
    const handle = await SessionHandle.open(engine, settings, sid, new HonoSmartSession());
    let deleting = false;
    let touched = false;
    bindHonoSession(handle.session as HonoSmartSession, {
      deleteAtEnd: () => deleting = true,
      touchAtEnd: () => touched = true,
    });
    c.set("session", handle.session as HonoSmartSession);
    try {
      await next();
    } catch (error) {
      await handle.abandon().catch(() => {/* its lock expires by itself */});
      throw error;
    }
    // Hono catches a handler's error itself (c.error): as on a throw, nothing it half-did is written.
    if (c.error) {
      await handle.abandon().catch(() => {/* its lock expires by itself */});
      return;
    }
    if (deleting) await handle.destroy();
    else if (c.get?.("session_key_rotation") === true) await handle.regenerate(true);
    const action = await handle.finish();
    const https = new URL(c.req.url).protocol === "https:";
    if (action === "clear") {
      c.header("set-cookie", serializeCookie(name, "", { ...cookie, maxAge: 0 }, https), { append: true });
    } else if (action === "set" || ((rolling || touched) && handle.stored)) {
      const signed = sign(handle.sid, secrets[0]);
      c.header("set-cookie", serializeCookie(name, signed, { ...cookie, maxAge: handle.maxAge }, https), {
        append: true,
      });
    }
  });
}

function secretsOf(options: HonoSessionOptions): string[] {
  let secret = options?.secret;
  if (secret === undefined && options?.encryptionKey !== undefined) {
    const key = options.encryptionKey;
    secret = typeof key === "function" ? key() : key;
  }
  const secrets = typeof secret === "string" ? [secret] : secret;
  if (
    !Array.isArray(secrets) || secrets.length === 0 || secrets.some((s) => typeof s !== "string" || s === "")
  ) {
    throw new TypeError('Option "secret" is required: a non-empty string, or an array of them');
  }
  return secrets;
}

/** `hono-sessions` options that have no place here, or only some values. */
function checkPeerOptions(options: HonoSessionOptions): void {
  const given = options as HonoSessionOptions & { store?: unknown };
  if (given.store !== undefined) {
    throw new TypeError(
      'Option "store" of hono-sessions is not taken: sessions live in Redis here (the client option names it)',
    );
  }
  if (options.autoExtendExpiration === false) {
    throw new RangeError(
      "autoExtendExpiration: false is not supported: every request moves the session's end here; " +
        "leave the option out",
    );
  }
  const life = options.expireAfterSeconds;
  if (life !== undefined && (typeof life !== "number" || !(life > 0) || !Number.isFinite(life))) {
    throw new RangeError(
      `Option "expireAfterSeconds" must be a positive number of seconds, got ${String(life)}`,
    );
  }
}

/**
 * Hono's cookie attributes in ours: `maxAge` from seconds to ms, `sameSite` in lower case; what is
 * left out stays out (no SameSite, no HttpOnly), as Hono's `setCookie` writes them.
 */
function honoCookie(options: HonoCookieOptions | undefined): CookieOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) {
    throw new TypeError('Option "cookieOptions" must be an object of cookie attributes');
  }
  const { maxAge, sameSite, ...rest } = options;
  for (const name of Object.keys(rest)) {
    if (!["path", "domain", "secure", "httpOnly", "partitioned"].includes(name)) {
      throw new TypeError(
        `Cookie attribute "${name}" is not supported: use maxAge, path, domain, secure, httpOnly, ` +
          "sameSite or partitioned",
      );
    }
  }
  const cookie: CookieOptions = { httpOnly: false, sameSite: false, ...rest };
  if (maxAge !== undefined) cookie.maxAge = maxAge * 1000;
  if (sameSite !== undefined) {
    const value = String(sameSite).toLowerCase();
    if (value !== "strict" && value !== "lax" && value !== "none") {
      throw new TypeError(`Cookie attribute "sameSite" must be Strict, Lax or None, got ${String(sameSite)}`);
    }
    cookie.sameSite = value;
  }
  return cookie;
}
