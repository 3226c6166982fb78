/**
 * `reencrypt()` for one session: rewrites each property value that is not
 * stored the way the store now writes (plain, under an older key, or encrypted
 * while writes are plain), with a compare-and-set per value so that a
 * concurrent write is never undone; a connect-redis string (plain) is converted
 * into an encrypted hash. With `encrypt.plain: "refuse"`, plain values and strings
 * are left as they are and counted unreadable.
 * @module
 */

import type { EngineContext } from "../engine/engine_context.ts";
import { isWrongType } from "../engine/engine_context.ts";
import { DEAD_FIELD, isReservedField } from "../engine/fields.ts";
import { SessionDataError } from "../errors.ts";
import { REENCRYPT_SCRIPT } from "../scripts/reencrypt_script.ts";
import type { FieldCipher } from "./field_cipher.ts";

/** What `reencrypt()` did. */
export interface ReencryptResult {
  /** Sessions looked at, hashes and connect-redis strings (destroyed ones are skipped). */
  sessions: number;
  /** Sessions with at least one value rewritten. */
  updated: number;
  /** Property values rewritten. */
  values: number;
  /**
   * Values that could not be decrypted (a key missing, or altered), and with `encrypt.plain: "refuse"`
   * plain values and connect-redis strings: left as they are.
   */
  unreadable: number;
}

/** How often a session is read again when values changed between the read and the rewrite. */
const ATTEMPTS = 5;

/**
 * Rewrites one session's stale values.
 * @param ctx The engine's shared parts; its cipher is set.
 * @param sid The session id.
 * @param convert Turns the session's connect-redis string into a hash written the way the store
 *   writes; returns how many properties it wrote (0: the key no longer held that string).
 * @returns What was done to it.
 */
export async function reencryptSession(
  ctx: EngineContext,
  sid: string,
  convert: (text: string) => Promise<number>,
): Promise<ReencryptResult> {
  const cipher = ctx.cipher!;
  const done: ReencryptResult = { sessions: 1, updated: 0, values: 0, unreadable: 0 };
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    let pairs: unknown[];
    try {
      pairs = await ctx.send(sid, ["HGETALL", ctx.key(sid)]) as unknown[];
    } catch (error) {
      if (!isWrongType(error)) throw error;
      // A connect-redis string: plain, so converted to an encrypted hash (left as it is with write: false).
      const text = await ctx.send(sid, ["GET", ctx.key(sid)]).catch((error) => {
        if (isWrongType(error)) return null; // neither a hash nor a string: no session
        throw error;
      });
      if (text === null || !cipher.writes) return { ...done, sessions: text === null ? 0 : 1 };
      try {
        done.values += await convert(String(text));
      } catch (error) {
        if (!(error instanceof SessionDataError)) throw error;
        return { ...done, unreadable: 1 }; // refused, or one the serializer cannot parse: left as it is
      }
      continue; // read again: converted, or changed meanwhile
    }
    const { triples, unreadable, dead } = await staleValues(cipher, sid, pairs);
    done.unreadable = unreadable;
    if (dead || pairs.length === 0) return { ...done, sessions: 0 };
    if (triples.length === 0) break;
    const replaced = Number(await ctx.run(REENCRYPT_SCRIPT, sid, triples));
    if (replaced < 0) return { ...done, sessions: 0 }; // destroyed or gone meanwhile
    done.values += replaced;
    if (replaced === triples.length / 3) break;
  }
  if (done.values > 0) done.updated = 1;
  return done;
}

/** The (field, stored, rewritten) triples of a hash's stale values, and how many could not be read. */
async function staleValues(
  cipher: FieldCipher,
  sid: string,
  pairs: unknown[],
): Promise<{ triples: string[]; unreadable: number; dead: boolean }> {
  const triples: string[] = [];
  let unreadable = 0;
  for (let i = 0; i < pairs.length; i += 2) {
    const field = String(pairs[i]);
    const stored = String(pairs[i + 1]);
    if (field === DEAD_FIELD) return { triples: [], unreadable: 0, dead: true };
    if (isReservedField(field) || !cipher.stale(stored)) continue;
    try {
      triples.push(field, stored, await cipher.seal(sid, field, await cipher.open(sid, field, stored)));
    } catch (error) {
      if (!(error instanceof SessionDataError)) throw error;
      unreadable++;
    }
  }
  return { triples, unreadable, dead: false };
}
