/**
 * The Express face's early commit (a changed session is committed when the app
 * ends its response, before the headers): what the app around it must not notice,
 * errors and explicit saves included, and still one load and one commit.
 */

import assert from "node:assert/strict";
import express4 from "express";
import express5 from "express5";
import { Browser, delay, startApp, storeFixture, test } from "./_helpers.ts";

const FRAMEWORKS = [["express 4", express4], ["express 5", express5]] as const;

for (const [label, framework] of FRAMEWORKS) {
  test(`${label}: an error thrown by ending a changed session's response reaches the error handler, and the server lives on`, async () => {
    await using fx = await storeFixture();
    const errors: string[] = [];
    await using app = await startApp(
      fx.store,
      (app) => {
        app.get("/login", (req, res) => {
          req.session.login = "erin";
          res.send("in");
        });
        // express-session's end takes (chunk, encoding): a callback as chunk makes Node's write throw.
        app.get("/end-with-callback", (req, res) => {
          req.session.step = 1;
          res.end(() => {});
        });
        app.use(
          (error: Error, _req: express4.Request, _res: express4.Response, next: express4.NextFunction) => {
            errors.push(error.message);
            next(error);
          },
        );
      },
      { cookie: { maxAge: 60_000 } },
      framework as unknown as typeof express4,
    );
    const browser = new Browser();
    await browser.get(`${app.url}/login`);
    await fetch(`${app.url}/end-with-callback`, { headers: { cookie: browser.cookie } })
      .then((response) => response.body?.cancel(), () => {/* the response may be cut short */});
    for (let i = 0; i < 100 && errors.length === 0; i++) await delay(10);
    assert.equal(errors.length, 1, "the error handler got the error");
    assert.match(errors[0], /chunk/);
    assert.equal((await browser.get(`${app.url}/login`)).body, "in", "the server still answers");
  });
}
