// The built package under Node with Koa over real HTTP, required as CommonJS from
// connect-smart-redis/koa: the visit counter counts, 20 parallel requests on one session, each
// setting its own property, lose none of them, and express-session is never loaded.
// Exits non-zero on failure.
const assert = require("node:assert/strict");
const Koa = require("koa");
const { createClient } = require("redis");
const { smartRedisSession } = require("connect-smart-redis/koa");

setTimeout(() => {
  console.error("koa check: timed out");
  process.exit(2);
}, 30_000).unref();

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const client = createClient({ url: process.env.REDIS_URL });
  const app = new Koa();
  app.keys = ["koa check secret"];
  app.use(smartRedisSession({ client, prefix: "koa-check:" }));
  app.use(async (ctx) => {
    const set = /^\/set\/(\d+)$/.exec(ctx.path);
    if (set) {
      await delay(Math.random() * 50);
      ctx.session[`p${set[1]}`] = Number(set[1]);
      ctx.body = "ok";
    } else if (ctx.path === "/id") {
      ctx.body = ctx.session.id;
    } else {
      ctx.session.visits = (ctx.session.visits ?? 0) + 1;
      ctx.body = `visits ${ctx.session.visits}`;
    }
  });
  const server = await new Promise((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
  });
  const base = `http://127.0.0.1:${server.address().port}`;
  const jar = new Map();
  const get = async (path) => {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
    const response = await fetch(`${base}${path}`, { headers: cookie ? { cookie } : {} });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(";")[0];
      jar.set(pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1));
    }
    return response.text();
  };
  try {
    for (const n of [1, 2, 3]) assert.equal(await get("/"), `visits ${n}`);
    console.log("koa: visits 1, 2, 3 counted");
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => get(`/set/${i}`)));
    assert.deepEqual(answers, Array(20).fill("ok"));
    const stored = await client.hGetAll(`koa-check:${await get("/id")}`);
    for (let i = 0; i < 20; i++) assert.equal(stored[`p${i}`], String(i), `p${i} survived the parallel writes`);
    assert.equal(stored.visits, "3");
    assert.deepEqual(Object.keys(stored).filter((field) => field.startsWith("_")), [], "no koa-session bookkeeping");
    console.log("koa: 20 parallel requests on one session: all 20 properties kept");
    const loaded = Object.keys(require.cache).filter((path) => path.includes("express-session"));
    assert.deepEqual(loaded, [], "the koa face loaded express-session");
    console.log("koa: express-session not loaded");
  } finally {
    server.close();
    await client.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
