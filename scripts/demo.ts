/**
 * The seed's visit counter on http://localhost:3000 (or $PORT), with sessions in
 * the Redis at $REDIS_URL, or in a redis-server this script starts on a free
 * port when nothing answers there.
 *
 *     deno task start
 */

import express from "express";
import session from "express-session";
import { createClient } from "redis";
import connectSmartRedis from "../mod.ts";
import { answersPing, startRedisServer } from "./redis_server.ts";

declare module "express-session" {
  interface SessionData {
    visits: number;
  }
}

const SmartRedis = connectSmartRedis(session);
const thirtyDays = 30 * 24 * 60 * 60;
const port = Number(Deno.env.get("PORT") ?? 3000);

let redisUrl = Deno.env.get("REDIS_URL") ?? "redis://127.0.0.1:6379";
const target = new URL(redisUrl);
if (!await answersPing(target.hostname || "127.0.0.1", Number(target.port || 6379))) {
  try {
    const server = await startRedisServer();
    redisUrl = server.url;
    console.log(`No Redis answered at ${target.host}; started redis-server at ${redisUrl}`);
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(signal, async () => {
        await server.kill();
        Deno.exit(0);
      });
    }
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(1);
  }
}

const app = express();
app.use(session({
  store: new SmartRedis({ client: createClient({ url: redisUrl }), ttl: thirtyDays }),
  secret: Deno.env.get("SESSION_SECRET") ?? "keyboard cat",
  resave: false,
  saveUninitialized: false,
}));
app.get("/", (req, res) => {
  req.session.visits = (req.session.visits || 0) + 1;
  res.send("You visited this site " + req.session.visits + " times!");
});
app.get("/logout", (req, res) => {
  req.session.destroy(() => res.send("Logged out."));
});
app.listen(port, () => console.log(`Visit counter on http://localhost:${port} (sessions in ${redisUrl})`));
