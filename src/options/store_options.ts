/**
 * The store's options as the app writes them: {@linkcode SmartRedisStoreOptions}
 * and the types its options take. Their defaults and checks: `options.ts`.
 * @module
 */

import type { LocalCacheOptions } from "../cache/cache_options.ts";
import type { StoreListeners } from "../observe/store_events.ts";
import type { MetricsSetting } from "../observe/telemetry.ts";
import type { TracingSetting } from "../observe/spans.ts";
import type { EncryptOptions } from "../encryption/encryption_options.ts";

/** Turns one session property into a string and back. */
export interface Serializer {
  /** Serializes one value. Returning `undefined` drops the property, as `JSON.stringify` does. */
  stringify(value: unknown): string | undefined;
  /** Parses what `stringify` produced. */
  parse(text: string): unknown;
}

/** A session as the store sees it: plain properties, `cookie` among them. */
export type SessionRecord = Record<string, unknown>;

/** Options of {@linkcode SmartRedisStore}. */
export interface SmartRedisStoreOptions {
  /**
   * The Redis client: node-redis 4/5/6 `createClient()` or `createCluster()`, node-redis 5/6
   * `createSentinel()`, ioredis 5/6 `new Redis()` (also with `sentinels`) or `new Cluster()`
   * (connected or not: the store connects it before its first command if nobody has), or
   * any object implementing {@linkcode RedisConnection}.
   */
  client: object;
  /**
   * Expiry in seconds for sessions whose cookie has no `maxAge`; or a function of the
   * session returning it, which then decides every session's expiry, cookie or not (as in
   * connect-redis; called at each write and renewal).
   * @default {86400}
   */
  ttl?: number | ((session: SessionRecord) => number);
  /**
   * Prepended to the session id to make the Redis key.
   * @default {"session:"}
   */
  prefix?: string;
  /**
   * How long, in milliseconds, a destroyed session's tombstone stays, blocking
   * in-flight requests from bringing it back.
   * @default {5000}
   */
  deleteExpiry?: number;
  /**
   * Lock mode: milliseconds after which a session's lock expires if its request died
   * (measured by Redis `TIME`).
   * @default {5000}
   */
  lockExpiry?: number;
  /**
   * Lock mode: milliseconds between attempts to take a held session lock (with ±50 % jitter).
   * @default {100}
   */
  retryTime?: number;
  /**
   * Serializes each top-level session property on its own.
   * @default {JSON}
   */
  serializer?: Serializer;
  /**
   * Do not renew a session's expiry when it is read or touched; it expires
   * `maxAge` / `ttl` after its last write.
   * @default {false}
   */
  disableTouch?: boolean;
  /**
   * Lazy renewal of the sliding expiry: a request renews a session only once the
   * session has lost more than this fraction of its `maxAge` (or `ttl`) since its last
   * renewal, so most requests read it with one plain `HGETALL` and write nothing. A
   * session always lives at least `(1 - renewAfter) × maxAge` after its last request.
   * `0` renews at every read, inside the read's own round trip (a Lua script: more
   * Redis CPU).
   * @default {0.01}
   */
  renewAfter?: number;
  /**
   * Store sessions without a Redis expiry (expired cookies are still reported as not found).
   * @default {false}
   */
  disableTTL?: boolean;
  /**
   * The COUNT hint of the SCAN behind `all`, `ids`, `length` and `clear`.
   * @default {100}
   */
  scanCount?: number;
  /**
   * Milliseconds an operation may wait for Redis (including the first connection)
   * before failing with a `RedisUnavailableError`.
   * @default {2000}
   */
  commandTimeout?: number;
  /**
   * How many times a commit that met concurrent changes is merged and retried
   * before failing with a `SessionConflictError`. Each failed attempt means another
   * request's commit succeeded, so contention cannot livelock; the bound only caps the work.
   * @default {100}
   */
  conflictRetries?: number;
  /**
   * Decides the value of a property that this request and another one both changed
   * since this request loaded it: `base` as loaded, `ours` this request's value,
   * `theirs` the value in Redis now (`undefined` where absent). Returns the value to
   * store (`undefined` removes the property). Without it, objects are merged key by
   * key and where both changed the same leaf, ours wins.
   * @default {undefined}
   */
  merge?: MergeHook;
  /**
   * Exclusive session lock (opt-in): each request owns its session from load until
   * its commit, touch or destroy, and other requests for the same session wait
   * (retrying every `retryTime` ms). `true`, or options for waiting.
   * @default {false}
   */
  lock?: boolean | LockOptions;
  /**
   * Sessions per user: names the user a session belongs to, e.g.
   * `(session) => session.userId`, returning a non-empty string or a finite number,
   * or `undefined` / `null` / `""` for none. With it, the store keeps an index of each
   * user's live sessions (for `sessionsOf`, `destroyUser`, `maxSessionsPerUser`),
   * updated by the commits that log in, log out or switch users. Called at each commit.
   * @default {undefined}
   */
  user?: (session: SessionRecord) => unknown;
  /**
   * With `user`: how many live sessions a user may have. A login beyond it destroys
   * the user's sessions with the oldest logins, keeping the newest.
   * @default {undefined}
   */
  maxSessionsPerUser?: number;
  /**
   * Serve session reads from a process-local copy that Redis keeps exact with
   * server-assisted invalidation (`CLIENT TRACKING`): a hit costs no round trip. `true`, or
   * bounds. Needs a node-redis 4/5/6 or ioredis client: standalone, Cluster (node-redis 5/6, ioredis) or
   * Sentinel (node-redis 6's `createSentinel()`, ioredis); ignored in lock mode and with `renewAfter: 0`.
   * See `cacheStats()`.
   * @default {false}
   */
  localCache?: boolean | LocalCacheOptions;
  /**
   * Listeners of the store's events, by name, e.g. `{ merged: ({ sid, properties }) => ... }`
   * (see `StoreEvents` for each event's payload). Events without a listener cost nothing;
   * an `expired` listener opens the store's subscription to Redis's expired-key notifications.
   * @default {{}}
   */
  on?: StoreListeners;
  /**
   * OpenTelemetry metrics: `true` reports to the global meter provider when the app has
   * `@opentelemetry/api` installed (nothing at all without it), `false` turns them off,
   * `{ meterProvider }` reports to that provider.
   * @default {true}
   */
  metrics?: MetricsSetting;
  /**
   * OpenTelemetry spans, one per store operation (load, commit, touch, destroy, bulk
   * operations): `true` reports to the global tracer provider when the app has
   * `@opentelemetry/api` installed, `{ tracerProvider }` to that provider, `false` none.
   * @default {false}
   */
  tracing?: TracingSetting;
  /**
   * Encryption at rest of every property's value (AES-256-GCM, for its session and
   * property): `{ keys: [{ id, secret }] }` (the first encrypts, all decrypt), or an adapter
   * `{ encrypt, decrypt }` (a KMS). Plain values stored before are still read, unless `plain: "refuse"`.
   * See `reencrypt()`.
   * @default {undefined}
   */
  encrypt?: EncryptOptions;
}

/** How a request waits for a session another request holds locked. */
export interface LockOptions {
  /**
   * Milliseconds a load waits for a held lock before giving up.
   * @default {10000}
   */
  timeout?: number;
  /**
   * What a load that gave up does: `"error"` fails with `SessionLockedError`;
   * `"readonly"` loads the session without the lock, and its writes fail with `SessionLockedError`.
   * @default {"error"}
   */
  onTimeout?: "error" | "readonly";
}

/** The values a {@linkcode MergeHook} decides between. */
export interface MergeValues {
  /** The property as this request loaded it. */
  base: unknown;
  /** The property as this request changed it. */
  ours: unknown;
  /** The property as another request committed it meanwhile. */
  theirs: unknown;
}

/** Resolves a concurrent change of one property; see {@linkcode SmartRedisStoreOptions.merge}. */
export type MergeHook = (field: string, values: MergeValues) => unknown;
