/**
 * The store's core, free of any web framework: load, commit (with merge and
 * retry), touch, destroy and the bulk operations, each a Lua script run against
 * the one key of a session.
 * @module
 */

import { randomBytes } from "node:crypto";
import { GuardedConnection } from "./clients/guarded_connection.ts";
import type { RedisConnection } from "./clients/connection.ts";
import { SessionConflictError, SessionDataError, SessionLockedError } from "./errors.ts";
import { cookieExpiry, type Expiry, expiryOf } from "./expiry.ts";
import { COOKIE_FIELD, isReservedField, SLIDING_FIELD } from "./fields.ts";
import { ABSENT, mergeValues } from "./merge.ts";
import type { ResolvedOptions, SessionRecord } from "./options.ts";
import { ALL_SCRIPTS } from "./scripts/all_scripts.ts";
import { COMMIT_SCRIPT } from "./scripts/commit_script.ts";
import { DESTROY_SCRIPT } from "./scripts/destroy_script.ts";
import { LOAD_SCRIPT } from "./scripts/load_script.ts";
import { REFRESH_SCRIPT } from "./scripts/refresh_script.ts";
import { RELEASE_SCRIPT } from "./scripts/release_script.ts";
import { REPLACE_SCRIPT } from "./scripts/replace_script.ts";
import { type LuaScript, runScript } from "./scripts/script_runner.ts";
import { isIndexKey, isUserField, takeUserFields } from "./user_fields.ts";
import { type UserChange, UserIndex } from "./user_index.ts";
import { type DestroyUserOptions, type UserSession, UserSessions, userSessionsOf } from "./user_sessions.ts";
import {
  attachSnapshot,
  diffFields,
  type FieldChange,
  serializeFields,
  type Snapshot,
  snapshotOf,
} from "./snapshot.ts";

/** Loads and commits sessions in Redis. */
export class SessionEngine {
  #connection: GuardedConnection;
  #options: ResolvedOptions;
  #send = (key: string, args: readonly string[]) => this.#connection.send(key, args);
  /** Sessions per user (option `user`), else `undefined`: the feature then costs nothing. */
  #users: UserIndex | undefined;
  #userSessions: UserSessions | undefined;

