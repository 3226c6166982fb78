/**
 * connect-smart-redis for Hono: a session middleware on Redis for Deno
 * (its built-in server, `deno serve`) and Node (`@hono/node-server`), keeping every guarantee
 * of the store (only changed properties written, parallel requests' writes
 * merged, destroyed sessions stay destroyed, one round trip for a request that
 * only reads its session). Needs no express-session.
 *
 * @example Use the middleware under Deno
 * ```ts ignore
 * import { Hono } from "hono";
 * import { createClient } from "redis";
 * import { smartRedisSession, type SessionVariables } from "connect-smart-redis/hono";
 *
 * const app = new Hono<{ Variables: SessionVariables }>();
 * app.use(smartRedisSession({ client: createClient(), secret: "a secret" }));
 * app.get("/", (c) => {
 *   const session = c.get("session");
 *   session.visits = ((session.visits as number) ?? 0) + 1;
 *   return c.text(`visits: ${session.visits}`);
 * });
 * export default app; // run with `deno serve`, or pass app.fetch to Deno's serve()
 * ```
 *
 * @module
 */

export {
  type HonoContextLike,
  type HonoCookieOptions,
  type HonoMiddleware,
  type HonoSessionOptions,
  type SessionVariables,
  smartRedisSession,
} from "./src/faces/hono_face.ts";
export { HonoSmartSession } from "./src/faces/hono_session.ts";
export { SmartSession } from "./src/faces/web/smart_session.ts";
export type { CookieOptions } from "./src/faces/web/cookies.ts";
export * from "./src/common_exports.ts";
