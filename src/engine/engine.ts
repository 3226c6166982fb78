/**
 * The store's core, free of any web framework: one object that every face
 * (express-session and the others) calls to load, commit, touch and destroy
 * sessions. The work itself lives in one module per job: `session_loader.ts`
 * (reads), `session_writer.ts` (commits; `session_toucher.ts`, `conflict_merge.ts`,
 * `legacy_conversion.ts` and the rest of `write/` beside it), `bulk_operations.ts`
 * (all, ids, clear), and with the `user` option `user_index.ts`, `user_entry_renewal.ts` and
 * `user_sessions.ts` (sessions per user).
 * @module
 */

import { BulkOperations } from "./bulk_operations.ts";
import { offStats, type ReadCache, readCacheFor } from "../cache/cache_setup.ts";
import type { CacheStats } from "../cache/local_cache.ts";
import type { RedisConnection } from "../clients/connection.ts";
import { GuardedConnection } from "../clients/guarded_connection.ts";
import { EngineContext } from "./engine_context.ts";
import type { ResolvedOptions } from "../options/options.ts";
import type { SessionRecord } from "../options/store_options.ts";
import { ALL_SCRIPTS } from "../scripts/all_scripts.ts";
import { DESTROY_SCRIPT } from "../scripts/destroy_script.ts";
import { SessionCodec } from "./session_codec.ts";
import { SessionLoader } from "./session_loader.ts";
import { SessionWriter } from "./write/session_writer.ts";
import type { Snapshot } from "./snapshot.ts";
import { UserIndex } from "../users/user_index.ts";
import type { EventSink } from "../observe/observer.ts";
import { watchExpiry } from "../observe/expired_events.ts";
import { traceOperations } from "../observe/spans.ts";
import type { ReencryptResult } from "../encryption/reencrypt.ts";
import type { StoreStats } from "../observe/store_events.ts";
import {
  type DestroyUserOptions,
  type UserSession,
  UserSessions,
  userSessionsOf,
} from "../users/user_sessions.ts";

/** Loads and commits sessions in Redis. */
export class SessionEngine {
  #ctx: EngineContext;
  #loader: SessionLoader;
  #writer: SessionWriter;
  #bulk: BulkOperations;
  /** Sessions per user (option `user`), else `undefined`: the feature then costs nothing. */
  #users: UserIndex | undefined;
  #userSessions: UserSessions | undefined;
  #readCache: ReadCache | undefined;
  /** The destroy script's argument: `deleteExpiry`, formatted once. */
  #tombstoneLife: string;

  /**
   * @param connection The Redis client adapter.
   * @param options The resolved store options.
   * @param client The client the app passed (the local cache opens tracked connections from it).
   */
  constructor(connection: RedisConnection, options: ResolvedOptions, client?: unknown) {
    const guarded = new GuardedConnection(connection, options.commandTimeout);
    this.#tombstoneLife = String(options.deleteExpiry);
    this.#readCache = readCacheFor(client ?? connection, options);
    this.#ctx = new EngineContext(guarded, options, new SessionCodec(options.serializer), this.#readCache);
    this.#loader = new SessionLoader(this.#ctx);
    this.#users = options.user ? new UserIndex(this.#ctx) : undefined;
    this.#userSessions = this.#users && new UserSessions(this.#users, options);
    this.#writer = new SessionWriter(this.#ctx, (sid) => this.destroy(sid), this.#users);
    this.#bulk = new BulkOperations(this.#ctx, this.#loader, (sid) => this.destroy(sid));
    this.#observe(connection, options, client);
    // Load the scripts whenever a connection (re)starts, so writes hit EVALSHA the first time.
    connection.onStateChange(({ ready }) => ready && this.#preloadScripts());
    if (connection.ready) this.#preloadScripts();
  }

  /** Events, metrics and spans beyond the counters: each costs nothing until asked for. */
  #observe(connection: RedisConnection, options: ResolvedOptions, client: unknown): void {
    const observer = this.#ctx.observer;
    const cache = this.#readCache;
    if (cache) observer.watchCache(() => cache.stats());
    observer.watchExpiry(() =>
      watchExpiry(
        client ?? connection,
        () => connection.closed === true,
        options,
        (sid) => observer.expired(sid),
      )
    );
    if (options.tracing !== false) traceOperations(this, options.tracing, connection.address);
  }

