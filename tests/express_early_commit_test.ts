/**
 * The Express face's early commit (a changed session is committed when the app
 * ends its response, before the headers): what the app around it must not notice,
 * errors and explicit saves included, and still one load and one commit.
 */

import assert from "node:assert/strict";
import express4 from "express";
import express5 from "express5";
import { Browser, delay, Monitor, startApp, storeFixture, test } from "./_helpers.ts";

const FRAMEWORKS = [["express 4", express4], ["express 5", express5]] as const;
/** A cookie maxAge whose lazy renewal (1 % of it) cannot fall due within a test, however loaded the machine. */
const DAY = 24 * 3600 * 1000;

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
      { cookie: { maxAge: DAY } },
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

test("express: a changed session whose commit failed at the response's end is not committed again by express-session's save", async () => {
  const merges: string[] = [];
  await using fx = await storeFixture({
    merge: (field) => {
      merges.push(field);
      throw new Error("no merge for this property");
    },
  });
  await using app = await startApp(fx.store, (app) => {
    app.get("/login", (req, res) => {
      req.session.step = 0;
      res.send("in");
    });
    app.get("/step/:step", async (req, res) => {
      await delay(Number(req.query.delay ?? 0));
      req.session.step = Number(req.params.step);
      res.send("stepped");
    });
  }, { cookie: { maxAge: DAY } });
  const browser = new Browser();
  await browser.get(`${app.url}/login`);
  await using monitor = await Monitor.start(fx.server);
  const slow = fetch(`${app.url}/step/2?delay=300`, { headers: { cookie: browser.cookie } });
  await delay(50);
  assert.equal((await browser.get(`${app.url}/step/1`)).body, "stepped");
  await (await slow).text();
  assert.deepEqual(merges, ["step"], "the merge hook was asked once");
  // Two loads, the fast request's commit, the slow one's commit meeting the conflict: no second try.
  assert.deepEqual((await monitor.commands()).map((args) => args[0]), [
    "hgetall",
    "hgetall",
    "evalsha",
    "evalsha",
  ]);
  assert.equal(await fx.redis.hGet(`session:${browser.sid}`, "step"), "1");
});

test("express: save() without waiting, then the response: one load and one commit", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, (app) => {
    app.get("/login", (req, res) => {
      req.session.login = "fay";
      res.send("in");
    });
    app.get("/save-and-go", (req, res) => {
      req.session.visited = true;
      req.session.save();
      res.redirect("/login");
    });
  }, { cookie: { maxAge: DAY } });
  const browser = new Browser();
  await browser.get(`${app.url}/login`);
  await using monitor = await Monitor.start(fx.server);
  const response = await fetch(`${app.url}/save-and-go`, {
    headers: { cookie: browser.cookie },
    redirect: "manual",
  });
  assert.equal(response.status, 302);
  assert.match(response.headers.get("set-cookie") ?? "", /^connect\.sid=/);
  await response.text();
  assert.deepEqual((await monitor.commands()).map((args) => args[0]), ["hgetall", "evalsha"]);
  assert.equal(await fx.redis.hGet(`session:${browser.sid}`, "visited"), "true");
});

test("express: a response ended twice still commits its changed session once", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, (app) => {
    app.get("/login", (req, res) => {
      req.session.login = "gus";
      res.send("in");
    });
    app.get("/twice", (req, res) => {
      req.session.twice = true;
      res.end("first");
      res.end("second");
    });
  }, { cookie: { maxAge: DAY } });
  const browser = new Browser();
  await browser.get(`${app.url}/login`);
  await using monitor = await Monitor.start(fx.server);
  await (await fetch(`${app.url}/twice`, { headers: { cookie: browser.cookie } })).text();
  await delay(50);
  assert.deepEqual((await monitor.commands()).map((args) => args[0]), ["hgetall", "evalsha"]);
  assert.equal(await fx.redis.hGet(`session:${browser.sid}`, "twice"), "true");
});

