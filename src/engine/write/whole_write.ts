/**
 * A session written whole, replacing whatever its key held (a new session's
 * first save, a session of another store, a rewrite of a key that vanished):
 * one replace script, which a tombstone refuses.
 * @module
 */

import type { EngineContext } from "../engine_context.ts";
import type { Expiry } from "../expiry.ts";
import type { SessionRecord } from "../../options/store_options.ts";
import { REPLACE_SCRIPT } from "../../scripts/replace_script.ts";
import { attachSnapshot, type Snapshot } from "../snapshot.ts";
import { expiryArgs, slidingArg } from "./write_expiry.ts";
import { recordAll, sealFields } from "../../encryption/sealed_fields.ts";

/**
 * Writes a whole session and attaches its snapshot to the record.
 * @param ctx The store's engine context.
 * @param sid The session id.
 * @param record The session.
 * @param fields Its serialized properties.
 * @param expiry When it expires.
 * @param now The time taken before the write is sent.
 * @param userFields The sessions-per-user fields to write with it.
 * @returns Resolves once written (or refused by a tombstone: the snapshot then says `ended`).
 */
export function writeWhole(
  ctx: EngineContext,
  sid: string,
  record: SessionRecord,
  fields: Map<string, string>,
  expiry: Expiry,
  now: number,
  userFields: readonly [string, string][] = [],
): Promise<void> {
  const cipher = ctx.cipher;
  if (!cipher) return writeStored(ctx, sid, record, fields, undefined, expiry, now, userFields);
  return sealFields(cipher, sid, fields).then((stored) =>
    writeStored(ctx, sid, record, fields, stored, expiry, now, userFields)
  );
}

/** {@linkcode writeWhole} once the values to store are known (`stored`: encrypted, else `fields`). */
function writeStored(
  ctx: EngineContext,
  sid: string,
  record: SessionRecord,
  fields: Map<string, string>,
  stored: Map<string, string> | undefined,
  expiry: Expiry,
  now: number,
  userFields: readonly [string, string][],
): Promise<void> {
  const args = expiryArgs(expiry, "", now);
  (stored ?? fields).forEach((value, field) => args.push(field, value)); // no [field, value] array per entry
  for (const [field, value] of userFields) args.push(field, value);
  return ctx.run(REPLACE_SCRIPT, sid, args, (reply) => {
    // A tombstone refused the write: the session stays destroyed, and its snapshot says so
    // (the faces then send no cookie for it).
    const dead = reply === "dead";
    if (dead) ctx.observer.blocked(sid, "commit");
    else ctx.observer.created(sid, fields);
    const snapshot: Snapshot = {
      sid,
      owner: ctx,
      fields,
      sliding: slidingArg(expiry),
      expires: expiry.at,
      renewed: false,
      liveAt: now, // taken before the write was sent, as a commit's
    };
    if (stored) recordAll(snapshot, stored);
    if (dead) snapshot.ended = true;
    attachSnapshot(record, snapshot);
  });
}
