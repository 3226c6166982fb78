/**
 * What every entry point exports besides its face: the options' types, the
 * client interface for adapting another client, and the errors callers catch.
 * @module
 */

export type {
  LockOptions,
  MergeHook,
  MergeValues,
  Serializer,
  SessionRecord,
  SmartRedisStoreOptions,
} from "./options/store_options.ts";
export type {
  EncryptionAdapter,
  EncryptionContext,
  EncryptionKey,
  EncryptionKeys,
  EncryptOptions,
} from "./encryption/encryption_options.ts";
export type { ReencryptResult } from "./encryption/reencrypt.ts";
export type { LocalCacheOptions } from "./cache/cache_options.ts";
export type { CacheStats } from "./cache/local_cache.ts";
export type { StoreEventName, StoreEvents, StoreListeners, StoreStats } from "./observe/store_events.ts";
export type {
  MeterLike,
  MeterProviderLike,
  MetricAttributes,
  MetricsSetting,
  ObservableLike,
} from "./observe/telemetry.ts";
export type { SpanLike, TracerLike, TracerProviderLike, TracingSetting } from "./observe/spans.ts";
export type { WithStats } from "./observe/with_stats.ts";
export type { DestroyUserOptions, UserSession } from "./users/user_sessions.ts";
export type { ConnectionState, RedisConnection, RedisNode } from "./clients/connection.ts";
export {
  RedisUnavailableError,
  SessionConflictError,
  SessionDataError,
  SessionLockedError,
} from "./errors.ts";
