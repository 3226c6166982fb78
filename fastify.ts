/**
 * connect-smart-redis for Fastify: a session plugin with `@fastify/session`'s
 * options and `request.session` API, on Redis, keeping every guarantee of the
 * store (only changed properties written, parallel requests' writes merged,
 * destroyed sessions stay destroyed, one round trip for a request that only
 * reads its session). Needs neither express-session nor `@fastify/session`.
 *
 * @example Register the plugin
 * ```ts ignore
 * import Fastify from "fastify";
 * import { createClient } from "redis";
 * import { smartRedisSession } from "connect-smart-redis/fastify";
 *
 * const app = Fastify();
 * await app.register(smartRedisSession, {
 *   client: createClient(),
 *   secret: "a secret with at least 32 characters",
 *   cookie: { secure: "auto", maxAge: 24 * 3600 * 1000 },
 * });
 * app.get("/", async (request) => {
 *   request.session.visits = ((request.session.visits as number) ?? 0) + 1;
 *   return `visits: ${request.session.visits}`;
 * });
 * ```
 *
 * @module
 */

export {
  type DecryptSession,
  type FastifySessionOptions,
  smartRedisSession,
} from "./src/faces/fastify/plugin.ts";
export { type FastifySessionCallback, FastifySmartSession } from "./src/faces/fastify/fastify_session.ts";
export {
  type FastifyCookieOptions,
  type FastifyCookieOptions as CookieOptions,
  SessionCookie,
  type StoredCookie,
} from "./src/faces/fastify/session_cookie.ts";
export type { CookieSigner } from "./src/faces/fastify/session_signer.ts";
export type { FastifySessionStore } from "./src/faces/fastify/session_store_view.ts";
export { SmartSession } from "./src/faces/web/smart_session.ts";
export * from "./src/common_exports.ts";
