/**
 * connect-smart-redis for Express: the express-session store, the same as the
 * package's main entry, under a name that says which framework it serves.
 *
 * @example Use with express-session
 * ```ts ignore
 * import express from "express";
 * import session from "express-session";
 * import { createClient } from "redis";
 * import { SmartRedisStore } from "connect-smart-redis/express";
 *
 * const app = express();
 * app.use(session({
 *   store: new SmartRedisStore({ client: createClient() }),
 *   secret: "keyboard cat",
 *   resave: false,
 *   saveUninitialized: false,
 * }));
 * ```
 *
 * @module
 */

export * from "./mod.ts";
export { default } from "./mod.ts";
