/**
 * The Fastify face: a session plugin with `@fastify/session`'s options and
 * request API, owning the session object, so that every guarantee holds
 * (`@fastify/session` copies what a store loads into an object of its own, and
 * the store can no longer tell what changed).
 * @module
 */

import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from "fastify";
import { type Callback, settle } from "./callbacks.ts";
import type { SmartRedisStoreOptions } from "../options/options.ts";
import { type CookieOptions, readCookie, serializeCookie, sign, unsign } from "./web/cookies.ts";
import { faceSetup } from "./web/face_engine.ts";
import { type CookieAction, SessionHandle } from "./web/session_handle.ts";
import { SmartSession } from "./web/smart_session.ts";

/** Options of {@linkcode smartRedisSession} for Fastify: the store's, plus `@fastify/session`'s. */
export interface FastifySessionOptions extends SmartRedisStoreOptions {
  /** The secret signing the cookie (at least 32 characters), or several: the first signs, all verify. */
  secret: string | string[];
  /**
   * The cookie's name.
   * @default {"sessionId"}
   */
  cookieName?: string;
  /**
   * The cookie's attributes; `maxAge` (ms) is also the session's life in Redis.
   * @default {{ secure: true, maxAge: null }}
   */
  cookie?: CookieOptions;
  /**
   * Send the cookie again on every response (its expiry moves with the session's).
   * @default {true}
   */
  rolling?: boolean;
  /**
   * Store a new session even when the request put nothing in it.
   * @default {true}
   */
  saveUninitialized?: boolean;
  /**
   * Prepended to the signed id in the cookie value.
   * @default {""}
   */
  cookiePrefix?: string;
  /**
   * Makes a new session id.
   * @default {24 random bytes, base64url}
   */
  idGenerator?: () => string;
}

const OWN = ["secret", "cookieName", "cookie", "rolling", "saveUninitialized", "cookiePrefix", "idGenerator"];

/**
 * `request.session` under {@linkcode smartRedisSession}: the data, plus `@fastify/session`'s methods.
 * TypeScript apps declare it (JSR packages may not augment another module's types):
 * `declare module "fastify" { interface FastifyRequest { session: FastifySmartSession } }`.
 */
export class FastifySmartSession extends SmartSession {
  /** The session id (as `@fastify/session` names it). */
  get sessionId(): string {
    return this.id;
  }

  /**
   * Reads a property.
   * @param key The property name.
   * @returns Its value.
   */
  get<T = unknown>(key: string): T {
    return this[key] as T;
  }

  /**
   * Sets a property.
   * @param key The property name.
   * @param value Its value.
   */
  set(key: string, value: unknown): void {
    // Defined, not assigned: a key named "__proto__" is data, never the prototype.
    Object.defineProperty(this, key, { value, enumerable: true, writable: true, configurable: true });
  }

  /**
   * Destroys the session and starts a new one under a new id, keeping the given properties.
   * As with `@fastify/session`, a callback may take the place of the Promise.
   * @param keys The properties to carry over.
   * @param callback Called once done (or failed), instead of the Promise settling.
   * @returns Resolves once the old session is destroyed.
   */
  override regenerate(
    keys?: string[] | FastifySessionCallback,
    callback?: FastifySessionCallback,
  ): Promise<void> {
    if (typeof keys === "function") return this.regenerate([], keys);
    const kept = (keys ?? []).filter((key) => Object.hasOwn(this, key)).map((key) =>
      [key, this[key]] as const
    );
    return settle(
      super.regenerate().then(() => {
        for (const [key, value] of kept) this[key] = value;
      }),
      callback as Callback<void> | undefined,
    );
  }

  /**
   * Writes the changes now.
   * @param callback Called once done (or failed), instead of the Promise settling.
   */
  override save(callback?: FastifySessionCallback): Promise<void> {
    return settle(super.save(), callback as Callback<void> | undefined);
  }

  /**
   * Destroys the session; requests already in flight cannot bring it back.
   * @param callback Called once done (or failed), instead of the Promise settling.
   */
  override destroy(callback?: FastifySessionCallback): Promise<void> {
    return settle(super.destroy(), callback as Callback<void> | undefined);
  }

  /**
   * Loads the session again from Redis, dropping unsaved changes.
   * @param callback Called once done (or failed), instead of the Promise settling.
   */
  override reload(callback?: FastifySessionCallback): Promise<void> {
    return settle(super.reload(), callback as Callback<void> | undefined);
  }
}

/** `@fastify/session`'s callback style: called once the operation is done, with its error if it failed. */
export type FastifySessionCallback = (error?: Error) => void;

/** Whether the cookie's path covers the request's (`@fastify/session`'s rule; no session outside). */
function withinPath(url: string, cookiePath: string): boolean {
  const path = url.split("?", 1)[0];
  if (path === cookiePath) return true;
  if (!path.startsWith(cookiePath) || path.length <= cookiePath.length) return false;
  return path[cookiePath.length] === "/" || cookiePath.endsWith("/");
}

