/**
 * `request.session` under the Fastify face: the data as own properties, and
 * `@fastify/session`'s members on the prototype (`sessionId`,
 * `encryptedSessionId`, `cookie`, `get`, `set`, `touch`, `options`,
 * `isModified`, `isSaved`, and `save`, `destroy`, `regenerate`, `reload` with a
 * callback or a Promise).
 * @module
 */

import { type Callback, settle } from "../callbacks.ts";
import type { SessionHandle } from "../web/session_handle.ts";
import { SmartSession } from "../web/smart_session.ts";
import { type CookieSource, type FastifyCookieOptions, SessionCookie } from "./session_cookie.ts";
import type { CookieSigner } from "./session_signer.ts";

/** `@fastify/session`'s callback style: called once the operation is done, with its error if it failed. */
export type FastifySessionCallback = (error?: Error | null) => void;

/** What a Fastify session needs besides its handle's data. */
export interface FastifySessionState {
  /** The object whose `session` property the session is (the request, or `decryptSession`'s object). */
  holder: { session?: unknown };
  /** The engine side of the session. */
  handle: SessionHandle;
  /** The cookie settings of this session: the options, a stored session's, `options()`'s. */
  cookieOptions: CookieSource;
  /** The cookie. */
  cookie: SessionCookie;
  /** Whether the request came over HTTPS. */
  https: boolean;
  /** The cookie signer. */
  signer: CookieSigner;
  /** Whether `save()` succeeded in this request. */
  saved: boolean;
}

const states = new WeakMap<FastifySmartSession, FastifySessionState>();

/**
 * Ties a session to its state (the face's own use).
 * @param session The session.
 * @param state Its state.
 */
export function attachState(session: FastifySmartSession, state: FastifySessionState): void {
  states.set(session, state);
  state.handle.cookieRecord = () => storedCookie(state);
}

/**
 * The state of a session (the face's own use).
 * @param session The session.
 * @returns Its state.
 */
export function stateOf(session: FastifySmartSession): FastifySessionState {
  const state = states.get(session);
  if (!state) throw new TypeError("This method must be called on a session the middleware created");
  return state;
}

/**
 * Makes the handle's cookie life that of the cookie (which the app may have changed).
 * @param state The session's state.
 */
export function syncLife(state: FastifySessionState): void {
  const maxAge = state.cookie.originalMaxAge;
  state.handle.maxAge = typeof maxAge === "number" && maxAge > 0 && Number.isFinite(maxAge) ? maxAge : null;
}

/** The cookie as stored: its settings, with an expiry a new write starts from now. */
function storedCookie(state: FastifySessionState): Record<string, unknown> {
  const json = state.cookie.toJSON() as unknown as Record<string, unknown>;
  const maxAge = state.handle.maxAge;
  if (maxAge !== null) json.expires = new Date(Date.now() + maxAge);
  return json;
}

/**
 * A stored session's cookie over the options, as `@fastify/session` restores one: the
 * settings for `options()` and `regenerate()`, and the source of this request's cookie.
 * @param options The `cookie` option.
 * @param stored The cookie stored with the session, if any.
 * @returns The session's cookie settings and the source of its cookie.
 */
export function restoredCookie(
  options: CookieSource,
  stored: unknown,
): { cookieOptions: CookieSource; source: CookieSource } {
  if (typeof stored !== "object" || stored === null) {
    return { cookieOptions: { ...options }, source: options };
  }
  const source: CookieSource = { ...options, ...stored as CookieSource };
  // A maxAge cookie's expiry is worked out again from maxAge: the one loaded (the session's end in
  // Redis) is no setting to keep (kept, it would change at every load, and cost a write).
  if (typeof source.originalMaxAge === "number" && source.originalMaxAge > 0) delete source.expires;
  const cookieOptions: CookieSource = { ...source };
  if (cookieOptions.originalMaxAge != null) cookieOptions.maxAge = cookieOptions.originalMaxAge;
  if (cookieOptions.expires && cookieOptions.originalMaxAge == null) {
    const expires = new Date(cookieOptions.expires as string);
    if (Number.isNaN(expires.getTime()) || expires.getTime() <= Date.now()) delete cookieOptions.expires;
  }
  delete cookieOptions.originalMaxAge;
  delete cookieOptions.originalExpires;
  return { cookieOptions, source };
}

/**
 * `request.session` under the Fastify face.
 * TypeScript apps declare it (JSR packages may not augment another module's types):
 * `declare module "fastify" { interface FastifyRequest { session: FastifySmartSession } }`.
 */