  #preloadScripts(): void {
    this.#ctx.connection.masters().then((nodes) =>
      Promise.all(
        nodes.flatMap((node) => ALL_SCRIPTS.map((script) => node.send(["SCRIPT", "LOAD", script.source]))),
      )
    ).catch(() => {/* NOSCRIPT falls back to EVAL anyway */});
  }

  /**
   * Reads a session (see {@linkcode SessionLoader.load}).
   * @param sid The session id; anything but a non-empty string is not found.
   * @param renew Renew at the read when renewal is exact (`renewAfter: 0`).
   * @param lock Take the lock (in lock mode).
   * @returns The session with its snapshot attached, or `null` when missing, destroyed or expired.
   */
  load(sid: unknown, renew = true, lock = true): Promise<SessionRecord | null> {
    return this.#loader.load(sid, renew, lock);
  }

  /**
   * The local cache's counters (option `localCache`).
   * @returns Hits, misses, invalidations, flushes, size, and how reads are cached.
   */
  cacheStats(): CacheStats {
    return this.#readCache?.stats() ?? offStats(this.#ctx.options);
  }

  /**
   * Writes a session: only what changed since this store loaded it, else whole.
   * @param sid The session id.
   * @param session The session.
   */
  commit(sid: unknown, session: unknown): Promise<void> {
    return this.#writer.commit(sid, session);
  }

  /**
   * Keeps a session alive; writes only when there is something to write.
   * @param sid The session id.
   * @param session The session.
   */
  touch(sid: unknown, session: unknown): Promise<void> {
    return this.#writer.touch(sid, session);
  }

  /**
   * The change-tracking snapshot this engine took of a session, if any (for faces that
   * keep the loaded object and build their own records from it).
   * @param session A session this engine loaded or wrote.
   * @param sid Its id.
   * @returns The snapshot, or `undefined`.
   */
  snapshotOf(session: object, sid: string): Snapshot | undefined {
    return this.#ctx.snapshotOf(session, sid);
  }

  /**
   * Lock mode: forgets the lock a loaded session holds without telling Redis, for a
   * session about to be destroyed (its tombstone replaces the lock).
   * @param sid The session id.
   * @param session The session as loaded.
   */
  forgetLock(sid: string, session: object): void {
    const snapshot = this.#ctx.snapshotOf(session, sid);
    if (snapshot) snapshot.lockToken = undefined;
  }

  /**
   * Lock mode: gives up the lock a loaded session holds, if it still holds one
   * (for requests that end without a commit or touch).
   * @param sid The session id.
   * @param session The session as loaded.
   */
  async release(sid: string, session: object): Promise<void> {
    await this.#ctx.releaseLock(sid, this.#ctx.snapshotOf(session, sid));
  }

  /**
   * Destroys a session, leaving a tombstone for `deleteExpiry` ms so that no
   * request in flight can bring it back.
   * @param sid The session id; anything but a non-empty string is ignored.
   */
  destroy(sid: unknown): Promise<void> {
    if (typeof sid !== "string" || sid === "") return Promise.resolve();
    // Sessions per user: the same tombstone, and the session leaves its user's index.
    const observer = this.#ctx.observer;
    if (this.#users) return this.#users.destroy(sid).then(() => observer.destroyed(sid));
    return this.#ctx.run(DESTROY_SCRIPT, sid, [this.#tombstoneLife], () => observer.destroyed(sid));
  }

  /**
   * What this store did since it was created.
   * @returns A copy of the counters.
   */
  stats(): StoreStats {
    return this.#ctx.observer.stats();
  }

  /**
   * Sends the store's events to `sink` too (besides the `on` option's listeners).
   * @param sink An EventEmitter, such as the express-session store.
   */
  observe(sink: EventSink): void {
    this.#ctx.observer.attach(sink);
  }

  /** Settles once the metrics are set up (OpenTelemetry looked for, its instruments made). */
  get metricsReady(): Promise<void> {
    return this.#ctx.observer.telemetry.ready;
  }

  /**
   * Sessions per user: the user's live sessions, latest login first (option `user`).
   * @param user The user id.
   * @returns The sessions, each with its id and what an account page shows.
   */
  async sessionsOf(user: unknown): Promise<UserSession[]> {
    return await userSessionsOf(this.#userSessions, "sessionsOf").sessionsOf(user);
  }

  /**
   * Sessions per user: destroys every live session of the user but `except`
   * (tombstones, as {@linkcode destroy}).
   * @param user The user id.
   * @param options `except`: a session id to keep (the current one, for "sign out other devices").
   * @returns How many live sessions were destroyed.
   */
  async destroyUser(user: unknown, options?: DestroyUserOptions): Promise<number> {
    return await userSessionsOf(this.#userSessions, "destroyUser").destroyUser(user, options);
  }

  /**
   * Every live session, without renewing any.
   * @returns Pairs of session id and session.
   */
  sessions(): Promise<[string, SessionRecord][]> {
    return this.#bulk.sessions();
  }

  /**
   * The ids of every live session.
   * @returns The ids.
   */
  ids(): Promise<string[]> {
    return this.#bulk.ids();
  }

  /** Destroys every session under the prefix (each leaves a tombstone, as {@linkcode destroy}). */
  clear(): Promise<void> {
    return this.#bulk.clear();
  }

  /**
   * Option `encrypt`: moves every stored property value to the way the store now writes
   * (the first key; plain with `write: false`), each with a compare-and-set.
   * @returns How many sessions and values it looked at and rewrote.
   */
  reencrypt(): Promise<ReencryptResult> {
    return this.#bulk.reencrypt();
  }
}
