/**
 * Sessions per user, the write side: keeps each user's index (one sorted set per
 * user, see `user_fields.ts`) in step with the commits that change a session's
 * user, with destroys, and with the renewals of a session's expiry.
 *
 * The index and a session are different keys (different slots on a cluster), so
 * they cannot change in one atomic step. What keeps them right instead:
 * - A login sends the index update together with the commit (no round trip of its
 *   own). If the update fails, the session is destroyed rather than left logged in
 *   and unlisted, and the error is raised.
 * - An index entry's deadline is the session's expiry plus one sliding period plus a
 *   margin, and never falls behind the session's real expiry: a renewal that has used
 *   up half of that headroom extends the entry, together with the write of the renewal
 *   when the entry still covers the renewed expiry, else first (see `user_entry_renewal.ts`).
 *   An active session is thus re-indexed about once per half `maxAge`, never on each request.
 * - Readers trust an entry only after checking the session itself (`user_sessions.ts`).
 * @module
 */

import type { EngineContext } from "../engine/engine_context.ts";
import { SessionDataError } from "../errors.ts";
import type { Expiry } from "../engine/expiry.ts";
import type { SessionRecord } from "../options/store_options.ts";
import type { Snapshot } from "../engine/snapshot.ts";
import { type LuaScript, runScript } from "../scripts/script_runner.ts";
import { USER_DESTROY_SCRIPT } from "../scripts/user_destroy_script.ts";
import { USER_INDEX_SCRIPT } from "../scripts/user_index_script.ts";
import { checkUser, INDEX_DEADLINE_FIELD, indexKey, LOGIN_FIELD, USER_FIELD } from "./user_fields.ts";
import { entryLife, UserEntryRenewal } from "./user_entry_renewal.ts";

/** A commit that changes the user a session belongs to. */
export interface UserChange {
  readonly sid: string;
  /** The user the session belonged to, as far as this request knows. */
  readonly from: string | undefined;
  /** The user it belongs to after the commit. */
  readonly to: string | undefined;
  /** The index entry's life in ms (-1: none). */
  readonly life: number;
  /** The same as a deadline in ms since the epoch. */
  readonly deadline: number;
  /** The user fields the commit writes into the session hash. */
  readonly fields: readonly [string, string][];
}

/** Keeps the user indexes in step with the sessions. */
export class UserIndex {
  readonly #ctx: EngineContext;
  /**
   * `maxSessionsPerUser`: called after a login when the user's index holds more entries than
   * allowed, with the session logging in and the others (see `user_sessions.ts`).
   */
  evict: (user: string, newcomer: string, others: string[]) => Promise<string[]> = () => Promise.resolve([]);

  /** Extends index entries as renewals move their sessions' expiry. */
  readonly renewal: UserEntryRenewal;

