/**
 * The read path. An ordinary read is one plain `HGETALL`: its reply alone says
 * whether the session is live (no tombstone, `\0exp` not passed) and when it
 * expires, so nothing but the hash itself is read and Redis runs no script.
 * Renewal is left to the end of the request (see `write/session_toucher.ts`). Lock mode
 * and exact renewal (`renewAfter: 0`) read through the load script instead.
 * @module
 */

import { randomBytes } from "node:crypto";
import type { EngineContext } from "./engine_context.ts";
import { isWrongType } from "./engine_context.ts";
import { SessionLockedError } from "../errors.ts";
import { cookieExpiry, expiryOf } from "./expiry.ts";
import { DEAD_FIELD, EXPIRES_FIELD, isReservedField, SLIDING_FIELD } from "./fields.ts";
import type { ResolvedOptions } from "../options/options.ts";
import type { SessionRecord } from "../options/store_options.ts";
import { CONVERT_SCRIPT, convertArgs } from "../scripts/convert_script.ts";
import { LOAD_SCRIPT } from "../scripts/load_script.ts";
import { RELEASE_SCRIPT } from "../scripts/release_script.ts";
import { define } from "./session_codec.ts";
import { attachSnapshot } from "./snapshot.ts";
import { openFields, sealFields } from "../encryption/sealed_fields.ts";
import { isUserField, takeUserFields } from "../users/user_fields.ts";

/** A session as Redis holds it, before parsing. */
type Stored =
  | { kind: "hash"; pairs: unknown[]; pttl?: number; token?: string; readOnly?: boolean; unrenewed?: boolean }
  | { kind: "string"; text: string; pttl: number };

/** Loads sessions. */
export class SessionLoader {
  #ctx: EngineContext;

  /** @param ctx The engine's shared parts. */
  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  /**
   * Reads a session. In lock mode it also takes the session's lock, waiting while
   * another request holds it; with `renewAfter: 0` it renews the expiry in the same round trip.
   * @param sid The session id; anything but a non-empty string is not found.
   * @param renew Renew at the read when renewal is exact (`renewAfter: 0`).
   * @param lock Take the lock (in lock mode).
   * @returns The session with its snapshot attached, or `null` when missing, destroyed or expired.
   */
  async load(sid: unknown, renew = true, lock = true): Promise<SessionRecord | null> {
    if (typeof sid !== "string" || sid === "") return null;
    this.#ctx.observer.loaded();
    const { options } = this.#ctx;
    const locking = lock ? options.lock : undefined;
    const exact = renew && options.renewAfter === 0 && !options.disableTouch && !options.disableTTL;
    const sentAt = Date.now();
    const stored = locking || exact ? await this.#readByScript(sid, exact, locking) : await this.#read(sid);
    if (stored === null) return null;
    const token = stored.kind === "hash" ? stored.token : undefined;
    try {
      const session = await this.#build(sid, stored, sentAt, exact);
      if (session === null && token) await this.#ctx.run(RELEASE_SCRIPT, sid, [token]);
      return session;
    } catch (error) {
      if (token) this.#ctx.run(RELEASE_SCRIPT, sid, [token]).catch(() => {/* expires by itself */});
      throw error;
    }
  }

  /**
   * One plain read, from the local cache when it holds the key (no round trip); a string
   * key (connect-redis's format) costs a second round trip.
   */
  async #read(sid: string): Promise<Stored | null> {
    const key = this.#ctx.key(sid);
    for (let attempt = 1;; attempt++) {
      try {
        const pairs =
          (await this.#ctx.readCache?.read(key) ?? await this.#ctx.send(sid, ["HGETALL", key])) as unknown[];
        return pairs.length === 0 ? null : { kind: "hash", pairs };
      } catch (error) {
        if (!isWrongType(error)) throw error;
      }
      try {
        const [text, pttl] = await Promise.all([
          this.#ctx.send(sid, ["GET", key]),
          this.#ctx.send(sid, ["PTTL", key]),
        ]);
        return text === null ? null : { kind: "string", text: String(text), pttl: Number(pttl) };
      } catch (error) {
        // Another request converted the string to a hash in between: read that. (A key of
        // another type fails both reads every time.)
        if (!isWrongType(error) || attempt >= 3) throw error;
      }
    }
  }

