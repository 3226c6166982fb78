/**
 * The hash tag of a Redis Cluster master's check key: one of a slot the master
 * itself says it owns (`CLUSTER NODES`, its `myself` line). The app's client may
 * be behind (a slot just moved; ioredis, told of one moved slot, briefly moves a
 * whole range in its map), and a check key on another master's slot only meets MOVED.
 * @module
 */

import { keySlot } from "../clients/_key_slot.ts";
import type { CheckTag } from "./tracker.ts";

const SLOTS = 16384;
/** Tags found so far, by slot (`{n}` hashes to slot CRC16(n)); the search goes on from `next`. */
const found: (string | undefined)[] = new Array(SLOTS);
let next = 0;
/** Most tags tried for a prefix with braces of its own (not cached: the slot then depends on it). */
const MAX_TRIES = 50_000;

/**
 * The check tag of a cluster node.
 * @param keyPrefix What the tracked connection puts before every key (ioredis `keyPrefix`).
 * @returns Asks the node for its slots, and picks a tag of one of them.
 */
export function ownSlotTag(keyPrefix: string): CheckTag {
  return async (send) => {
    const owned = ownedSlots(String(await send(["CLUSTER", "NODES"])));
    const tag = owned.size === 0 ? undefined : tagIn(owned, keyPrefix);
    if (tag === undefined) {
      throw new Error("This cluster node owns no slot a check key can use: tracking cannot be checked on it");
    }
    return tag;
  };
}

/** The slots on the `myself` line: "a-b" and "a" ranges from its ninth field on ("[...]" migrations skipped). */
function ownedSlots(nodes: string): Set<number> {
  const mine = nodes.split("\n").find((line) => line.split(" ")[2]?.split(",").includes("myself"));
  const owned = new Set<number>();
  for (const range of mine?.trim().split(" ").slice(8) ?? []) {
    const [low, high = low] = range.split("-").map(Number);
    for (let slot = low; slot <= high && Number.isInteger(low); slot++) owned.add(slot);
  }
  return owned;
}

function tagIn(owned: Set<number>, keyPrefix: string): string | undefined {
  if (keyPrefix.includes("{")) {
    for (let n = 0; n < MAX_TRIES; n++) if (owned.has(keySlot(`${keyPrefix}{${n}}`))) return String(n);
    return undefined;
  }
  for (const slot of owned) if (found[slot] !== undefined) return found[slot];
  // Every slot has a tag below about 200 000; each is computed once per process.
  for (; next < 1_000_000; next++) {
    const slot = keySlot(`{${next}}`);
    found[slot] ??= String(next);
    if (owned.has(slot)) return String(next++);
  }
  return undefined;
}
