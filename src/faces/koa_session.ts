/**
 * `ctx.session` of the Koa face: a {@linkcode SmartSession} with koa-session's
 * session API on top (`save`, `regenerate`, `manuallyCommit`, `length`,
 * `populated`, `externalKey`, `toJSON`), acting through the request's state.
 * @module
 */

import { type Callback, settle } from "./callbacks.ts";
import { SmartSession } from "./web/smart_session.ts";

/** What the Koa session's own methods act on: the middleware's state of the request. */
export interface KoaSessionControls {
  /** Writes the session now even when nothing changed, and puts its cookie on the response. */
  save(): Promise<void>;
  /** Moves the session to a new id, keeping its content, and writes it. */
  regenerate(): Promise<void>;
  /** The end-of-request commit (once). */
  commit(): Promise<void>;
  /** A changed life makes the end-of-request commit write the session. */
  requireSave(): void;
}

const controls = new WeakMap<KoaSmartSession, KoaSessionControls>();

/**
 * Ties a Koa session to its request's state.
 * @param session The session.
 * @param state The request's state.
 */
export function bindKoaSession(session: KoaSmartSession, state: KoaSessionControls): void {
  controls.set(session, state);
}

function controlsOf(session: KoaSmartSession): KoaSessionControls {
  const state = controls.get(session);
  if (!state) throw new TypeError("This method must be called on a session the middleware created");
  return state;
}

/** A node-style callback as koa-session's methods take it. */
export type KoaSessionCallback = (error?: unknown) => void;

function settleKoa(work: Promise<void>, callback?: KoaSessionCallback): Promise<void> {
  const adapted = typeof callback === "function"
    ? ((error: unknown) => error ? callback(error) : callback()) as Callback<void>
    : undefined;
  return settle(work, adapted);
}

/**
 * `ctx.session` under the Koa face: set and delete data properties; its
 * methods are koa-session's. `maxAge` also takes `"session"` (a browser-session
 * cookie, read back as `null`).
 */
export class KoaSmartSession extends SmartSession {
  /** Milliseconds the session lives after its last use; `null`: until the browser closes. */
  override get maxAge(): number | null {
    return super.maxAge;
  }

  /** Setting it writes the session and sends its cookie at the end of the request, as koa-session does. */
  override set maxAge(value: number | "session" | null) {
    super.maxAge = value === "session" ? null : value;
    controls.get(this)?.requireSave();
  }

  /** The session id (koa-session's name for it with a store). */
  get externalKey(): string {
    return this.id;
  }

  /** How many data properties the session holds. */
  get length(): number {
    return Object.keys(this).length;
  }

  /** Whether the session holds any data. */
  get populated(): boolean {
    return this.length > 0;
  }

  /**
   * The data as a plain object (what `JSON.stringify(ctx.session)` shows).
   * @returns A copy of the data properties.
   */
  toJSON(): Record<string, unknown> {
    return Object.fromEntries(Object.entries(this));
  }

  /**
   * Writes the session now, even when it is empty or unchanged, and sends its cookie.
   * @param callback Called once done (or failed), instead of the Promise settling.
   * @returns Resolves once written.
   */
  override save(callback?: KoaSessionCallback): Promise<void> {
    return settleKoa(controlsOf(this).save(), callback);
  }

  /**
   * Moves the session to a new id, keeping its content (as koa-session does), and writes it:
   * the old id is destroyed, so requests still holding it cannot bring it back.
   * @param callback Called once done (or failed), instead of the Promise settling.
   * @returns Resolves once the old id is destroyed and the session written under the new one.
   */
  override regenerate(callback?: KoaSessionCallback): Promise<void> {
    return settleKoa(controlsOf(this).regenerate(), callback);
  }

  /**
   * Commits the session now (with `autoCommit: false`, the app's way to end it).
   * @returns Resolves once committed.
   */
  manuallyCommit(): Promise<void> {
    return controlsOf(this).commit();
  }

  /**
   * koa-session's commit: `{ save: true }` as {@linkcode save}, `{ regenerate: true }` as
   * {@linkcode regenerate}, nothing as {@linkcode manuallyCommit}.
   * @param options `save` or `regenerate`.
   * @param callback Called once done (or failed), instead of the Promise settling.
   * @returns Resolves once done.
   */
  commit(
    options?: { save?: boolean; regenerate?: boolean } | KoaSessionCallback,
    callback?: KoaSessionCallback,
  ): Promise<void> {
    if (typeof options === "function") return this.commit({}, options);
    const state = controlsOf(this);
    const work = options?.regenerate ? state.regenerate() : options?.save ? state.save() : state.commit();
    return settleKoa(work, callback);
  }
}

// Node's util.inspect (console.log) shows the data, as koa-session's sessions do.
Object.defineProperty(KoaSmartSession.prototype, Symbol.for("nodejs.util.inspect.custom"), {
  value(this: KoaSmartSession) {
    return this.toJSON();
  },
  writable: true,
  configurable: true,
});
