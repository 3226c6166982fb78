/**
 * Where the engine reports what happened: counters for `stats()`, OpenTelemetry
 * metrics, and events for listeners. Each report is one call from the code that
 * saw it happen; payloads are built only when someone listens.
 * @module
 */

import {
  CACHE_COUNTERS,
  type OwnCounter,
  type StoreEventName,
  type StoreEvents,
  type StoreListeners,
  type StoreStats,
  zeroStats,
} from "./store_events.ts";
import { type MetricsSetting, Telemetry } from "./telemetry.ts";
import { isReservedField } from "../engine/fields.ts";
import type { CacheStats } from "../cache/local_cache.ts";
import type { ExpiryWatch } from "./expired_events.ts";

/** Something events can also go to: the express-session store is a Node EventEmitter. */
export interface EventSink {
  /** Emits an event. */
  emit(name: string, payload: unknown): boolean;
  /** How many listeners an event has. */
  listenerCount(name: string): number;
  /** Listens to the sink's own events (an EventEmitter's `newListener` and `removeListener`). */
  on?(name: string, listener: (event: string | symbol) => void): unknown;
}

/** Counts, measures and announces one store's operations. */
export class StoreObserver {
  #stats: StoreStats = zeroStats();
  #listeners: StoreListeners;
  #sink: EventSink | undefined;
  #cacheStats: (() => CacheStats) | undefined;
  /** Starts the watch of expiries (`expired` events), when the store can. */
  #watchExpiry: (() => ExpiryWatch) | undefined;
  /** The watch of expiries, while someone listens for `expired`. */
  #expiry: ExpiryWatch | undefined;
  /** The OpenTelemetry instruments. */
  readonly telemetry: Telemetry;

  /**
   * @param listeners The `on` option.
   * @param metrics The `metrics` option.
   * @param address Where Redis is (`host:port`).
   */
  constructor(listeners: StoreListeners, metrics: MetricsSetting, address: string) {
    this.#listeners = listeners;
    this.telemetry = new Telemetry(metrics, address);
  }

