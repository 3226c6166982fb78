/**
 * The hash tag of a Redis Cluster master's check key: one of a slot the master
 * itself says it owns (`CLUSTER NODES`, its `myself` line). The app's client may
 * be behind (a slot just moved; ioredis, told of one moved slot, briefly moves a
 * whole range in its map), and a check key on another master's slot only meets MOVED.
 * @module
 */

import { keySlot } from "../clients/_key_slot.ts";
import type { CheckTag } from "./tracker.ts";

/**
 * The check tag of a cluster node.
 * @param keyPrefix What the tracked connection puts before every key (ioredis `keyPrefix`).
 * @returns Asks the node for its slots, and picks a tag of one of them.
 */
export function ownSlotTag(keyPrefix: string): CheckTag {
  return async (send) => {
    const nodes = String(await send(["CLUSTER", "NODES"]));
    const mine = nodes.split("\n").find((line) => line.split(" ")[2]?.split(",").includes("myself"));
    const owned = new Uint8Array(16384);
    // Fields from the ninth on: "a-b" or "a" ranges, and "[slot->-id]" migrations (skipped).
    for (const range of mine?.trim().split(" ").slice(8) ?? []) {
      const [low, high = low] = range.split("-").map(Number);
      for (let slot = low; slot <= high && Number.isInteger(low); slot++) owned[slot] = 1;
    }
    for (let n = 0; n < 1_000_000; n++) {
      if (owned[keySlot(`${keyPrefix}{${n}}`)] === 1) return String(n);
    }
    throw new Error("This cluster node owns no slot: there is no key to check tracking with");
  };
}
