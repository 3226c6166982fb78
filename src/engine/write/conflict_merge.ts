/**
 * What a commit does when another request changed the same properties since
 * this one loaded them: merge base, ours and theirs property by property (with
 * the user's hook, or key by key), so the retry writes the merge.
 * @module
 */

import type { EngineContext } from "../engine_context.ts";
import { ABSENT, mergeValues } from "./merge.ts";
import type { SessionRecord } from "../../options/store_options.ts";
import { define } from "../session_codec.ts";
import { diffFields, type FieldChange, type Snapshot } from "../snapshot.ts";
import { openValue, recordField } from "../../encryption/sealed_fields.ts";

/** Merges concurrent changes into a request's session. */
export class ConflictMerger {
  #ctx: EngineContext;

  /** @param ctx The engine's shared parts. */
  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  /**
   * Merges the fields a commit found changed by someone else.
   * @param conflicts The commit script's reply: "conflict", then (index, present, value) per field.
   * @returns The changes to retry with; the session and its snapshot are updated.
   */
  async mergeConflicts(
    sid: string,
    session: SessionRecord,
    snapshot: Snapshot,
    changes: FieldChange[],
    conflicts: unknown[],
  ): Promise<FieldChange[]> {
    const retry = [...changes];
    const dropped = new Set<number>();
    for (let i = 1; i < conflicts.length; i += 3) {
      const index = Number(conflicts[i]) - 1;
      const change = changes[index];
      const field = change.field;
      const stored = conflicts[i + 1] === "1" ? String(conflicts[i + 2]) : undefined;
      // Option `encrypt`: merged decrypted; the retry compares with the value as stored.
      const theirs = stored === undefined ? undefined : await openValue(this.#ctx.cipher, sid, field, stored);
      const base = change.kind === "a" || change.kind === "w" ? undefined : change.base;
      const ours = change.kind === "r" ? undefined : change.value;
      const text = await this.#mergeInto(sid, session, field, base, ours, theirs);
      recordField(snapshot, field, theirs, stored);
      if (text === theirs) dropped.add(index);
      else if (text === undefined) retry[index] = { kind: "r", field, base: theirs! };
      else if (theirs === undefined) retry[index] = { kind: "a", field, value: text };
      else retry[index] = { kind: "u", field, base: theirs, value: text };
    }
    return retry.filter((_, i) => !dropped.has(i));
  }

  /**
   * A connect-redis string changed since it was loaded (another writer replaced it
   * whole): takes what that writer changed, merges what both changed, and makes the
   * new string the base the conversion starts from.
   * @param text The string Redis holds now.
   */
  async rebaseOnString(sid: string, session: SessionRecord, snapshot: Snapshot, text: string): Promise<void> {
    const { codec } = this.#ctx;
    const theirs = codec.parseWhole(sid, text);
    const theirFields = codec.serialize(sid, theirs);
    const ours = diffFields(snapshot.fields, codec.serialize(sid, session));
    const changed = new Set(ours.map((change) => change.field));
    for (const field of new Set([...snapshot.fields.keys(), ...theirFields.keys()])) {
      if (changed.has(field)) continue;
      if (theirFields.has(field)) define(session, field, theirs[field]);
      else delete session[field];
    }
    for (const change of ours) {
      const base = snapshot.fields.get(change.field);
      const other = theirFields.get(change.field);
      if (other === base || change.kind === "w") continue;
      await this.#mergeInto(
        sid,
        session,
        change.field,
        base,
        change.kind === "r" ? undefined : change.value,
        other,
      );
    }
    snapshot.fields.clear();
    for (const [field, value] of theirFields) snapshot.fields.set(field, value);
    snapshot.legacy = text;
  }

  /** Merges one property into the session; returns its serialized value (`undefined`: removed). */
  async #mergeInto(
    sid: string,
    session: SessionRecord,
    field: string,
    base: string | undefined,
    ours: string | undefined,
    theirs: string | undefined,
  ): Promise<string | undefined> {
    const merged = await this.#mergeField(
      field,
      this.#maybeParse(sid, field, base),
      this.#maybeParse(sid, field, ours),
      this.#maybeParse(sid, field, theirs),
    );
    const text = merged === ABSENT
      ? undefined
      : this.#ctx.codec.serialize(sid, { [field]: merged }).get(field);
    if (text === undefined) delete session[field];
    else define(session, field, merged);
    return text;
  }

  /** Merges one property with the user's hook, or key by key. Works with `ABSENT` for missing values. */
  async #mergeField(field: string, base: unknown, ours: unknown, theirs: unknown): Promise<unknown> {
    const hook = this.#ctx.options.merge;
    if (!hook) return mergeValues(base, ours, theirs);
    const absentToUndefined = (value: unknown) => value === ABSENT ? undefined : value;
    const merged = await hook(field, {
      base: absentToUndefined(base),
      ours: absentToUndefined(ours),
      theirs: absentToUndefined(theirs),
    });
    return merged === undefined ? ABSENT : merged;
  }

  #maybeParse(sid: string, field: string, text: string | undefined): unknown {
    return text === undefined ? ABSENT : this.#ctx.codec.parseField(sid, field, text);
  }
}
