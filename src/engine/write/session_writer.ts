/**
 * The write path: commit (diff against the snapshot, compare-and-set, merge and
 * retry), touch (lazy renewal, changed cookies), whole writes, and the one-time
 * conversion of connect-redis strings.
 * @module
 */

import { ConflictMerger } from "./conflict_merge.ts";
import { LegacyConverter } from "./legacy_conversion.ts";
import type { EngineContext } from "../engine_context.ts";
import { SessionConflictError, SessionLockedError } from "../../errors.ts";
import { type Expiry, expiryOf, renewalDue } from "../expiry.ts";
import { COOKIE_FIELD } from "../fields.ts";
import type { SessionRecord } from "../../options/store_options.ts";
import { COMMIT_SCRIPT } from "../../scripts/commit_script.ts";
import { REFRESH_SCRIPT } from "../../scripts/refresh_script.ts";
import { RELEASE_SCRIPT } from "../../scripts/release_script.ts";
import { diffFields, type FieldChange, type Snapshot } from "../snapshot.ts";
import { expiryArgs, settled, slidingArg } from "./write_expiry.ts";
import { writeWhole } from "./whole_write.ts";
import type { UserIndex } from "../../users/user_index.ts";
import { checkSession, checkSid } from "./write_checks.ts";
import { sameSpan, type SessionCodec } from "../session_codec.ts";
import {
  changeArgs,
  ownConflicts,
  recordChanges,
  recordField,
  sealValue,
  withUpgrades,
} from "../../encryption/sealed_fields.ts";

/** Commits and touches sessions. */
export class SessionWriter {
  #ctx: EngineContext;
  #merger: ConflictMerger;
  #converter: LegacyConverter;
  /** Sessions per user (option `user`), else `undefined`. */
  #users: UserIndex | undefined;
  /** Destroys a session, leaving its tombstone (the engine's `destroy`). */
  #destroy: (sid: string) => Promise<void>;

  /**
   * @param ctx The engine's shared parts.
   * @param destroy Destroys a session, leaving its tombstone.
   * @param users Sessions per user: the index writer, with the `user` option.
   */
  constructor(ctx: EngineContext, destroy: (sid: string) => Promise<void>, users?: UserIndex) {
    this.#ctx = ctx;
    this.#merger = new ConflictMerger(ctx);
    this.#converter = new LegacyConverter(ctx, this.#merger);
    this.#destroy = destroy;
    this.#users = users;
  }

