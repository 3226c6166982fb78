/**
 * connect-smart-redis for Koa: a session middleware with koa-session's cookie
 * options, on Redis, keeping every guarantee of the store (only changed
 * properties written, parallel requests' writes merged, destroyed sessions stay
 * destroyed, one round trip for a request that only reads its session). Needs
 * neither express-session nor koa-session.
 *
 * @example Use the middleware
 * ```ts ignore
 * import Koa from "koa";
 * import { createClient } from "redis";
 * import { smartRedisSession } from "connect-smart-redis/koa";
 *
 * const app = new Koa();
 * app.keys = ["a secret"];
 * app.use(smartRedisSession({ client: createClient(), maxAge: 24 * 3600 * 1000 }, app));
 * app.use((ctx) => {
 *   ctx.session.visits = (ctx.session.visits ?? 0) + 1;
 *   ctx.body = `visits: ${ctx.session.visits}`;
 * });
 * ```
 *
 * @module
 */

export {
  type KoaAppLike,
  type KoaContextLike,
  type KoaCookieOptions,
  type KoaExternalKey,
  type KoaMiddleware,
  type KoaSessionCallback,
  type KoaSessionOptions,
  KoaSmartSession,
  smartRedisSession,
} from "./src/faces/koa_face.ts";
export { SmartSession } from "./src/faces/web/smart_session.ts";
export * from "./src/common_exports.ts";