const handles = new WeakMap<FastifyRequest, SessionHandle>();

function plugin(
  fastify: Parameters<FastifyPluginCallback<FastifySessionOptions>>[0],
  options: FastifySessionOptions,
  done: (error?: Error) => void,
): void {
  const secrets = typeof options?.secret === "string" ? [options.secret] : options?.secret;
  if (
    !Array.isArray(secrets) || secrets.length === 0 || secrets.some((s) => typeof s !== "string" || s === "")
  ) {
    return done(new TypeError('Option "secret" is required: a string of 32 characters or more, or an array'));
  }
  if (typeof options.secret === "string" && options.secret.length < 32) {
    return done(new RangeError('Option "secret" must have 32 characters or more'));
  }
  const cookie: CookieOptions = { secure: true, maxAge: null, ...options.cookie };
  const cookieName = options.cookieName ?? "sessionId";
  const prefix = options.cookiePrefix ?? "";
  const rolling = options.rolling ?? true;
  const generate = options.idGenerator;
  const { engine, settings } = faceSetup(options, OWN, {
    maxAge: cookie.maxAge ?? null,
    saveUninitialized: options.saveUninitialized ?? true,
    genid: generate ? () => generate() : undefined,
  });

  fastify.decorateRequest("session", null as never);
  fastify.addHook("onRequest", async (request) => {
    // Outside the cookie's path the browser sends no cookie: no session, so none is made to
    // replace the one it holds for that path.
    if (!withinPath(request.raw.url ?? "/", cookie.path ?? "/")) {
      (request as { session?: object }).session = {}; // as @fastify/session: shared hooks may read it
      return;
    }
    const value = readCookie(request.headers.cookie, cookieName);
    const sid = value?.startsWith(prefix) ? unsign(value.slice(prefix.length), secrets) : undefined;
    const handle = await SessionHandle.open(engine, settings, sid, new FastifySmartSession());
    handles.set(request, handle);
    (request as { session?: SmartSession }).session = handle.session;
  });
  fastify.addHook("onSend", async (request, reply) => {
    const handle = handles.get(request);
    if (!handle) return;
    // A Secure cookie cannot reach a browser over plain HTTP: as @fastify/session, store
    // nothing and send nothing (else every request would leave a new session behind).
    if (cookie.secure === true && request.protocol !== "https") return await handle.abandon();
    const action = await handle.finish();
    writeCookie(reply, request, handle, action === "none" && rolling && handle.stored ? "set" : action);
  });
  // A request that ended without going through onSend gives up its lock. Not at onRequestAbort:
  // the handler may still be running then, and its changes are committed when it sends.
  fastify.addHook("onResponse", async (request) => {
    await handles.get(request)?.abandon();
  });

  function writeCookie(
    reply: FastifyReply,
    request: FastifyRequest,
    handle: SessionHandle,
    action: CookieAction,
  ) {
    if (action === "none") return;
    const https = request.protocol === "https";
    const header = action === "clear"
      ? serializeCookie(cookieName, "", { ...cookie, maxAge: 0 }, https)
      : serializeCookie(cookieName, prefix + sign(handle.sid, secrets![0]), {
        ...cookie,
        maxAge: handle.maxAge,
      }, https);
    const existing = reply.getHeader("set-cookie");
    const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
    reply.header("set-cookie", [...list, header]);
  }
  done();
}

// Like fastify-plugin: not encapsulated, so `request.session` reaches every route.
Object.assign(plugin, {
  [Symbol.for("skip-override")]: true,
  [Symbol.for("fastify.display-name")]: "connect-smart-redis",
  [Symbol.for("plugin-meta")]: { name: "connect-smart-redis", fastify: "5.x" },
});

/**
 * A Fastify session plugin on Redis, with `@fastify/session`'s options and
 * `request.session` API (`get`, `set`, `save`, `destroy`, `regenerate`,
 * `reload`, `sessionId`), that writes only what a request changed, merges
 * parallel requests' changes, keeps destroyed sessions destroyed, and costs one
 * round trip for a request that only reads its session, `rolling` or not. No
 * `@fastify/cookie` or `@fastify/session` needed.
 *
 * @example Register it
 * ```ts ignore
 * import Fastify from "fastify";
 * import { createClient } from "redis";
 * import { smartRedisSession } from "connect-smart-redis/fastify";
 *
 * const app = Fastify();
 * await app.register(smartRedisSession, {
 *   client: createClient(),
 *   secret: "a secret with at least 32 characters",
 *   cookie: { secure: "auto", maxAge: 24 * 3600 * 1000 },
 * });
 * app.get("/", async (request) => {
 *   request.session.visits = ((request.session.visits as number) ?? 0) + 1;
 *   return `visits: ${request.session.visits}`;
 * });
 * ```
 */
export const smartRedisSession: FastifyPluginCallback<FastifySessionOptions> = plugin;
