/**
 * The check key's hash tag on a Redis Cluster node: one of a slot the node's own
 * `CLUSTER NODES` line (`myself`) lists, whatever the other lines and the
 * migration markers say.
 */

import assert from "node:assert/strict";
import { ownSlotTag } from "../src/cache/cluster_check_tag.ts";
import { keySlot } from "../src/clients/_key_slot.ts";

/** A `CLUSTER NODES` reply: this node (a master) with `mine`, another master with the rest. */
function nodes(mine: string): string {
  return [
    "aaa 127.0.0.1:7001@17001 master - 0 1 2 connected 0-5460 10923-16383",
    `bbb 127.0.0.1:7000@17000 myself,master - 0 0 1 connected ${mine}`,
    "ccc 127.0.0.1:7002@17002 slave bbb 0 1 1 connected",
    "",
  ].join("\n");
}

Deno.test("ownSlotTag() picks a tag of a slot in the node's own ranges", async () => {
  for (const [mine, low, high] of [["5461-10922", 5461, 10922], ["42", 42, 42]] as const) {
    const tag = await ownSlotTag("")(() => Promise.resolve(nodes(mine)));
    const slot = keySlot(`connect-smart-redis:tracking-check:{${tag}}:0123`);
    assert.ok(slot >= low && slot <= high, `slot ${slot} of tag ${tag} not in ${mine}`);
  }
});

Deno.test("ownSlotTag() skips migration markers and counts the key prefix", async () => {
  const tag = await ownSlotTag("app:")(() => Promise.resolve(nodes("100 [100->-aaa] [200-<-aaa]")));
  assert.equal(keySlot(`app:{${tag}}`), 100);
  // A prefix with a hash tag of its own puts every key in one slot: found when the node owns it.
  await ownSlotTag("{x}")(() => Promise.resolve(nodes(String(keySlot("x")))));
  await assert.rejects(() => ownSlotTag("{x}")(() => Promise.resolve(nodes(String(keySlot("x") + 1)))));
});

Deno.test("ownSlotTag() fails on a node that owns no slot (a replica, an empty master)", async () => {
  const replica = "ccc 127.0.0.1:7002@17002 myself,slave bbb 0 1 1 connected\n";
  await assert.rejects(() => ownSlotTag("")(() => Promise.resolve(replica)), /owns no slot/);
  // Any single slot has a tag (the search covers all 16 384).
  for (const slot of [0, 16383]) {
    const tag = await ownSlotTag("")(() => Promise.resolve(nodes(String(slot))));
    assert.equal(keySlot(`{${tag}}`), slot);
  }
});
