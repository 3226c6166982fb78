/**
 * `request.sessionStore` under the Fastify face: `@fastify/session`'s store
 * interface (`get`, `set`, `destroy`, each with a callback or a Promise) over
 * the face's Redis engine, for apps and hooks that read or seed sessions by id.
 * @module
 */

import type { SessionEngine } from "../../engine/engine.ts";
import type { SessionRecord } from "../../options/store_options.ts";
import { type Callback, settle } from "../callbacks.ts";
import type { StoreStats } from "../../observe/store_events.ts";
import type { CacheStats } from "../../cache/local_cache.ts";
import type { ReencryptResult } from "../../encryption/reencrypt.ts";

/** The sessions by id, as `request.sessionStore` offers them. */
export interface FastifySessionStore {
  /**
   * Loads a session (without renewing it).
   * @param sid The session id.
   * @param callback Called with the session's data, or `null` when there is none.
   * @returns Resolves the same when no callback is given.
   */
  get(sid: string, callback?: Callback<SessionRecord | null>): Promise<SessionRecord | null>;
  /**
   * Writes a whole session, replacing what the id held (a destroyed id stays destroyed).
   * @param sid The session id.
   * @param session Its data; `cookie` (`expires`, `originalMaxAge`) decides how long it lives.
   * @param callback Called once written.
   * @returns Resolves the same when no callback is given.
   */
  set(sid: string, session: object, callback?: Callback<void>): Promise<void>;
  /**
   * Destroys a session; requests in flight on it cannot bring it back.
   * @param sid The session id.
   * @param callback Called once destroyed.
   * @returns Resolves the same when no callback is given.
   */
  destroy(sid: string, callback?: Callback<void>): Promise<void>;
  /**
   * What the store did since the plugin was registered (see `StoreStats`). Its events
   * come to the listeners of the `on` option.
   * @returns A copy of the counters.
   */
  stats(): StoreStats;
  /**
   * The local cache's counters (option `localCache`): hits, misses, invalidations,
   * flushes, bytes and entries held, and how reads are cached (`mode`, `detail`).
   * @returns A fresh object.
   */
  cacheStats(): CacheStats;
  /**
   * Option `encrypt`: moves every stored property value to the current key.
   * @returns How many sessions and values were looked at and rewritten.
   */
  reencrypt(): Promise<ReencryptResult>;
}

/**
 * The store view of an engine.
 * @param engine The face's engine.
 * @returns The view.
 */
export function storeView(engine: SessionEngine): FastifySessionStore {
  return {
    get: (sid, callback) => settle(engine.load(sid, false, false), callback),
    set: (sid, session, callback) => settle(engine.commit(sid, plainRecord(session)), callback),
    destroy: (sid, callback) => settle(engine.destroy(sid), callback),
    stats: () => engine.stats(),
    cacheStats: () => engine.cacheStats(),
    reencrypt: () => engine.reencrypt(),
  };
}

/** A session's own data and its cookie's stored form, as one plain record to write whole. */
function plainRecord(session: object): SessionRecord {
  if (typeof session !== "object" || session === null) {
    throw new TypeError("A session must be an object, such as { cookie: { maxAge: 60000 }, user: 1 }");
  }
  const record: SessionRecord = {};
  for (const name of Object.keys(session)) {
    Object.defineProperty(record, name, {
      value: (session as Record<string, unknown>)[name],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  const cookie = (session as { cookie?: { toJSON?: () => unknown } }).cookie;
  record.cookie = typeof cookie?.toJSON === "function"
    ? cookie.toJSON()
    : typeof cookie === "object" && cookie !== null
    ? cookie
    : { originalMaxAge: null };
  return record;
}
