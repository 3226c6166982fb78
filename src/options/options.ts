/**
 * The store's options resolved: their documented defaults, and the checks that
 * turn a bad value into a `TypeError` / `RangeError` at construction.
 * @module
 */

import { describe, MAX_TIMER, positive, wholeNumber } from "./option_checks.ts";
import { type ResolvedLocalCache, resolveLocalCache } from "../cache/cache_options.ts";
import { checkListeners, type StoreListeners } from "../observe/store_events.ts";
import { checkMetrics, type MetricsSetting } from "../observe/telemetry.ts";
import { checkTracing, type TracingSetting } from "../observe/spans.ts";
import { type ResolvedEncryption, resolveEncryption } from "../encryption/encryption_options.ts";
import type {
  LockOptions,
  MergeHook,
  Serializer,
  SessionRecord,
  SmartRedisStoreOptions,
} from "./store_options.ts";

/** Every option but `client`, with defaults applied. */
export interface ResolvedOptions {
  ttl: number | ((session: SessionRecord) => number);
  prefix: string;
  deleteExpiry: number;
  lockExpiry: number;
  retryTime: number;
  serializer: Serializer;
  disableTouch: boolean;
  disableTTL: boolean;
  renewAfter: number;
  scanCount: number;
  commandTimeout: number;
  conflictRetries: number;
  merge: MergeHook | undefined;
  lock: Required<LockOptions> | undefined;
  user: ((session: SessionRecord) => unknown) | undefined;
  maxSessionsPerUser: number | undefined;
  localCache: ResolvedLocalCache | undefined;
  on: StoreListeners;
  metrics: MetricsSetting;
  tracing: TracingSetting;
  encrypt: ResolvedEncryption | undefined;
}

const DEFAULTS: ResolvedOptions = {
  ttl: 86400,
  prefix: "session:",
  deleteExpiry: 5000,
  lockExpiry: 5000,
  retryTime: 100,
  serializer: JSON,
  disableTouch: false,
  disableTTL: false,
  renewAfter: 0.01,
  scanCount: 100,
  commandTimeout: 2000,
  conflictRetries: 100,
  merge: undefined,
  lock: undefined,
  user: undefined,
  maxSessionsPerUser: undefined,
  localCache: undefined,
  on: {},
  metrics: true,
  tracing: false,
  encrypt: undefined,
};

/**
 * Checks the options and fills in defaults.
 * @param options What the user passed.
 * @returns The options with every default applied.
 */
export function resolveOptions(options: Omit<SmartRedisStoreOptions, "client">): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Options must be an object such as { client: createClient() }");
  }
  const resolved: ResolvedOptions = { ...DEFAULTS };
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined || name === "client") continue;
    if (!Object.hasOwn(DEFAULTS, name)) {
      throw new TypeError(
        `Unknown option "${name}": expected one of client, ${Object.keys(DEFAULTS).join(", ")}`,
      );
    }
    (resolved as unknown as Record<string, unknown>)[name] = value;
  }
  if (typeof resolved.ttl !== "function") {
    positive("ttl", resolved.ttl, "seconds", false, MAX_MILLISECONDS / 1000);
  }
  if (typeof resolved.prefix !== "string") {
    throw new TypeError(`Option "prefix" must be a string, got ${describe(resolved.prefix)}`);
  }
  // Expiries go to PEXPIRE; waits to setTimeout, which fires at once past 2^31 - 1 ms.
  positive("deleteExpiry", resolved.deleteExpiry, "milliseconds", true, MAX_MILLISECONDS);
  positive("lockExpiry", resolved.lockExpiry, "milliseconds", false, MAX_MILLISECONDS);
  positive("retryTime", resolved.retryTime, "milliseconds", false, MAX_TIMER);
  positive("commandTimeout", resolved.commandTimeout, "milliseconds", false, MAX_TIMER);
  if (typeof resolved.renewAfter !== "number" || Number.isNaN(resolved.renewAfter)) {
    throw new TypeError(
      `Option "renewAfter" must be a fraction such as 0.01, got ${describe(resolved.renewAfter)}`,
    );
  }
  if (!(resolved.renewAfter >= 0 && resolved.renewAfter <= 0.5)) {
    throw new RangeError(
      `Option "renewAfter" must be between 0 (renew at every read) and 0.5, got ${resolved.renewAfter}`,
    );
  }
  // Redis takes whole milliseconds only.
  resolved.deleteExpiry = Math.ceil(resolved.deleteExpiry);
  resolved.lockExpiry = Math.ceil(resolved.lockExpiry);
  wholeNumber("scanCount", resolved.scanCount, 1);
  wholeNumber("conflictRetries", resolved.conflictRetries, 0);
  if (resolved.merge !== undefined && typeof resolved.merge !== "function") {
    throw new TypeError(
      `Option "merge" must be a function (field, { base, ours, theirs }) => value, got ${
        describe(resolved.merge)
      }`,
    );
  }
  const serializer = resolved.serializer as Partial<Serializer> | null;
  if (
    typeof serializer !== "object" || serializer === null || typeof serializer.stringify !== "function" ||
    typeof serializer.parse !== "function"
  ) {
    throw new TypeError('Option "serializer" must be an object with stringify() and parse(), such as JSON');
  }
  if (resolved.user !== undefined && typeof resolved.user !== "function") {
    throw new TypeError(
      `Option "user" must be a function (session) => user id, such as (session) => session.userId, got ${
        describe(resolved.user)
      }`,
    );
  }
  if (resolved.maxSessionsPerUser !== undefined) {
    wholeNumber("maxSessionsPerUser", resolved.maxSessionsPerUser, 1);
    if (resolved.user === undefined) {
      throw new TypeError(
        'Option "maxSessionsPerUser" needs the option "user" to know whose sessions to count',
      );
    }
  }
  resolved.on = checkListeners(resolved.on);
  resolved.metrics = checkMetrics(resolved.metrics);
  resolved.tracing = checkTracing(resolved.tracing);
  resolved.lock = resolveLock((options as { lock?: unknown }).lock);
  resolved.encrypt = resolveEncryption((options as { encrypt?: unknown }).encrypt);
  resolved.localCache = resolveLocalCache((options as { localCache?: unknown }).localCache);
  for (const name of ["disableTouch", "disableTTL"] as const) {
    if (typeof resolved[name] !== "boolean") {
      throw new TypeError(`Option "${name}" must be true or false, got ${describe(resolved[name])}`);
    }
  }
  return resolved;
}

function resolveLock(lock: unknown): Required<LockOptions> | undefined {
  if (lock === undefined || lock === false) return undefined;
  if (lock === true) return { timeout: 10000, onTimeout: "error" };
  if (typeof lock !== "object" || lock === null) {
    throw new TypeError(`Option "lock" must be true, false or { timeout, onTimeout }, got ${describe(lock)}`);
  }
  const { timeout = 10000, onTimeout = "error", ...rest } = lock as LockOptions;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new TypeError(`Unknown lock option "${unknown[0]}": expected timeout or onTimeout`);
  }
  positive("lock.timeout", timeout, "milliseconds", true, MAX_TIMER);
  if (onTimeout !== "error" && onTimeout !== "readonly") {
    throw new TypeError(`Option "lock.onTimeout" must be "error" or "readonly", got ${describe(onTimeout)}`);
  }
  return { timeout, onTimeout };
}

/** The longest expiry in ms the store sends to Redis (PEXPIRE wants an integer that fits with "now" added). */
export const MAX_MILLISECONDS = 2 ** 52;
