// The built package under Node with Express over real HTTP: 20 parallel requests on one session,
// each setting its own property, lose none of them; and a slow request cannot bring back a session
// that another request destroyed meanwhile. Exits non-zero on failure.
import assert from "node:assert/strict";
import express from "express";
import session from "express-session";
import { createClient } from "redis";
import { SmartRedisStore } from "connect-smart-redis";

setTimeout(() => {
  console.error("concurrency check: timed out");
  process.exit(2);
}, 30_000).unref();

const PARALLEL = 20;
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const client = createClient({ url: process.env.REDIS_URL });
const store = new SmartRedisStore({ client, prefix: "concurrency-check:" });
const app = express();
app.use(session({ store, secret: "keyboard cat", resave: false, saveUninitialized: false }));
app.get("/start", (req, res) => {
  req.session.started = true;
  res.send(req.sessionID);
});
app.get("/set/:i", async (req, res) => {
  await delay(Math.random() * 50); // the session is loaded: now race the others to the commit
  req.session[`p${req.params.i}`] = Number(req.params.i);
  res.send("ok");
});
app.get("/slow", async (req, res) => {
  await delay(300);
  req.session.late = true;
  res.send("slow done");
});
app.get("/logout", (req, res) => {
  req.session.destroy((error) => error ? res.status(500).send(String(error)) : res.send("bye"));
});

const server = await new Promise((resolve) => {
  const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
});
const base = `http://127.0.0.1:${server.address().port}`;

/** Starts a session; returns its id and the cookie that carries it. */
async function startSession() {
  const response = await fetch(`${base}/start`);
  assert.equal(response.status, 200);
  return { sid: await response.text(), cookie: response.headers.get("set-cookie").split(";")[0] };
}

async function get(path, cookie) {
  const response = await fetch(`${base}${path}`, { headers: { cookie } });
  return { status: response.status, body: await response.text() };
}

try {
  const parallel = await startSession();
  const answers = await Promise.all(
    Array.from({ length: PARALLEL }, (_, i) => get(`/set/${i}`, parallel.cookie)),
  );
  for (const answer of answers) assert.deepEqual(answer, { status: 200, body: "ok" });
  const merged = await store.get(parallel.sid);
  assert.ok(merged, "the session still exists");
  for (let i = 0; i < PARALLEL; i++) assert.equal(merged[`p${i}`], i, `p${i} survived the parallel writes`);
  assert.equal(merged.started, true);
  console.log(`${PARALLEL} parallel requests on one session: all ${PARALLEL} properties kept`);

  const doomed = await startSession();
  const slow = get("/slow", doomed.cookie); // loads the session, then waits 300 ms before changing it
  await delay(100);
  const logout = await get("/logout", doomed.cookie);
  assert.deepEqual(logout, { status: 200, body: "bye" });
  assert.deepEqual(await slow, { status: 200, body: "slow done" }, "the slow request completes normally");
  assert.equal(await store.get(doomed.sid), null, "the destroyed session stays destroyed");
  console.log("a slow request did not resurrect a session destroyed meanwhile");
} finally {
  server.closeAllConnections();
  server.close();
  client.destroy();
}
process.exit(0);
