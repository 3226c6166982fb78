import assert from "node:assert/strict";
import { cookieExpiry, expiryOf, type ExpiryPolicy } from "../src/engine/expiry.ts";
import { resolveOptions } from "../src/options/options.ts";
import type { SessionRecord, SmartRedisStoreOptions } from "../src/options/store_options.ts";

type Options = Omit<SmartRedisStoreOptions, "client">;

/** Asserts that resolving `options` throws `type` with a message naming `option` in quotes. */
function assertRejects(options: unknown, type: typeof TypeError | typeof RangeError, option: string): void {
  assert.throws(
    () => resolveOptions(options as Options),
    (error: unknown) => {
      assert.equal((error as Error).constructor, type, `${JSON.stringify(option)}: ${error}`);
      assert.ok((error as Error).message.includes(`"${option}"`), (error as Error).message);
      return true;
    },
  );
}

Deno.test("resolveOptions() fills in the documented defaults", () => {
  assert.deepEqual(resolveOptions({}), {
    ttl: 86400,
    prefix: "session:",
    deleteExpiry: 5000,
    lockExpiry: 5000,
    retryTime: 100,
    serializer: JSON,
    disableTouch: false,
    disableTTL: false,
    renewAfter: 0.01,
    scanCount: 100,
    commandTimeout: 2000,
    conflictRetries: 100,
    merge: undefined,
    lock: undefined,
    user: undefined,
    maxSessionsPerUser: undefined,
    localCache: undefined,
    on: {},
    metrics: true,
    tracing: false,
    encrypt: undefined,
  });
});

Deno.test("resolveOptions() keeps the values given and ignores client and undefined ones", () => {
  const ttl = (session: SessionRecord) => (session.long ? 100 : 10);
  const serializer = { stringify: (v: unknown) => String(v), parse: (t: string) => t };
  const merge = () => undefined;
  const user = (session: SessionRecord) => session.userId;
  const on = { merged: () => {} };
  const meterProvider = {
    getMeter: () => ({ createCounter: () => ({ add() {} }), createHistogram: () => ({ record() {} }) }),
  };
  const tracerProvider = {
    getTracer: () => ({ startActiveSpan: <T>(...args: unknown[]) => (args.at(-1) as () => T)() }),
  };
  const resolved = resolveOptions({
    client: {},
    ttl,
    prefix: "",
    deleteExpiry: 0,
    lockExpiry: 1,
    retryTime: 2.5,
    serializer,
    disableTouch: true,
    disableTTL: true,
    renewAfter: 0,
    scanCount: 1,
    commandTimeout: 10,
    conflictRetries: 0,
    merge,
    lock: { timeout: 50, onTimeout: "readonly" },
    user,
    maxSessionsPerUser: 2,
    localCache: { maxBytes: 4096 },
    on,
    metrics: { meterProvider },
    tracing: { tracerProvider },
    encrypt: { keys: [{ id: "k", secret: "0123456789abcdef0123456789abcdef" }], write: false },
    prefixUnused: undefined,
  } as Options);
  assert.deepEqual(resolved, {
    ttl,
    prefix: "",
    deleteExpiry: 0,
    lockExpiry: 1,
    retryTime: 2.5,
    serializer,
    disableTouch: true,
    disableTTL: true,
    renewAfter: 0,
    scanCount: 1,
    commandTimeout: 10,
    conflictRetries: 0,
    merge,
    lock: { timeout: 50, onTimeout: "readonly" },
    user,
    maxSessionsPerUser: 2,
    localCache: { maxBytes: 4096, maxEntries: 100_000, maxAgeMs: 10_000 },
    on,
    metrics: { meterProvider },
    tracing: { tracerProvider },
    encrypt: {
      kind: "keys",
      keys: [{ id: "k", secret: "0123456789abcdef0123456789abcdef" }],
      write: false,
      plain: "read",
      remember: 4_000_000,
    },
  });
  assert.equal(resolveOptions({ ttl: undefined }).ttl, 86400);
});

Deno.test("resolveOptions() rejects options that are not an object", () => {
  for (const options of [null, undefined, "ttl", 5]) {
    assert.throws(() => resolveOptions(options as unknown as Options), TypeError);
  }
});

Deno.test("resolveOptions() rejects an unknown option, naming it", () => {
  assertRejects({ tll: 10 }, TypeError, "tll");
  assertRejects({ lockexpiry: 10 }, TypeError, "lockexpiry");
});