  /** @param ctx The engine's shared parts; its options have `user` set. */
  constructor(ctx: EngineContext) {
    this.renewal = new UserEntryRenewal(ctx, (user, operations) => this.#update(user, operations));
    this.#ctx = ctx;
  }

  /**
   * The user a session belongs to, by the `user` option.
   * @param session The session.
   * @returns The user id, or `undefined` for none.
   */
  userOf(session: SessionRecord): string | undefined {
    return checkUser(this.#ctx.options.user!(session), 'The "user" option returned', true);
  }

  /**
   * Whether a loaded session's user differs from the one its hash records (a login,
   * logout or switch, or a session stored before the `user` option was set).
   * @param session The session.
   * @param snapshot Its snapshot.
   * @returns `true` when a commit must update the index.
   */
  changed(session: SessionRecord, snapshot: Snapshot): boolean {
    return this.userOf(session) !== snapshot.user;
  }

  /**
   * The index work a commit implies, if any.
   * @param sid The session id.
   * @param session The session being committed.
   * @param snapshot Its snapshot (`undefined`: written whole, its previous user unknown).
   * @param expiry The expiry the commit writes.
   * @returns The change, or `undefined` when the commit leaves the user as it was.
   */
  plan(
    sid: string,
    session: SessionRecord,
    snapshot: Snapshot | undefined,
    expiry: Expiry,
  ): UserChange | undefined {
    const to = this.userOf(session);
    const from = snapshot?.user;
    if (snapshot ? to === from : to === undefined) return undefined;
    const now = Date.now();
    const life = entryLife(expiry);
    const deadline = life < 0 ? Infinity : now + life;
    const fields: [string, string][] = [[USER_FIELD, to ?? ""]];
    if (to !== undefined) {
      fields.push([LOGIN_FIELD, String(now)], [INDEX_DEADLINE_FIELD, life < 0 ? "-1" : String(deadline)]);
    }
    return { sid, from, to: expiry.pttl === 0 ? undefined : to, life, deadline, fields };
  }

  /**
   * Runs a commit that changes a session's user together with the index updates.
   * @param change From {@linkcode plan}.
   * @param write The commit; it writes `change.fields` into the session.
   * @param snapshotAfter The session's snapshot after the commit, if it has one.
   */
  async around(
    change: UserChange,
    write: () => Promise<void>,
    snapshotAfter: () => Snapshot | undefined,
  ): Promise<void> {
    const { sid, from, to } = change;
    // A destroyUser() that reads the new user's index after this entry landed tombstones the session,
    // whether or not the commit has landed; one that read it before leaves the session listed.
    const adding = to === undefined ? undefined : this.#update(to, [["+", sid, String(change.life)]]);
    // A failed removal leaves a stale entry, which is harmless: readers check each session.
    const removing = from === undefined || from === to ? undefined : this.#update(from, [["-", sid, ""]]);
    const [added, written] = await Promise.allSettled([adding, write(), removing]);
    if (added.status === "rejected") {
      // Logged in but unlisted would escape destroyUser(): undo the login instead.
      if (written.status === "fulfilled") await this.destroy(sid).catch(() => {});
      throw added.reason;
    }
    if (written.status === "rejected") {
      // A logout or switch that failed leaves the session as it was: listed again under its user
      // (if the write landed after all, that entry is stale, and readers check each session).
      if (removing) await this.#update(from!, [["+", sid, String(change.life)]]).catch(() => {});
      throw written.reason;
    }
    const snapshot = snapshotAfter();
    if (snapshot) {
      snapshot.user = to;
      snapshot.userDeadline = change.deadline;
    }
    // maxSessionsPerUser: counted once this login has landed, so that of parallel logins the last
    // to land sees all the others live (counted before, a slow one could slip past the limit).
    if (to === undefined || this.#ctx.options.maxSessionsPerUser === undefined) return;
    const others = await this.#update(to, [], sid);
    if (others.length === 0) return;
    const ended = await this.evict(to, sid, others);
    if (ended.length > 0) this.#ctx.observer.userLimit(to, sid, ended);
  }

  /**
   * Destroys a session (a tombstone, as the destroy script leaves) and removes it
   * from its user's index.
   * @param sid The session id.
   */
  async destroy(sid: string): Promise<void> {
    const args = [String(this.#ctx.options.deleteExpiry), "", ""];
    const [, , user] = await this.#ctx.run(USER_DESTROY_SCRIPT, sid, args) as [number, number, string];
    if (user) await this.#update(user, [["-", sid, ""]]).catch(() => {/* readers check each session */});
  }

  /**
   * Runs the index script on a user's index.
   * @param user The user.
   * @param operations `["+", sid, life]`, `["=", sid, life]` or `["-", sid, ""]` each.
   * @param newcomer With `maxSessionsPerUser`: the session logging in; the reply then lists the others
   *   when there are too many.
   * @param reply `"-1"` to reply with every member instead.
   * @returns The members asked for, latest first.
   */
  async #update(
    user: string,
    operations: [string, string, string][],
    newcomer?: string,
    reply?: "-1",
  ): Promise<string[]> {
    const { options, connection } = this.#ctx;
    const cap = reply ?? (newcomer === undefined ? "0" : String(options.maxSessionsPerUser ?? 0));
    const key = indexKey(options.prefix, user);
    let members: unknown;
    try {
      members = await runScript((k, args) => connection.send(k, args), USER_INDEX_SCRIPT, key, [
        cap,
        newcomer ?? "",
        ...operations.flat(),
      ]);
    } catch (error) {
      if (!String((error as Error)?.message).includes("WRONGTYPE")) throw error;
      throw new SessionDataError(
        `Redis key ${JSON.stringify(key)} should be the index of user "${user}" but holds another type; ` +
          "nothing was changed: remove the key, or use another prefix",
        { cause: error },
      );
    }
    return (members as unknown[]).map(String);
  }

  /**
   * Reads a user's index, pruned.
   * @param user The user.
   * @returns The session ids, latest deadline first.
   */
  list(user: string): Promise<string[]> {
    return this.#update(user, [], undefined, "-1");
  }

  /**
   * Removes sessions from a user's index.
   * @param user The user.
   * @param sids The session ids.
   */
  async remove(user: string, sids: readonly string[]): Promise<void> {
    // In slices: one script call's arguments stay a reasonable size however many sessions go.
    for (let first = 0; first < sids.length; first += REMOVALS_PER_CALL) {
      await this.#update(user, sids.slice(first, first + REMOVALS_PER_CALL).map((sid) => ["-", sid, ""]));
    }
  }

  /**
   * Reports a session destroyed by the user's bulk operations (events, `stats()`).
   * @param sid The session id.
   */
  destroyed(sid: string): void {
    this.#ctx.observer.destroyed(sid);
  }

  /**
   * Reports a tombstone written where no live session of the user was (for `expired` events).
   * @param sid The session id.
   */
  tombstoned(sid: string): void {
    this.#ctx.observer.tombstoned(sid);
  }

  /**
   * Runs a one-key script on a session key.
   * @param script The script.
   * @param sid The session id.
   * @param args Its ARGV.
   * @returns Its reply.
   */
  run(script: LuaScript, sid: string, args: string[]): Promise<unknown> {
    return this.#ctx.run(script, sid, args);
  }
}

/** How many sessions one index update removes at most. */
const REMOVALS_PER_CALL = 1000;
