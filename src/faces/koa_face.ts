/**
 * The Koa face: a session middleware with koa-session's options and
 * `ctx.session` API, owning the session object, so that every guarantee holds
 * (koa-session copies what a store loads, and hands the store its own
 * `_expire` / `_maxAge` bookkeeping as if it were data).
 * @module
 */

import { faceSetup } from "./web/face_engine.ts";
import { type WithStats, withStats } from "../observe/with_stats.ts";
import { checkKoaOptions, KOA_OPTIONS, type KoaSessionOptions } from "./koa_options.ts";
import { type KoaContextLike, type KoaFaceConfig, KoaRequest } from "./koa_request.ts";

export type { KoaExternalKey, KoaSessionOptions } from "./koa_options.ts";
export type { KoaContextLike, KoaCookieOptions } from "./koa_request.ts";
export { type KoaSessionCallback, KoaSmartSession } from "./koa_session.ts";

/** The part of a Koa application the middleware uses when given one: its context prototype. */
export interface KoaAppLike {
  /** Koa's `app.use`: tells an application from options. */
  use: (...args: never[]) => unknown;
  /** The prototype of every request's context. */
  context: object;
}

/** A Koa middleware. */
export type KoaMiddleware = (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<void>;

const STATE = Symbol("connect-smart-redis koa session");

type WithState = KoaContextLike & { [STATE]?: KoaRequest };

/**
 * A Koa session middleware on Redis with koa-session's options. It puts the
 * session at `ctx.session` (a `KoaSmartSession`: set and delete properties;
 * `ctx.session = null` destroys it), writes only what a request changed, merges
 * parallel requests' changes, keeps destroyed sessions destroyed, and costs one
 * round trip for a request that only reads its session. As with koa-session,
 * the application may come first or second (`session(app, options)`,
 * `session(options, app)`); given one, `ctx.session` and `ctx.sessionOptions`
 * live on its context prototype (so tests can stub them), else on each context.
 *
 * @example Use it
 * ```ts ignore
 * import Koa from "koa";
 * import { createClient } from "redis";
 * import { smartRedisSession } from "connect-smart-redis/koa";
 *
 * const app = new Koa();
 * app.keys = ["a secret"];
 * app.use(smartRedisSession({ client: createClient() }, app));
 * app.use((ctx) => {
 *   ctx.session.visits = (ctx.session.visits ?? 0) + 1;
 *   ctx.body = `visits: ${ctx.session.visits}`;
 * });
 * ```
 * @param options The Redis client, the store's settings and koa-session's (or the application).
 * @param app The Koa application (or the options, when the application came first).
 * @returns The middleware; its `stats()` tells what the store did (events: the `on` option).
 */
export function smartRedisSession(
  options: KoaSessionOptions | KoaAppLike,
  app?: KoaAppLike | KoaSessionOptions,
): KoaMiddleware & WithStats {
  if (isApp(options)) [options, app] = [app as KoaSessionOptions, options];
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Options are required, such as { client: createClient(), ... }");
  }
  checkKoaOptions(options);
  const maxAge = options.maxAge ?? 86400000;
  const { engine, settings } = faceSetup(options, KOA_OPTIONS, {
    maxAge: maxAge === "session" ? null : maxAge,
    saveUninitialized: false,
  });
  const signed = options.signed ?? true;
  const autoCommit = options.autoCommit ?? true;
  const config: KoaFaceConfig = {
    engine,
    settings,
    cookie: {
      key: options.key ?? "koa.sess",
      signed,
      httpOnly: options.httpOnly ?? true,
      // Left undefined, Koa's cookies mark it Secure on HTTPS requests (as koa-session does).
      secure: options.secure,
      sameSite: options.sameSite,
      path: options.path ?? "/",
      domain: options.domain,
      overwrite: options.overwrite ?? true,
    },
    rolling: options.rolling ?? false,
    renew: options.renew ?? false,
    cookieLife: options.maxAge !== undefined,
    genid: options.genid,
    valid: options.valid,
    beforeSave: options.beforeSave,
    externalKey: options.externalKey,
  };
  const onPrototype = isApp(app);
  if (onPrototype) defineAccessors((app as KoaAppLike).context);
  return withStats(engine, async function session(ctx: WithState, next: () => Promise<unknown>) {
    // Before anything is stored: without keys, the signed cookie could not be set afterwards.
    if (signed && ctx.app && !ctx.app.keys) {
      throw new TypeError(
        "The session cookie is signed with app.keys, which is not set: set app.keys = ['a secret'], " +
          "or pass signed: false",
      );
    }
    const request = await KoaRequest.open(ctx, config);
    Object.defineProperty(ctx, STATE, { value: request, configurable: true });
    if (!onPrototype) defineAccessors(ctx);
    try {
      await next();
    } catch (error) {
      // A handler that throws writes nothing (koa-session still commits): half-done work stays out of Redis.
      await request.abandon();
      throw error;
    }
    if (autoCommit) await request.commit();
    else await request.abandon();
  });
}

function isApp(value: unknown): value is KoaAppLike {
  return typeof value === "object" && value !== null && typeof (value as KoaAppLike).use === "function";
}

/** `ctx.session` and `ctx.sessionOptions`, reading the request's state. */
function defineAccessors(target: object): void {
  Object.defineProperties(target, {
    session: {
      configurable: true,
      get(this: WithState) {
        const request = this[STATE];
        return request === undefined || request.dropped
          ? (request ? null : undefined)
          : request.handle.session;
      },
      set(this: WithState, value: unknown) {
        const request = this[STATE];
        if (request === undefined) {
          throw new TypeError("ctx.session is ready once the session middleware has run: set it after that");
        }
        replaceSession(request, value);
      },
    },
    sessionOptions: {
      configurable: true,
      get(this: WithState) {
        return this[STATE]?.options;
      },
    },
  });
}

/** `ctx.session = value`: `null` destroys the session at the end of the request; an object replaces its data. */
function replaceSession(request: KoaRequest, value: unknown): void {
  if (value === null) {
    request.dropped = true;
    return;
  }
  if (typeof value !== "object" || value === undefined) {
    throw new TypeError("ctx.session can only be set to null or an object");
  }
  const session = request.handle.session;
  request.dropped = false;
  if (value === session) return;
  const data = { ...value } as Record<string, unknown>;
  for (const name of Object.keys(session)) delete session[name];
  for (const [name, item] of Object.entries(data)) {
    // koa-session assigns, so { maxAge } sets the session's life; the rest is data.
    if (name === "maxAge") session.maxAge = item as number;
    // Defined, not assigned: a property named "__proto__" (JSON from a user) is data, not the prototype.
    else {Object.defineProperty(session, name, {
        value: item,
        enumerable: true,
        writable: true,
        configurable: true,
      });}
  }
}
