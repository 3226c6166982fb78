/**
 * Sessions per user, the read side and the bulk destroys: `sessionsOf`,
 * `destroyUser`, and the eviction behind `maxSessionsPerUser`. An index entry is
 * only a lead: each is checked against the session itself before it is listed,
 * counted or evicted.
 * @module
 */

import type { ResolvedOptions } from "../options/options.ts";
import { USER_DESTROY_SCRIPT } from "../scripts/user_destroy_script.ts";
import { USER_PROBE_SCRIPT } from "../scripts/user_probe_script.ts";
import { checkUser } from "./user_fields.ts";
import type { UserIndex } from "./user_index.ts";

/** Options of `destroyUser`. */
export interface DestroyUserOptions {
  /** A session id to keep, e.g. the current request's (`req.sessionID`). */
  except?: string;
}

/**
 * The user sessions of a store, or the error that says how to turn them on.
 * @param sessions The store's, `undefined` without the `user` option.
 * @param method The method called, for the message.
 * @returns The user sessions.
 */
export function userSessionsOf(sessions: UserSessions | undefined, method: string): UserSessions {
  if (sessions) return sessions;
  throw new TypeError(
    `${method}() needs the option "user", which names the user a session belongs to: ` +
      "new SmartRedisStore({ client, user: (session) => session.userId })",
  );
}

/** One live session of a user, as {@linkcode UserSessions.sessionsOf} lists it. */
export interface UserSession {
  /** The session id. */
  id: string;
  /** When the session was bound to the user (its login), in ms since the epoch. */
  loggedInAt?: number;
  /**
   * When a request last renewed the session's sliding expiry (by default every request
   * does), in ms since the epoch; absent for sessions that do not slide.
   */
  lastSeenAt?: number;
  /** When the session expires unless renewed, in ms since the epoch; absent when it never does. */
  expiresAt?: number;
}

/** Lists and destroys a user's sessions. */
export class UserSessions {
  readonly #index: UserIndex;
  readonly #options: ResolvedOptions;

  /**
   * @param index The index writer.
   * @param options The resolved store options.
   */
  constructor(index: UserIndex, options: ResolvedOptions) {
    this.#index = index;
    this.#options = options;
    index.evict = (user, keep, others) => this.#evict(user, keep, others);
  }

  /**
   * The user's live sessions, latest login first. Drops the index entries of destroyed sessions.
   * @param id The user.
   * @returns The sessions.
   */
  async sessionsOf(id: unknown): Promise<UserSession[]> {
    const user = checkUser(id, "sessionsOf() got a user")!;
    const sids = await this.#index.list(user);
    const probes = await this.#probe(user, sids);
    const now = Date.now();
    const found: UserSession[] = [];
    probes.forEach((probe, i) => {
      if (probe[0] !== "live") return;
      const pttl = Number(probe[1]);
      const sliding = Number(probe[2]) || 0;
      const session: UserSession = { id: sids[i] };
      if (probe[3] !== "") session.loggedInAt = Number(probe[3]);
      if (pttl > 0 && sliding > 0) session.lastSeenAt = Math.min(now, now + pttl - sliding);
      if (pttl > 0) session.expiresAt = now + pttl;
      found.push(session);
    });
    // Only tombstoned entries go now: a missing key may be a login whose write is still on its way.
    await this.#index.remove(user, sids.filter((_, i) => probes[i][0] === "dead"));
    return found.sort((a, b) => (b.loggedInAt ?? 0) - (a.loggedInAt ?? 0) || (a.id < b.id ? -1 : 1));
  }

  /**
   * Destroys every session of the user (tombstones, as `destroy`) but `except`.
   * Also tombstones listed sessions of no user and listed ids with no session yet:
   * those are logins of this user still on their way, which must not survive.
   * @param id The user.
   * @param options `except`: a session id to keep.
   * @returns How many live sessions of the user were destroyed.
   */
  async destroyUser(id: unknown, options: DestroyUserOptions = {}): Promise<number> {
    const user = checkUser(id, "destroyUser() got a user")!;
    if (typeof options !== "object" || options === null) {
      throw new TypeError("destroyUser() options must be an object such as { except: req.sessionID }");
    }
    const except = options.except;
    if (except !== undefined && typeof except !== "string") {
      throw new TypeError(
        `destroyUser() option "except" must be a session id (a string), got ${typeof except}`,
      );
    }
    const sids = (await this.#index.list(user)).filter((sid) => sid !== except);
    const replies = await Promise.all(
      sids.map((sid) =>
        this.#index.run(USER_DESTROY_SCRIPT, sid, [String(this.#options.deleteExpiry), user, ""]) as Promise<
          [number, number, string]
        >
      ),
    );
    await this.#index.remove(user, sids.filter((_, i) => replies[i][0] === 1));
    const ended = sids.filter((_, i) => replies[i][1] === 1 && replies[i][2] === user);
    for (const sid of ended) this.#index.destroyed(sid);
    // A missing key or another tombstone was replaced by a tombstone too: its end is no expiry.
    const reported = new Set(ended);
    for (const [i, sid] of sids.entries()) {
      if (replies[i][0] === 1 && !reported.has(sid)) this.#index.tombstoned(sid);
    }
    return ended.length;
  }

  /**
   * `maxSessionsPerUser`: after a login made the index too long, destroys the user's
   * live sessions beyond the `n` latest logins. Ranking the one logging in with the
   * others (rather than always keeping it) is what keeps parallel logins from
   * evicting each other beyond the limit: each of them keeps the same `n`.
   */
  async #evict(user: string, newcomer: string, others: string[]): Promise<string[]> {
    const limit = this.#options.maxSessionsPerUser;
    if (limit === undefined) return [];
    const sids = [newcomer, ...others];
    const probes = await this.#probe(user, sids);
    const loggedInAt = (i: number) => Number(probes[i][3]) || 0;
    const live = sids.map((_, i) => i).filter((i) => probes[i][0] === "live");
    live.sort((a, b) => loggedInAt(b) - loggedInAt(a) || (sids[a] < sids[b] ? -1 : 1));
    const victims = live.slice(limit).map((i) => sids[i]);
    const replies = await Promise.all(
      victims.map((sid) =>
        this.#index.run(USER_DESTROY_SCRIPT, sid, [
          String(this.#options.deleteExpiry),
          user,
          "strict",
        ]) as Promise<
          [number, number, string]
        >
      ),
    );
    await this.#index.remove(user, [
      ...victims.filter((_, i) => replies[i][0] === 1),
      ...sids.filter((_, i) => probes[i][0] === "dead"),
    ]);
    const ended = victims.filter((_, i) => replies[i][0] === 1 && replies[i][1] === 1);
    for (const sid of ended) this.#index.destroyed(sid);
    return ended;
  }

  #probe(user: string, sids: string[]): Promise<string[][]> {
    return Promise.all(
      sids.map(async (sid) =>
        ((await this.#index.run(USER_PROBE_SCRIPT, sid, [user])) as unknown[]).map(String)
      ),
    );
  }
}
