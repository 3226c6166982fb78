// A visit counter with a login and a logout: Koa and connect-smart-redis/koa (no koa-session).
import Koa from "koa";
import { createClient } from "redis";
import { smartRedisSession } from "connect-smart-redis/koa";

const app = new Koa();
app.keys = [process.env.SESSION_SECRET ?? "keyboard cat"]; // signs the cookie
app.use(
  smartRedisSession({ client: createClient({ url: process.env.REDIS_URL }), maxAge: 24 * 3600 * 1000 }),
);

app.use(async (ctx) => {
  const route = `${ctx.method} ${ctx.path}`;
  if (route === "POST /login") {
    const { user } = ctx.query;
    if (!user) ctx.throw(400, "Say who: POST /login?user=alice");
    await ctx.session.regenerate(); // a new session id at login; the old session is destroyed
    ctx.session.user = user;
    ctx.body = `Logged in as ${user}`;
  } else if (route === "GET /") {
    if (!ctx.session.user) ctx.throw(401, "Not logged in: POST /login?user=alice");
    ctx.session.visits = (ctx.session.visits ?? 0) + 1;
    ctx.body = `Hello ${ctx.session.user}, visit ${ctx.session.visits}`;
  } else if (route === "POST /logout") {
    ctx.session = null; // destroys it
    ctx.body = "Logged out";
  }
});

const port = Number(process.env.PORT ?? 3000);
app.listen(port, () => console.log(`Listening on http://localhost:${port}`));