  /**
   * @param connection The Redis client adapter.
   * @param options The resolved store options.
   */
  constructor(connection: RedisConnection, options: ResolvedOptions) {
    this.#connection = new GuardedConnection(connection, options.commandTimeout);
    this.#options = options;
    // Sessions per user (hook 1 of 7).
    this.#users = options.user ? new UserIndex(this.#send, options) : undefined;
    this.#userSessions = this.#users && new UserSessions(this.#users, options);
    // Load the scripts whenever a connection (re)starts, so requests hit EVALSHA the first time.
    connection.onStateChange(({ ready }) => ready && this.#preloadScripts());
    if (connection.ready) this.#preloadScripts();
  }

  #preloadScripts(): void {
    this.#connection.masters().then((nodes) =>
      Promise.all(
        nodes.flatMap((node) => ALL_SCRIPTS.map((script) => node.send(["SCRIPT", "LOAD", script.source]))),
      )
    ).catch(() => {/* NOSCRIPT falls back to EVAL anyway */});
  }

  /**
   * Reads a session. By default also renews its sliding expiry (same round trip),
   * and the returned cookie shows the renewed `expires`. In lock mode it also takes
   * the session's lock, waiting while another request holds it.
   * @param sid The session id; anything but a non-empty string is not found.
   * @param renew Renew the expiry (unless `disableTouch`).
   * @param lock Take the lock (in lock mode).
   * @returns The session with its snapshot attached, or `null` when missing, destroyed or expired.
   */
  async load(sid: unknown, renew = true, lock = true): Promise<SessionRecord | null> {
    if (typeof sid !== "string" || sid === "") return null;
    renew &&= !this.#options.disableTouch;
    const sentAt = Date.now();
    const { reply, token, readOnly } = await this.#loadReply(
      sid,
      renew,
      lock ? this.#options.lock : undefined,
    );
    if (reply === null) return null;
    const [kind, pttl] = reply as [string, number];
    const lockToken = token && kind === "hash" ? token : undefined;
    const now = Date.now();
    const fields = new Map<string, string>();
    let session: SessionRecord;
    try {
      session = kind === "string"
        ? this.#parseWhole(sid, String(reply[2]))
        : this.#parseHash(sid, reply[2] as unknown[], fields);
    } catch (error) {
      if (lockToken) this.#run(RELEASE_SCRIPT, sid, [lockToken]).catch(() => {/* expires by itself */});
      throw error;
    }
    const expires = showRemainingLife(session, pttl, now);
    if (expires !== undefined && expires <= now) {
      if (lockToken) await this.#run(RELEASE_SCRIPT, sid, [lockToken]);
      return null;
    }
    const stored = takeUserFields(fields); // sessions per user (hook 2 of 7): the user the hash records
    attachSnapshot(session, {
      ...stored,
      sid,
      fields,
      refreshed: renew && kind === "hash" && !this.#options.disableTTL,
      sliding: fields.get(SLIDING_FIELD) ?? "",
      liveAt: sentAt,
      legacy: kind === "string",
      lockToken,
      readOnly,
    });
    fields.delete(SLIDING_FIELD);
    // Sessions per user (hook 3 of 7): the renewal may call for extending the index entry.
    const loaded = snapshotOf(session, sid)!;
    if (this.#users && kind === "hash") this.#users.renewed(sid, loaded, pttl, Number(loaded.sliding) || 0);
    return session;
  }

  /** Runs the load script; in lock mode, retries while another request holds the lock. */
  async #loadReply(
    sid: string,
    renew: boolean,
    locking: ResolvedOptions["lock"],
  ): Promise<{ reply: unknown[] | null; token: string; readOnly: boolean }> {
    let token = locking ? newToken() : "";
    const started = Date.now();
    for (;;) {
      const args = [renew ? "1" : "0"];
      if (token) args.push(token, String(this.#options.lockExpiry));
      const reply = await this.#run(LOAD_SCRIPT, sid, args) as unknown[] | null;
      if (reply?.[0] !== "locked" || !locking) {
        return { reply, token, readOnly: locking !== undefined && !token };
      }
      const waited = Date.now() - started;
      if (waited >= locking.timeout) {
        if (locking.onTimeout === "error") {
          throw new SessionLockedError(
            `Session "${sid}" stayed locked by another request for ${waited} ms (option "lock.timeout"); ` +
              'retry later, or choose lock.onTimeout: "readonly"',
          );
        }
        token = ""; // read-only: load once more without asking for the lock
        continue;
      }
      const jittered = this.#options.retryTime * (0.5 + Math.random());
      await sleep(Math.max(1, Math.min(jittered, Number(reply[1]) + 1, locking.timeout - waited)));
    }
  }

  /**
   * Parses a hash's field/value pairs, recording each field's string (and of the
   * metadata, only the sliding expiry).
   */
  #parseHash(sid: string, pairs: unknown[], fields: Map<string, string>): SessionRecord {
    const session: SessionRecord = {};
    for (let i = 0; i < pairs.length; i += 2) {
      const field = String(pairs[i]);
      const text = String(pairs[i + 1]);
      if (isReservedField(field)) {
        if (field === SLIDING_FIELD || isUserField(field)) fields.set(field, text);
        continue;
      }
      fields.set(field, text);
      define(session, field, this.#parseField(sid, field, text));
    }
    return session;
  }

  /**
   * Writes a session: only the changed fields when it carries a snapshot from
   * {@linkcode load}, else the whole session. Concurrent changes are merged and
   * the commit retried; a destroyed session stays destroyed.
   * @param sid The session id.
   * @param session The session.
   */
  async commit(sid: unknown, session: unknown): Promise<void> {
    const id = checkSid(sid);
    const record = checkSession(id, session);
    const fields = this.#serialize(id, record);
    const expiry = expiryOf(record, this.#options, Date.now());
    const snapshot = snapshotOf(record, id);
    if (snapshot?.readOnly) {
      throw new SessionLockedError(
        `Session "${id}" was loaded read-only because another request held its lock; its changes were not saved`,
      );
    }
    // Sessions per user (hook 4 of 7): a commit that changes the session's user also updates the indexes.
    const change = this.#users?.plan(id, record, snapshot, expiry);
    if (change) {
      return await this.#users!.around(
        change,
        () => this.#write(id, record, snapshot, fields, expiry, change),
        () => snapshotOf(record, id),
      );
    }
    await this.#write(id, record, snapshot, fields, expiry);
    // Sessions per user (hook 5 of 7): a commit renews the expiry too, perhaps beyond the index entry.
    const written = snapshotOf(record, id);
    if (this.#users && written) this.#users.renewed(id, written, expiry.pttl, expiry.sliding ?? 0);
  }

  /** The commit proper; `change` adds the user fields it writes. */
  async #write(
    id: string,
    record: SessionRecord,
    snapshot: Snapshot | undefined,
    fields: Map<string, string>,
    expiry: Expiry,
    change?: UserChange,
  ): Promise<void> {
    const userFields = change?.fields ?? [];
    if (!snapshot || snapshot.legacy) return await this.#replace(id, record, fields, expiry, userFields);

    let changes = diffFields(snapshot.fields, fields);
    for (const [field, value] of userFields) changes.push({ kind: "w", field, value });
    if (changes.length === 0 && !this.#options.disableTouch && !this.#touchWrites(record, snapshot, expiry)) {
      // Nothing changed and the load renewed the expiry (express-session with resave: true).
      const token = snapshot.lockToken;
      snapshot.lockToken = undefined;
      if (token) await this.#run(RELEASE_SCRIPT, id, [token]);
      return;
    }
    for (let attempt = 0; attempt <= this.#options.conflictRetries; attempt++) {
      const args = commitArgs(changes, expiry);
      if (snapshot.lockToken) args.push(snapshot.lockToken);
      const sentAt = Date.now();
      const reply = await this.#run(COMMIT_SCRIPT, id, args) as unknown[];
      if (reply[0] !== "conflict") snapshot.lockToken = undefined;
      switch (reply[0]) {
        case "ok":
          for (const change of changes) {
            if (change.kind === "r") snapshot.fields.delete(change.field);
            else snapshot.fields.set(change.field, change.value);
          }
          snapshot.sliding = slidingArg(expiry);
          snapshot.liveAt = sentAt;
          return;
        case "dead":
          return;
        case "gone":
          // Vanished without a tombstone. Had it been destroyed since it was last seen live, the
          // tombstone would still be there until liveAt + deleteExpiry: before then, it expired
          // or was evicted, so write it back whole, as a fresh save would. After, it may have
          // been destroyed: it stays gone (raise deleteExpiry for requests that run longer).
          if (Date.now() >= snapshot.liveAt + this.#options.deleteExpiry) return;
          return await this.#replace(id, record, fields, expiry, userFields);
        default:
          changes = await this.#merge(id, record, snapshot, changes, reply);
      }
    }
    throw new SessionConflictError(
      `Session "${id}" could not be committed: other requests changed the same properties in each of ` +
        `${this.#options.conflictRetries + 1} attempts; retry the request or raise "conflictRetries"`,
    );
  }

  /**
   * Keeps a session alive. Free when its load already renewed it; otherwise one
   * round trip that renews the expiry and stores the current cookie.
   * @param sid The session id.
   * @param session The session.
   */
  async touch(sid: unknown, session: unknown): Promise<void> {
    const id = checkSid(sid);
    const record = checkSession(id, session);
    const snapshot = snapshotOf(record, id);
    const token = snapshot?.lockToken;
    if (snapshot) snapshot.lockToken = undefined;
    if (snapshot?.legacy && !this.#options.disableTouch) return await this.commit(id, record);
    // Sessions per user (hook 6 of 7): a session whose hash does not record its user yet (stored before
    // the option was set) is indexed by a commit.
    if (snapshot && !snapshot.readOnly && this.#users?.changed(record, snapshot)) {
      if (token) snapshot.lockToken = token;
      return await this.commit(id, record);
    }
    const expiry = expiryOf(record, this.#options, Date.now());
    if (!this.#touchWrites(record, snapshot, expiry)) {
      if (token) await this.#run(RELEASE_SCRIPT, id, [token]);
      return;
    }
    const cookie = record.cookie === undefined
      ? undefined
      : this.#serialize(id, { cookie: record.cookie }).get(COOKIE_FIELD);
    const args = [
      String(expiry.pttl),
      slidingArg(expiry),
      cookie === undefined ? "" : COOKIE_FIELD,
      cookie ?? "",
    ];
    if (token) args.push(token);
    await this.#run(REFRESH_SCRIPT, id, args);
    if (snapshot && cookie !== undefined) snapshot.fields.set(COOKIE_FIELD, cookie);
    if (snapshot) snapshot.sliding = slidingArg(expiry);
  }

  /** Whether a touch has anything to write, or the load already did all of it. */
  #touchWrites(record: SessionRecord, snapshot: Snapshot | undefined, expiry: Expiry): boolean {
    if (this.#options.disableTouch || snapshot?.readOnly) return false;
    if (!snapshot) return true; // a plain object handed to touch(): do as asked
    if (slidingArg(expiry) !== snapshot.sliding) return true; // the request changed cookie.maxAge
    // Without a Redis expiry, the stored cookie's `expires` is what ends the session: keep it current.
    if (this.#options.disableTTL) return cookieExpiry(record.cookie as { expires?: unknown }) !== undefined;
    return !snapshot.refreshed;
  }

  /**
   * Lock mode: forgets the lock a loaded session holds without telling Redis, for a
   * session about to be destroyed (its tombstone replaces the lock).
   * @param sid The session id.
   * @param session The session as loaded.
   */
  forgetLock(sid: string, session: object): void {
    const snapshot = snapshotOf(session, sid);
    if (snapshot) snapshot.lockToken = undefined;
  }

  /**
   * Lock mode: gives up the lock a loaded session holds, if it still holds one
   * (for requests that end without a commit or touch).
   * @param sid The session id.
   * @param session The session as loaded.
   */
  async release(sid: string, session: object): Promise<void> {
    const snapshot = snapshotOf(session, sid);
    const token = snapshot?.lockToken;
    if (!snapshot || !token) return;
    snapshot.lockToken = undefined;
    await this.#run(RELEASE_SCRIPT, sid, [token]);
  }

  /**
   * Destroys a session, leaving a tombstone for `deleteExpiry` ms so that no
   * request in flight can bring it back.
   * @param sid The session id; anything but a non-empty string is ignored.
   */
  async destroy(sid: unknown): Promise<void> {
    if (typeof sid !== "string" || sid === "") return;
    // Sessions per user (hook 7 of 7): the same tombstone, and the session leaves its user's index.
    if (this.#users) return await this.#users.destroy(sid);
    await this.#run(DESTROY_SCRIPT, sid, [String(this.#options.deleteExpiry)]);
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
  async sessions(): Promise<[string, SessionRecord][]> {
    const found: [string, SessionRecord][] = [];
    for await (const sids of this.#sidPages()) {
      const sessions = await Promise.all(sids.map((sid) => this.load(sid, false, false)));
      sessions.forEach((session, i) => session && found.push([sids[i], session]));
    }
    return found;
  }

  /**
   * The ids of every live session, without parsing more than needed: a session
   * with an unreadable property still counts.
   * @returns The ids.
   */
  async ids(): Promise<string[]> {
    const found: string[] = [];
    for await (const sids of this.#sidPages()) {
      const replies = await Promise.all(sids.map((sid) => this.#run(LOAD_SCRIPT, sid, ["0"])));
      replies.forEach((reply, i) => this.#isLive(sids[i], reply as unknown[] | null) && found.push(sids[i]));
    }
    return found;
  }

  /**
   * Destroys every session under the prefix (each leaves a tombstone, as
   * {@linkcode destroy}). A key that is not a session is left alone and reported
   * once every session is destroyed.
   */
  async clear(): Promise<void> {
    if (this.#options.prefix === "") {
      throw new RangeError(
        'clear() with prefix "" would destroy every hash and string in the database; ' +
          "use a prefix, or FLUSHDB on a database of your own",
      );
    }
    let failure: unknown;
    for await (const sids of this.#sidPages()) {
      const outcomes = await Promise.allSettled(sids.map((sid) => this.destroy(sid)));
      failure ??= outcomes.find((outcome) => outcome.status === "rejected")?.reason;
    }
    if (failure !== undefined) throw failure;
  }

  /** Whether a load reply is a session whose cookie has not expired. */
  #isLive(sid: string, reply: unknown[] | null): boolean {
    if (reply === null) return false;
    const [kind, pttl] = reply as [string, number];
    if (pttl > 0) return true; // Redis expires the key no later than its cookie
    let cookie: unknown;
    if (kind === "string") {
      cookie = this.#parseWhole(sid, String(reply[2])).cookie;
    } else {
      const pairs = reply[2] as unknown[];
      const at = pairs.findIndex((field, i) => i % 2 === 0 && field === COOKIE_FIELD);
      if (at >= 0) cookie = this.#parseField(sid, COOKIE_FIELD, String(pairs[at + 1]));
    }
    const expires = cookieExpiry(cookie as { expires?: unknown } | undefined);
    return expires === undefined || expires > Date.now();
  }

  /** The session ids under the prefix, one SCAN page at a time, across every master. */
  async *#sidPages(): AsyncGenerator<string[]> {
    const { prefix, scanCount } = this.#options;
    const pattern = escapeGlob(prefix) + "*";
    const seen = new Set<string>();
    for (const node of await this.#connection.masters()) {
      let cursor = "0";
      do {
        const [next, keys] = await this.#connection.sendTo(node, [
          "SCAN",
          cursor,
          "MATCH",
          pattern,
          "COUNT",
          String(scanCount),
        ]) as [string, string[]];
        cursor = String(next);
        // Sessions per user: the user indexes live under the prefix too (hook 7b).
        const page = keys.filter((key) =>
          key.startsWith(prefix) && !seen.has(key) && !isIndexKey(prefix, key)
        );
        page.forEach((key) => seen.add(key));
        if (page.length > 0) yield page.map((key) => key.slice(prefix.length));
      } while (cursor !== "0");
    }
  }

  async #replace(
    sid: string,
    session: SessionRecord,
    fields: Map<string, string>,
    expiry: Expiry,
    userFields: readonly [string, string][] = [],
  ): Promise<void> {
    const args = [String(expiry.pttl), slidingArg(expiry)];
    for (const [field, value] of fields) args.push(field, value);
    for (const [field, value] of userFields) args.push(field, value);
    await this.#run(REPLACE_SCRIPT, sid, args);
    attachSnapshot(session, {
      sid,
      fields,
      refreshed: !this.#options.disableTTL, // the expiry was just written
      sliding: slidingArg(expiry),
      liveAt: Date.now(),
      legacy: false,
    });
  }

  /** Merges the fields a commit found changed by someone else; returns the changes to retry with. */
  async #merge(
    sid: string,
    session: SessionRecord,
    snapshot: Snapshot,
    changes: FieldChange[],
    conflicts: unknown[],
  ): Promise<FieldChange[]> {
    const retry = [...changes];
    const dropped = new Set<number>();
    for (let i = 1; i < conflicts.length; i += 3) {
      const index = Number(conflicts[i]) - 1;
      const change = changes[index];
      const field = change.field;
      const theirs = conflicts[i + 1] === "1" ? String(conflicts[i + 2]) : undefined;
      const base = change.kind === "a" || change.kind === "w" ? undefined : change.base;
      const ours = change.kind === "r" ? undefined : change.value;
      const merged = await this.#mergeField(
        field,
        this.#maybeParse(sid, field, base),
        this.#maybeParse(sid, field, ours),
        this.#maybeParse(sid, field, theirs),
      );
      const text = merged === ABSENT
        ? undefined
        : serializeFields(sid, { [field]: merged }, this.#options.serializer).get(field);

      if (theirs === undefined) snapshot.fields.delete(field);
      else snapshot.fields.set(field, theirs);
      if (text === undefined) delete session[field];
      else define(session, field, merged);

      if (text === theirs) dropped.add(index);
      else if (text === undefined) retry[index] = { kind: "r", field, base: theirs! };
      else if (theirs === undefined) retry[index] = { kind: "a", field, value: text };
      else retry[index] = { kind: "u", field, base: theirs, value: text };
    }
    return retry.filter((_, i) => !dropped.has(i));
  }

  /**
   * Serializes a session's properties; the cookie without its `expires` when the key's
   * Redis expiry holds it (the load rebuilds it from PTTL). The cookie then changes only
   * when its settings do, so commits do not rewrite it, and a small session stays
   * within Redis's compact hash encoding.
   */
  #serialize(sid: string, record: SessionRecord): Map<string, string> {
    return serializeFields(sid, record, this.#options.serializer, this.#storedValue);
  }

  #storedValue = (name: string, value: unknown): unknown => {
    const cookie = value as { expires?: unknown; originalMaxAge?: unknown; toJSON?: () => object } | null;
    if (
      name !== COOKIE_FIELD || this.#options.disableTTL || typeof cookie !== "object" || cookie === null ||
      typeof cookie.originalMaxAge !== "number" || cookieExpiry(cookie) === undefined
    ) return value;
    const { expires: _, ...settings } = (typeof cookie.toJSON === "function" ? cookie.toJSON() : cookie) as {
      expires?: unknown;
    };
    return settings;
  };

  /** Merges one property with the user's hook, or key by key. Works with `ABSENT` for missing values. */
  async #mergeField(field: string, base: unknown, ours: unknown, theirs: unknown): Promise<unknown> {
    const hook = this.#options.merge;
    if (!hook) return mergeValues(base, ours, theirs);
    const absentToUndefined = (value: unknown) => value === ABSENT ? undefined : value;
    const merged = await hook(field, {
      base: absentToUndefined(base),
      ours: absentToUndefined(ours),
      theirs: absentToUndefined(theirs),
    });
    return merged === undefined ? ABSENT : merged;
  }

  async #run(script: LuaScript, sid: string, args: string[]): Promise<unknown> {
    const key = this.#options.prefix + sid;
    try {
      return await runScript(this.#send, script, key, args);
    } catch (error) {
      if (String((error as Error)?.message).includes("WRONGTYPE")) {
        throw new SessionDataError(
          `Redis key ${JSON.stringify(key)} is not a session (${(error as Error).message}); ` +
            "nothing was changed: remove the key or use another prefix",
          { cause: error },
        );
      }
      throw error;
    }
  }

  #parseField(sid: string, field: string, text: string): unknown {
    try {
      return this.#options.serializer.parse(text);
    } catch (error) {
      throw new SessionDataError(
        `Session "${sid}" field "${field}" cannot be parsed by the serializer (${
          (error as Error)?.message
        }); ` +
          "it was left in Redis as it is",
        { cause: error },
      );
    }
  }

  #maybeParse(sid: string, field: string, text: string | undefined): unknown {
    return text === undefined ? ABSENT : this.#parseField(sid, field, text);
  }

  #parseWhole(sid: string, text: string): SessionRecord {
    let value: unknown;
    try {
      value = this.#options.serializer.parse(text);
    } catch (error) {
      throw new SessionDataError(
        `Session "${sid}" is stored as a string the serializer cannot parse (${
          (error as Error)?.message
        }); ` +
          "it was left in Redis as it is",
        { cause: error },
      );
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new SessionDataError(`Session "${sid}" is stored as a string that is not an object`);
    }
    return value as SessionRecord;
  }
}

