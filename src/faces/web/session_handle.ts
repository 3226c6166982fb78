/**
 * One request's session for the faces that own their session object (Fastify,
 * Koa, Hono): loads it, hands the app a {@linkcode SmartSession}, and at the
 * end of the request commits only what changed, or touches (free when the load
 * renewed it), or leaves it destroyed. The change-tracking snapshot never
 * leaves this module, so no framework copy can lose it.
 * @module
 */

import type { SessionEngine } from "../../engine/engine.ts";
import type { DestroyUserOptions, UserSession } from "../../users/user_sessions.ts";
import type { Serializer, SessionRecord } from "../../options/store_options.ts";
import { attachSnapshot } from "../../engine/snapshot.ts";
import { clearData, copyData, dataChanged, define, fillData, lifeCookie } from "./session_data.ts";
import { bindSession, type SessionControls, SmartSession } from "./smart_session.ts";

/** What a handle needs besides the engine. */
export interface HandleSettings {
  /** The default cookie life in ms, `null` for a browser-session cookie. */
  maxAge: number | null;
  /** Store a new session even when the request put nothing in it. */
  saveUninitialized: boolean;
  /** Makes a new session id. */
  genid: () => string;
  /** The store's serializer, to tell whether the session changed. */
  serializer: Serializer;
}

/** What the face must do with the cookie at the end of the request. */
export type CookieAction = "set" | "clear" | "none";

/** The engine side of one request's session. */
export class SessionHandle implements SessionControls {
  /** The object the app sees. */
  readonly session: SmartSession;
  /** The current session id. */
  sid: string;
  /** Created by this request. */
  isNew: boolean;
  /** The cookie life in ms, or `null`. */
  maxAge: number | null;
  /**
   * When the face last sent the cookie with a lasting life (ms since the epoch), stored beside the
   * life when set, for faces that renew cookies (Koa's `renew`); `undefined` when not tracked.
   */
  cookieIssuedAt: number | undefined;
  /** The stored cookie as last loaded (a face restoring its cookie settings reads it); `undefined` when new. */
  loadedCookie: unknown;
  /**
   * Builds the stored cookie in place of `{ originalMaxAge, expires }` from {@linkcode maxAge}
   * (a face storing more of its cookie's settings sets it).
   */
  cookieRecord: (() => Record<string, unknown>) | undefined;
  #engine: SessionEngine;
  #settings: HandleSettings;
  /** Carries the snapshot of what Redis holds (loaded or last written); `undefined` while not stored. */
  #carrier: object | undefined;
  #storedMaxAge: number | null;
  #destroyed = false;
  #idChanged = false;
  #finished = false;
  /** Another request destroyed the session: this one's commit wrote nothing. */
  #ended = false;
  /** This request stored the session first, or forced a save: its cookie goes out at the end. */
  #cookieDue = false;

  private constructor(engine: SessionEngine, settings: HandleSettings, session: SmartSession, sid: string) {
    this.#engine = engine;
    this.#settings = settings;
    this.session = session;
    this.sid = sid;
    this.isNew = true;
    this.maxAge = this.#storedMaxAge = settings.maxAge;
    bindSession(session, this);
  }

  /**
   * Loads the session of a request.
   * @param engine The engine.
   * @param settings Cookie life, saving rule, id maker, serializer.
   * @param sid The id from the request's cookie, if it had a valid one.
   * @param session The object to fill (a {@linkcode SmartSession} or a subclass).
   * @returns The handle; a new empty session when there was none to load.
   */
  static async open(
    engine: SessionEngine,
    settings: HandleSettings,
    sid: string | undefined,
    session: SmartSession = new SmartSession(),
  ): Promise<SessionHandle> {
    const handle = new SessionHandle(engine, settings, session, sid ?? settings.genid());
    if (sid !== undefined && !await handle.#load()) handle.#startNew(false);
    return handle;
  }

  /** Loads `sid`; false when there is nothing (or nothing readable) to load. */
  async #load(): Promise<boolean> {
    let record: SessionRecord | null;
    try {
      record = await this.#engine.load(this.sid);
    } catch (error) {
      if ((error as { code?: unknown })?.code === "ENOENT") return false;
      throw error;
    }
    if (!record) return false;
    fillData(this.session, record);
    const cookie = record.cookie as { originalMaxAge?: unknown; issuedAt?: unknown } | undefined;
    const stored = cookie?.originalMaxAge;
    this.cookieIssuedAt = typeof cookie?.issuedAt === "number" ? cookie.issuedAt : undefined;
    this.maxAge = this.#storedMaxAge = typeof stored === "number" || stored === null
      ? stored
      : this.#settings.maxAge;
    this.#carrier = record;
    this.loadedCookie = record.cookie;
    this.isNew = false;
    return true;
  }

