/**
 * One Koa request's session under the Koa face: reads the id (cookie or
 * `externalKey`), loads and checks the session (`valid`), and at commit time
 * decides what to write (`renew`, forced saves, `beforeSave`) and which cookie
 * to send, as koa-session does.
 * @module
 */

import type { SessionEngine } from "../engine/engine.ts";
import type { KoaExternalKey } from "./koa_options.ts";
import { bindKoaSession, type KoaSessionControls, KoaSmartSession } from "./koa_session.ts";
import { type CookieAction, type HandleSettings, SessionHandle } from "./web/session_handle.ts";

/** The part of Koa's context the middleware uses. */
export interface KoaContextLike {
  /** The Koa application: its `keys` sign the cookie; session events are emitted on it. */
  app?: { keys?: unknown; emit?: (event: string, data: unknown) => unknown };
  /** Koa's cookie jar. */
  cookies: {
    get(name: string, options?: { signed?: boolean }): string | undefined;
    set(name: string, value?: string | null, options?: Record<string, unknown>): unknown;
  };
}

/** The cookie attributes of a request, as `ctx.sessionOptions` shows them (changes apply to its cookie). */
export interface KoaCookieOptions {
  /** The cookie's name. */
  key: string;
  /** The session's life in ms, or `"session"` for a browser-session cookie. */
  maxAge: number | "session";
  /** Sign the cookie with `app.keys`. */
  signed: boolean;
  /** Hide the cookie from scripts. */
  httpOnly: boolean;
  /** HTTPS only; `undefined`: when the request came over HTTPS. */
  secure?: boolean;
  /** The SameSite attribute. */
  sameSite?: "lax" | "strict" | "none" | boolean;
  /** The cookie's path. */
  path: string;
  /** The cookie's domain. */
  domain?: string;
  /** Replace a cookie of the same name set earlier in the response. */
  overwrite: boolean;
}

/** What every request of one middleware shares. */
export interface KoaFaceConfig {
  /** The engine. */
  engine: SessionEngine;
  /** The handle settings. */
  settings: HandleSettings;
  /** The cookie attributes each request starts from (`maxAge` aside). */
  cookie: Omit<KoaCookieOptions, "maxAge">;
  /** Re-send the cookie on every response. */
  rolling: boolean;
  /** Re-send the cookie once half its life is gone. */
  renew: boolean;
  /** The app gave `maxAge`: cookies carry it. Left out, as koa-session 7, a browser-session cookie. */
  cookieLife: boolean;
  /** The app's id maker, given the context. */
  genid?: (ctx: never) => string;
  /** Checks a loaded session. */
  valid?: (ctx: never, data: Record<string, unknown>) => unknown;
  /** Called before a write. */
  beforeSave?: (ctx: never, session: never) => void;
  /** Where the id travels instead of the cookie. */
  externalKey?: KoaExternalKey;
}

/** The middleware's state of one request. */
export class KoaRequest implements KoaSessionControls {
  /** The session handle. */
  handle: SessionHandle;
  /** `ctx.session = null` was set (and not undone). */
  dropped = false;
  /** `ctx.sessionOptions`. */
  readonly options: KoaCookieOptions;
  #ctx: KoaContextLike;
  #config: KoaFaceConfig;
  #forced = false;
  #committed = false;
  #cookieLife: boolean;
  /** A `save()` the app did not wait for: the commit waits for it. */
  #saving: Promise<void> | undefined;

  private constructor(ctx: KoaContextLike, config: KoaFaceConfig, handle: SessionHandle) {
    this.#ctx = ctx;
    this.#config = config;
    this.handle = handle;
    this.#cookieLife = config.cookieLife;
    bindKoaSession(handle.session as KoaSmartSession, this);
    const options = { ...config.cookie } as KoaCookieOptions;
    Object.defineProperty(options, "maxAge", {
      enumerable: true,
      get: () => this.handle.maxAge ?? "session",
      set: (value: number | "session") => this.handle.session.maxAge = value as number,
    });
    this.options = options;
  }

