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
 *   margin. A load that renews the session past half of that headroom extends the
 *   entry in the background (then records the new deadline in the session), so an
 *   active session is re-indexed about once per half `maxAge`, never on each request.
 * - Readers trust an entry only after checking the session itself (`user_sessions.ts`).
 * @module
 */

import { SessionDataError } from "./errors.ts";
import type { Expiry } from "./expiry.ts";
import { describe, type ResolvedOptions, type SessionRecord } from "./options.ts";
import type { Snapshot } from "./snapshot.ts";
import { type LuaScript, runScript, type SendToKey } from "./scripts/script_runner.ts";
import { USER_DESTROY_SCRIPT } from "./scripts/user_destroy_script.ts";
import { USER_INDEX_SCRIPT } from "./scripts/user_index_script.ts";
import { USER_MARK_SCRIPT } from "./scripts/user_mark_script.ts";
import { INDEX_DEADLINE_FIELD, indexKey, LOGIN_FIELD, takeUserFields, USER_FIELD } from "./user_fields.ts";

/** Added to an index entry's life: covers the index write landing before the session write. */
export const INDEX_MARGIN = 1000;

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
  readonly #send: SendToKey;
  readonly #options: ResolvedOptions;
  /**
   * `maxSessionsPerUser`: called after a login when the user's index holds more entries than
   * allowed, with the session logging in and the others (see `user_sessions.ts`).
   */
  evict: (user: string, newcomer: string, others: string[]) => Promise<void> = () => Promise.resolve();

  /**
   * @param send Sends one command to the node owning a key.
   * @param options The resolved store options, with `user` set.
   */
  constructor(send: SendToKey, options: ResolvedOptions) {
    this.#send = send;
    this.#options = options;
  }

  /**
   * The user a session belongs to, by the `user` option.
   * @param session The session.
   * @returns The user id, or `undefined` for none.
   */
  userOf(session: SessionRecord): string | undefined {
    return checkUser(this.#options.user!(session), 'The "user" option returned', true);
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
    const from = snapshot?.legacy ? undefined : snapshot?.user;
    if (snapshot && !snapshot.legacy ? to === from : to === undefined) return undefined;
    const now = Date.now();
    const life = expiry.pttl < 0 ? -1 : expiry.pttl + (expiry.sliding ?? 0) + INDEX_MARGIN;
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
    const adding = to === undefined ? undefined : this.#update(to, [["+", sid, String(change.life)]], sid);
    // A failed removal leaves a stale entry, which is harmless: readers check each session.
    const removing = from === undefined || from === to ? undefined : this.#update(from, [["-", sid, ""]]);
    const [added, written] = await Promise.allSettled([adding, write(), removing]);
    if (added.status === "rejected") {
      // Logged in but unlisted would escape destroyUser(): undo the login instead.
      if (written.status === "fulfilled") await this.destroy(sid).catch(() => {});
      throw added.reason;
    }
    if (written.status === "rejected") throw written.reason;
    const snapshot = snapshotAfter();
    if (snapshot) {
      takeUserFields(snapshot.fields); // the commit recorded them as written session properties
      snapshot.user = to;
      snapshot.userDeadline = change.deadline;
    }
    const others = added.value ?? [];
    if (to !== undefined && others.length > 0) await this.evict(to, sid, others);
  }

  /**
   * After a renewal of a session's expiry: extends its index entry in the background
   * once the renewal has used up half of the entry's headroom.
   * @param sid The session id.
   * @param snapshot The session's snapshot.
   * @param pttl The session's remaining life in ms after the renewal (-1: none).
   * @param sliding Its sliding expiry in ms (0: none).
   */
  renewed(sid: string, snapshot: Snapshot, pttl: number, sliding: number): void {
    const user = snapshot.user;
    if (user === undefined || pttl === 0 || pttl === -2) return;
    const now = Date.now();
    const expires = pttl < 0 ? Infinity : now + pttl;
    if (expires + sliding / 2 <= (snapshot.userDeadline ?? 0)) return;
    const life = pttl < 0 ? -1 : pttl + sliding + INDEX_MARGIN;
    const deadline = life < 0 ? Infinity : now + life;
    snapshot.userDeadline = deadline;
    // The index first, the session's record of it only once the index has it.
    this.#update(user, [["+", sid, String(life)]])
      .then(() => this.#run(USER_MARK_SCRIPT, sid, [user, life < 0 ? "-1" : String(deadline)]))
      .catch(() => {/* the session's next load tries again: its record was not updated */});
  }

  /**
   * Destroys a session (a tombstone, as the destroy script leaves) and removes it
   * from its user's index.
   * @param sid The session id.
   */
  async destroy(sid: string): Promise<void> {
    const args = [String(this.#options.deleteExpiry), "", ""];
    const [, , user] = await this.#run(USER_DESTROY_SCRIPT, sid, args) as [number, number, string];
    if (user) await this.#update(user, [["-", sid, ""]]).catch(() => {/* readers check each session */});
  }

  /**
   * Runs the index script on a user's index.
   * @param user The user.
   * @param operations `["+", sid, life]` or `["-", sid, ""]` each.
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
    const cap = reply ?? (newcomer === undefined ? "0" : String(this.#options.maxSessionsPerUser ?? 0));
    const key = indexKey(this.#options.prefix, user);
    let members: unknown;
    try {
      members = await runScript(this.#send, USER_INDEX_SCRIPT, key, [
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
    if (sids.length > 0) await this.#update(user, sids.map((sid) => ["-", sid, ""]));
  }

  /**
   * Runs a one-key script on a session key.
   * @param script The script.
   * @param sid The session id.
   * @param args Its ARGV.
   * @returns Its reply.
   */
  run(script: LuaScript, sid: string, args: string[]): Promise<unknown> {
    return this.#run(script, sid, args);
  }

  async #run(script: LuaScript, sid: string, args: string[]): Promise<unknown> {
    const key = this.#options.prefix + sid;
    try {
      return await runScript(this.#send, script, key, args);
    } catch (error) {
      if (!String((error as Error)?.message).includes("WRONGTYPE")) throw error;
      throw new SessionDataError(
        `Redis key ${JSON.stringify(key)} is not a session (${(error as Error).message}); ` +
          "nothing was changed: remove the key or use another prefix",
        { cause: error },
      );
    }
  }
}

/**
 * Checks a user id: a non-empty string, or a finite number (made a string).
 * @param value The value.
 * @param what Who gave it, for the error message.
 * @param optional Whether `undefined`, `null` and `""` mean "no user".
 * @returns The user id, or `undefined` for none.
 */
export function checkUser(value: unknown, what: string, optional = false): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "string" && value !== "") return value;
  if (optional && (value === undefined || value === null || value === "")) return undefined;
  throw new TypeError(
    `${what} ${describe(value)}: a user must be a non-empty string or a finite number`,
  );
}
