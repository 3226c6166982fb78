// A visit counter with a login and a logout: Express, express-session and SmartRedisStore, in TypeScript.
import express from "express";
import session from "express-session";
import { createClient } from "redis";
import { SmartRedisStore } from "connect-smart-redis";

declare module "express-session" {
  interface SessionData {
    user: string;
    visits: number;
  }
}

const app = express();
app.use(session({
  store: new SmartRedisStore({ client: createClient({ url: process.env.REDIS_URL }) }),
  secret: process.env.SESSION_SECRET ?? "keyboard cat",
  resave: false,
  saveUninitialized: false,
  cookie: { maxAge: 24 * 3600 * 1000 },
}));

app.post("/login", (req, res, next) => {
  const user = req.query.user;
  if (typeof user !== "string" || user === "") {
    res.status(400).send("Say who: POST /login?user=alice");
    return;
  }
  // A new session id at login; the old session is destroyed.
  req.session.regenerate((error) => {
    if (error) return next(error);
    req.session.user = user;
    res.send(`Logged in as ${user}`);
  });
});

app.get("/", (req, res) => {
  if (!req.session.user) {
    res.status(401).send("Not logged in: POST /login?user=alice");
    return;
  }
  req.session.visits = (req.session.visits ?? 0) + 1;
  res.send(`Hello ${req.session.user}, visit ${req.session.visits}`);
});

app.post("/logout", (req, res, next) => {
  req.session.destroy((error) => error ? next(error) : res.send("Logged out"));
});

const port = Number(process.env.PORT ?? 3000);
app.listen(port, () => console.log(`Listening on http://localhost:${port}`));