test("express: a request that only reads its session serializes the cookie once at its end, not also in the early-commit check", async () => {
  let cookieStringified = 0;
  await using fx = await storeFixture({
    serializer: {
      parse: JSON.parse,
      stringify(value: unknown) {
        if (typeof value === "object" && value !== null && "originalMaxAge" in value) cookieStringified++;
        return JSON.stringify(value);
      },
    },
  });
  await using app = await startApp(fx.store, (app) => {
    app.get("/login", (req, res) => {
      req.session.login = "hal";
      res.send("in");
    });
    app.get("/whoami", (req, res) => res.send(String(req.session.login)));
  }, { cookie: { maxAge: DAY } });
  const browser = new Browser();
  await browser.get(`${app.url}/login`);
  cookieStringified = 0;
  assert.equal((await browser.get(`${app.url}/whoami`)).body, "hal");
  assert.equal(cookieStringified, 1, "the touch's own look at the cookie only");
});

test("express: a slow request that saved explicitly after a relogin in another tab sends no cookie, for one commit", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, (app) => {
    app.get("/login", (req, res, next) => {
      req.session.regenerate((error) => {
        if (error) return next(error);
        req.session.login = String(req.query.user);
        res.send(`logged in as ${req.session.login}`);
      });
    });
    app.get("/slow-save", async (req, res, next) => {
      await delay(300);
      req.session.lastSeen = Date.now();
      req.session.save((error) => error ? next(error) : res.send("saved"));
    });
  }, { cookie: { maxAge: DAY } });
  const browser = new Browser();
  await browser.get(`${app.url}/login?user=ida`);
  const ida = browser.sid;
  await using monitor = await Monitor.start(fx.server);
  const slow = fetch(`${app.url}/slow-save`, { headers: { cookie: browser.cookie } });
  await delay(50);
  assert.equal((await browser.get(`${app.url}/login?user=jon`)).body, "logged in as jon");
  const response = await slow;
  assert.equal(await response.text(), "saved");
  assert.equal(response.headers.get("set-cookie"), null, "the destroyed session's cookie is not sent again");
  // Two loads; the relogin's destroy and write; the slow request's one commit, which found the tombstone.
  const commands = (await monitor.commands()).map((args) => args[0]);
  assert.deepEqual(commands.filter((name) => name === "evalsha").length, 3, commands.join(" "));
  assert.equal(await fx.redis.hGet(`session:${ida}`, "lastSeen"), null);
});

test("express: a change saved explicitly right after the response's end is stored too", async () => {
  await using fx = await storeFixture();
  const saved: unknown[] = [];
  await using app = await startApp(fx.store, (app) => {
    app.get("/login", (req, res) => {
      req.session.login = "kim";
      res.send("in");
    });
    app.get("/then-save", (req, res) => {
      req.session.first = 1;
      res.send("ok");
      req.session.second = 2;
      req.session.save((error) => saved.push(error));
    });
  }, { cookie: { maxAge: DAY } });
  const browser = new Browser();
  await browser.get(`${app.url}/login`);
  assert.equal((await browser.get(`${app.url}/then-save`)).body, "ok");
  for (let i = 0; i < 100 && saved.length === 0; i++) await delay(10);
  assert.deepEqual(saved, [null]);
  assert.equal(await fx.redis.hGet(`session:${browser.sid}`, "first"), "1");
  assert.equal(await fx.redis.hGet(`session:${browser.sid}`, "second"), "2");
});

test("express: a response ended twice while its session commits keeps the first body, as express-session does", async () => {
  await using fx = await storeFixture();
  await using app = await startApp(fx.store, (app) => {
    app.get("/login", (req, res) => {
      req.session.login = "erin";
      res.send("in");
    });
    app.get("/twice", (req, res) => {
      req.session.step = 1;
      res.end("first");
      res.end("second");
    });
  }, { cookie: { maxAge: DAY } });
  const browser = new Browser();
  await browser.get(`${app.url}/login`);
  assert.equal((await browser.get(`${app.url}/twice`)).body, "first");
});
