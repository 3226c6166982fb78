/**
 * Sessions still stored by connect-redis (one JSON string): the first write turns
 * the string into the store's hash with a compare-and-set, so that parallel
 * requests agree on one base and then commit field by field, as on any hash.
 * @module
 */

import type { ConflictMerger } from "./conflict_merge.ts";
import type { EngineContext } from "../engine_context.ts";
import { SessionConflictError } from "../../errors.ts";
import type { Expiry } from "../expiry.ts";
import type { SessionRecord } from "../../options/store_options.ts";
import { CONVERT_SCRIPT, convertArgs } from "../../scripts/convert_script.ts";
import type { Snapshot } from "../snapshot.ts";
import { recordAll, sealFields } from "../../encryption/sealed_fields.ts";

/** Converts connect-redis strings into hashes. */
export class LegacyConverter {
  #ctx: EngineContext;
  #merger: ConflictMerger;

  /**
   * @param ctx The engine's shared parts.
   * @param merger Merges what another writer changed in the string meanwhile.
   */
  constructor(ctx: EngineContext, merger: ConflictMerger) {
    this.#ctx = ctx;
    this.#merger = merger;
  }

  /**
   * Turns a connect-redis string into a hash, if it is still the string this request
   * loaded; else takes the other writer's changes and tries again. Afterwards the
   * commit proceeds field by field against that base, like on any hash.
   */
  async convert(sid: string, record: SessionRecord, snapshot: Snapshot, renewal?: Expiry): Promise<void> {
    for (let attempt = 0; attempt <= this.#ctx.options.conflictRetries; attempt++) {
      const stored = await sealFields(this.#ctx.cipher, sid, snapshot.fields);
      const args = convertArgs(snapshot.legacy!, stored, snapshot.sliding, renewal);
      const reply = await this.#ctx.run(CONVERT_SCRIPT, sid, args);
      if (!Array.isArray(reply)) {
        snapshot.legacy = undefined;
        recordAll(snapshot, stored);
        if (reply === "converted" && args[3] !== "") snapshot.expires = renewal!.at;
        return;
      }
      await this.#merger.rebaseOnString(sid, record, snapshot, String(reply[1]));
    }
    throw new SessionConflictError(
      `Session "${sid}" could not be converted from connect-redis's format: another writer kept replacing it`,
    );
  }
}
