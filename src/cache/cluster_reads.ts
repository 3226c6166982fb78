/**
 * The local cache on a Redis Cluster client: one tracked connection and one
 * cache per master, each with its own epoch, so that losing one master's
 * tracking empties only what was read from it. A read goes to the cache of the
 * master that owns the key's slot, as the app's client knows it now.
 *
 * Why it stays exact while slots move and masters fail over:
 * - A key moved away by MIGRATE is deleted on its old master, which invalidates it.
 * - A "not found" reply is never cached: a key created on the new owner of its
 *   slot would send the old master no invalidation.
 * - A read the cluster refuses (MOVED, ASK, TRYAGAIN, CLUSTERDOWN) or that fails
 *   is not cached and goes the usual way (which follows redirections and retries).
 *   A refusal, or a slot found owned by another master than before, empties the
 *   masters concerned and keeps them off until a check key of a slot they own
 *   (a hash tag per master, from the master's own `CLUSTER NODES`) proves tracking again. A master promoted by a failover
 *   is a new node: it gets a new connection, checked before it serves.
 * - A master that leaves the topology is closed; a silently lost one ages out
 *   (`maxAgeMs`), its heartbeat proving nothing.
 * - Each master's role is checked on its tracked connection (`ROLE`) every sweep: the
 *   client's view can stay stale for good (ioredis learns of a hand-over only from a
 *   MOVED, which cache hits never meet). One that is no longer a master is closed at
 *   once, its slots are read the usual way (which meets MOVED) for a while, and the
 *   client is asked to refresh its view.
 * @module
 */

import { isRefusal } from "../clients/_cluster_retry.ts";
import { keySlot } from "../clients/_key_slot.ts";
import { unrefTimer } from "../clients/_util.ts";
import type { ResolvedLocalCache } from "./cache_options.ts";
import type { CacheStats } from "./local_cache.ts";
import { TrackedReads } from "./tracked_reads.ts";
import type { CheckTag, SessionReadCache, Tracker } from "./tracker.ts";
import { ownSlotTag } from "./cluster_check_tag.ts";

/** A master as the app's cluster client knows it. */
export interface ClusterMaster {
  /** `host:port`. */
  readonly address: string;
  /** The client library's connection to it (the tracked connections are made from it). */
  readonly client: object;
}

/** What the cache needs from a cluster client library. */
export interface ClusterTopology {
  /** The client library, for the stats. */
  readonly library: string;
  /** What the client puts before every key (ioredis `keyPrefix`). */
  readonly keyPrefix: string;
  /**
   * The master owning a slot, as the client knows it now.
   * @param slot 0 to 16383.
   * @returns It, or `undefined` when the client knows none (or has not connected it yet).
   */
  owner(slot: number): ClusterMaster | undefined;
  /**
   * The addresses of the masters the client knows now.
   * @returns `host:port` each.
   */
  masters(): readonly string[];
  /**
   * The tracker of one master.
   * @param master The master's client connection.
   * @param checkTag Picks the check key's hash tag.
   * @returns Its tracker.
   */
  tracker(master: object, checkTag: CheckTag): Tracker;
  /**
   * Asks the client to fetch the cluster's slots again (a master it lists was found demoted).
   * @param master The client's connection to the demoted master (node-redis asks it first).
   */
  refresh(master: object): void;
}

/** One master's cache. */
interface MasterReads {
  client: object;
  reads: TrackedReads;
}

/** Milliseconds between looks for masters the client no longer lists, or that lost their role (at most). */
const SWEEP_MS = 1000;
/** How long a demoted master the client still lists is read the usual way before its cache is tried again. */
const DEMOTED_HOLD_MS = 5000;
/**
 * How long a master that refuses `ROLE` itself (an ACL without it) is read the usual way before
 * a cache is tried on it again: each try opens tracked connections, only to close them.
 */
const REFUSED_HOLD_MS = 30_000;

/** Counters summed over the masters' caches. */
const COUNTERS = ["hits", "misses", "invalidations", "flushes"] as const;

/** Session reads through a cache per master. */
export class ClusterReads implements SessionReadCache {
  #topology: ClusterTopology;
  #bounds: ResolvedLocalCache;
  #timeout: number;
  #masters = new Map<string, MasterReads>();
  /** The master each slot was last read from: another one now means the slot moved. */
  #routes: (string | undefined)[] = new Array(16384);
  /** Counters of the masters' caches closed since. */
  #retired = { hits: 0, misses: 0, invalidations: 0, flushes: 0 };
  #timer: ReturnType<typeof setInterval> | undefined;
  /**
   * Masters found demoted (or refusing ROLE: `why`), with the client connection they were found
   * on, and until when they are held off.
   */
  #demoted = new Map<string, { client: object; until: number; why?: string }>();

  /**
   * @param topology The cluster client's view.
   * @param bounds The resolved `localCache` option (each master's cache gets these bounds).
   * @param timeout Milliseconds a read may take (option `commandTimeout`).
   */
  constructor(topology: ClusterTopology, bounds: ResolvedLocalCache, timeout: number) {
    this.#topology = topology;
    this.#bounds = bounds;
    this.#timeout = timeout;
  }

