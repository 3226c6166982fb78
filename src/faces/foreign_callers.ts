/**
 * Recognizes the session middlewares that copy what the store loads into
 * objects of their own (`@fastify/session`, koa-session). The store cannot
 * tell what such a session changed, and writing it whole would silently lose
 * parallel requests' writes: it refuses, and names the face to use instead.
 * @module
 */

import { SNAPSHOT } from "../engine/snapshot.ts";

/**
 * Throws when `set` was called by `@fastify/session` or koa-session.
 * @param session What `set` was given.
 * @param third `set`'s argument after the session.
 * @param fourth The one after that.
 */
export function refuseCopyingMiddleware(session: unknown, third: unknown, fourth: unknown): void {
  if (typeof session !== "object" || session === null || SNAPSHOT in session) return;
  const fastify = typeof (session as { isModified?: unknown }).isModified === "function" &&
    "encryptedSessionId" in session;
  // koa-session calls set(key, json, maxAge, { changed, ctx, rolling }).
  const options = fourth as { ctx?: unknown } | undefined;
  const koa = (typeof third === "number" || third === "session") && typeof options === "object" &&
    options !== null && "ctx" in options;
  if (!fastify && !koa) return;
  const [name, face] = fastify ? ["@fastify/session", "fastify"] : ["koa-session", "koa"];
  throw new TypeError(
    `SmartRedisStore cannot keep its guarantees under ${name}, which copies every loaded session: ` +
      `its writes would replace whole sessions and lose parallel requests' changes. Use the session ` +
      `middleware of "connect-smart-redis/${face}" instead, which needs no ${name}`,
  );
}
