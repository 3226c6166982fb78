/**
 * The code the README and the docs show: the README's Express app is
 * examples/express-esm/app.js verbatim (tests/examples_test.ts runs that), and the
 * merge hook example of docs/how_it_works.md runs as written, for every case the
 * store can call it with, and end to end over HTTP.
 */

import assert from "node:assert/strict";
import { type MergeHook, SmartRedisStore } from "../mod.ts";
import { Browser, delay, startApp, storeFixture, test } from "./_helpers.ts";

/** The docs' merge example, evaluated with the given client. */
async function readmeMergeExample(client: object): Promise<{ merge: MergeHook; store: SmartRedisStore }> {
  const readme = await Deno.readTextFile(new URL("../docs/how_it_works.md", import.meta.url));
  const marker = readme.indexOf("tests/readme_examples_test.ts");
  assert.ok(marker > 0, "docs/how_it_works.md no longer marks its merge example");
  const start = readme.indexOf("```js\n", marker) + "```js\n".length;
  const code = readme.slice(start, readme.indexOf("```", start));
  return new Function("SmartRedisStore", "client", `${code}\nreturn { merge, store };`)(
    SmartRedisStore,
    client,
  );
}

test("the README's Express app is examples/express-esm/app.js, verbatim", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const app = await Deno.readTextFile(new URL("../examples/express-esm/app.js", import.meta.url));
  const marker = readme.indexOf("examples/express-esm/app.js, verbatim");
  assert.ok(marker > 0, "the README no longer marks its Express app");
  const start = readme.indexOf("```js\n", marker) + "```js\n".length;
  assert.equal(readme.slice(start, readme.indexOf("```", start)), app);
});

const cases = {
  cart: [undefined, [], ["a"], ["a", "b"], ["b", "c"]],
  visits: [undefined, 0, 1, 5],
};

test("the docs' merge hook gives a value for every combination of base, ours and theirs", async () => {
  await using fx = await storeFixture();
  const { merge } = await readmeMergeExample(fx.client);
  for (const [field, values] of Object.entries(cases)) {
    for (const base of values) {
      for (const ours of values) {
        for (const theirs of values) {
          const merged = await merge(field, { base, ours, theirs });
          const label = `${field}: ${JSON.stringify({ base, ours, theirs })} → ${JSON.stringify(merged)}`;
          if (field === "visits" && ours !== undefined && theirs !== undefined) {
            assert.equal(merged, (theirs as number) + (ours as number) - ((base as number) ?? 0), label);
          }
          if (field === "cart" && merged !== undefined) {
            assert.ok(Array.isArray(merged) && merged.length > 0, label);
            for (const item of ours as string[] ?? []) {
              if (!(base as string[] ?? []).includes(item)) {
                assert.ok(merged.includes(item), `ours lost: ${label}`);
              }
            }
          }
        }
      }
    }
  }
  assert.equal(await merge("other", { base: 1, ours: 2, theirs: 3 }), 2);
});

test("the docs' merge hook: a checkout racing an added item keeps only the new item", async () => {
  await using fx = await storeFixture();
  const { store } = await readmeMergeExample(fx.client);
  await using app = await startApp(store, (app) => {
    app.get("/add/:item", async (req, res) => {
      const cart = (req.session.cart as string[] | undefined) ?? [];
      await delay(Number(req.query.delay ?? 0));
      req.session.cart = [...cart, req.params.item];
      res.send("added");
    });
    app.get("/checkout", async (req, res) => {
      await delay(Number(req.query.delay ?? 0));
      delete req.session.cart;
      res.send("paid");
    });
    app.get("/cart", (req, res) => res.send(JSON.stringify(req.session.cart ?? null)));
  });
  const browser = new Browser();
  await browser.get(`${app.url}/add/book`);
  const [paid, added] = await Promise.all([
    browser.get(`${app.url}/checkout?delay=100`),
    browser.get(`${app.url}/add/pen`),
  ]);
  assert.equal(paid.status, 200, paid.body);
  assert.equal(added.status, 200, added.body);
  assert.equal((await browser.get(`${app.url}/cart`)).body, '["pen"]');
});
