/**
 * The Fastify face: a session plugin with `@fastify/session`'s options,
 * decorators and request API, owning the session object, so that every
 * guarantee holds (`@fastify/session` copies what a store loads into an object
 * of its own, and the store can no longer tell what changed).
 * @module
 */

import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from "fastify";
import { type Callback, settle } from "../callbacks.ts";
import type { SmartRedisStoreOptions } from "../../options/store_options.ts";
import { readCookie } from "../web/cookies.ts";
import { checkedId, faceSetup } from "../web/face_engine.ts";
import { type HandleSettings, SessionHandle } from "../web/session_handle.ts";
import { attachState, FastifySmartSession, restoredCookie, stateOf, syncLife } from "./fastify_session.ts";
import {
  clearCookieHeader,
  type CookieSource,
  type FastifyCookieOptions,
  SessionCookie,
  sessionCookieHeader,
} from "./session_cookie.ts";
import { type CookieSigner, signerOf } from "./session_signer.ts";
import { storeView } from "./session_store_view.ts";

/** Options of {@linkcode smartRedisSession} for Fastify: the store's, plus `@fastify/session`'s. */
export interface FastifySessionOptions extends SmartRedisStoreOptions {
  /**
   * The secret signing the cookie (at least 32 characters), or several (the first signs, all
   * verify), or a signer object with `sign` and `unsign` (such as `@fastify/cookie`'s `Signer`).
   */
  secret: string | string[] | CookieSigner;
  /**
   * The HMAC digest signing the cookie when `secret` is a string or an array.
   * @default {"sha256"}
   */
  algorithm?: string;
  /**
   * The cookie's name.
   * @default {"sessionId"}
   */
  cookieName?: string;
  /**
   * The cookie's attributes; `maxAge` (ms) or `expires` is also the session's life in Redis.
   * @default {{ secure: true }}
   */
  cookie?: FastifyCookieOptions;
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
   * Prepended to the signed id in the cookie value (`"s:"` reads express-session's cookies).
   * @default {""}
   */
  cookiePrefix?: string;
  /**
   * Makes a new session id; called with the request (whose `session` is, at `regenerate()`,
   * the session being replaced).
   * @default {24 random bytes, base64url}
   */
  idGenerator?: (request?: FastifyRequest) => string;
}

const OWN = [
  "secret",
  "algorithm",
  "cookieName",
  "cookie",
  "rolling",
  "saveUninitialized",
  "cookiePrefix",
  "idGenerator",
];

/**
 * `fastify.decryptSession`: loads the session a signed id names onto any object, as its
 * `session` (a new one when the id names none). Given a request being handled, the session
 * replaces the request's; on any other object it is written only by its `save()`.
 */
export type DecryptSession = (
  signedId: string,
  holder: { session?: unknown },
  cookieOptions?: FastifyCookieOptions | Callback<void>,
  callback?: Callback<void>,
) => Promise<void>;

/** Whether the cookie's path covers the request's (`@fastify/session`'s rule; no session outside). */
function withinPath(url: string, cookiePath: string): boolean {
  const path = url.split("?", 1)[0];
  if (path === cookiePath) return true;
  if (!path.startsWith(cookiePath) || path.length <= cookiePath.length) return false;
  return path[cookiePath.length] === "/" || cookiePath.endsWith("/");
}

const handles = new WeakMap<object, SessionHandle>();
/** The requests whose onSend hook is under way. */
const sending = new WeakSet<object>();

function plugin(
  fastify: Parameters<FastifyPluginCallback<FastifySessionOptions>>[0],
  options: FastifySessionOptions,
  done: (error?: Error) => void,
): void {
  const checked = signerOf(options?.secret, options?.algorithm ?? "sha256");
  if (checked instanceof Error) return done(checked);
  const signer: CookieSigner = checked;
  const cookieOptions: CookieSource = { ...options.cookie, secure: options.cookie?.secure ?? true };
  const cookieName = options.cookieName || "sessionId";
  const prefix = options.cookiePrefix ?? "";
  const rolling = options.rolling ?? true;
  const saveUninitialized = options.saveUninitialized ?? true;
  const generate = options.idGenerator;
  if (generate !== undefined && typeof generate !== "function") {
    return done(new TypeError('Option "idGenerator" must be a function returning a new session id'));
  }
  let setup;
  try {
    setup = faceSetup(options, OWN, { maxAge: cookieOptions.maxAge ?? null, saveUninitialized });
  } catch (error) {
    return done(error as Error);
  }
  const { engine, settings } = setup;
  const store = storeView(engine);

  /** The signed id in the request's cookie, without the prefix; `undefined` when there is none. */
  function cookieValue(request: FastifyRequest): string | undefined {
    const value = readCookie(request.headers.cookie, cookieName);
    return value?.startsWith(prefix) && value.length > prefix.length ? value.slice(prefix.length) : undefined;
  }

  function settingsFor(request: object): HandleSettings {
    return generate ? { ...settings, genid: () => checkedId(generate(request as FastifyRequest)) } : settings;
  }

  /** Loads the session a signed id names (a new one when none) as `holder.session`. */
  async function open(
    holder: { session?: unknown },
    signed: string | undefined,
    https: boolean,
    cookie: CookieSource,
  ): Promise<SessionHandle> {
    const unsigned = signed === undefined ? undefined : signer.unsign(signed);
    const sid = unsigned?.valid && typeof unsigned.value === "string" ? unsigned.value : undefined;
    holder.session = {}; // as @fastify/session: what an id generator sees for a new session
    const session = new FastifySmartSession();
    const handle = await SessionHandle.open(engine, settingsFor(holder), sid, session);
    const restored = restoredCookie(cookie, handle.loadedCookie);
    attachState(session, {
      holder,
      handle,
      cookieOptions: restored.cookieOptions,
      cookie: new SessionCookie(restored.source, https),
      https,
      signer,
      saved: false,
    });
    holder.session = session;
    const earlier = handles.get(holder);
    handles.set(holder, handle);
    await earlier?.abandon();
    return handle;
  }

  const decryptSession: DecryptSession = (signedId, holder, cookie, callback) => {
    if (typeof cookie === "function") return decryptSession(signedId, holder, {}, cookie);
    const https = (holder as { protocol?: unknown }).protocol === "https";
    return settle(open(holder, signedId, https, { ...cookieOptions, ...cookie }).then(() => {}), callback);
  };
  fastify.decorate("decryptSession", decryptSession);
  // Typed by the app (another package may declare sessionStore on FastifyRequest differently).
  fastify.decorateRequest("sessionStore", { getter: () => store as never });
  fastify.decorateRequest("session", null as never);
  fastify.addHook("onRequest", async (request) => {
    (request as { session?: unknown }).session = {};
    // Outside the cookie's path the browser sends no cookie: no session, so none is made to
    // replace the one it holds for that path (request.session stays {}, as @fastify/session).
    if (!withinPath(request.raw.url ?? "/", cookieOptions.path || "/")) return;
    await open(
      request as { session?: unknown },
      cookieValue(request),
      request.protocol === "https",
      cookieOptions,
    );
  });
  fastify.addHook("onSend", (request, reply, _payload, next) => {
    const handle = handles.get(request);
    if (!handle) return next();
    // An async handler that calls reply.send() without returning the reply is sent a second
    // time by Fastify once it resolves, while this hook still waits on Redis: that second send
    // is left waiting forever (never written), so the response is the first send's, as with
    // @fastify/session and an in-memory store.
    if (sending.has(request)) return;
    sending.add(request);
    // Cleared before next(): a failure makes Fastify send the error at once, through this hook.
    finish(request, reply, handle).then(
      () => (sending.delete(request), next()),
      (error) => (sending.delete(request), next(error)),
    );
  });

  async function finish(request: FastifyRequest, reply: FastifyReply, handle: SessionHandle): Promise<void> {
    const state = stateOf(handle.session as FastifySmartSession);
    const value = cookieValue(request);
    syncLife(state);
    const stale = value !== undefined && value !== signer.sign(handle.sid);
    if (state.holder.session === null) { // destroyed
      if (await handle.finish() === "clear" && value !== undefined) clearCookie(reply, state.cookie);
      return;
    }
    const save = handle.isNew ? saveUninitialized || handle.modified : rolling || handle.modified;
    // A Secure cookie cannot reach a browser over plain HTTP: as @fastify/session, store
    // nothing (else every request would leave a new session behind).
    const insecure = state.cookie.secure === true && request.protocol !== "https";
    if (insecure || !save) {
      const action = insecure ? (await handle.abandon(), "none") : await handle.finish();
      if ((state.saved || action === "set" || (stale && !handle.isNew)) && handle.stored) {
        setCookie(reply, handle, state.cookie);
      } else if (stale) clearCookie(reply, state.cookie);
      return;
    }
    const action = await handle.finish();
    if (handle.stored) setCookie(reply, handle, state.cookie);
    else if (action === "clear" || stale) clearCookie(reply, state.cookie);
  }
  // A request that ended without going through onSend gives up its lock. Not at onRequestAbort:
  // the handler may still be running then, and its changes are committed when it sends.
  fastify.addHook("onResponse", async (request) => {
    await handles.get(request)?.abandon();
  });

  function setCookie(reply: FastifyReply, handle: SessionHandle, cookie: SessionCookie): void {
    appendCookie(reply, sessionCookieHeader(cookieName, prefix + signer.sign(handle.sid), cookie));
  }

  function clearCookie(reply: FastifyReply, cookie: SessionCookie): void {
    appendCookie(reply, clearCookieHeader(cookieName, { domain: cookie.domain, path: cookieOptions.path }));
  }
  done();
}

function appendCookie(reply: FastifyReply, header: string): void {
  const existing = reply.getHeader("set-cookie");
  if (existing === undefined) return void reply.header("set-cookie", header);
  reply.header("set-cookie", [...Array.isArray(existing) ? existing : [String(existing)], header]);
}

// Like fastify-plugin: not encapsulated, so `request.session` reaches every route.
Object.assign(plugin, {
  [Symbol.for("skip-override")]: true,
  [Symbol.for("fastify.display-name")]: "connect-smart-redis",
  [Symbol.for("plugin-meta")]: { name: "connect-smart-redis", fastify: "5.x" },
});

/**
 * A Fastify session plugin on Redis, with `@fastify/session`'s options,
 * `request.session` API (`get`, `set`, `save`, `destroy`, `regenerate`,
 * `reload`, `touch`, `options`, `isModified`, `isSaved`, `sessionId`,
 * `encryptedSessionId`, `cookie`), `request.sessionStore` and
 * `fastify.decryptSession`, that writes only what a request changed, merges
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
