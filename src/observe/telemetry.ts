/**
 * OpenTelemetry metrics, when the app has `@opentelemetry/api` installed: the
 * store's counters, the time of each Redis round trip, the time spent waiting
 * for locks. Without the package (or with `metrics: false`) nothing here runs.
 * Names and attributes follow OpenTelemetry's database semantic conventions.
 * @module
 */

import type { CacheStats } from "../cache/local_cache.ts";
import type { OwnCounter } from "./store_events.ts";
import { checkProvider } from "../options/option_checks.ts";

/** Attributes of one measurement. */
export type MetricAttributes = Record<string, string | number>;

/** The part of an OpenTelemetry `Meter` the store uses. */
export interface MeterLike {
  /** Creates a counter. */
  createCounter(name: string, options?: { description?: string; unit?: string }): {
    add(value: number, attributes?: MetricAttributes): void;
  };
  /** Creates a histogram. */
  createHistogram(name: string, options?: { description?: string; unit?: string }): {
    record(value: number, attributes?: MetricAttributes): void;
  };
  /** Creates a counter read at each collection (for the local cache's counters; optional). */
  createObservableCounter?(name: string, options?: { description?: string; unit?: string }): ObservableLike;
  /** Creates a gauge read at each collection (for the local cache's size; optional). */
  createObservableGauge?(name: string, options?: { description?: string; unit?: string }): ObservableLike;
}

/** An OpenTelemetry observable instrument (the part the store uses). */
export interface ObservableLike {
  /** Adds the callback that reports its value at each collection. */
  addCallback(
    callback: (result: { observe(value: number, attributes?: MetricAttributes): void }) => void,
  ): void;
}

/** The part of an OpenTelemetry `MeterProvider` the store uses (an SDK `MeterProvider` is one). */
export interface MeterProviderLike {
  /** Returns the meter of an instrumentation scope. */
  getMeter(name: string, version?: string): MeterLike;
}

/** Option `metrics`: `true` for the global meter provider, `false` for none, or a provider of one's own. */
export type MetricsSetting = boolean | { meterProvider: MeterProviderLike };

/** The instrumentation scope's name. */
export const METER_NAME = "connect-smart-redis";
/** Prefix of the store's own metric names. */
export const METRIC_PREFIX = "smart_redis.session.";

/** Units and descriptions of the counters, by the `stats()` name they share. */
const COUNTERS: Record<OwnCounter, [unit: string, description: string]> = {
  loads: ["{read}", "Sessions read"],
  commits: ["{write}", "Commits that wrote changes"],
  touches: ["{touch}", "Unchanged sessions kept alive"],
  renewals: ["{write}", "Expiry renewals that took a write"],
  destroys: ["{session}", "Sessions destroyed"],
  merges: ["{property}", "Properties merged with a concurrent change"],
  conflicts: ["{commit}", "Commits given up after conflictRetries"],
  blocked: ["{write}", "Writes refused by a tombstone (resurrections prevented)"],
  lockWaits: ["{read}", "Reads that waited for another request's lock"],
  expirations: ["{session}", "Sessions Redis ended by their expiry"],
};

/** The local cache's instruments (names after the prefix, kind, unit, description), by `cacheStats()` name. */
const CACHE_INSTRUMENTS: Record<
  Exclude<keyof CacheStats, "mode" | "detail" | "tracking">,
  [name: string, kind: "counter" | "gauge", unit: string, description: string]
> = {
  hits: ["cache.hits", "counter", "{read}", "Session reads served from the local cache"],
  misses: ["cache.misses", "counter", "{read}", "Session reads the local cache sent to Redis while tracking"],
  invalidations: ["cache.invalidations", "counter", "{key}", "Keys Redis said had changed"],
  flushes: ["cache.flushes", "counter", "{flush}", "Times the local cache was emptied whole"],
  bytes: ["cache.size", "gauge", "By", "Estimated bytes the local cache holds"],
  entries: ["cache.entries", "gauge", "{session}", "Sessions the local cache holds"],
};

/** The part of the `@opentelemetry/api` module the store uses. */
interface OpenTelemetryApi {
  metrics: MeterProviderLike;
  createNoopMeter?(): unknown;
}

type Counter = ReturnType<MeterLike["createCounter"]>;
type Histogram = ReturnType<MeterLike["createHistogram"]>;

/** The store's instruments; all calls do nothing until (and unless) OpenTelemetry is found. */
export class Telemetry {
  #counters: Partial<Record<OwnCounter, Counter>> = {};
  #cacheStats: (() => CacheStats) | undefined;
  #meter: MeterLike | undefined;
  #duration: Histogram | undefined;
  #lockWait: Histogram | undefined;
  #attributes: MetricAttributes;
  /** Whether round trips are timed (OpenTelemetry was found). */
  active = false;
  /** Settles once OpenTelemetry was looked for. */
  readonly ready: Promise<void>;