Deno.test("resolveOptions() rejects unknown options named like Object.prototype members", () => {
  assertRejects({ toString: 1 }, TypeError, "toString");
  assertRejects({ constructor: 1 }, TypeError, "constructor");
  assertRejects({ hasOwnProperty: 1 }, TypeError, "hasOwnProperty");
  assertRejects(JSON.parse('{"__proto__": {"ttl": -1}}'), TypeError, "__proto__");
});

Deno.test("resolveOptions() rejects a bad ttl", () => {
  assertRejects({ ttl: "60" }, TypeError, "ttl");
  assertRejects({ ttl: null }, TypeError, "ttl");
  assertRejects({ ttl: Number.NaN }, TypeError, "ttl");
  assertRejects({ ttl: 0 }, RangeError, "ttl");
  assertRejects({ ttl: -1 }, RangeError, "ttl");
  assertRejects({ ttl: Infinity }, RangeError, "ttl");
});

Deno.test("resolveOptions() rejects a prefix that is not a string", () => {
  assertRejects({ prefix: 5 }, TypeError, "prefix");
  assertRejects({ prefix: null }, TypeError, "prefix");
  assertRejects({ prefix: ["a"] }, TypeError, "prefix");
});

Deno.test("resolveOptions() rejects a bad deleteExpiry but accepts 0", () => {
  assertRejects({ deleteExpiry: "5000" }, TypeError, "deleteExpiry");
  assertRejects({ deleteExpiry: -1 }, RangeError, "deleteExpiry");
  assertRejects({ deleteExpiry: Infinity }, RangeError, "deleteExpiry");
  assert.equal(resolveOptions({ deleteExpiry: 0 }).deleteExpiry, 0);
});

Deno.test("resolveOptions() rejects a bad lockExpiry, retryTime or commandTimeout", () => {
  for (const name of ["lockExpiry", "retryTime", "commandTimeout"]) {
    assertRejects({ [name]: "1" }, TypeError, name);
    assertRejects({ [name]: Number.NaN }, TypeError, name);
    assertRejects({ [name]: 0 }, RangeError, name);
    assertRejects({ [name]: -5 }, RangeError, name);
    assertRejects({ [name]: Infinity }, RangeError, name);
  }
});

Deno.test("resolveOptions() rejects a scanCount that is not a whole number ≥ 1", () => {
  assertRejects({ scanCount: "100" }, TypeError, "scanCount");
  assertRejects({ scanCount: 0 }, RangeError, "scanCount");
  assertRejects({ scanCount: 1.5 }, RangeError, "scanCount");
  assertRejects({ scanCount: Number.NaN }, RangeError, "scanCount");
});

Deno.test("resolveOptions() rejects a conflictRetries that is not a whole number ≥ 0", () => {
  assertRejects({ conflictRetries: true }, TypeError, "conflictRetries");
  assertRejects({ conflictRetries: -1 }, RangeError, "conflictRetries");
  assertRejects({ conflictRetries: 2.5 }, RangeError, "conflictRetries");
  assert.equal(resolveOptions({ conflictRetries: 0 }).conflictRetries, 0);
});

Deno.test("resolveOptions() rejects a serializer without stringify() and parse()", () => {
  assertRejects({ serializer: null }, TypeError, "serializer");
  assertRejects({ serializer: "JSON" }, TypeError, "serializer");
  assertRejects({ serializer: { stringify: JSON.stringify } }, TypeError, "serializer");
  assertRejects({ serializer: { parse: JSON.parse } }, TypeError, "serializer");
  assertRejects({ serializer: { stringify: 1, parse: JSON.parse } }, TypeError, "serializer");
});

Deno.test("resolveOptions() rejects disableTouch and disableTTL that are not booleans", () => {
  assertRejects({ disableTouch: "yes" }, TypeError, "disableTouch");
  assertRejects({ disableTouch: 1 }, TypeError, "disableTouch");
  assertRejects({ disableTTL: null }, TypeError, "disableTTL");
  assertRejects({ disableTTL: "false" }, TypeError, "disableTTL");
});

Deno.test("resolveOptions() rejects a merge hook that is not a function", () => {
  assertRejects({ merge: "ours" }, TypeError, "merge");
  assertRejects({ merge: null }, TypeError, "merge");
  assertRejects({ merge: { merge() {} } }, TypeError, "merge");
});