  #startNew(idChanged: boolean): void {
    // The id first: a generator reading the request's session sees the one being replaced.
    const sid = this.#settings.genid();
    clearData(this.session);
    this.sid = sid;
    this.loadedCookie = undefined;
    this.isNew = true;
    this.#carrier = undefined;
    this.#idChanged = idChanged;
    this.#ended = false;
    this.cookieIssuedAt = undefined;
    this.maxAge = this.#storedMaxAge = this.#settings.maxAge;
  }

  /** Whether the data differ from what Redis holds (or, for a new session, whether there are any). */
  #changed(): boolean {
    const snapshot = this.#carrier && this.#engine.snapshotOf(this.#carrier, this.sid);
    return dataChanged(this.sid, this.session, this.#settings.serializer, snapshot);
  }

  /** The session as the engine stores it: the data plus a cookie holding the life. */
  #record(): SessionRecord {
    const record = copyData(this.session);
    record.cookie = this.cookieRecord?.() ?? lifeCookie(this.maxAge, this.cookieIssuedAt);
    const snapshot = this.#carrier && this.#engine.snapshotOf(this.#carrier, this.sid);
    if (snapshot) attachSnapshot(record, snapshot);
    return record;
  }

  async #commit(): Promise<void> {
    if (!this.#carrier) this.#cookieDue = true;
    const record = this.#record();
    await this.#engine.commit(this.sid, record);
    // Destroyed meanwhile (a logout, or a login's regenerate() in another request): nothing was
    // written, and sending this id's cookie again could replace the browser's newer one.
    if (this.#engine.snapshotOf(record, this.sid)?.ended) this.#ended = true;
    this.#carrier = record;
    this.#storedMaxAge = this.maxAge;
    // A merge with another request's commit may have changed values: show them.
    fillData(this.session, record);
  }

  /** Whether the data differ from what Redis holds (for a session never stored: whether it has any). */
  get modified(): boolean {
    return this.#changed();
  }

  /**
   * Writes the changes now.
   * @param options `force`: write the session (its cookie's life included) and send its cookie even when
   * nothing changed, as koa-session's `save()` does.
   */
  async save(options?: { force?: boolean }): Promise<void> {
    this.#checkOpen();
    const force = options?.force === true;
    if (this.#changed() || !this.#carrier || force) await this.#commit();
    else if (this.maxAge !== this.#storedMaxAge) await this.#touch();
    if (force) this.#cookieDue = true;
  }

  async #touch(): Promise<void> {
    const record = this.#record();
    await this.#engine.touch(this.sid, record);
    if (this.#engine.snapshotOf(record, this.sid)?.ended) this.#ended = true; // as in #commit
    this.#storedMaxAge = this.maxAge;
  }

  /** Destroys the session. */
  async destroy(): Promise<void> {
    this.#checkOpen();
    const stored = this.#carrier !== undefined;
    if (this.#carrier) this.#engine.forgetLock(this.sid, this.#carrier);
    const sid = this.sid;
    this.#carrier = undefined;
    this.#destroyed = true;
    clearData(this.session);
    // A session never stored has nothing to destroy (and a tombstone for it would cost a write).
    if (stored) await this.#engine.destroy(sid);
  }

  /**
   * Destroys the session and starts a new one under a new id.
   * @param keepData Carry the data over to the new id (koa-session's `regenerate()`); left out, it starts empty.
   */
  async regenerate(keepData = false): Promise<void> {
    this.#checkOpen();
    const old = this.#carrier ? this.sid : undefined;
    const kept = keepData ? Object.entries(this.session) : [];
    if (this.#carrier) this.#engine.forgetLock(this.sid, this.#carrier);
    this.#startNew(true);
    for (const [name, value] of kept) define(this.session, name, value);
    this.#destroyed = false;
    if (old !== undefined) await this.#engine.destroy(old);
  }

  /** Sessions per user: a user's live sessions (the engine's, not tied to this request). */
  sessionsOf(user: string | number): Promise<UserSession[]> {
    return this.#engine.sessionsOf(user);
  }

  /** Sessions per user: destroys a user's live sessions but `except`. */
  destroyUser(user: string | number, options?: DestroyUserOptions): Promise<number> {
    return this.#engine.destroyUser(user, options);
  }

  /** Loads the session again (in lock mode, gives the lock up first so the load does not wait for itself). */
  async reload(): Promise<void> {
    this.#checkOpen();
    // Never stored: there is nothing to load, and the unsaved changes are dropped all the same.
    if (!this.#carrier) return clearData(this.session);
    await this.#engine.release(this.sid, this.#carrier);
    if (!await this.#load()) this.#startNew(true);
  }

  #checkOpen(): void {
    if (this.#finished) {
      throw new TypeError("The session's request has ended: use the session only while handling its request");
    }
  }

  /**
   * Ends the request's use of the session: commits the changed properties, or
   * touches the session (free when its load renewed it; in lock mode, gives the lock up).
   * @returns What to do with the cookie: send it (a new or re-timed session), clear it, or nothing.
   */
  async finish(): Promise<CookieAction> {
    if (this.#finished) return "none";
    this.#finished = true;
    if (this.#destroyed) return "clear";
    try {
      return await this.#write();
    } catch (error) {
      // In lock mode, a request whose write failed must not keep others waiting for lockExpiry.
      if (this.#carrier) await this.#engine.release(this.sid, this.#carrier).catch(() => {});
      throw error;
    }
  }

  async #write(): Promise<CookieAction> {
    if (!this.#carrier) {
      const populated = Object.keys(this.session).length > 0;
      if (!populated && !this.#settings.saveUninitialized) return this.#idChanged ? "clear" : "none";
      await this.#commit();
      return "set";
    }
    const retimed = this.maxAge !== this.#storedMaxAge;
    const changed = this.#changed();
    if (changed) await this.#commit();
    else await this.#touch();
    if (this.#ended) return "none";
    // As express-session does: a changed session with a lasting cookie gets its cookie again, so the
    // browser keeps it as long as Redis keeps the session (and it is signed with the current secret).
    return retimed || this.#idChanged || this.#cookieDue || (changed && this.maxAge !== null)
      ? "set"
      : "none";
  }

  /** For a request that ended without {@linkcode finish} (aborted): gives up its lock, if it holds one. */
  async abandon(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#carrier) await this.#engine.release(this.sid, this.#carrier);
  }

  /** Whether the data differ from what Redis holds (for a new session: whether there are any). */
  get changed(): boolean {
    return !this.#destroyed && this.#changed();
  }

  /** Whether the session is stored (loaded or written), so a rolling cookie may be re-sent. */
  get stored(): boolean {
    return this.#carrier !== undefined && !this.#destroyed && !this.#ended;
  }
}
