/**
 * The express-session face of the store: its methods, each with a callback and
 * a Promise, and `createSession` carrying the change-tracking snapshot onto the
 * request's Session object. What each store holds: `express_store_state.ts`.
 * @module
 */

import type { CacheStats } from "../cache/local_cache.ts";
// @ts-types="@types/express-session"
import session, { Store } from "express-session";
// @ts-types="@types/express-session"
import type { Session, SessionData } from "express-session";
import { refuseCopyingMiddleware } from "./foreign_callers.ts";
import { SessionDataError } from "../errors.ts";
import type { SessionEngine } from "../engine/engine.ts";
import { type Callback, settle } from "./callbacks.ts";
import {
  commitBeforeHeaders,
  saveAfterEarlyCommit,
  takeEarlyCommit,
  whileSaving,
} from "./express_commit_first.ts";
import { releaseWhenDone } from "./express_lock_release.ts";
import { attachSnapshot, SNAPSHOT, type Snapshot } from "../engine/snapshot.ts";
import type { DestroyUserOptions, UserSession } from "../users/user_sessions.ts";
import type { SmartRedisStoreOptions } from "../options/store_options.ts";
import { engineOf, initialize, serializerOf } from "./express_store_state.ts";
import type { StoreStats } from "../observe/store_events.ts";
import type { ReencryptResult } from "../encryption/reencrypt.ts";

export type { Callback } from "./callbacks.ts";

/** A session as `all()` returns it: its data plus its `id`. */
export type StoredSession = SessionData & { id: string };

/**
 * An express-session store on Redis that writes only what a request changed,
 * merges parallel requests' changes instead of losing them, and never lets a
 * destroyed session come back. Every method returns a Promise and also accepts
 * a node-style callback, called exactly once (with a callback, the Promise rejects
 * only if the callback itself throws).
 *
 * @example Use with express-session
 * ```ts ignore
 * import express from "express";
 * import session from "express-session";
 * import { createClient } from "redis";
 * import { SmartRedisStore } from "connect-smart-redis";
 *
 * const app = express();
 * app.use(session({
 *   store: new SmartRedisStore({ client: createClient() }),
 *   secret: "keyboard cat",
 *   resave: false,
 *   saveUninitialized: false,
 * }));
 * ```
 */
export class SmartRedisStore extends Store {
  /**
   * Creates a store on the given Redis client.
   * @param options The Redis client and the store's settings.
   */
  constructor(options: SmartRedisStoreOptions) {
    super();
    initialize(this, options);
  }

  /**
   * Loads a session and renews its sliding expiry, in one Redis round trip.
   * @param sid The session id.
   * @param callback Called with the session, or `null` when there is none.
   * @returns The session, or `null` when it is missing, destroyed or expired; a
   *   `SessionDataError` (code `ENOENT`: express-session starts a new session) when its data
   *   has no cookie object, which express-session cannot load.
   */
  get(sid: string, callback?: Callback<SessionData | null>): Promise<SessionData | null> {
    return settle(loadWithCookie(engineOf(this), sid), callback);
  }

  /**
   * Saves a session: only the properties that changed since it was loaded.
   * @param sid The session id.
   * @param session The session.
   * @param callback Called once it is written.
   * @param extra What other middlewares pass after the session (to recognize them).
   * @returns Resolves once it is written.
   */
  set(sid: string, session: SessionData, callback?: Callback<void>, ...extra: unknown[]): Promise<void> {
    const engine = engineOf(this);
    let work: Promise<void>;
    try {
      // Another framework's middleware (which passes other arguments)? Refuse loudly rather than lose writes.
      refuseCopyingMiddleware(session, callback, extra[0]);
      work = saveAfterEarlyCommit(engine, serializerOf(this), sid, session) ??
        whileSaving(session, engine.commit(sid, session));
    } catch (error) {
      work = Promise.reject(error);
    }
    return settle(work, typeof callback === "function" ? callback : undefined);
  }

  /**
   * Keeps a session alive; free when the load already did it.
   * @param sid The session id.
   * @param session The session.
   * @param callback Called once done.
   * @returns Resolves once done.
   */
  override touch(sid: string, session: SessionData, callback?: Callback<void>): Promise<void> {
    const work = takeEarlyCommit(session) ?? engineOf(this).touch(sid, session);
    return settle(work, callback);
  }

  /**
   * Destroys a session; requests already in flight cannot bring it back.
   * @param sid The session id.
   * @param callback Called once done.
   * @returns Resolves once done.
   */
  destroy(sid: string, callback?: Callback<void>): Promise<void> {
    return settle(engineOf(this).destroy(sid), callback);
  }

  /**
   * Every live session, each with its `id` (expiry is not renewed).
   * @param callback Called with the sessions.
   * @returns The sessions.
   */
  override all(callback?: Callback<StoredSession[]>): Promise<StoredSession[]> {
    const work = engineOf(this).sessions().then((found) =>
      found.map(([id, data]) => Object.assign(data, { id }) as unknown as StoredSession)
    );
    return settle(work, callback);
  }

  /**
   * The ids of every live session.
   * @param callback Called with the ids.
   * @returns The ids.
   */
  ids(callback?: Callback<string[]>): Promise<string[]> {
    return settle(engineOf(this).ids(), callback);
  }

