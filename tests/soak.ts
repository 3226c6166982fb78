/**
 * Soak: drives the Express app at full speed with mixed reads, writes and
 * logouts for SOAK_SECONDS (default 60): no request may fail, and the heap after
 * GC must stay within 10 % of where it was after warm-up.
 *
 *     deno task test:soak
 */

import assert from "node:assert/strict";
import type express from "express";
import { Browser, delay, startApp, storeFixture, test } from "./_helpers.ts";

const SECONDS = Number(Deno.env.get("SOAK_SECONDS") ?? 60);
const WARM_UP_SECONDS = Math.min(10, Math.max(1, SECONDS / 6));
const WORKERS = 8;

declare module "express-session" {
  interface SessionData {
    visits: number;
    [property: string]: unknown;
  }
}

function routes(app: express.Express): void {
  app.get("/read", (req, res) => res.send(String(req.session.visits ?? 0)));
  app.get("/write", (req, res) => {
    req.session.visits = (req.session.visits || 0) + 1;
    req.session[`k${req.session.visits % 5}`] = { at: Date.now(), text: "x".repeat(100) };
    res.send("ok");
  });
  app.get("/logout", (req, res) => req.session.destroy(() => res.send("bye")));
}

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("Run with --v8-flags=--expose-gc (deno task test:soak does)");
  for (let i = 0; i < 5; i++) gc();
  return Deno.memoryUsage().heapUsed;
}

test(`soak: ${SECONDS} s of mixed traffic, no errors, no heap growth`, async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, routes);
  const counts = { requests: 0, errors: 0 };
  const errors: string[] = [];
  let deadline = Date.now() + WARM_UP_SECONDS * 1000;

  const worker = async (seed: number) => {
    let state = seed;
    const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
    let browser = new Browser();
    while (Date.now() < deadline) {
      const roll = next();
      const path = roll < 0.7 ? "/read" : roll < 0.95 ? "/write" : "/logout";
      if (roll > 0.98) browser = new Browser();
      try {
        const answer = await browser.get(app.url + path);
        if (answer.status !== 200) throw new Error(`${path}: ${answer.status} ${answer.body.slice(0, 200)}`);
      } catch (error) {
        counts.errors++;
        if (errors.length < 5) errors.push(String(error));
      }
      counts.requests++;
    }
  };

  await Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i + 1)));
  await delay(100);
  const warm = heapAfterGc();
  const warmRequests = counts.requests;
  deadline = Date.now() + (SECONDS - WARM_UP_SECONDS) * 1000;
  await Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i + 100)));
  await delay(100);
  const end = heapAfterGc();
  const growth = (end - warm) / warm;
  console.log(
    `soak: ${counts.requests} requests (${
      Math.round(counts.requests / SECONDS)
    }/s), ${counts.errors} errors, ` +
      `heap after warm-up ${(warm / 1e6).toFixed(1)} MB (at ${warmRequests} requests), at the end ` +
      `${(end / 1e6).toFixed(1)} MB (${(growth * 100).toFixed(1)} %), sessions in Redis ${await fx.store
        .length()}`,
  );
  assert.deepEqual(errors, []);
  assert.equal(counts.errors, 0);
  assert.ok(growth <= 0.1, `the heap grew ${(growth * 100).toFixed(1)} % after warm-up`);
});