export class FastifySmartSession extends SmartSession {
  /** The session id (as `@fastify/session` names it). */
  get sessionId(): string {
    return this.id;
  }

  /** The session id signed, as the cookie carries it (without `cookiePrefix`). */
  get encryptedSessionId(): string {
    return stateOf(this).signer.sign(this.id);
  }

  /** The cookie: `maxAge`, `expires`, `originalMaxAge`, `path`, `domain`, `secure`, `sameSite`, `httpOnly`. */
  get cookie(): SessionCookie {
    return stateOf(this).cookie;
  }

  /** The cookie's life in ms as set (`cookie.originalMaxAge`); `null` until the browser closes. */
  override get maxAge(): number | null {
    return this.cookie.originalMaxAge;
  }

  override set maxAge(value: number | null) {
    this.cookie.maxAge = value;
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

  /** Starts the cookie's `maxAge` again from now (nothing changes for a cookie without one). */
  touch(): void {
    const cookie = this.cookie;
    if (cookie.originalMaxAge) cookie.expires = new Date(Date.now() + cookie.originalMaxAge);
  }

  /**
   * Changes this session's cookie settings (`maxAge`, `path`, `secure`...); they are stored with it.
   * @param options The settings to change.
   */
  options(options: FastifyCookieOptions): void {
    const state = stateOf(this);
    if (Object.keys(options ?? {}).length === 0) return;
    state.cookieOptions = { ...state.cookieOptions, ...options };
    state.cookie = new SessionCookie(state.cookieOptions, state.https);
  }

  /**
   * Whether the data differ from what was loaded or last saved.
   * @returns True when a save would write.
   */
  isModified(): boolean {
    return stateOf(this).handle.modified;
  }

  /**
   * Whether `save()` succeeded during this request.
   * @returns True once saved.
   */
  isSaved(): boolean {
    return stateOf(this).saved;
  }

  /**
   * Destroys the session and starts a new one under a new id, keeping the given properties
   * and this session's cookie settings.
   * @param keys The properties to carry over.
   * @param callback Called once done (or failed), instead of the Promise settling.
   * @returns Resolves once the old session is destroyed.
   */
  override regenerate(
    keys?: string[] | FastifySessionCallback,
    callback?: FastifySessionCallback,
  ): Promise<void> {
    if (typeof keys === "function") return this.regenerate([], keys);
    const state = stateOf(this);
    const kept = (keys ?? []).filter((key) => Object.hasOwn(this, key)).map((key) =>
      [key, this[key]] as const
    );
    return settle(
      super.regenerate().then(() => {
        for (const [key, value] of kept) this.set(key, value);
        state.cookie = new SessionCookie(state.cookieOptions, state.https);
        state.saved = false;
      }),
      callback as Callback<void> | undefined,
    );
  }

  /**
   * Writes the changes now.
   * @param callback Called once done (or failed), instead of the Promise settling.
   * @returns Resolves once written.
   */
  override save(callback?: FastifySessionCallback): Promise<void> {
    const state = stateOf(this);
    syncLife(state);
    return settle(
      super.save().then(() => {
        state.saved = true;
      }),
      callback as Callback<void> | undefined,
    );
  }

  /**
   * Destroys the session (requests already in flight cannot bring it back); `request.session`
   * is `null` afterwards.
   * @param callback Called once done (or failed), instead of the Promise settling.
   * @returns Resolves once destroyed.
   */
  override destroy(callback?: FastifySessionCallback): Promise<void> {
    const state = stateOf(this);
    const done = super.destroy().finally(() => {
      state.holder.session = null;
    });
    return settle(done, callback as Callback<void> | undefined);
  }

  /**
   * Loads the session again from Redis, dropping unsaved changes (all of them for a session never saved).
   * @param callback Called once done (or failed), instead of the Promise settling.
   * @returns Resolves once loaded.
   */
  override reload(callback?: FastifySessionCallback): Promise<void> {
    const state = stateOf(this);
    const done = super.reload().then(() => {
      const loaded = state.handle.loadedCookie;
      if (loaded === undefined) return;
      const { cookieOptions, source } = restoredCookie(state.cookieOptions, loaded);
      state.cookieOptions = cookieOptions;
      state.cookie = new SessionCookie(source, state.https);
    });
    return settle(done, callback as Callback<void> | undefined);
  }
}
