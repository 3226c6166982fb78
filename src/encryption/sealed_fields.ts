/**
 * Where the read and write paths meet encryption (option `encrypt`): a
 * snapshot keeps each property's serialized value in `fields` (what commits
 * compare with the session) and, where the stored form differs, that form in
 * `stored` (what the compare-and-set sends as the base). Without a cipher every
 * function here passes values through.
 * @module
 */

import { isReservedField } from "../engine/fields.ts";
import type { FieldChange, Snapshot } from "../engine/snapshot.ts";
import type { FieldCipher } from "./field_cipher.ts";

/**
 * Decrypts the properties of a loaded hash, in parallel.
 * @param stored Field name → value as stored (properties only).
 * @returns The serialized values, and the stored forms that differ from them (`undefined` if none do).
 */
export async function openFields(
  cipher: FieldCipher | undefined,
  sid: string,
  stored: Map<string, string>,
): Promise<{ fields: Map<string, string>; stored: Map<string, string> | undefined }> {
  if (!cipher) return { fields: stored, stored: undefined };
  const fields = new Map<string, string>();
  let differing: Map<string, string> | undefined;
  let pending: Promise<void>[] | undefined;
  for (const [field, text] of stored) {
    const plain = cipher.open(sid, field, text);
    if (plain === text) {
      fields.set(field, text);
      continue;
    }
    (differing ??= new Map()).set(field, text);
    if (typeof plain === "string") fields.set(field, plain);
    else {
      fields.set(field, ""); // keeps the stored order; filled in below
      (pending ??= []).push(plain.then((value) => void fields.set(field, value)));
    }
  }
  if (pending) await Promise.all(pending);
  return { fields, stored: differing };
}

/**
 * What to store for one field's value: encrypted for a property, as it is for
 * metadata (the scripts read it) or without a cipher.
 */
export function sealValue(
  cipher: FieldCipher | undefined,
  sid: string,
  field: string,
  value: string,
): string | Promise<string> {
  return cipher && !isReservedField(field) ? cipher.seal(sid, field, value) : value;
}

/**
 * The stored forms of a whole session's fields.
 * @returns Field name → stored value, in the same order.
 */
export async function sealFields(
  cipher: FieldCipher | undefined,
  sid: string,
  fields: ReadonlyMap<string, string>,
): Promise<Map<string, string>> {
  if (!cipher) return new Map(fields);
  const names = [...fields.keys()];
  const values = await Promise.all(names.map((field) => sealValue(cipher, sid, field, fields.get(field)!)));
  return new Map(names.map((field, i) => [field, values[i]]));
}

/** A stored property's serialized value (see {@linkcode FieldCipher.open}). */
export function openValue(
  cipher: FieldCipher | undefined,
  sid: string,
  field: string,
  stored: string,
): string | Promise<string> {
  return cipher ? cipher.open(sid, field, stored) : stored;
}

/**
 * The commit script's (field, base, new value) triples for a commit's changes: new values
 * encrypted, bases as stored (what the compare-and-set compares with).
 * @returns The triples, and the stored new values ("" for a removal; `undefined` without a cipher).
 */
export async function changeArgs(
  cipher: FieldCipher | undefined,
  sid: string,
  snapshot: Snapshot,
  changes: readonly FieldChange[],
): Promise<{ triples: string[]; sealed: string[] | undefined }> {
  const sealed = cipher
    ? await Promise.all(
      changes.map((change) => change.kind === "r" ? "" : sealValue(cipher, sid, change.field, change.value)),
    )
    : undefined;
  const triples: string[] = [];
  for (const [i, change] of changes.entries()) {
    triples.push(
      change.field,
      change.kind === "u" || change.kind === "r" ? storedBase(snapshot, change.field, change.base) : "",
      change.kind === "r" ? "" : sealed?.[i] ?? change.value,
    );
  }
  return { triples, sealed };
}

/** After a commit: records what each change wrote (user fields are metadata, not properties). */
export function recordChanges(snapshot: Snapshot, changes: readonly FieldChange[], sealed?: string[]): void {
  for (const [i, change] of changes.entries()) {
    if (isReservedField(change.field)) continue;
    const value = change.kind === "r" ? undefined : change.value;
    recordField(snapshot, change.field, value, sealed?.[i] ?? value);
  }
}

/**
 * A commit's changes, plus an update to itself of each loaded value stored plain while
 * writes encrypt, or the reverse (`FieldCipher.misplaced`): the commit then stores it the
 * way the store now writes, checked like any change. Without a cipher, or with nothing to
 * move, `changes` itself.
 */
export function withUpgrades(
  cipher: FieldCipher | undefined,
  snapshot: Snapshot,
  changes: FieldChange[],
): FieldChange[] {
  if (!cipher) return changes;
  let sent: FieldChange[] | undefined;
  for (const [field, plain] of snapshot.fields) {
    if (!cipher.misplaced(snapshot.stored?.get(field) ?? plain)) continue;
    if (changes.some((change) => change.field === field)) continue;
    (sent ??= [...changes]).push({ kind: "u", field, base: plain, value: plain });
  }
  return sent ?? changes;
}

/**
 * A commit script's conflict reply without the values {@linkcode withUpgrades} added
 * (another request wrote those meanwhile, encrypted already or not: they are left to it).
 * @param count How many of the changes sent were the commit's own (the first ones).
 */
export function ownConflicts(reply: unknown[], count: number): unknown[] {
  const own = [reply[0]];
  for (let i = 1; i < reply.length; i += 3) {
    if (Number(reply[i]) <= count) own.push(reply[i], reply[i + 1], reply[i + 2]);
  }
  return own;
}

/** The value a compare-and-set expects in Redis for a field whose serialized base is `base`. */
export function storedBase(snapshot: Snapshot, field: string, base: string): string {
  return snapshot.fields.get(field) === base ? snapshot.stored?.get(field) ?? base : base;
}

/** Records what a field now holds in Redis: `plain` serialized, `stored` as stored (`undefined`: removed). */
export function recordField(
  snapshot: Snapshot,
  field: string,
  plain: string | undefined,
  stored: string | undefined,
): void {
  if (plain === undefined) snapshot.fields.delete(field);
  else snapshot.fields.set(field, plain);
  if (stored === undefined || stored === plain) snapshot.stored?.delete(field);
  else (snapshot.stored ??= new Map()).set(field, stored);
}

/** Records a whole session's stored forms, after it was written or converted. */
export function recordAll(snapshot: Snapshot, stored: ReadonlyMap<string, string>): void {
  snapshot.stored = undefined;
  for (const [field, value] of stored) recordField(snapshot, field, snapshot.fields.get(field), value);
}