  /** Sends events to `sink` too (the express-session store's own listeners). */
  attach(sink: EventSink): void {
    this.#sink = sink;
    // Its first "expired" listener starts the watch of expiries; its last one leaving stops it.
    sink.on?.("newListener", (name) => name === "expired" && this.#startExpiry());
    sink.on?.("removeListener", (name) => {
      if (name === "expired" && !this.#wants("expired")) this.stopExpiry();
    });
  }

  /**
   * Makes the local cache's counters part of `stats()` and of the metrics.
   * @param stats Reads the cache's counters.
   */
  watchCache(stats: () => CacheStats): void {
    this.#cacheStats = stats;
    this.telemetry.observeCache(stats);
  }

  /**
   * Says how to watch expiries; the watch starts once someone listens for `expired`.
   * @param watch Starts the watch (throws a TypeError when the client cannot).
   */
  watchExpiry(watch: () => ExpiryWatch): void {
    this.#watchExpiry = watch;
    if (this.#listeners.expired) this.#startExpiry();
  }

  /** The masters the watch of expiries is subscribed to (none while nobody listens for `expired`). */
  get expiryAddresses(): readonly string[] {
    return this.#expiry?.addresses ?? [];
  }

  /** Ends the watch of expiries, if any. */
  stopExpiry(): void {
    this.#expiry?.stop();
    this.#expiry = undefined;
  }

  #startExpiry(): void {
    if (this.#expiry || !this.#watchExpiry) return;
    this.#expiry = this.#watchExpiry();
  }

  /** A copy of the counters. */
  stats(): StoreStats {
    const stats = { ...this.#stats };
    const cache = this.#cacheStats?.();
    if (cache) {
      for (const [name, from] of Object.entries(CACHE_COUNTERS)) {
        stats[name as keyof StoreStats] = cache[from];
      }
    }
    return stats;
  }

  /** A session was read. */
  loaded(): void {
    this.#count("loads");
  }

  /** A session was written whole. */
  created(sid: string, fields: Map<string, string>): void {
    this.#count("commits");
    if (this.#wants("create")) this.#emit("create", { sid, properties: [...fields.keys()] });
  }

  /**
   * A commit wrote `changes` (one that changed no property only renewed the expiry: a touch).
   * @param changes The fields written, the store's own among them.
   */
  updated(sid: string, changes: readonly { field: string }[]): void {
    if (!changes.some((change) => !isReservedField(change.field))) return this.touched(sid, true);
    this.#count("commits");
    if (this.#wants("update")) this.#emit("update", { sid, properties: propertiesOf(changes) });
  }

  /** An unchanged session was kept alive; `renewed` when that took a write. */
  touched(sid: string, renewed: boolean): void {
    this.#count("touches");
    if (renewed) this.#count("renewals");
    if (this.#wants("touch")) this.#emit("touch", { sid, renewed });
  }

  /** A commit renewed the expiry along with its changes. */
  renewed(): void {
    this.#count("renewals");
  }

  /** A session was destroyed. */
  destroyed(sid: string): void {
    this.#count("destroys");
    this.#expiry?.destroyed(sid);
    if (this.#wants("destroy")) this.#emit("destroy", { sid });
  }

  /** This store wrote a tombstone where no live session was: its end is no session's expiry either. */
  tombstoned(sid: string): void {
    this.#expiry?.destroyed(sid);
  }

  /**
   * A commit found fields changed by another request and merges them.
   * @param changes The changes the commit tried.
   * @param reply The commit script's reply: "conflict", then (index, present, value) per field.
   */
  merged(sid: string, changes: readonly { field: string }[], reply: readonly unknown[]): void {
    const conflicted: { field: string }[] = [];
    for (let i = 1; i < reply.length; i += 3) conflicted.push(changes[Number(reply[i]) - 1]);
    const properties = propertiesOf(conflicted);
    if (properties.length === 0) return;
    this.#count("merges", properties.length);
    if (this.#wants("merged")) this.#emit("merged", { sid, properties });
  }

  /** A commit gave up after `attempts`. */
  conflict(sid: string, attempts: number): void {
    this.#count("conflicts");
    if (this.#wants("conflict")) this.#emit("conflict", { sid, attempts });
  }

  /** A write met a tombstone. */
  blocked(sid: string, operation: "commit" | "touch"): void {
    this.#count("blocked");
    if (this.#wants("blocked")) this.#emit("blocked", { sid, operation });
  }

  /** A read waited `ms` for a lock. */
  lockWaited(sid: string, ms: number, acquired: boolean): void {
    this.#count("lockWaits");
    this.telemetry.lockWait(ms / 1000);
    if (this.#wants("lockWait")) this.#emit("lockWait", { sid, ms, acquired });
  }

  /** `maxSessionsPerUser` ended `ended`. */
  userLimit(user: string, sid: string, ended: string[]): void {
    if (this.#wants("userLimit")) this.#emit("userLimit", { user, sid, ended });
  }

  /** Redis ended a session by its expiry. */
  expired(sid: string): void {
    this.#count("expirations");
    if (this.#wants("expired")) this.#emit("expired", { sid });
  }

  #count(name: OwnCounter, by = 1): void {
    this.#stats[name] += by;
    this.telemetry.count(name, by);
  }

  #wants(name: StoreEventName): boolean {
    return this.#listeners[name] !== undefined ||
      (this.#sink !== undefined && this.#sink.listenerCount(name) > 0);
  }

  #emit<E extends StoreEventName>(name: E, payload: StoreEvents[E]): void {
    const listener = this.#listeners[name];
    if (listener) guarded(name, () => listener(payload));
    // Apart: an `on` listener's mistake must not keep the event from the sink's listeners.
    const sink = this.#sink;
    if (sink) guarded(name, () => sink.emit(name, payload));
  }
}

/** Runs listeners: a listener's mistake must not fail the request whose operation it watches. */
function guarded(name: StoreEventName, run: () => unknown): void {
  try {
    run();
  } catch (error) {
    console.error(`A listener of the session store's "${name}" event threw:`, error);
  }
}

/** The session properties among changed fields (the store's own fields left out). */
function propertiesOf(changes: readonly { field: string }[]): string[] {
  const properties: string[] = [];
  for (const { field } of changes) if (!isReservedField(field)) properties.push(field);
  return properties;
}