Deno.test("resolveOptions() turns lock: true / false / {} into lock settings", () => {
  assert.equal(resolveOptions({ lock: false }).lock, undefined);
  assert.deepEqual(resolveOptions({ lock: true }).lock, { timeout: 10000, onTimeout: "error" });
  assert.deepEqual(resolveOptions({ lock: {} }).lock, { timeout: 10000, onTimeout: "error" });
  assert.deepEqual(resolveOptions({ lock: { timeout: 0 } }).lock, { timeout: 0, onTimeout: "error" });
  assert.deepEqual(resolveOptions({ lock: { onTimeout: "readonly" } }).lock, {
    timeout: 10000,
    onTimeout: "readonly",
  });
});

Deno.test("resolveOptions() rejects bad lock settings, naming them", () => {
  assertRejects({ lock: "yes" }, TypeError, "lock");
  assertRejects({ lock: 1 }, TypeError, "lock");
  assertRejects({ lock: null }, TypeError, "lock");
  assertRejects({ lock: { timeout: "1s" } }, TypeError, "lock.timeout");
  assertRejects({ lock: { timeout: -1 } }, RangeError, "lock.timeout");
  assertRejects({ lock: { timeout: Infinity } }, RangeError, "lock.timeout");
  assertRejects({ lock: { onTimeout: "wait" } }, TypeError, "lock.onTimeout");
  assertRejects({ lock: { timout: 5 } }, TypeError, "timout");
});

Deno.test("resolveOptions() quotes a bad string value in its message", () => {
  assert.throws(() => resolveOptions({ retryTime: "soon" } as unknown as Options), /"soon"/);
});

// ---------------------------------------------------------------------------------------------------------
// expiryOf()

const NOW = Date.UTC(2030, 0, 1);
const policy: ExpiryPolicy = { ttl: 86400, disableTTL: false, disableTouch: false };

Deno.test("expiryOf() follows the cookie's expires and slides by its originalMaxAge", () => {
  const session = { cookie: { originalMaxAge: 60000, expires: new Date(NOW + 45000) } };
  assert.deepEqual(timing(expiryOf(session, policy, NOW)), { pttl: 45000, sliding: 60000 });
});

Deno.test("expiryOf() reads a cookie whose expires is an ISO string (a loaded cookie)", () => {
  const session = { cookie: { originalMaxAge: 60000, expires: new Date(NOW + 30000).toISOString() } };
  assert.deepEqual(timing(expiryOf(session, policy, NOW)), { pttl: 30000, sliding: 60000 });
});

Deno.test("expiryOf() keeps milliseconds, never rounding to seconds", () => {
  const session = { cookie: { originalMaxAge: 5, expires: new Date(NOW + 5) } };
  assert.deepEqual(timing(expiryOf(session, policy, NOW)), { pttl: 5, sliding: 5 });
});

Deno.test("expiryOf() does not slide a cookie with an expires but no originalMaxAge", () => {
  for (const originalMaxAge of [null, undefined, 0, -1, Infinity, "60000"]) {
    const session = { cookie: { originalMaxAge, expires: new Date(NOW + 1000) } };
    assert.deepEqual(
      timing(expiryOf(session, policy, NOW)),
      { pttl: 1000, sliding: undefined },
      String(originalMaxAge),
    );
  }
});

Deno.test("expiryOf() falls back to ttl for an Invalid Date expires", () => {
  for (const expires of [new Date(Number.NaN), "not a date"]) {
    const session = { cookie: { originalMaxAge: 60000, expires } };
    assert.deepEqual(timing(expiryOf(session, { ...policy, ttl: 10 }, NOW)), { pttl: 10000, sliding: 10000 });
  }
});

Deno.test("expiryOf() falls back to ttl for a browser-session cookie or no cookie", () => {
  assert.deepEqual(timing(expiryOf({ cookie: { originalMaxAge: null, expires: null } }, policy, NOW)), {
    pttl: 86400000,
    sliding: 86400000,
  });
  assert.deepEqual(timing(expiryOf({}, policy, NOW)), { pttl: 86400000, sliding: 86400000 });
  assert.deepEqual(timing(expiryOf({ cookie: { expires: false } }, { ...policy, ttl: 1.5 }, NOW)), {
    pttl: 1500,
    sliding: 1500,
  });
});

