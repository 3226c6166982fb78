/**
 * connect-smart-redis: a Redis session store for express-session that writes
 * only what a request changed, never loses parallel requests' writes, never lets
 * a destroyed session come back, and costs one Redis round trip for a request
 * that only reads its session. Fastify, Koa and Hono get session middlewares of
 * their own on the same engine: `connect-smart-redis/fastify`, `/koa`, `/hono`.
 *
 * With the `user` option (`user: (session) => session.userId`) it also keeps,
 * per user, an exact index of that user's live sessions, on one Redis and on a
 * Redis Cluster: `store.sessionsOf(user)` lists them, `store.destroyUser(user,
 * { except: req.sessionID })` logs out everywhere else, and `maxSessionsPerUser`
 * caps them. Requests that do not change their session's user cost no more.
 *
 * @example Create a store
 * ```ts
 * import assert from "node:assert/strict";
 * import { RedisUnavailableError, SmartRedisStore, type RedisConnection } from "./mod.ts";
 *
 * // Any node-redis client works: `new SmartRedisStore({ client: createClient() })`.
 * // Here, a connection that is never ready shows the options and the fail-fast error.
 * const offline: RedisConnection = {
 *   send: () => Promise.reject(new Error("unreachable")),
 *   masters: () => Promise.resolve([]),
 *   ready: false,
 *   address: "127.0.0.1:1",
 *   onStateChange: () => {},
 * };
 * const store = new SmartRedisStore({ client: offline, ttl: 30 * 24 * 3600, commandTimeout: 50 });
 * await assert.rejects(store.get("some-session-id"), RedisUnavailableError);
 * ```
 *
 * @module
 */

import { connectSmartRedis } from "./src/faces/express_factory.ts";

export { connectSmartRedis } from "./src/faces/express_factory.ts";
export { SmartRedisStore } from "./src/faces/express_store.ts";
export type { SessionModule } from "./src/faces/express_factory.ts";
export type { Callback, StoredSession } from "./src/faces/express_store.ts";
export * from "./src/common_exports.ts";

export default connectSmartRedis;
