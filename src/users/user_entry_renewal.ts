/**
 * Sessions per user, renewals: an index entry's deadline is its session's expiry
 * plus one sliding period (the headroom) plus a margin. A renewal that has used up
 * half of that headroom extends the entry: together with the renewal's write while
 * the entry still covers the renewed expiry, else first, so that the session's
 * expiry never passes its entry's deadline. An active session is thus re-indexed
 * about once per half `maxAge`, never on each request.
 * @module
 */

import type { EngineContext } from "../engine/engine_context.ts";
import type { Expiry } from "../engine/expiry.ts";
import type { Snapshot } from "../engine/snapshot.ts";
import { USER_MARK_SCRIPT } from "../scripts/user_mark_script.ts";
import { INDEX_DEADLINE_FIELD } from "./user_fields.ts";

/** Added to an index entry's life: covers the index write landing after the session write. */
export const INDEX_MARGIN = 1000;

/** A renewal that must extend the session's index entry. */
export interface UserExtension {
  readonly user: string;
  /** The new entry's life in ms (-1: none) and deadline (ms since the epoch). */
  readonly life: number;
  readonly deadline: number;
  /** The deadline the session records now. */
  readonly previous: number;
  /** Whether the entry as it is already outlives the renewed session. */
  readonly covered: boolean;
  /** "+" moves the entry later only; "=" sets it (an entry without a deadline gets one). */
  readonly operation: "+" | "=";
  /** What the renewal writes into the session hash. */
  readonly fields: readonly [string, string][];
}

/** Runs index operations on a user's index (the index script). */
type IndexUpdate = (user: string, operations: [string, string, string][]) => Promise<unknown>;

/** Decides and runs the extensions of index entries that renewals call for. */
export class UserEntryRenewal {
  readonly #ctx: EngineContext;
  readonly #update: IndexUpdate;

  /**
   * @param ctx The engine's shared parts.
   * @param update Runs index operations on a user's index.
   */
  constructor(ctx: EngineContext, update: IndexUpdate) {
    this.#ctx = ctx;
    this.#update = update;
  }

  /**
   * Whether a write that renews a session's expiry must extend its index entry: once
   * the renewal has used up half of the entry's headroom (one sliding period).
   * @param snapshot The session's snapshot.
   * @param expiry The expiry the write sets.
   * @returns The extension, or `undefined` when the entry stays as it is.
   */
  extension(snapshot: Snapshot, expiry: Expiry): UserExtension | undefined {
    const user = snapshot.user;
    if (user === undefined || expiry.pttl === 0) return undefined;
    const expires = expiry.pttl < 0 ? Infinity : Date.now() + expiry.pttl;
    const previous = snapshot.userDeadline ?? 0;
    // A session that had no expiry and now has one (a ttl function changed its mind): its entry
    // must get a deadline too, or it would outlive the session for ever.
    const bounded = previous === Infinity && expires !== Infinity;
    if (!bounded && expires + headroom(expiry) / 2 <= previous) return undefined;
    const life = entryLife(expiry);
    const deadline = life < 0 ? Infinity : Date.now() + life;
    const text = life < 0 ? "-1" : String(deadline);
    // The margin covers the renewal landing a little after this estimate of its expiry.
    const covered = previous - INDEX_MARGIN >= expires;
    const operation = bounded ? "=" : "+";
    return { user, life, deadline, previous, covered, operation, fields: [[INDEX_DEADLINE_FIELD, text]] };
  }

  /**
   * Runs a write that renews a session together with the extension of its index entry.
   * When the entry as it is outlives the renewed session, both travel together (no
   * round trip more), and if only the index update fails, the session's record of the
   * deadline is set back so that the next renewal extends again. Otherwise the index
   * goes first: the session's expiry never passes its entry's deadline.
   * @param sid The session id.
   * @param snapshot The session's snapshot.
   * @param extension From {@linkcode extension}.
   * @param write The write; it writes `extension.fields` into the session.
   * @returns What the write returned.
   */
  async extending<T>(
    sid: string,
    snapshot: Snapshot,
    extension: UserExtension,
    write: () => Promise<T>,
  ): Promise<T> {
    const { user, life } = extension;
    const updating = () => this.#update(user, [[extension.operation, sid, String(life)]]);
    const setBack = () => {
      const previous = extension.previous === Infinity ? "-1" : String(extension.previous);
      return this.#ctx.run(USER_MARK_SCRIPT, sid, [user, previous]);
    };
    if (extension.operation === "=") {
      // Giving an entry without a deadline one shortens it: only once the session has its expiry.
      // If the index update fails, the entry keeps no deadline and the session's record says so,
      // so that the next renewal tries again.
      const result = await write();
      try {
        await updating();
        snapshot.userDeadline = extension.deadline;
      } catch {
        await setBack().catch(() => {/* the next renewal trusts the record: see the docs, Limits */});
      }
      return result;
    }
    if (!extension.covered) {
      await updating();
      const result = await write();
      snapshot.userDeadline = extension.deadline;
      return result;
    }
    const [indexed, written] = await Promise.allSettled([updating(), write()]);
    if (written.status === "rejected") throw written.reason; // a longer entry is harmless
    if (indexed.status === "rejected") {
      await setBack().catch(() => {
        throw indexed.reason;
      });
      return written.value;
    }
    snapshot.userDeadline = extension.deadline;
    return written.value;
  }
}

/** An index entry's life for a session written with `expiry`: its headroom and a margin more. */
export function entryLife(expiry: Expiry): number {
  return expiry.pttl < 0 ? -1 : expiry.pttl + headroom(expiry) + INDEX_MARGIN;
}

/**
 * How much longer than the session an index entry lives: one sliding period, or for a
 * session that does not slide (`disableTouch`: each write sets its life anew) one life.
 */
function headroom(expiry: Expiry): number {
  return expiry.sliding ?? Math.max(0, expiry.pttl);
}
