/**
 * The two races every face and client must win over real HTTP (the routes of
 * `visitRoutes`): parallel writers on one session, and a slow write racing a logout.
 * @module
 */

import assert from "node:assert/strict";
import type session from "express-session";
import { Browser, delay } from "./_helpers.ts";

/**
 * 20 parallel requests on one session, each setting its own property (at staggered
 * delays). Asserts that all answer and that the store keeps all 20, and the one visit.
 */
export async function parallelWritersKeepAll(store: session.Store, url: string): Promise<void> {
  const browser = new Browser();
  await browser.get(url);
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) => browser.get(`${url}/set/p${i}/${i}?delay=${(i * 7) % 50}`)),
  );
  assert.ok(answers.every((answer) => answer.status === 200 && answer.body === "set"));
  const stored = await new Promise<Record<string, unknown>>((resolve, reject) =>
    store.get(
      browser.sid,
      (error, value) => error ? reject(error) : resolve(value as Record<string, unknown>),
    )
  );
  for (let i = 0; i < 20; i++) assert.equal(stored[`p${i}`], String(i), `p${i} was lost`);
  assert.equal(stored.visits, 1);
}

/**
 * A slow request writes to a session while another destroys it (the routes of
 * {@linkcode visitRoutes}). Asserts that the slow request still answers normally and
 * that the store no longer has the session.
 * @returns The destroyed session's id, for checks of what Redis holds.
 */
export async function slowWriteRacingLogout(store: session.Store, url: string): Promise<string> {
  const browser = new Browser();
  await browser.get(url);
  const sid = browser.sid;
  const slow = browser.get(`${url}/set/late/yes?delay=300`);
  await delay(50);
  assert.equal((await browser.get(`${url}/logout`)).body, "bye");
  const answer = await slow;
  assert.equal(answer.status, 200);
  assert.equal(answer.body, "set");
  assert.equal(
    await new Promise((resolve, reject) =>
      store.get(sid, (error, value) => error ? reject(error) : resolve(value))
    ),
    null,
  );
  return sid;
}