  /** Runs the load script; in lock mode, retries while another request holds the lock. */
  async #readByScript(sid: string, renew: boolean, locking: ResolvedOptions["lock"]): Promise<Stored | null> {
    let token = locking ? randomBytes(12).toString("hex") : "";
    const started = Date.now();
    let waits = 0;
    for (;;) {
      const args = [renew ? String(Date.now()) : ""];
      if (token) args.push(token, String(this.#ctx.options.lockExpiry));
      const reply = await this.#ctx.run(LOAD_SCRIPT, sid, args) as unknown[] | null;
      if (reply === null) return null;
      if (reply[0] === "string") {
        if (!token) return { kind: "string", text: String(reply[2]), pttl: Number(reply[1]) };
        // A connect-redis string cannot hold a lock: convert it, then load it again, locking.
        await this.convert(sid, String(reply[2]));
        continue;
      }
      if (reply[0] === "hash") {
        const readOnly = locking !== undefined && !token;
        // "extend": the script left the renewal to the write that extends the user's index entry too.
        const unrenewed = reply[3] === "extend";
        if (waits > 0) this.#ctx.observer.lockWaited(sid, Date.now() - started, token !== "");
        return {
          kind: "hash",
          pairs: reply[2] as unknown[],
          pttl: Number(reply[1]),
          token,
          readOnly,
          unrenewed,
        };
      }
      const waited = Date.now() - started;
      if (waited >= locking!.timeout) {
        if (locking!.onTimeout === "error") {
          this.#ctx.observer.lockWaited(sid, waited, false);
          throw new SessionLockedError(
            `Session "${sid}" stayed locked by another request for ${waited} ms (option "lock.timeout"); ` +
              'retry later, or choose lock.onTimeout: "readonly"',
          );
        }
        token = ""; // read-only: load once more without asking for the lock
        continue;
      }
      waits++;
      const jittered = this.#ctx.options.retryTime * (0.5 + Math.random());
      await sleep(Math.max(1, Math.min(jittered, Number(reply[1]) + 1, locking!.timeout - waited)));
    }
  }

  /**
   * Turns a connect-redis string into a hash (if still that string; else the next load sees the new one).
   * @returns How many properties it wrote, 0 when the key no longer held that string.
   */
  async convert(sid: string, text: string): Promise<number> {
    const { codec, options } = this.#ctx;
    this.#ctx.cipher?.admitString(sid); // encrypt.plain "refuse": neither read nor converted
    const session = codec.parseWhole(sid, text);
    const sliding = String(expiryOf(session, options, Date.now()).sliding ?? "");
    const stored = await sealFields(this.#ctx.cipher, sid, codec.serialize(sid, session));
    const reply = await this.#ctx.run(CONVERT_SCRIPT, sid, convertArgs(text, stored, sliding));
    return reply === "converted" ? stored.size : 0;
  }

  /** Parses what was read, attaches the snapshot; `null` for a tombstone or an expired session. */
  async #build(sid: string, stored: Stored, sentAt: number, renewed: boolean): Promise<SessionRecord | null> {
    const { codec, options } = this.#ctx;
    let fields = new Map<string, string>();
    let storedForms: Map<string, string> | undefined;
    let session: SessionRecord;
    let sliding = "";
    let expiresText: string | undefined;
    let pttl = stored.pttl;
    const userFields = new Map<string, string>();
    if (stored.kind === "string") {
      this.#ctx.cipher?.admitString(sid);
      session = codec.parseWhole(sid, stored.text);
      for (const [field, text] of codec.serialize(sid, session)) fields.set(field, text);
      sliding = String(expiryOf(session, options, sentAt).sliding ?? "");
    } else {
      session = {};
      const pairs = stored.pairs;
      for (let i = 0; i < pairs.length; i += 2) {
        const field = String(pairs[i]);
        const text = String(pairs[i + 1]);
        if (!isReservedField(field)) fields.set(field, text);
        else if (field === DEAD_FIELD) return null;
        else if (field === SLIDING_FIELD) sliding = text;
        else if (field === EXPIRES_FIELD) expiresText = text;
        else if (isUserField(field)) userFields.set(field, text);
      }
      // Option `encrypt`: the snapshot keeps the decrypted values, and the stored ones beside.
      ({ fields, stored: storedForms } = await openFields(this.#ctx.cipher, sid, fields));
      for (const [field, text] of fields) define(session, field, codec.parseField(sid, field, text));
      // A hash written before `\0exp` existed: its key's life tells (once: the next write adds it).
      if (expiresText === undefined && pttl === undefined) {
        pttl = Number(await this.#ctx.send(sid, ["PTTL", this.#ctx.key(sid)]));
      }
    }
    const now = Date.now();
    if (pttl === -2) return null;
    const expires = expiresText !== undefined
      ? (expiresText === "" ? undefined : Number(expiresText))
      : pttl !== undefined && pttl >= 0
      ? sentAt + pttl
      : undefined;
    const shown = showExpiry(session, expires);
    if ((expires !== undefined && expires <= now) || (shown !== undefined && shown <= now)) return null;
    attachSnapshot(session, {
      ...takeUserFields(userFields), // sessions per user: the user the hash records
      sid,
      owner: this.#ctx,
      fields,
      stored: storedForms,
      sliding,
      expires,
      renewed: renewed && stored.kind === "hash" && !stored.unrenewed,
      liveAt: sentAt,
      legacy: stored.kind === "string" ? stored.text : undefined,
      lockToken: stored.kind === "hash" ? stored.token || undefined : undefined,
      readOnly: stored.kind === "hash" ? stored.readOnly : undefined,
    });
    return session;
  }
}

/**
 * Makes the returned cookie show when the session really expires: a cookie stored
 * without `expires` gets it back from the session's expiry, and a stored one is
 * brought up to date with it.
 * @returns When the cookie says the session expires, or `undefined` for never.
 */
function showExpiry(session: SessionRecord, expires: number | undefined): number | undefined {
  const cookie = session.cookie as { expires?: unknown; originalMaxAge?: unknown } | undefined;
  if (typeof cookie !== "object" || cookie === null) return undefined;
  const derived = cookie.expires === undefined && typeof cookie.originalMaxAge === "number";
  if (expires === undefined || cookie.expires === null || (cookie.expires === undefined && !derived)) {
    return cookieExpiry(cookie);
  }
  // A Date, not its ISO string: express-session's Cookie takes either, and a Date spares
  // formatting a string that express-session would parse right back.
  cookie.expires = new Date(expires);
  return expires;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
