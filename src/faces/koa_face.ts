/**
 * The Koa face: a session middleware with koa-session's options and
 * `ctx.session` API, owning the session object, so that every guarantee holds
 * (koa-session copies what a store loads, and hands the store its own
 * `_expire` / `_maxAge` bookkeeping as if it were data).
 * @module
 */

import type { SmartRedisStoreOptions } from "../options/options.ts";
import { faceSetup } from "./web/face_engine.ts";
import { SessionHandle } from "./web/session_handle.ts";
import { SmartSession } from "./web/smart_session.ts";

/** Options of {@linkcode smartRedisSession} for Koa: the store's, plus koa-session's cookie options. */
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
   * Makes a new session id.
   * @default {24 random bytes, base64url}
   */
  genid?: () => string;
}

const OWN = [
  "key",
  "maxAge",
  "signed",
  "rolling",
  "httpOnly",
  "secure",
  "sameSite",
  "path",
  "domain",
  "genid",
];

/**
 * `ctx.session` under {@linkcode smartRedisSession}: a `SmartSession` whose `maxAge`
 * also takes koa-session's `"session"` (a browser-session cookie, as `null`).
 */
export class KoaSmartSession extends SmartSession {
  /** Milliseconds the session lives after its last use; `null`: until the browser closes. */
  override get maxAge(): number | null {
    return super.maxAge;
  }

  override set maxAge(value: number | "session" | null) {
    super.maxAge = value === "session" ? null : value;
  }
}

/** The part of Koa's context the middleware uses. */
export interface KoaContextLike {
  /** The Koa application: its `keys` sign the cookie. */
  app?: { keys?: unknown };
  /** Koa's cookie jar. */
  cookies: {
    get(name: string, options?: { signed?: boolean }): string | undefined;
    set(name: string, value?: string | null, options?: Record<string, unknown>): unknown;
  };
}

/** A Koa middleware. */
export type KoaMiddleware = (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<void>;

/**
 * A Koa session middleware on Redis with koa-session's cookie options. It puts
 * the session at `ctx.session` (a `SmartSession`: set and delete
 * properties; `ctx.session = null` destroys it), writes only what a request
 * changed, merges parallel requests' changes, keeps destroyed sessions
 * destroyed, and costs one round trip for a request that only reads its session.
 *
 * @example Use it
 * ```ts ignore
 * import Koa from "koa";
 * import { createClient } from "redis";
 * import { smartRedisSession } from "connect-smart-redis/koa";
 *
 * const app = new Koa();
 * app.keys = ["a secret"];
 * app.use(smartRedisSession({ client: createClient() }));
 * app.use((ctx) => {
 *   ctx.session.visits = (ctx.session.visits ?? 0) + 1;
 *   ctx.body = `visits: ${ctx.session.visits}`;
 * });
 * ```
 * @param options The Redis client, the store's settings and the cookie's.
 * @returns The middleware.
 */
export function smartRedisSession(options: KoaSessionOptions): KoaMiddleware {
  const maxAge = options?.maxAge ?? 86400000;
  const { engine, settings } = faceSetup(options, OWN, {
    maxAge: maxAge === "session" ? null : maxAge,
    saveUninitialized: false,
    genid: options.genid,
  });
  const key = options.key ?? "koa.sess";
  const signed = options.signed ?? true;
  const rolling = options.rolling ?? false;
  const cookie = {
    signed,
    httpOnly: options.httpOnly ?? true,
    // Left undefined, Koa's cookies mark it Secure on HTTPS requests (as koa-session does).
    secure: options.secure,
    sameSite: options.sameSite,
    path: options.path ?? "/",
    domain: options.domain,
    overwrite: true,
  };
  return async function session(ctx, next) {
    // Before anything is stored: without keys, the signed cookie could not be set afterwards.
    if (signed && ctx.app && !ctx.app.keys) {
      throw new TypeError(
        "The session cookie is signed with app.keys, which is not set: set app.keys = ['a secret'], " +
          "or pass signed: false",
      );
    }
    const sid = ctx.cookies.get(key, { signed }) || undefined;
    const handle = await SessionHandle.open(engine, settings, sid, new KoaSmartSession());
    let dropped = false;
    Object.defineProperty(ctx, "session", {
      configurable: true,
      get: () => dropped ? null : handle.session,
      set(value: unknown) {
        if (value === null) {
          dropped = true;
          return;
        }
        if (typeof value !== "object" || value === undefined) {
          throw new TypeError("ctx.session can only be set to null or an object");
        }
        if (value === handle.session) return;
        dropped = false;
        const data = { ...value };
        for (const name of Object.keys(handle.session)) delete handle.session[name];
        // Defined, not assigned: a property named "__proto__" (JSON from a user) is data, not the prototype.
        for (const [name, item] of Object.entries(data)) {
          Object.defineProperty(handle.session, name, {
            value: item,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
      },
    });
    try {
      await next();
    } catch (error) {
      await handle.abandon().catch(() => {/* its lock expires by itself */});
      throw error;
    }
    if (dropped) await handle.destroy();
    const action = await handle.finish();
    if (action === "clear") ctx.cookies.set(key, null, { ...cookie, signed });
    else if (action === "set" || (rolling && handle.stored)) {
      ctx.cookies.set(key, handle.sid, { ...cookie, maxAge: handle.maxAge ?? undefined });
    }
  };
}
