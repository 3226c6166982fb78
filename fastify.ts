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
  type FastifySessionCallback,
  type FastifySessionOptions,
  FastifySmartSession,
  smartRedisSession,
} from "./src/faces/fastify_face.ts";
export { SmartSession } from "./src/faces/web/smart_session.ts";
export type { CookieOptions } from "./src/faces/web/cookies.ts";
export * from "./src/common_exports.ts";