  /**
   * @param setting The `metrics` option.
   * @param address Where Redis is (`host:port`).
   * @param loadApi Imports `@opentelemetry/api` (replaceable for tests of its absence).
   */
  constructor(
    setting: MetricsSetting,
    address: string,
    loadApi: () => Promise<OpenTelemetryApi> = () => import("@opentelemetry/api"),
  ) {
    this.#attributes = serverAttributes(address);
    this.ready = setting === false ? Promise.resolve() : this.#start(setting, loadApi);
  }

  async #start(setting: MetricsSetting, loadApi: () => Promise<OpenTelemetryApi>) {
    let provider: MeterProviderLike;
    let noop: unknown;
    if (typeof setting === "object") provider = setting.meterProvider;
    else {
      try {
        const api = await loadApi();
        provider = api.metrics;
        noop = api.createNoopMeter?.();
      } catch {
        return; // not installed: no metrics, no cost
      }
    }
    const meter = provider.getMeter(METER_NAME);
    // No global provider registered: the API hands out its no-op meter, which stays one (a
    // provider registered later does not reach it). Nothing would be recorded: time nothing.
    if (meter === noop) return;
    for (const [name, [unit, description]] of Object.entries(COUNTERS)) {
      this.#counters[name as OwnCounter] = meter.createCounter(METRIC_PREFIX + snake(name), {
        unit,
        description,
      });
    }
    this.#duration = meter.createHistogram("db.client.operation.duration", {
      unit: "s",
      description: "Duration of the store's Redis round trips",
    });
    this.#lockWait = meter.createHistogram(METRIC_PREFIX + "lock_wait", {
      unit: "s",
      description: "Time a read waited for another request's lock",
    });
    this.#meter = meter;
    if (this.#cacheStats) this.#observeCache(meter, this.#cacheStats);
    this.active = true;
  }

  /**
   * Reports the local cache's counters and sizes at each collection (nothing is done per read).
   * @param stats Reads the cache's counters.
   */
  observeCache(stats: () => CacheStats): void {
    this.#cacheStats = stats;
    if (this.#meter) this.#observeCache(this.#meter, stats);
  }

  #observeCache(meter: MeterLike, stats: () => CacheStats): void {
    for (const [field, [name, kind, unit, description]] of Object.entries(CACHE_INSTRUMENTS)) {
      const options = { unit, description };
      const instrument = kind === "counter"
        ? meter.createObservableCounter?.(METRIC_PREFIX + name, options)
        : meter.createObservableGauge?.(METRIC_PREFIX + name, options);
      instrument?.addCallback((result) =>
        result.observe(stats()[field as keyof typeof CACHE_INSTRUMENTS], this.#attributes)
      );
    }
  }

  /** Adds one to a counter. */
  count(name: OwnCounter, by = 1): void {
    this.#counters[name]?.add(by, this.#attributes);
  }

  /**
   * Records one Redis round trip.
   * @param command The Redis command (`EVALSHA`, `HGETALL`...).
   * @param script The script's name, for scripts.
   * @param seconds How long it took.
   * @param error The error it failed with, if any.
   */
  roundTrip(command: string, script: string | undefined, seconds: number, error?: unknown): void {
    const attributes: MetricAttributes = { ...this.#attributes, "db.operation.name": command };
    if (script !== undefined) attributes["db.stored_procedure.name"] = script;
    if (error !== undefined) attributes["error.type"] = (error as Error)?.name ?? "Error";
    this.#duration?.record(seconds, attributes);
  }

  /** Records a wait for a lock. */
  lockWait(seconds: number): void {
    this.#lockWait?.record(seconds, this.#attributes);
  }
}

/**
 * The semantic-convention attributes naming a Redis server.
 * @param address `host:port`, or anything else (a socket path, a list of cluster nodes).
 * @returns `db.system.name`, `server.address` and, when there is one, `server.port`.
 */
export function serverAttributes(address: string): MetricAttributes {
  const colon = address.lastIndexOf(":");
  const port = Number(address.slice(colon + 1));
  return colon > 0 && Number.isInteger(port)
    ? { "db.system.name": "redis", "server.address": address.slice(0, colon), "server.port": port }
    : { "db.system.name": "redis", "server.address": address };
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => "_" + letter.toLowerCase());
}

/**
 * Checks the `metrics` option.
 * @param metrics What the user passed.
 * @returns The setting.
 */
export function checkMetrics(metrics: unknown): MetricsSetting {
  checkProvider("metrics", metrics, "meterProvider", "getMeter", "MeterProvider");
  return metrics as MetricsSetting;
}
