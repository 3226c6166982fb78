/**
 * The shared cookie writer (Hono; Fastify writes the peer's format of its own):
 * Max-Age as given, never rounded down.
 */

import assert from "node:assert/strict";
import { serializeCookie } from "../src/faces/web/cookies.ts";

Deno.test("serializeCookie() writes a whole number of seconds as given", () => {
  assert.match(serializeCookie("sid", "v", { maxAge: 60_000 }, false), /; Max-Age=60;/);
});

Deno.test("serializeCookie() rounds a part of a second up: the cookie never ends before its session", () => {
  assert.match(serializeCookie("sid", "v", { maxAge: 1_500 }, false), /; Max-Age=2;/);
  assert.match(serializeCookie("sid", "v", { maxAge: 400 }, false), /; Max-Age=1;/);
});

Deno.test("serializeCookie() removes the cookie with maxAge 0", () => {
  assert.match(serializeCookie("sid", "", { maxAge: 0 }, false), /; Max-Age=0;/);
});
