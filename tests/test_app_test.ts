/**
 * The helpers' Express app: an error that reaches it after its response went out (what
 * express-session does with a failed save) is kept for the test, not answered a second time.
 */

import assert from "node:assert/strict";
import session from "express-session";
import { Browser, startApp, test } from "./_helpers.ts";

test("the test app keeps an error that arrives after its response, and answers only once", async () => {
  const uncaught: unknown[] = [];
  const onError = (event: ErrorEvent) => {
    uncaught.push(event.error);
    event.preventDefault();
  };
  addEventListener("error", onError);
  try {
    await using app = await startApp(new session.MemoryStore(), (app) => {
      app.get("/", (_req, res, next) => {
        res.send("answered");
        setImmediate(() => next(new Error("the save failed")));
      });
    });
    assert.equal((await new Browser().get(app.url)).body, "answered");
    for (let i = 0; i < 100 && app.lateErrors.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(app.lateErrors.splice(0).map((error) => error.message), ["the save failed"]);
  } finally {
    removeEventListener("error", onError);
  }
  assert.deepEqual(uncaught, []);
});
