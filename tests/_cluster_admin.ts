/**
 * Test helpers that move a Redis Cluster slot by hand, the way
 * `redis-cli --cluster reshard` does: the target IMPORTING, the source MIGRATING,
 * keys moved with MIGRATE, then the slot given to the target.
 */

import { Cluster } from "ioredis";
import { createClient, createCluster as createCluster5 } from "redis";
import { createCluster as createCluster6 } from "redis6";
import { keySlot } from "../src/clients/_key_slot.ts";
import { clusterPorts, type RedisCluster } from "../scripts/redis_cluster.ts";
import { redisCliCommand, type RedisServer, startRedisServer } from "../scripts/redis_server.ts";
import { delay } from "./_helpers.ts";

type Admin = ReturnType<typeof createClient>;

/** The cluster clients the store supports, each made for the given root nodes. */
export const clusterClients = {
  "node-redis 5": (urls: readonly string[]) => {
    const client = createCluster5({ rootNodes: urls.map((url) => ({ url })) });
    client.on("error", () => {});
    return { client, close: () => client.destroy() };
  },
  "node-redis 6": (urls: readonly string[]) => {
    const client = createCluster6({ rootNodes: urls.map((url) => ({ url })) });
    client.on("error", () => {});
    return { client, close: () => client.destroy() };
  },
  "ioredis": (urls: readonly string[]) => {
    const client = new Cluster(urls.map((url) => ({ host: "127.0.0.1", port: Number(new URL(url).port) })));
    client.on("error", () => {});
    return { client, close: () => client.disconnect() };
  },
};

/** A slot held half-moved between two masters. */
export interface SlotMove extends AsyncDisposable {
  readonly slot: number;
  /** The master that owned the slot, and the one it moves to. */
  readonly source: number;
  readonly target: number;
  /** Sends a command to the target as a redirected client would (after ASKING). */
  onTarget(args: string[]): Promise<unknown>;
  /** Moves keys of the slot from the source to the target now. */
  migrate(...keys: string[]): Promise<void>;
  /** Moves every key left and gives the slot to the target (what a reshard ends with). */
  finish(): Promise<void>;
}

/** Connects to each master of a cluster, as a plain client (no redirections followed). */
export async function adminClients(cluster: RedisCluster): Promise<Admin[] & AsyncDisposable> {
  const admins = await Promise.all(cluster.urls.map(async (url) => {
    const admin = createClient({ url });
    admin.on("error", () => {});
    await admin.connect();
    return admin;
  }));
  return Object.assign(admins, {
    async [Symbol.asyncDispose]() {
      await Promise.all(admins.map((admin) => admin.close().catch(() => {})));
    },
  });
}

/** The index (in `cluster.masters`) of the master owning `slot`. */
export async function ownerOf(admins: readonly Admin[], slot: number): Promise<number> {
  const nodes = String(await admins[0].sendCommand(["CLUSTER", "NODES"]));
  const ids = await Promise.all(
    admins.map(async (admin) => String(await admin.sendCommand(["CLUSTER", "MYID"]))),
  );
  for (const line of nodes.split("\n")) {
    const [id, , flags, , , , , , ...ranges] = line.split(" ");
    if (!flags?.includes("master")) continue;
    for (const range of ranges) {
      const [low, high = low] = range.split("-").map(Number);
      if (slot >= low && slot <= high) return ids.indexOf(id);
    }
  }
  throw new Error(`No master owns slot ${slot}`);
}

/**
 * Puts the slot of `key` into MIGRATING (on its owner) / IMPORTING (on the next master).
 * @returns The move; `await using` finishes it.
 */
export async function startSlotMove(admins: readonly Admin[], key: string): Promise<SlotMove> {
  const slot = keySlot(key);
  const source = await ownerOf(admins, slot);
  const target = (source + 1) % admins.length;
  const [from, to] = [admins[source], admins[target]];
  const id = async (admin: Admin) => String(await admin.sendCommand(["CLUSTER", "MYID"]));
  const targetPort = String(new URL(String(to.options?.url)).port);
  await to.sendCommand(["CLUSTER", "SETSLOT", String(slot), "IMPORTING", await id(from)]);
  await from.sendCommand(["CLUSTER", "SETSLOT", String(slot), "MIGRATING", await id(to)]);
  let finished = false;
  const move: SlotMove = {
    slot,
    source,
    target,
    async onTarget(args) {
      if (finished) return await to.sendCommand(args);
      // Not in MULTI: queued commands are checked without the ASKING flag. Nothing else is sent
      // on this connection in between (the tests call it one command at a time).
      const [, reply] = await Promise.all([to.sendCommand(["ASKING"]), to.sendCommand(args)]);
      return reply;
    },
    async migrate(...keys) {
      await from.sendCommand(["MIGRATE", "127.0.0.1", targetPort, "", "0", "5000", "KEYS", ...keys]);
    },
    async finish() {
      if (finished) return;
      finished = true;
      for (;;) {
        const keys = await from.sendCommand(["CLUSTER", "GETKEYSINSLOT", String(slot), "100"]) as string[];
        if (keys.length === 0) break;
        await move.migrate(...keys);
      }
      const targetId = await id(to);
      for (const admin of [to, from, ...admins.filter((admin) => admin !== to && admin !== from)]) {
        await admin.sendCommand(["CLUSTER", "SETSLOT", String(slot), "NODE", targetId]);
      }
    },
    async [Symbol.asyncDispose]() {
      await move.finish();
    },
  };
  return move;
}