Deno.test("expiryOf() calls a ttl function with the session", () => {
  const seen: SessionRecord[] = [];
  const ttl = (session: SessionRecord) => {
    seen.push(session);
    return session.admin ? 60 : 3600;
  };
  const admin = { admin: true, cookie: { expires: null } };
  assert.deepEqual(timing(expiryOf(admin, { ...policy, ttl }, NOW)), { pttl: 60000, sliding: 60000 });
  assert.equal(seen[0], admin);
  assert.deepEqual(timing(expiryOf({ cookie: { expires: null } }, { ...policy, ttl }, NOW)), {
    pttl: 3600000,
    sliding: 3600000,
  });
});

Deno.test("expiryOf() rejects a ttl function that does not return a number", () => {
  assert.throws(
    () => expiryOf({}, { ...policy, ttl: () => "60" as unknown as number }, NOW),
    (error: unknown) => error instanceof TypeError && /"ttl"/.test(error.message),
  );
  assert.throws(() => expiryOf({}, { ...policy, ttl: () => Number.NaN }, NOW), TypeError);
});

Deno.test("expiryOf() maps an infinite ttl to no expiry and a negative one to 0", () => {
  assert.equal(expiryOf({}, { ...policy, ttl: () => Infinity }, NOW).pttl, -1);
  assert.equal(expiryOf({}, { ...policy, ttl: () => -5 }, NOW).pttl, 0);
});

/** The parts of an expiry the tests below compare (`at` is tested on its own). */
function timing({ pttl, sliding }: { pttl: number; sliding: number | undefined }) {
  return { pttl, sliding };
}

Deno.test("expiryOf() gives when the session ends: now + pttl, or undefined for never", () => {
  assert.equal(expiryOf({}, policy, NOW).at, NOW + 86400000);
  assert.equal(expiryOf({}, { ...policy, ttl: () => Infinity }, NOW).at, undefined);
  const cookie = { originalMaxAge: 60000, expires: new Date(NOW + 45000) };
  assert.equal(expiryOf({ cookie }, { ...policy, disableTTL: true }, NOW).at, NOW + 45000);
  assert.equal(expiryOf({}, { ...policy, disableTTL: true }, NOW).at, undefined);
});

Deno.test("expiryOf() gives -1 under disableTTL, sliding by the cookie's maxAge (kept in \\0exp)", () => {
  const session = { cookie: { originalMaxAge: 60000, expires: new Date(NOW + 60000) } };
  assert.deepEqual(timing(expiryOf(session, { ...policy, disableTTL: true }, NOW)), {
    pttl: -1,
    sliding: 60000,
  });
  assert.deepEqual(timing(expiryOf({}, { ...policy, disableTTL: true }, NOW)), {
    pttl: -1,
    sliding: undefined,
  });
});

Deno.test("expiryOf() gives 0 for a cookie that already expired", () => {
  const past = { cookie: { originalMaxAge: 60000, expires: new Date(NOW - 1) } };
  assert.equal(expiryOf(past, policy, NOW).pttl, 0);
  const now = { cookie: { originalMaxAge: 60000, expires: new Date(NOW) } };
  assert.equal(expiryOf(now, policy, NOW).pttl, 0);
});

Deno.test("expiryOf() records the span under disableTouch too (only writes renew it there)", () => {
  const session = { cookie: { originalMaxAge: 60000, expires: new Date(NOW + 60000) } };
  assert.deepEqual(timing(expiryOf(session, { ...policy, disableTouch: true }, NOW)), {
    pttl: 60000,
    sliding: 60000,
  });
  assert.deepEqual(timing(expiryOf({}, { ...policy, ttl: 20, disableTouch: true }, NOW)), {
    pttl: 20000,
    sliding: 20000,
  });
});

Deno.test("cookieExpiry() reads Date and string expires and ignores invalid ones", () => {
  assert.equal(cookieExpiry({ expires: new Date(NOW) }), NOW);
  assert.equal(cookieExpiry({ expires: new Date(NOW).toISOString() }), NOW);
  assert.equal(cookieExpiry({ expires: new Date(Number.NaN) }), undefined);
  assert.equal(cookieExpiry({ expires: "soon" }), undefined);
  assert.equal(cookieExpiry({ expires: null }), undefined);
  assert.equal(cookieExpiry({}), undefined);
  assert.equal(cookieExpiry(undefined), undefined);
  assert.equal(cookieExpiry(null), undefined);
});
