/**
 * The write path's commit: diff against the snapshot, compare-and-set, merge and
 * retry, whole writes of new sessions, and the one-time conversion of
 * connect-redis strings. Touches: `session_toucher.ts`.
 * @module
 */

import { ConflictMerger } from "./conflict_merge.ts";
import { LegacyConverter } from "./legacy_conversion.ts";
import type { EngineContext } from "../engine_context.ts";
import { SessionConflictError, SessionLockedError } from "../../errors.ts";
import { type Expiry, expiryOf } from "../expiry.ts";
import { COOKIE_FIELD } from "../fields.ts";
import type { SessionRecord } from "../../options/store_options.ts";
import { COMMIT_SCRIPT } from "../../scripts/commit_script.ts";
import { diffFields, type FieldChange, type Snapshot } from "../snapshot.ts";
import { expiryArgs, settled } from "./write_expiry.ts";
import { writeWhole } from "./whole_write.ts";
import type { UserIndex } from "../../users/user_index.ts";
import { checkSession, checkSid } from "./write_checks.ts";
import type { SessionCodec } from "../session_codec.ts";
import { endsHere, touchDue } from "./write_decisions.ts";
import { SessionToucher } from "./session_toucher.ts";
import { changeArgs, ownConflicts, recordChanges, withUpgrades } from "../../encryption/sealed_fields.ts";

/** Commits and touches sessions. */
export class SessionWriter {
  #ctx: EngineContext;
  #merger: ConflictMerger;
  #converter: LegacyConverter;
  #toucher: SessionToucher;
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
    const end = (id: string, snapshot: Snapshot | undefined) => this.#end(id, snapshot);
    const commit = (id: string, record: SessionRecord) => this.commit(id, record);
    this.#toucher = new SessionToucher(ctx, this.#converter, end, commit, users);
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
      if (!snapshot && !this.#users && !endsHere(this.#ctx, id, record, snapshot, expiry, now)) {
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
    if (endsHere(this.#ctx, id, record, snapshot, expiry, now)) return await this.#end(id, snapshot);
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
      touchDue(this.#ctx, snapshot, expiry, now, snapshot.fields.get(COOKIE_FIELD));
    if (changes.length === 0 && !renew) {
      this.#ctx.observer.touched(id, false);
      return await this.#ctx.releaseLock(id, snapshot);
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
  touch(sid: unknown, session: unknown): Promise<void> {
    return this.#toucher.touch(sid, session);
  }

  /** Ends a session by its tombstone; a lock it held goes with it. */
  async #end(id: string, snapshot: Snapshot | undefined): Promise<void> {
    if (snapshot) snapshot.lockToken = undefined;
    await this.#destroy(id);
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
