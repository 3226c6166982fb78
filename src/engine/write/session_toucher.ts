/**
 * The touch of the write path: keeps a session alive, writing only when its renewal
 * fell due, its cookie's settings changed, or a lock is to be given up; converts a
 * connect-redis string on the way.
 * @module
 */

import type { LegacyConverter } from "./legacy_conversion.ts";
import type { EngineContext } from "../engine_context.ts";
import { expiryOf } from "../expiry.ts";
import { COOKIE_FIELD } from "../fields.ts";
import type { SessionRecord } from "../../options/store_options.ts";
import { REFRESH_SCRIPT } from "../../scripts/refresh_script.ts";
import type { Snapshot } from "../snapshot.ts";
import { expiryArgs, settled } from "./write_expiry.ts";
import { endsHere, touchDue } from "./write_decisions.ts";
import type { UserIndex } from "../../users/user_index.ts";
import { checkSession, checkSid } from "./write_checks.ts";
import { recordField, sealValue } from "../../encryption/sealed_fields.ts";

/** Touches sessions (the engine's `touch`, through the writer). */
export class SessionToucher {
  #ctx: EngineContext;
  #converter: LegacyConverter;
  /** Ends a session by its tombstone (the writer's). */
  #end: (id: string, snapshot: Snapshot | undefined) => Promise<void>;
  /** Commits a session (the writer's): a touch that must index the session's user commits. */
  #commit: (id: string, record: SessionRecord) => Promise<void>;
  /** Sessions per user (option `user`), else `undefined`. */
  #users: UserIndex | undefined;

  /**
   * @param ctx The engine's shared parts.
   * @param converter Converts connect-redis strings.
   * @param end Ends a session by its tombstone.
   * @param commit Commits a session.
   * @param users Sessions per user: the index writer, with the `user` option.
   */
  constructor(
    ctx: EngineContext,
    converter: LegacyConverter,
    end: (id: string, snapshot: Snapshot | undefined) => Promise<void>,
    commit: (id: string, record: SessionRecord) => Promise<void>,
    users?: UserIndex,
  ) {
    this.#ctx = ctx;
    this.#converter = converter;
    this.#end = end;
    this.#commit = commit;
    this.#users = users;
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
    if (endsHere(this.#ctx, id, record, snapshot, expiry, now)) return await this.#end(id, snapshot);
    const cookie = codec.cookieText(id, record);
    if (snapshot?.legacy !== undefined) {
      // Converted at the first touch, a due renewal folded in: later reads are one plain HGETALL.
      const renew = !options.disableTouch &&
        touchDue(this.#ctx, snapshot, expiry, now, snapshot.fields.get(COOKIE_FIELD));
      await this.#converter.convert(id, record, snapshot, renew ? expiry : undefined);
    }
    // Sessions per user: a session whose hash does not record its user yet (stored before the
    // option was set) is indexed by a commit.
    if (snapshot && this.#users?.changed(record, snapshot)) return await this.#commit(id, record);
    if (snapshot && !touchDue(this.#ctx, snapshot, expiry, now, cookie)) {
      this.#ctx.observer.touched(id, false);
      return await this.#ctx.releaseLock(id, snapshot);
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
}
