/**
 * The expiry side of a write: the arguments the writing scripts take first, and
 * what a write leaves in the request's snapshot.
 * @module
 */

import type { Expiry } from "../expiry.ts";
import type { Snapshot } from "../snapshot.ts";

/**
 * The expiry arguments every writing script takes first (see `scripts/_expiry_lua.ts`);
 * with `keep`, the key's expiry and `\0exp` stay as they are.
 */
export function expiryArgs(expiry: Expiry, guard: string, now: number, keep = false): string[] {
  return [
    keep ? "" : String(expiry.pttl),
    keep || expiry.at === undefined ? "" : String(expiry.at),
    slidingArg(expiry),
    guard,
    String(now),
  ];
}

/** Records in the snapshot the expiry a write left: this request's, or the one a script kept. */
export function settled(snapshot: Snapshot, expiry: Expiry, kept: unknown[]): void {
  if (kept.length >= 2) {
    snapshot.sliding = String(kept[0]);
    snapshot.expires = kept[1] === "" ? undefined : Number(kept[1]);
  } else {
    snapshot.sliding = slidingArg(expiry);
    snapshot.expires = expiry.at;
  }
}

export function slidingArg(expiry: Expiry): string {
  return expiry.sliding === undefined ? "" : String(expiry.sliding);
}
