import assert from "node:assert/strict";
import { createClient } from "redis";
import { RedisUnavailableError, SessionDataError, SmartRedisStore } from "../mod.ts";
import { freePort } from "../scripts/redis_server.ts";
import { type Client, delay, storeFixture, test, withNodeProto } from "./_helpers.ts";

/** A session as the store sees it, for calls that take express-session's SessionData. */
type AnySession = Parameters<SmartRedisStore["set"]>[1];
/** Session data as plain properties. */
type Data = Record<string, unknown>;

const cookie = { originalMaxAge: null, expires: null, httpOnly: true, path: "/" };

function session(data: Data = {}): AnySession {
  return { cookie: { ...cookie }, ...data } as unknown as AnySession;
}

/** A hash for `key` that the store would read as a valid session, if it ever looked at it. */
async function writeDecoy(redis: Client, key: string): Promise<void> {
  await redis.hSet(key, { cookie: JSON.stringify(cookie), decoy: '"yes"' });
}

async function hash(redis: Client, key: string): Promise<Record<string, string>> {
  return { ...await redis.hGetAll(key) };
}

/** Collects unhandled rejections and uncaught errors while a test runs (and stops them killing the run). */
function watchForCrashes(): { problems: unknown[] } & Disposable {
  const problems: unknown[] = [];
  const onRejection = (event: PromiseRejectionEvent) => {
    problems.push(event.reason);
    event.preventDefault();
  };
  const onError = (event: ErrorEvent) => {
    problems.push(event.error);
    event.preventDefault();
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  globalThis.addEventListener("error", onError);
  return {
    problems,
    [Symbol.dispose]() {
      globalThis.removeEventListener("unhandledrejection", onRejection);
      globalThis.removeEventListener("error", onError);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// session ids

test("get() resolves null for a session id that is not a non-empty string", async () => {
  await using fx = await storeFixture();
  await fx.redis.hSet("session:", { cookie: JSON.stringify(cookie) });
  await fx.redis.hSet("session:1", { cookie: JSON.stringify(cookie) });
  for (const sid of ["", 1, null, undefined, {}, ["1"], true]) {
    assert.equal(await fx.store.get(sid as string), null, `sid ${String(sid)}`);
  }
});

test("set() rejects a session id that is not a non-empty string with a TypeError and writes nothing", async () => {
  await using fx = await storeFixture();
  for (const sid of ["", 1, null, undefined, {}]) {
    await assert.rejects(fx.store.set(sid as string, session({ n: 1 })), (error: Error) => {
      assert.ok(error instanceof TypeError, String(error));
      assert.match(error.message, /session id must be a non-empty string/);
      return true;
    });
  }
  assert.equal(await fx.redis.dbSize(), 0);
});

test("touch() rejects and destroy() ignores a session id that is not a non-empty string", async () => {
  await using fx = await storeFixture();
  for (const sid of ["", 1, null, undefined]) {
    await assert.rejects(fx.store.touch(sid as string, session()), TypeError);
    assert.equal(await fx.store.destroy(sid as string), undefined);
  }
  assert.equal(await fx.redis.dbSize(), 0);
});

test("set() rejects a session that is not an object with a TypeError", async () => {
  await using fx = await storeFixture();
  for (const data of [null, undefined, "s", 5, [1]]) {
    await assert.rejects(fx.store.set("sid", data as unknown as AnySession), TypeError);
  }
  assert.equal(await fx.redis.exists("session:sid"), 0);
});

// ---------------------------------------------------------------------------------------------------------
// stored data the store cannot read

test("get() rejects a stored field that does not parse, naming session and field, and deletes nothing", async () => {
  await using fx = await storeFixture();
  const stored = { cookie: JSON.stringify(cookie), good: "1", broken: "{not json", "\0ttl": "60000" };
  await fx.redis.hSet("session:corrupt", stored);
  await assert.rejects(fx.store.get("corrupt"), (error: Error) => {
    assert.ok(error instanceof SessionDataError, String(error));
    assert.match(error.message, /Session "corrupt"/);
    assert.match(error.message, /field "broken"/);
    assert.ok(error.cause instanceof SyntaxError);
    return true;
  });
  assert.deepEqual(await hash(fx.redis, "session:corrupt"), stored);
});

test("get() rejects a stored string that does not parse, leaving it in Redis", async () => {
  await using fx = await storeFixture();
  await fx.redis.set("session:legacy", "{oops");
  await assert.rejects(fx.store.get("legacy"), (error: Error) => {
    assert.ok(error instanceof SessionDataError);
    assert.match(error.message, /Session "legacy"/);
    return true;
  });
  assert.equal(await fx.redis.get("session:legacy"), "{oops");
});

test("a key of the wrong Redis type under the prefix is reported, named and left alone", async (t) => {
  await using fx = await storeFixture();
  await fx.redis.lPush("session:listy", ["a", "b"]);
  const namesTheKey = (error: Error) => {
    assert.ok(error instanceof SessionDataError, String(error));
    assert.ok(error.message.includes('"session:listy"'), error.message);
    assert.match(error.message, /list/);
    return true;
  };
  await t.step("get() rejects", async () => {
    await assert.rejects(fx.store.get("listy"), namesTheKey);
  });
  await t.step("set() rejects", async () => {
    await assert.rejects(fx.store.set("listy", session({ n: 1 })), namesTheKey);
  });
  await t.step("destroy() rejects", async () => {
    await assert.rejects(fx.store.destroy("listy"), namesTheKey);
  });
  await t.step("the list is still there, unchanged", async () => {
    assert.equal(await fx.redis.type("session:listy"), "list");
    assert.deepEqual(await fx.redis.lRange("session:listy", 0, -1), ["b", "a"]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// data the store cannot write

test("set() rejects unserializable data with a clear error and leaves the stored session unchanged", async (t) => {
  await using fx = await storeFixture();
  await fx.store.set("u", session({ n: 1 }));
  const before = await hash(fx.redis, "session:u");

  await t.step("a circular property in a plain object", async () => {
    const loop: Data = {};
    loop.self = loop;
    await assert.rejects(fx.store.set("u", session({ n: 2, loop })), (error: Error) => {
      assert.ok(error instanceof TypeError, String(error));
      assert.match(error.message, /Session "u" property "loop" cannot be serialized/);
      assert.ok(error.cause instanceof Error);
      return true;
    });
    assert.deepEqual(await hash(fx.redis, "session:u"), before);
  });

  let loaded: Data = {};
  await t.step("a BigInt in a loaded session", async () => {
    loaded = await fx.store.get("u") as unknown as Data;
    loaded.n = 3;
    loaded.big = { count: 10n };
    await assert.rejects(fx.store.set("u", loaded as unknown as AnySession), (error: Error) => {
      assert.ok(error instanceof TypeError, String(error));
      assert.match(error.message, /Session "u" property "big" cannot be serialized/);
      assert.match(error.message, /BigInt/);
      return true;
    });
    assert.deepEqual(await hash(fx.redis, "session:u"), before);
  });

  await t.step("the same session saves once the bad property is gone", async () => {
    delete loaded.big;
    await fx.store.set("u", loaded as unknown as AnySession);
    assert.equal(await fx.redis.hGet("session:u", "n"), "3");
    assert.equal(await fx.redis.hGet("session:u", "big"), null);
  });
});

test("set() rejects property names reserved for metadata and writes nothing", async () => {
  await using fx = await storeFixture();
  await assert.rejects(fx.store.set("r", session({ "\0dead": "1" })), (error: Error) => {
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /Session "r"/);
    assert.match(error.message, /reserved/);
    return true;
  });
  assert.equal(await fx.redis.exists("session:r"), 0);
  await fx.store.set("r", session({ n: 1 }));
  assert.deepEqual(await fx.store.get("r"), { cookie, n: 1 });
});

// ---------------------------------------------------------------------------------------------------------
// property names

test("__proto__ and constructor properties round-trip as own properties without pollution", async (t) => {
  // Under Node, `session["__proto__"] = value` would re-prototype the session: test with its accessor.
  await withNodeProto(async () => {
    await using fx = await storeFixture();
    const data = JSON.parse(
      `{"cookie":${
        JSON.stringify(cookie)
      },"__proto__":{"polluted":true},"constructor":{"prototype":{"bad":1}}}`,
    );
    try {
      await t.step("set() stores them as fields", async () => {
        await fx.store.set("p", data);
        assert.equal(await fx.redis.hGet("session:p", "__proto__"), '{"polluted":true}');
        assert.equal(await fx.redis.hGet("session:p", "constructor"), '{"prototype":{"bad":1}}');
      });

      let loaded: Data = {};
      await t.step("get() returns them as own data properties of an ordinary object", async () => {
        loaded = await fx.store.get("p") as unknown as Data;
        assert.equal(Object.getPrototypeOf(loaded), Object.prototype);
        assert.ok(Object.hasOwn(loaded, "__proto__"));
        assert.ok(Object.hasOwn(loaded, "constructor"));
        assert.deepEqual({ ...Object.getOwnPropertyDescriptor(loaded, "__proto__")!.value }, {
          polluted: true,
        });
        assert.deepEqual(loaded.constructor, { prototype: { bad: 1 } });
        assert.equal(loaded.polluted, undefined);
        assert.equal(({} as Data).polluted, undefined);
        assert.equal(({} as Data).bad, undefined);
      });

      await t.step("a change to them is committed and read back", async () => {
        loaded["__proto__"] = { polluted: "again" };
        (loaded as { constructor: unknown }).constructor = "plain";
        await fx.store.set("p", loaded as unknown as AnySession);
        assert.equal(await fx.redis.hGet("session:p", "__proto__"), '{"polluted":"again"}');
        const again = await fx.store.get("p") as unknown as Data;
        assert.equal(Object.getPrototypeOf(again), Object.prototype);
        assert.equal(again.constructor, "plain");
        assert.deepEqual({ ...Object.getOwnPropertyDescriptor(again, "__proto__")!.value }, {
          polluted: "again",
        });
        assert.equal(({} as Data).polluted, undefined);
      });

      await t.step("all() lists it without pollution", async () => {
        const [only] = await fx.store.all() as unknown as Data[];
        assert.equal(only.id, "p");
        assert.equal(Object.getPrototypeOf(only), Object.prototype);
        assert.equal(({} as Data).polluted, undefined);
      });
    } finally {
      delete (Object.prototype as Data).polluted;
      delete (Object.prototype as Data).bad;
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// prefixes with glob characters

test("bulk operations with a glob-like prefix never see or touch other keys", async (t) => {
  const prefix = "s*ss[1]?:";
  await using fx = await storeFixture({ prefix, scanCount: 1 });
  const decoys = [
    "sXssX1X:foo",
    "sXss1X:foo",
    "s*ss1?:foo",
    "s*ss[1]?foo",
    "sss1?:x",
    "other:1",
    "session:a",
  ];
  for (const key of decoys) await writeDecoy(fx.redis, key);
  await fx.store.set("a", session({ n: 1 }));
  await fx.store.set("b", session({ n: 2 }));

  await t.step("all() lists only the store's sessions", async () => {
    const all = await fx.store.all() as unknown as Data[];
    assert.deepEqual(all.map((s) => [s.id, s.n]).sort(), [["a", 1], ["b", 2]]);
  });
  await t.step("ids() lists only the store's session ids", async () => {
    assert.deepEqual((await fx.store.ids()).sort(), ["a", "b"]);
  });
  await t.step("length() counts only the store's sessions", async () => {
    assert.equal(await fx.store.length(), 2);
  });
  await t.step("clear() destroys the store's sessions and nothing else", async () => {
    await fx.store.clear();
    assert.equal(await fx.store.get("a"), null);
    assert.equal(await fx.store.get("b"), null);
    assert.equal(await fx.store.length(), 0);
    for (const key of decoys) {
      assert.deepEqual(await hash(fx.redis, key), { cookie: JSON.stringify(cookie), decoy: '"yes"' }, key);
      assert.equal(await fx.redis.pTTL(key), -1, key);
    }
  });
});

test("bulk operations with a backslash in the prefix match only that prefix", async () => {
  const prefix = "back\\slash:";
  await using fx = await storeFixture({ prefix });
  await writeDecoy(fx.redis, "backslash:1");
  await writeDecoy(fx.redis, "back\\\\slash:2");
  await fx.store.set("mine", session());
  assert.deepEqual(await fx.store.ids(), ["mine"]);
  await fx.store.clear();
  assert.equal(await fx.redis.exists(["backslash:1", "back\\\\slash:2"]), 2);
  assert.deepEqual(await hash(fx.redis, "backslash:1"), { cookie: JSON.stringify(cookie), decoy: '"yes"' });
});

// ---------------------------------------------------------------------------------------------------------
// an unreachable Redis

test("an unreachable Redis makes get() reject quickly with a clear error, without crashing", async (t) => {
  using watch = watchForCrashes();
  const port = freePort();
  // Not connected and with no error listener: the store connects it and listens.
  const client = createClient({ url: `redis://127.0.0.1:${port}` });
  try {
    const store = new SmartRedisStore({ client });

    await t.step("the first get() rejects in well under 5 s, naming the address", async () => {
      const started = performance.now();
      const error = await store.get("sid").then(() => undefined, (error) => error as Error);
      const elapsed = performance.now() - started;
      assert.ok(error instanceof RedisUnavailableError, `got ${error}`);
      assert.match(error.message, /unreachable/);
      assert.ok(error.message.includes(`127.0.0.1:${port}`), error.message);
      assert.ok(elapsed < 1000, `took ${elapsed} ms`);
    });

    await t.step("later calls fail at once while Redis stays away", async () => {
      const started = performance.now();
      await assert.rejects(store.set("sid", session({ n: 1 })), RedisUnavailableError);
      await assert.rejects(store.length(), RedisUnavailableError);
      assert.ok(performance.now() - started < 1000, `took ${performance.now() - started} ms`);
    });

    await t.step("a callback gets the error and the Promise resolves", async () => {
      const calls: unknown[][] = [];
      await store.get("sid", (...args) => calls.push(args));
      assert.equal(calls.length, 1);
      assert.ok(calls[0][0] instanceof RedisUnavailableError);
    });

    await t.step("nothing went unhandled", async () => {
      await delay(200);
      assert.deepEqual(watch.problems, []);
    });
  } finally {
    if (client.isOpen) client.destroy();
  }
});

// ---------------------------------------------------------------------------------------------------------
// callbacks

type Outcome = { calls: unknown[][]; returned: unknown };

/** Calls `method` with a recording callback; resolves once the returned Promise settles and a moment passes. */
async function withCallback(
  call: (callback: (...args: unknown[]) => void) => Promise<unknown>,
): Promise<Outcome> {
  const calls: unknown[][] = [];
  const returned = await call((...args) => calls.push(args)); // rejects the test if the Promise rejects
  await delay(20);
  return { calls, returned };
}

function assertCalledOnceWith(outcome: Outcome, value: unknown): void {
  assert.equal(outcome.calls.length, 1, `called ${outcome.calls.length} times`);
  assert.equal(outcome.calls[0][0], null);
  assert.deepEqual(outcome.calls[0][1], value);
}

function assertCalledOnceWithError(outcome: Outcome, type: new (...args: never[]) => Error): void {
  assert.equal(outcome.calls.length, 1, `called ${outcome.calls.length} times`);
  assert.ok(outcome.calls[0][0] instanceof type, `got ${outcome.calls[0][0]}`);
}

test("every method calls its callback exactly once on success", async (t) => {
  await using fx = await storeFixture();
  const { store } = fx;
  await t.step("set()", async () => {
    assertCalledOnceWith(await withCallback((cb) => store.set("c", session({ n: 1 }), cb)), undefined);
  });
  await t.step("get()", async () => {
    assertCalledOnceWith(await withCallback((cb) => store.get("c", cb)), { cookie, n: 1 });
  });
  await t.step("get() of a missing session", async () => {
    assertCalledOnceWith(await withCallback((cb) => store.get("missing", cb)), null);
  });
  await t.step("get() of a bad session id", async () => {
    assertCalledOnceWith(await withCallback((cb) => store.get("", cb)), null);
  });
  await t.step("touch()", async () => {
    assertCalledOnceWith(await withCallback((cb) => store.touch("c", session({ n: 1 }), cb)), undefined);
  });
  await t.step("all()", async () => {
    assertCalledOnceWith(await withCallback((cb) => store.all(cb)), [{ cookie, n: 1, id: "c" }]);
  });
  await t.step("ids()", async () => {
    assertCalledOnceWith(await withCallback((cb) => store.ids(cb)), ["c"]);
  });
  await t.step("length()", async () => {
    assertCalledOnceWith(await withCallback((cb) => store.length(cb)), 1);
  });
  await t.step("destroy()", async () => {
    assertCalledOnceWith(await withCallback((cb) => store.destroy("c", cb)), undefined);
  });
  await t.step("clear()", async () => {
    await store.set("d", session());
    assertCalledOnceWith(await withCallback((cb) => store.clear(cb)), undefined);
    assert.equal(await store.length(), 0);
  });
});

test("every method calls its callback exactly once on error, and its Promise does not reject", async (t) => {
  await using fx = await storeFixture();
  const { store, redis } = fx;
  await redis.hSet("session:corrupt", { cookie: JSON.stringify(cookie), broken: "{" });

  await t.step("get() of an unreadable session", async () => {
    assertCalledOnceWithError(await withCallback((cb) => store.get("corrupt", cb)), SessionDataError);
  });
  await t.step("set() with a bad session id", async () => {
    assertCalledOnceWithError(await withCallback((cb) => store.set("", session(), cb)), TypeError);
  });
  await t.step("set() of unserializable data", async () => {
    assertCalledOnceWithError(await withCallback((cb) => store.set("x", session({ n: 1n }), cb)), TypeError);
  });
  await t.step("touch() with a bad session id", async () => {
    assertCalledOnceWithError(await withCallback((cb) => store.touch(0 as never, session(), cb)), TypeError);
  });
  await t.step("all() with an unreadable session among them", async () => {
    assertCalledOnceWithError(await withCallback((cb) => store.all(cb)), SessionDataError);
  });
  await t.step("ids() and length() still count an unreadable session", async () => {
    assert.deepEqual(await store.ids(), ["corrupt"]);
    assert.equal(await store.length(), 1);
  });

  await redis.del("session:corrupt");
  await redis.lPush("session:listy", "x");
  await t.step("ids() meeting a key that is not a session", async () => {
    assertCalledOnceWithError(await withCallback((cb) => store.ids(cb)), SessionDataError);
  });
  await t.step("length() meeting a key that is not a session", async () => {
    assertCalledOnceWithError(await withCallback((cb) => store.length(cb)), SessionDataError);
  });
  await t.step("destroy() of a key that is not a session", async () => {
    assertCalledOnceWithError(await withCallback((cb) => store.destroy("listy", cb)), SessionDataError);
  });
  await t.step("clear() meeting a key that is not a session", async () => {
    assertCalledOnceWithError(await withCallback((cb) => store.clear(cb)), SessionDataError);
  });
});

test("a callback that throws is not called a second time", async () => {
  await using fx = await storeFixture();
  let calls = 0;
  const returned = fx.store.get("missing", () => {
    calls++;
    throw new Error("thrown by the callback");
  });
  // Where the callback's own error surfaces is not this test's concern; that it is not fed back is.
  await returned.catch(() => {});
  await delay(20);
  assert.equal(calls, 1);
});