/**
 * Polls `check` every 100 ms (a failing check counts as false) until it holds.
 * @returns The milliseconds it took; throws, naming `what`, after `ms`.
 */
export async function pollUntil(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (await check().catch(() => false)) return Date.now() - started;
    await delay(100);
  }
  throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
}

/** Adds a replica of the first master, in sync with it. */
export async function replicaOfFirst(cluster: RedisCluster, dir: string): Promise<RedisServer> {
  const [port] = clusterPorts(1, cluster.ports);
  const replica = await startRedisServer({
    port,
    args: ["--cluster-enabled", "yes", "--cluster-config-file", `${dir}/nodes-replica.conf`, "--dir", dir],
  });
  const admin = createClient({ url: replica.url });
  await admin.connect();
  const first = createClient({ url: cluster.urls[0] });
  await first.connect();
  try {
    const masterId = String(await first.sendCommand(["CLUSTER", "MYID"]));
    await admin.sendCommand(["CLUSTER", "MEET", "127.0.0.1", String(cluster.ports[0])]);
    await pollUntil(
      "the replica to join",
      async () => String(await admin.sendCommand(["CLUSTER", "NODES"])).includes(masterId),
    );
    await admin.sendCommand(["CLUSTER", "REPLICATE", masterId]);
    await pollUntil(
      "the replica to sync",
      async () => /master_link_status:up/.test(await admin.info("replication")),
    );
  } finally {
    await first.close();
    await admin.close();
  }
  return replica;
}

/**
 * Waits until the first master's replica has everything the master wrote. (WAIT from another
 * connection than the writers' would not wait for their writes.)
 */
export async function replicaCaughtUp(cluster: RedisCluster): Promise<void> {
  const master = createClient({ url: cluster.urls[0] });
  await master.connect();
  try {
    await pollUntil("the replica to catch up", async () => {
      const info = await master.info("replication");
      const offset = Number(/master_repl_offset:(\d+)/.exec(info)?.[1]);
      return Number(/slave0:.*offset=(\d+)/.exec(info)?.[1]) >= offset;
    });
  } finally {
    await master.close();
  }
}

/** Waits until the replica says it is a master. */
export async function promotion(replica: RedisServer): Promise<void> {
  const admin = createClient({ url: replica.url });
  admin.on("error", () => {});
  await admin.connect();
  try {
    await pollUntil(
      "the replica's promotion",
      async () => /role:master/.test(await admin.info("replication")),
    );
  } finally {
    await admin.close();
  }
}

/**
 * Starts `redis-cli --cluster reshard` of `slots` slots from one master to another (10 keys a MIGRATE).
 * @param cluster The cluster.
 * @param from The index of the master giving slots (its lowest go first).
 * @param to The index of the master taking them.
 * @returns Resolves when the reshard has ended, with its output.
 */
export async function reshard(
  cluster: RedisCluster,
  from: number,
  to: number,
  slots: number,
): Promise<Deno.CommandOutput> {
  const id = async (url: string) => {
    const admin = createClient({ url });
    await admin.connect();
    try {
      return String(await admin.sendCommand(["CLUSTER", "MYID"]));
    } finally {
      await admin.close();
    }
  };
  const [fromId, toId] = await Promise.all([id(cluster.urls[from]), id(cluster.urls[to])]);
  return await new Deno.Command(redisCliCommand(), {
    args: [
      "--cluster",
      "reshard",
      `127.0.0.1:${cluster.ports[0]}`,
      "--cluster-from",
      fromId,
      "--cluster-to",
      toId,
      "--cluster-slots",
      String(slots),
      "--cluster-yes",
      "--cluster-pipeline",
      "10",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
}

/**
 * Session ids whose keys (`session:` + id) fall into the lowest slots, which a reshard from the
 * first master moves first.
 * @param prefix What each id starts with.
 * @param count How many.
 * @param slots How many of the lowest slots.
 */
export function idsInLowSlots(prefix: string, count: number, slots: number): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) {
    if (keySlot(`session:${prefix}${i}`) < slots) ids.push(`${prefix}${i}`);
  }
  return ids;
}

/**
 * Fills each of the first master's lowest slots with filler keys, so that each stays half-moved
 * for a while during a reshard (MIGRATE moves them 10 at a time).
 * @param cluster The cluster.
 * @param slots How many of the lowest slots.
 * @param keysPerSlot Filler keys in each.
 */
export async function fillLowSlots(cluster: RedisCluster, slots: number, keysPerSlot: number): Promise<void> {
  const tags: string[] = [];
  for (let i = 0; tags.filter(Boolean).length < slots; i++) {
    const slot = keySlot(`t${i}`);
    if (slot < slots && tags[slot] === undefined) tags[slot] = `t${i}`;
  }
  const source = createClient({ url: cluster.urls[0] });
  await source.connect();
  try {
    for (const tag of tags) {
      const batch = source.multi();
      for (let k = 0; k < keysPerSlot; k++) batch.set(`{${tag}}filler${k}`, "x".repeat(100));
      await batch.execAsPipeline();
    }
  } finally {
    await source.close();
  }
}
