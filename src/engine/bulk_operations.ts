/**
 * The operations over every session under the prefix: `all`, `ids`, `clear`,
 * `reencrypt`, walking each master with SCAN.
 * @module
 */

import type { EngineContext } from "./engine_context.ts";
import { isWrongType } from "./engine_context.ts";
import { SessionDataError } from "../errors.ts";
import { cookieExpiry } from "./expiry.ts";
import { DEAD_FIELD, EXPIRES_FIELD } from "./fields.ts";
import type { SessionRecord } from "../options/store_options.ts";
import type { SessionLoader } from "./session_loader.ts";
import { isIndexKey } from "../users/user_fields.ts";
import { type ReencryptResult, reencryptSession } from "../encryption/reencrypt.ts";

/** Walks every session under the prefix. */
export class BulkOperations {
  #ctx: EngineContext;
  #loader: SessionLoader;
  #destroy: (sid: string) => Promise<void>;

  /**
   * @param ctx The engine's shared parts.
   * @param loader Reads sessions (without renewing or locking them).
   * @param destroy Destroys one session.
   */
  constructor(ctx: EngineContext, loader: SessionLoader, destroy: (sid: string) => Promise<void>) {
    this.#ctx = ctx;
    this.#loader = loader;
    this.#destroy = destroy;
  }

  /** Every live session, as pairs of id and session. */
  async sessions(): Promise<[string, SessionRecord][]> {
    const found: [string, SessionRecord][] = [];
    for await (const sids of this.#sidPages()) {
      const sessions = await Promise.all(sids.map((sid) => this.#loader.load(sid, false, false)));
      sessions.forEach((session, i) => session && found.push([sids[i], session]));
    }
    return found;
  }

  /** The ids of every live session; a session with an unreadable property still counts. */
  async ids(): Promise<string[]> {
    const found: string[] = [];
    for await (const sids of this.#sidPages()) {
      const live = await Promise.all(sids.map((sid) => this.#isLive(sid)));
      live.forEach((yes, i) => yes && found.push(sids[i]));
    }
    return found;
  }

  /** Destroys every session under the prefix; a key that is not a session is reported at the end. */
  async clear(): Promise<void> {
    if (this.#ctx.options.prefix === "") {
      throw new RangeError(
        'clear() with prefix "" would destroy every hash and string in the database; ' +
          "use a prefix, or FLUSHDB on a database of your own",
      );
    }
    let failure: unknown;
    for await (const sids of this.#sidPages()) {
      const outcomes = await Promise.allSettled(sids.map((sid) => this.#destroy(sid)));
      failure ??= outcomes.find((outcome) => outcome.status === "rejected")?.reason;
    }
    if (failure !== undefined) throw failure;
  }

  /**
   * Option `encrypt`: rewrites every property value not stored the way the store now
   * writes (plain, under an older key; or encrypted, with `write: false`).
   */
  async reencrypt(): Promise<ReencryptResult> {
    if (!this.#ctx.cipher) {
      throw new TypeError('reencrypt() needs the option "encrypt" with the keys to read and write with');
    }
    const total: ReencryptResult = { sessions: 0, updated: 0, values: 0, unreadable: 0 };
    for await (const sids of this.#sidPages()) {
      for (
        const done of await Promise.all(
          sids.map((sid) => reencryptSession(this.#ctx, sid, (text) => this.#loader.convert(sid, text))),
        )
      ) {
        for (const name of ["sessions", "updated", "values", "unreadable"] as const) {
          total[name] += done[name];
        }
      }
    }
    return total;
  }

  /** Whether a key holds a live session, reading only its metadata. */
  async #isLive(sid: string): Promise<boolean> {
    const key = this.#ctx.key(sid);
    let meta: (string | null)[];
    try {
      meta = await this.#ctx.send(sid, ["HMGET", key, DEAD_FIELD, EXPIRES_FIELD]) as (string | null)[];
    } catch (error) {
      if (!isWrongType(error)) throw error;
      return await this.#isLiveString(sid);
    }
    const [dead, expires] = meta;
    if (dead !== null) return false;
    if (expires !== null) return expires === "" || Number(expires) > Date.now();
    // No `\0exp` (written before it existed, or gone since the SCAN): ask the key itself.
    return Number(await this.#ctx.send(sid, ["PTTL", key])) !== -2;
  }

  /**
   * A connect-redis string: live while its key lives, or without expiry while its cookie does
   * (one that cannot be parsed counts, like a hash with an unreadable value).
   */
  async #isLiveString(sid: string): Promise<boolean> {
    const key = this.#ctx.key(sid);
    const [text, pttl] = await Promise.all([
      this.#ctx.send(sid, ["GET", key]),
      this.#ctx.send(sid, ["PTTL", key]),
    ]);
    if (text === null) return false;
    if (Number(pttl) > 0) return true;
    let cookie: unknown;
    try {
      cookie = this.#ctx.codec.parseWhole(sid, String(text)).cookie;
    } catch (error) {
      if (error instanceof SessionDataError) return true; // unreadable: counted, as a hash would be
      throw error;
    }
    const expires = cookieExpiry(cookie as { expires?: unknown } | undefined);
    return expires === undefined || expires > Date.now();
  }

  /** The session ids under the prefix, one SCAN page at a time, across every master. */
  async *#sidPages(): AsyncGenerator<string[]> {
    const { prefix, scanCount } = this.#ctx.options;
    const pattern = escapeGlob(prefix) + "*";
    const seen = new Set<string>();
    for (const node of await this.#ctx.connection.masters()) {
      let cursor = "0";
      do {
        const [next, keys] = await this.#ctx.connection.sendTo(node, [
          "SCAN",
          cursor,
          "MATCH",
          pattern,
          "COUNT",
          String(scanCount),
        ]) as [string, string[]];
        cursor = String(next);
        // Sessions per user: the user indexes live under the prefix too.
        const page = keys.filter((key) =>
          key.startsWith(prefix) && !seen.has(key) && !isIndexKey(prefix, key)
        );
        page.forEach((key) => seen.add(key));
        if (page.length > 0) yield page.map((key) => key.slice(prefix.length));
      } while (cursor !== "0");
    }
  }
}

/** Escapes SCAN MATCH glob characters so a prefix matches only itself. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