  /** See {@linkcode SessionReadCache.read}. */
  read(key: string): Promise<readonly unknown[] | undefined> | readonly unknown[] | undefined {
    const slot = keySlot(this.#topology.keyPrefix + key);
    const owner = this.#topology.owner(slot);
    if (owner === undefined || this.#held(owner)) return undefined;
    const master = this.#master(owner);
    const before = this.#routes[slot];
    if (before !== owner.address) {
      this.#routes[slot] = owner.address;
      if (before !== undefined) {
        // The slot moved: both masters' copies may be of another epoch of the topology.
        this.#masters.get(before)?.reads.recheck();
        master.reads.recheck();
      }
    }
    const reply = master.reads.read(key);
    if (reply === undefined || !("then" in reply)) return reply;
    return reply.catch((error) => {
      if (isRefusal(error)) master.reads.recheck();
      return undefined; // read the usual way
    });
  }

  /** Whether `owner` was found demoted lately (the client has not followed yet): read the usual way. */
  #held(owner: ClusterMaster): boolean {
    const demoted = this.#demoted.get(owner.address);
    if (demoted === undefined) return false;
    if (demoted.client === owner.client && Date.now() < demoted.until) return true;
    this.#demoted.delete(owner.address); // replaced, or time to look again (a new cache checks its role first)
    return false;
  }

  /** The cache of a master, opened on demand; made anew when the client replaced its connection. */
  #master(owner: ClusterMaster): MasterReads {
    const known = this.#masters.get(owner.address);
    if (known?.client === owner.client) return known;
    if (known !== undefined) this.#close(owner.address, known);
    const checkTag = ownSlotTag(this.#topology.keyPrefix);
    const tracker = this.#topology.tracker(owner.client, checkTag);
    const onDemoted = (reason: unknown) => this.#demote(owner.address, master, reason);
    const reads = new TrackedReads(tracker, this.#bounds, this.#timeout, {
      checkTag,
      keepMissing: false,
      onDemoted,
    });
    const master: MasterReads = { client: owner.client, reads };
    this.#masters.set(owner.address, master);
    this.#sweep();
    return master;
  }

  /**
   * Closes, now and then, the caches of masters the client no longer lists, and checks the role
   * of the others (a demoted one closes itself, see {@linkcode #demote}).
   */
  #sweep(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      const masters = new Set(this.#topology.masters());
      for (const [address, master] of this.#masters) {
        if (!masters.has(address)) this.#close(address, master);
        else master.reads.checkRole();
      }
      for (const address of this.#demoted.keys()) if (!masters.has(address)) this.#demoted.delete(address);
      if (this.#masters.size === 0) { // the app closed its client: the next read starts again
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    }, Math.min(SWEEP_MS, Math.max(10, this.#bounds.maxAgeMs / 3)));
    unrefTimer(this.#timer);
  }

  /**
   * A master answered as a replica (or not at all): closed, held off, and the client told. One
   * that refuses ROLE itself is held off longer, the stats saying why, and the client not told.
   */
  #demote(address: string, master: MasterReads, reason: unknown): void {
    if (this.#masters.get(address) !== master) return;
    this.#close(address, master);
    const why = roleRefused(reason);
    const until = Date.now() + (why === undefined ? DEMOTED_HOLD_MS : REFUSED_HOLD_MS);
    this.#demoted.set(address, { client: master.client, until, why });
    if (why === undefined) this.#topology.refresh(master.client);
  }

  #close(address: string, master: MasterReads): void {
    master.reads.close();
    const stats = master.reads.stats();
    for (const name of COUNTERS) this.#retired[name] += stats[name];
    this.#masters.delete(address);
  }

  /** See {@linkcode SessionReadCache.drop}. */
  drop(key: string): void {
    // Any master may hold it (read before its slot moved): they are few.
    for (const master of this.#masters.values()) master.reads.drop(key);
  }

  /**
   * The counters summed over the masters, and each master's tracking in `detail`.
   * @returns A fresh object.
   */
  stats(): CacheStats {
    const total: CacheStats = {
      mode: "local",
      detail: "",
      tracking: this.#masters.size > 0,
      ...this.#retired,
      bytes: 0,
      entries: 0,
    };
    const parts: string[] = [];
    for (const [address, master] of this.#masters) {
      const stats = master.reads.stats();
      for (const name of COUNTERS) total[name] += stats[name];
      total.bytes += stats.bytes;
      total.entries += stats.entries;
      total.tracking &&= stats.tracking;
      parts.push(`${address} ${stats.tracking ? "on" : "off"} (${stats.entries} cached)`);
    }
    for (const [address, { why }] of this.#demoted) {
      if (why === undefined) continue;
      total.tracking = false;
      parts.push(`${address} off (${why})`);
    }
    total.detail = `Redis Cluster (${this.#topology.library}), a tracked connection per master: ${
      parts.join(", ") || "none opened yet"
    }`;
    return total;
  }
}

/**
 * Why a role check failed for good rather than for now: the node refuses `ROLE` itself.
 * @param reason What the check met.
 * @returns A line for the stats, or `undefined` (a replica, no answer, a failing connection).
 */
function roleRefused(reason: unknown): string | undefined {
  const message = String((reason as Error | undefined)?.message ?? reason);
  if (!/^(?:NOPERM|ERR unknown command)\b/.test(message)) return undefined;
  return `ROLE refused: "${message}"; the cache confirms each master's role with it: ` +
    "allow the user ROLE (ACL +role, or the category @admin)";
}