  /**
   * How many live sessions there are.
   * @param callback Called with the count.
   * @returns The count.
   */
  override length(callback?: Callback<number>): Promise<number> {
    return settle(engineOf(this).ids().then((ids) => ids.length), callback);
  }

  /**
   * Destroys every session under the prefix.
   * @param callback Called once done.
   * @returns Resolves once done.
   */
  override clear(callback?: Callback<void>): Promise<void> {
    return settle(engineOf(this).clear(), callback);
  }

  /**
   * Option `encrypt`: moves every stored property value to the way the store now writes
   * (the first key; plain with `write: false`), each with a compare-and-set, so that
   * the older keys can then be dropped.
   * @param callback Called with what was done.
   * @returns How many sessions and values were looked at and rewritten, and how many values could not be read.
   */
  reencrypt(callback?: Callback<ReencryptResult>): Promise<ReencryptResult> {
    return settle(engineOf(this).reencrypt(), callback);
  }

  /**
   * Sessions per user (option `user`): the user's live sessions, latest login first, each
   * with its `id`, `loggedInAt`, `lastSeenAt` and `expiresAt` (ms since the epoch).
   * @param user The user id.
   * @param callback Called with the sessions.
   * @returns The sessions.
   */
  sessionsOf(user: string | number, callback?: Callback<UserSession[]>): Promise<UserSession[]> {
    return settle(engineOf(this).sessionsOf(user), callback);
  }

  /**
   * Sessions per user (option `user`): destroys every live session of the user
   * ("log out everywhere"), but `except` when given ("sign out other devices").
   * Requests in flight on them stay logged out.
   * @param user The user id.
   * @param options `except`: a session id to keep, such as `req.sessionID`.
   * @param callback Called with how many live sessions were destroyed.
   * @returns How many live sessions were destroyed.
   */
  destroyUser(
    user: string | number,
    options?: DestroyUserOptions | Callback<number>,
    callback?: Callback<number>,
  ): Promise<number> {
    if (typeof options === "function") [options, callback] = [undefined, options];
    return settle(engineOf(this).destroyUser(user, options), callback);
  }

  /**
   * The local cache's counters (option `localCache`): hits, misses, invalidations,
   * flushes, bytes and entries held, and how reads are cached (`mode`, `detail`).
   * @returns A fresh object.
   */
  cacheStats(): CacheStats {
    return engineOf(this).cacheStats();
  }

  /**
   * What this store did since it was created: loads, commits, touches, renewals
   * written, destroys, merges, conflicts, writes blocked by a tombstone, lock waits,
   * expirations, and the local cache's counters. Its events (`create`, `update`,
   * `touch`, `destroy`, `merged`, `conflict`, `blocked`, `lockWait`, `userLimit`,
   * `expired`) come through `store.on(name, listener)`; the first `expired` listener
   * subscribes to Redis's expired-key notifications, removing the last one unsubscribes.
   * @returns A copy of the counters.
   */
  stats(): StoreStats {
    return engineOf(this).stats();
  }

  /**
   * Builds the request's Session from loaded data, carrying the data's
   * change-tracking snapshot along (express-session calls this).
   * @param req The request.
   * @param data The loaded session data.
   * @returns The Session object.
   */
  override createSession(
    req: Parameters<Store["createSession"]>[0],
    data: SessionData,
  ): Session & SessionData {
    return createCarryingSnapshot(session.Store.prototype.createSession, this, req, data);
  }
}

/**
 * Calls the base class's `createSession`, then carries the loaded data's snapshot onto its
 * result. (Typed with named imports only: the CommonJS types cannot default-import express-session.)
 */
export function createCarryingSnapshot(
  create: Store["createSession"],
  store: Store,
  req: Parameters<Store["createSession"]>[0],
  data: SessionData,
): Session & SessionData {
  const snapshot = (data as { [SNAPSHOT]?: Snapshot })[SNAPSHOT];
  const created = create.call(store, req, data);
  if (snapshot) {
    attachSnapshot(created, snapshot);
    commitBeforeHeaders(engineOf(store), serializerOf(store), req);
  }
  if (snapshot?.lockToken) releaseWhenDone(engineOf(store), req, created);
  return created;
}

/**
 * Loads a session for express-session, which reads `cookie.expires` of whatever the store
 * returns: data without a cookie object (written by hand, or by another program) would fail
 * every request on that session with a TypeError. It is refused as unreadable instead, left
 * in Redis as it is, and its lock (lock mode) given back.
 */
async function loadWithCookie(engine: SessionEngine, sid: string): Promise<SessionData | null> {
  const session = await engine.load(sid) as SessionData | null;
  if (session === null) return null;
  const cookie = (session as { cookie?: unknown }).cookie;
  if (typeof cookie === "object" && cookie !== null && !Array.isArray(cookie)) return session;
  await engine.release(sid, session).catch(() => {/* the lock expires by itself */});
  throw new SessionDataError(
    `Session "${sid}" has no cookie object (its "cookie" property is ${
      cookie === undefined ? "missing" : `a ${Array.isArray(cookie) ? "list" : typeof cookie}`
    }), which express-session needs; the request starts a new session, the data is left in Redis as it is`,
  );
}