function newToken(): string {
  return randomBytes(12).toString("hex");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function commitArgs(changes: FieldChange[], expiry: Expiry): string[] {
  const args = [String(expiry.pttl), slidingArg(expiry), changes.map((change) => change.kind).join("")];
  for (const change of changes) {
    args.push(
      change.field,
      change.kind === "u" || change.kind === "r" ? change.base : "",
      change.kind === "r" ? "" : change.value,
    );
  }
  return args;
}

function slidingArg(expiry: Expiry): string {
  return expiry.sliding === undefined ? "" : String(expiry.sliding);
}

/** Makes the returned cookie show when the session really expires (after any renewal). */
/**
 * Makes the returned cookie show when the session really expires (after any renewal).
 * @returns When the cookie expires, or `undefined` when it has no valid `expires`.
 */
function showRemainingLife(session: SessionRecord, pttl: number, now: number): number | undefined {
  const cookie = session.cookie as { expires?: unknown; originalMaxAge?: unknown } | undefined;
  if (typeof cookie !== "object" || cookie === null) return undefined;
  // With a Redis expiry, it is the truth: no need to parse the stored date first. A cookie
  // stored without `expires` (see #serialize) gets it back from the key's life.
  const derived = cookie.expires === undefined && typeof cookie.originalMaxAge === "number";
  if (pttl <= 0 || cookie.expires === null || (cookie.expires === undefined && !derived)) {
    return cookieExpiry(cookie);
  }
  const renewed = new Date(now + pttl);
  cookie.expires = cookie.expires instanceof Date ? renewed : renewed.toISOString();
  return now + pttl;
}

/**
 * Sets a property as own data, even `__proto__` (which assignment would turn into the
 * prototype) or `toString` (which assignment cannot shadow under frozen intrinsics).
 */
function define(target: SessionRecord, name: string, value: unknown): void {
  if (name in Object.prototype) {
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[name] = value;
  }
}

function checkSid(sid: unknown): string {
  if (typeof sid !== "string" || sid === "") {
    throw new TypeError(
      `A session id must be a non-empty string, got ${typeof sid === "string" ? '""' : typeof sid}`,
    );
  }
  return sid;
}

function checkSession(sid: string, session: unknown): SessionRecord {
  if (typeof session !== "object" || session === null || Array.isArray(session)) {
    throw new TypeError(
      `Session "${sid}" must be an object, got ${session === null ? "null" : typeof session}`,
    );
  }
  return session as SessionRecord;
}

/** Escapes SCAN MATCH glob characters so a prefix matches only itself. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
