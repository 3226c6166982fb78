/**
 * The Hono face: a session middleware for Hono on any runtime with
 * `node:crypto` (Deno with its built-in server, Node with `@hono/node-server`),
 * owning the session object and calling the engine directly.
 * @module
 */

import type { SmartRedisStoreOptions } from "../options/options.ts";
import { type CookieOptions, readCookie, serializeCookie, sign, unsign } from "./web/cookies.ts";
import { faceSetup } from "./web/face_engine.ts";
import { SessionHandle } from "./web/session_handle.ts";
import type { SmartSession } from "./web/smart_session.ts";

/** Options of {@linkcode smartRedisSession} for Hono: the store's, plus the cookie's. */
export interface HonoSessionOptions extends SmartRedisStoreOptions {
  /** The secret signing the cookie, or several: the first signs, all verify. */
  secret: string | string[];
  /**
   * The cookie's name.
   * @default {"sid"}
   */
  cookieName?: string;
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

const OWN = ["secret", "cookieName", "cookie", "rolling", "saveUninitialized", "genid"];

/** The part of Hono's context the middleware uses. */
export interface HonoContextLike {
  /** The request. */
  req: { url: string; header(name: string): string | undefined };
  /** Sets a context variable. */
  set(key: "session", value: SmartSession): void;
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
  session: SmartSession;
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
 * @returns The middleware.
 */
export function smartRedisSession(options: HonoSessionOptions): HonoMiddleware {
  const secrets = typeof options?.secret === "string" ? [options.secret] : options?.secret;
  if (
    !Array.isArray(secrets) || secrets.length === 0 || secrets.some((s) => typeof s !== "string" || s === "")
  ) {
    throw new TypeError('Option "secret" is required: a non-empty string, or an array of them');
  }
  const cookie: CookieOptions = { maxAge: 86400000, ...options.cookie };
  const { engine, settings } = faceSetup(options, OWN, {
    maxAge: cookie.maxAge ?? null,
    saveUninitialized: options.saveUninitialized ?? false,
    genid: options.genid,
  });
  const name = options.cookieName ?? "sid";
  const rolling = options.rolling ?? false;
  return async (c, next) => {
    const value = readCookie(c.req.header("cookie"), name);
    const sid = value === undefined ? undefined : unsign(value, secrets);
    const handle = await SessionHandle.open(engine, settings, sid);
    c.set("session", handle.session);
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
    const action = await handle.finish();
    const https = new URL(c.req.url).protocol === "https:";
    if (action === "clear") {
      c.header("set-cookie", serializeCookie(name, "", { ...cookie, maxAge: 0 }, https), { append: true });
    } else if (action === "set" || (rolling && handle.stored)) {
      const signed = sign(handle.sid, secrets[0]);
      c.header("set-cookie", serializeCookie(name, signed, { ...cookie, maxAge: handle.maxAge }, https), {
        append: true,
      });
    }
  };
}