  /**
   * Reads the request's session id and loads its session.
   * @param ctx The Koa context.
   * @param config The middleware's settings.
   * @returns The request's state.
   */
  static async open(ctx: KoaContextLike, config: KoaFaceConfig): Promise<KoaRequest> {
    const { engine, cookie, externalKey, valid } = config;
    const sid = (externalKey ? externalKey.get(ctx as never) : ctx.cookies.get(cookie.key, cookie)) ||
      undefined;
    const genid = config.genid;
    const settings = genid
      ? { ...config.settings, genid: () => checkedId(genid(ctx as never)) }
      : config.settings;
    let handle = await SessionHandle.open(engine, settings, sid, new KoaSmartSession());
    if (sid !== undefined && handle.isNew) emit(ctx, "missed", { key: sid, value: undefined, ctx });
    else if (sid !== undefined && valid) {
      const data = { ...handle.session };
      if (!valid(ctx as never, data)) {
        emit(ctx, "invalid", { key: sid, value: data, ctx });
        await handle.abandon();
        handle = await SessionHandle.open(engine, settings, undefined, new KoaSmartSession());
      }
    }
    return new KoaRequest(ctx, config, handle);
  }

  /** A changed life: the commit writes the session and sends its cookie. */
  requireSave(): void {
    this.#forced = true;
    this.#cookieLife = true;
  }

  /**
   * Writes the session now, even unchanged, and puts its cookie on the response.
   * @returns Resolves once written.
   */
  save(): Promise<void> {
    const saving = (async () => {
      await this.#saving?.catch(() => {/* the commit writes again */});
      this.#beforeSave();
      if (this.#config.renew) this.handle.cookieIssuedAt = Date.now();
      await this.handle.save({ force: true });
      // Destroyed meanwhile by another request (a logout, or a login's regenerate()): nothing was written,
      // and this id's cookie could replace the browser's newer one.
      if (this.handle.stored) this.#sendId();
    })();
    this.#saving = saving;
    return saving;
  }

  /**
   * Moves the session to a new id with its content, and writes it.
   * @returns Resolves once done.
   */
  async regenerate(): Promise<void> {
    await this.handle.regenerate(true);
    this.dropped = false;
    await this.save();
  }

  /**
   * The end-of-request commit: writes what changed (or what `renew` or a forced save asks
   * for), destroys a dropped session, and sends or clears the cookie. Runs once.
   * @returns Resolves once committed.
   */
  async commit(): Promise<void> {
    if (this.#committed) return;
    this.#committed = true;
    await this.#saving?.catch(() => {/* the commit writes again */});
    const handle = this.handle;
    let changed = false;
    if (this.dropped) await handle.destroy();
    else {
      const force = this.#forced || this.#renewDue();
      changed = handle.changed;
      // The cookie goes out with this write: renew counts its life from now.
      if (this.#config.renew && (force || changed)) handle.cookieIssuedAt = Date.now();
      if (force || changed || (this.#config.rolling && handle.stored)) this.#beforeSave();
      if (force) await handle.save({ force: true });
    }
    const action = await handle.finish();
    // koa-session sends the cookie with every write, a browser-session cookie's too.
    this.#apply(action === "none" && changed && handle.stored ? "set" : action);
  }

  /** For a request that failed or never committed: gives its lock up, writes nothing. */
  async abandon(): Promise<void> {
    await this.handle.abandon().catch(() => {/* its lock expires by itself */});
  }

  #renewDue(): boolean {
    const handle = this.handle;
    if (!this.#config.renew || !handle.stored || handle.maxAge === null) return false;
    const issued = handle.cookieIssuedAt;
    return issued === undefined || issued + handle.maxAge - Date.now() < handle.maxAge / 2;
  }

  #beforeSave(): void {
    this.#config.beforeSave?.(this.#ctx as never, this.handle.session as never);
  }

  #apply(action: CookieAction): void {
    if (action === "clear") {
      const { maxAge: _maxAge, ...options } = this.options;
      this.#ctx.cookies.set(this.options.key, "", { ...options, expires: new Date(0) });
    } else if (action === "set" || (this.#config.rolling && this.handle.stored)) this.#sendId();
  }

  #sendId(): void {
    const externalKey = this.#config.externalKey;
    if (externalKey) return externalKey.set(this.#ctx as never, this.handle.sid);
    const { maxAge: _maxAge, ...options } = this.options;
    this.#ctx.cookies.set(this.options.key, this.handle.sid, {
      ...options,
      maxAge: this.#cookieLife ? this.handle.maxAge ?? undefined : undefined,
    });
  }
}

function emit(ctx: KoaContextLike, event: string, data: unknown): void {
  const app = ctx.app;
  if (typeof app?.emit === "function") setTimeout(() => app.emit!(`session:${event}`, data), 0);
}

function checkedId(id: unknown): string {
  if (typeof id !== "string" || id === "") {
    throw new TypeError(`The genid option must return a non-empty string, got ${String(id)}`);
  }
  return id;
}