  /**
   * Writes a session: only the changed fields when it carries this store's snapshot,
   * else the whole session. Concurrent changes are merged and the commit retried; a
   * destroyed session stays destroyed.
   * @param merged Set on the commit that follows one whose merge changed the session's user.
   */
  commit(sid: unknown, session: unknown, merged = false): Promise<void> {
    try {
      const id = checkSid(sid);
      const record = checkSession(id, session);
      const snapshot = this.#ctx.snapshotOf(record, id);
      const now = Date.now();
      const expiry = expiryOf(record, this.#ctx.options, now);
      // A new session's first save (or a session of another store) is written whole, at once.
      if (!snapshot && !this.#users && !this.#endsHere(id, record, snapshot, expiry, now)) {
        return writeWhole(this.#ctx, id, record, this.#ctx.codec.serialize(id, record), expiry, now);
      }
      return this.#commit(id, record, snapshot, expiry, now, merged);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #commit(
    id: string,
    record: SessionRecord,
    snapshot: Snapshot | undefined,
    expiry: Expiry,
    now: number,
    merged: boolean,
  ): Promise<void> {
    if (this.#endsHere(id, record, snapshot, expiry, now)) return await this.#end(id, snapshot);
    if (snapshot?.legacy !== undefined && !snapshot.readOnly) {
      await this.#converter.convert(id, record, snapshot);
    }
    // Sessions per user: a commit that changes the session's user also updates the indexes.
    const change = snapshot?.readOnly ? undefined : this.#users?.plan(id, record, snapshot, expiry);
    if (change) {
      const write = () => this.#write(id, record, snapshot, expiry, now, change.fields);
      await this.#users!.around(change, write, () => this.#ctx.snapshotOf(record, id));
      // A merge with another request's login may have changed whose session it is: once more, so
      // that the hash and the indexes follow the merged session.
      const after = this.#ctx.snapshotOf(record, id);
      if (after && !after.ended && this.#users!.changed(record, after) && !merged) {
        return await this.commit(id, record, true);
      }
      return;
    }
    await this.#write(id, record, snapshot, expiry, now, []);
  }

  /** The commit proper; `userFields` are written into the hash unchecked (sessions per user). */
  async #write(
    id: string,
    record: SessionRecord,
    snapshot: Snapshot | undefined,
    expiry: Expiry,
    now: number,
    userFields: readonly [string, string][],
  ): Promise<void> {
    const { codec, options } = this.#ctx;
    if (!snapshot) {
      return await writeWhole(this.#ctx, id, record, codec.serialize(id, record), expiry, now, userFields);
    }

    const changes = diffFields(snapshot.fields, codec.serialize(id, record))
      .filter((change) => change.field !== COOKIE_FIELD || !onlyDrift(codec, snapshot, change));
    for (const [field, value] of userFields) changes.push({ kind: "w", field, value });
    if (snapshot.readOnly) {
      if (changes.length === 0) return; // nothing to refuse: the request changed nothing
      throw new SessionLockedError(
        `Session "${id}" was loaded read-only because another request held its lock; its changes were not saved`,
      );
    }
    const cookieChanged = changes.some((change) => change.field === COOKIE_FIELD);
    // A set() is a write: under disableTouch it still sets the expiry anew. Otherwise the
    // renewal is as lazy as a touch's: a commit leaves the expiry alone until it is due.
    const renew = options.disableTouch || cookieChanged ||
      this.#touchDue(snapshot, expiry, now, snapshot.fields.get(COOKIE_FIELD));
    if (changes.length === 0 && !renew) {
      this.#ctx.observer.touched(id, false);
      return await this.#release(id, snapshot);
    }
    // Sessions per user: a renewal that uses up half the headroom of the index entry extends it.
    const extension = renew && userFields.length === 0
      ? this.#users?.renewal.extension(snapshot, expiry)
      : undefined;
    if (!extension) return await this.#compareAndSet(id, record, snapshot, expiry, now, changes, renew);
    const extended = [...changes, ...extension.fields.map(([field, value]) => ({ kind: "w", field, value }))];
    const write = () =>
      this.#compareAndSet(id, record, snapshot, expiry, now, extended as FieldChange[], renew);
    await this.#users!.renewal.extending(id, snapshot, extension, write);
  }

  /** Writes the changes if the fields still hold their bases; merges and retries if not. */
  async #compareAndSet(
    id: string,
    record: SessionRecord,
    snapshot: Snapshot,
    expiry: Expiry,
    now: number,
    changes: FieldChange[],
    renew: boolean,
  ): Promise<void> {
    const { options } = this.#ctx;
    const cookieChanged = changes.some((change) => change.field === COOKIE_FIELD);
    // Not changing the cookie, this request has no say on the expiry another one set meanwhile.
    const guard = cookieChanged ? "" : "=" + snapshot.sliding;
    for (let attempt = 0; attempt <= options.conflictRetries; attempt++) {
      // Option `encrypt`: the first attempt also moves the values stored plain (see withUpgrades).
      const sent = attempt === 0 ? withUpgrades(this.#ctx.cipher, snapshot, changes) : changes;
      const { triples, sealed } = await changeArgs(this.#ctx.cipher, id, snapshot, sent);
      const args = [
        ...expiryArgs(expiry, guard, now, !renew),
        sent.map((change) => change.kind).join(""),
        ...triples,
      ];
      if (snapshot.lockToken) args.push(snapshot.lockToken);
      const sentAt = Date.now();
      const reply = await this.#ctx.run(COMMIT_SCRIPT, id, args) as unknown[];
      if (reply[0] !== "conflict") snapshot.lockToken = undefined;
      switch (reply[0]) {
        case "ok":
          recordChanges(snapshot, sent, sealed);
          if (renew || reply.length > 1) settled(snapshot, expiry, reply.slice(1));
          snapshot.liveAt = sentAt;
          this.#ctx.observer.updated(id, changes);
          return;
        case "dead":
          snapshot.ended = true;
          this.#ctx.observer.blocked(id, "commit");
          return;
        case "gone":
          return await this.#rewriteGone(id, record, snapshot, now);
        default: {
          const conflicts = sent === changes ? reply : ownConflicts(reply, changes.length);
          this.#ctx.observer.merged(id, changes, conflicts);
          changes = await this.#merger.mergeConflicts(id, record, snapshot, changes, conflicts);
        }
      }
    }
    this.#ctx.observer.conflict(id, options.conflictRetries + 1);
    throw new SessionConflictError(
      `Session "${id}" could not be committed: other requests changed the same properties in each of ` +
        `${options.conflictRetries + 1} attempts; retry the request or raise "conflictRetries"`,
    );
  }

  /**
   * Keeps a session alive: writes only when the renewal fell due (see `renewAfter`),
   * the cookie's settings changed, or a lock is to be given up.
   */
  async touch(sid: unknown, session: unknown): Promise<void> {
    const id = checkSid(sid);
    const record = checkSession(id, session);
    const { codec, options } = this.#ctx;
    const snapshot = this.#ctx.snapshotOf(record, id);
    if (snapshot?.readOnly || (!snapshot && options.disableTouch)) return;
    const now = Date.now();
    const expiry = expiryOf(record, options, now);
    if (this.#endsHere(id, record, snapshot, expiry, now)) return await this.#end(id, snapshot);
    const cookie = codec.cookieText(id, record);
    if (snapshot?.legacy !== undefined) {
      // Converted at the first touch, a due renewal folded in: later reads are one plain HGETALL.
      const renew = !options.disableTouch &&
        this.#touchDue(snapshot, expiry, now, snapshot.fields.get(COOKIE_FIELD));
      await this.#converter.convert(id, record, snapshot, renew ? expiry : undefined);
    }
    // Sessions per user: a session whose hash does not record its user yet (stored before the
    // option was set) is indexed by a commit.
    if (snapshot && this.#users?.changed(record, snapshot)) return await this.commit(id, record);
    if (snapshot && !this.#touchDue(snapshot, expiry, now, cookie)) {
      this.#ctx.observer.touched(id, false);
      return await this.#release(id, snapshot);
    }
    const cookieChanged = cookie !== undefined &&
      !codec.sameCookie(cookie, snapshot?.fields.get(COOKIE_FIELD));
    const guard = cookieChanged || !snapshot ? "" : "=" + snapshot.sliding;
    const storedCookie = cookieChanged ? await sealValue(this.#ctx.cipher, id, COOKIE_FIELD, cookie) : "";
    // Under disableTouch only the cookie's settings are written: the expiry stays as it is.
    const args = [
      ...expiryArgs(expiry, guard, now, options.disableTouch),
      cookieChanged ? COOKIE_FIELD : "",
      storedCookie,
    ];
    const token = snapshot?.lockToken;
    if (snapshot) snapshot.lockToken = undefined;
    args.push(token ?? "");
    // Sessions per user: a renewal that uses up half the headroom of the index entry extends it.
    const extension = snapshot && !options.disableTouch
      ? this.#users?.renewal.extension(snapshot, expiry)
      : undefined;
    const refresh = (extra: readonly [string, string][]) =>
      this.#ctx.run(REFRESH_SCRIPT, id, [...args, ...extra.flat()]);
    const reply = extension
      ? await this.#users!.renewal.extending(id, snapshot!, extension, () => refresh(extension.fields))
      : await refresh([]);
    if (reply !== 0) this.#ctx.observer.touched(id, true);
    if (!snapshot) return;
    if (reply === 0) {
      snapshot.ended = true; // destroyed (or gone) meanwhile: nothing was written
      return;
    }
    if (cookieChanged) recordField(snapshot, COOKIE_FIELD, cookie, storedCookie);
    if (!options.disableTouch) settled(snapshot, expiry, Array.isArray(reply) ? reply.slice(1) : []);
  }

  /** Whether a request that changed no data must still write: cookie settings, maxAge, or a due renewal. */
  #touchDue(snapshot: Snapshot, expiry: Expiry, now: number, cookie: string | undefined): boolean {
    if (!this.#ctx.codec.sameCookie(cookie, snapshot.fields.get(COOKIE_FIELD))) return true;
    if (this.#ctx.options.disableTouch) return false;
    if (!sameSpan(slidingArg(expiry), snapshot.sliding)) return true;
    if (snapshot.renewed) return false;
    return renewalDue(expiry, snapshot.expires, now, this.#ctx.options.renewAfter);
  }

  /**
   * Whether this write ends the session: its expiry has passed, and by this request's
   * own doing (a whole write, a cookie changed to end it such as `maxAge = 0`, or a `ttl`
   * function saying 0). Such an end leaves a tombstone, as `destroy` does, so that a
   * request still in flight cannot bring the session back. (One whose cookie merely ran
   * out meanwhile goes through the scripts, which keep a longer expiry another request
   * gave it.) Under `disableTTL` too: the key has no expiry then, so only this ends it.
   */
  #endsHere(
    id: string,
    record: SessionRecord,
    snapshot: Snapshot | undefined,
    expiry: Expiry,
    now: number,
  ): boolean {
    if (expiry.at === undefined || expiry.at > now || snapshot?.readOnly) return false;
    const { options, codec } = this.#ctx;
    if (!snapshot || (typeof options.ttl === "function" && !options.disableTTL)) return true;
    return !codec.sameCookie(codec.cookieText(id, record), snapshot.fields.get(COOKIE_FIELD));
  }

  /** Ends a session by its tombstone; a lock it held goes with it. */
  async #end(id: string, snapshot: Snapshot | undefined): Promise<void> {
    if (snapshot) snapshot.lockToken = undefined;
    await this.#destroy(id);
  }

  /** Lock mode: gives up the lock a session holds, if it still does. */
  async #release(sid: string, snapshot: Snapshot): Promise<void> {
    const token = snapshot.lockToken;
    if (!token) return;
    snapshot.lockToken = undefined;
    await this.#ctx.run(RELEASE_SCRIPT, sid, [token]);
  }

  /**
   * The key vanished without a tombstone. Rewritten whole only when nothing can have
   * destroyed it: a destroy since it was last seen live would have left a tombstone until
   * `liveAt + deleteExpiry`, unless Redis may evict keys (a tombstone, with the shortest
   * life of all, goes first). Otherwise it stays gone, and this request's write is lost
   * rather than a logout undone.
   */
  async #rewriteGone(id: string, record: SessionRecord, snapshot: Snapshot, now: number) {
    if (
      Date.now() >= snapshot.liveAt + this.#ctx.options.deleteExpiry ||
      !await this.#ctx.evictionImpossible(id)
    ) {
      snapshot.ended = true;
      return;
    }
    // As a fresh save: with the user option, it records the user and indexes it anew.
    const expiry = expiryOf(record, this.#ctx.options, now);
    const change = this.#users?.plan(id, record, undefined, expiry);
    const write = () => this.#write(id, record, undefined, expiry, now, change?.fields ?? []);
    if (!change) return await write();
    await this.#users!.around(change, write, () => this.#ctx.snapshotOf(record, id));
  }
}

/** A change of the cookie field that is only express-session's drift of `originalMaxAge`. */
function onlyDrift(codec: SessionCodec, snapshot: Snapshot, change: FieldChange): boolean {
  return change.kind !== "r" && codec.sameCookie(snapshot.fields.get(COOKIE_FIELD), change.value);
}
