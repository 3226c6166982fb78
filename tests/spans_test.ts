/**
 * OpenTelemetry spans (option `tracing`): the SDK's in-memory exporter sees one
 * CLIENT span per store operation with the database semantic conventions'
 * attributes, an error status on a failed operation, none with the option off,
 * and the store works unchanged without `@opentelemetry/api`. Against a real redis-server.
 */

import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { type Context, context, type ContextManager, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import type { SessionData } from "express-session";
import { SmartRedisStore } from "../mod.ts";
import { traceOperations } from "../src/observe/spans.ts";
import { connectClient, startRedisServer, test } from "./_helpers.ts";

/** A tracer provider whose finished spans a test reads. */
function tracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  return { exporter, provider };
}

const session = (data: Record<string, unknown> = {}) =>
  ({ cookie: { originalMaxAge: 86_400_000 }, ...data }) as unknown as SessionData;

test("a span per operation, with the database conventions' attributes", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const { exporter, provider } = tracing();
  const store = new SmartRedisStore({ client, tracing: { tracerProvider: provider } });
  await store.set("s1", session({ a: 1 }));
  const loaded = (await store.get("s1"))!;
  await store.touch("s1", loaded);
  await store.ids();
  await store.all();
  await store.clear();
  await store.destroy("s1");
  const spans = exporter.getFinishedSpans();
  assert.deepEqual(
    spans.map((span) => span.name),
    // clear() destroys each session: its destroy span ends before its own.
    ["commit", "load", "touch", "ids", "all", "destroy", "clear", "destroy"],
  );
  for (const span of spans) {
    assert.equal(span.kind, 2, "SpanKind.CLIENT");
    assert.equal(span.instrumentationScope.name, "connect-smart-redis");
    assert.deepEqual(span.attributes, {
      "db.system.name": "redis",
      "db.operation.name": span.name,
      "server.address": "127.0.0.1",
      "server.port": server.port,
    });
    assert.equal(span.status.code, 0, "unset: no error");
    assert.ok(span.ended);
  }
  assert.ok(!JSON.stringify(spans.map((span) => span.attributes)).includes("s1"), "no session id recorded");
});

test("a failed operation's span has the error status and error.type", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const { exporter, provider } = tracing();
  const store = new SmartRedisStore({ client, tracing: { tracerProvider: provider } });
  await client.rPush("session:not-a-hash", "x");
  await assert.rejects(store.get("not-a-hash"), { name: "SessionDataError" });
  const [span] = exporter.getFinishedSpans();
  assert.equal(span.name, "load");
  assert.equal(span.status.code, 2, "SpanStatusCode.ERROR");
  assert.match(span.status.message ?? "", /is not a session/);
  assert.equal(span.attributes["error.type"], "SessionDataError");
  assert.equal(span.events[0]?.name, "exception");
});

test("tracing is off by default; tracing: true reports to the global tracer provider", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const { exporter, provider } = tracing();
  assert.ok(trace.setGlobalTracerProvider(provider));
  try {
    const quiet = new SmartRedisStore({ client });
    await quiet.set("s1", session());
    await quiet.get("s1");
    assert.equal(exporter.getFinishedSpans().length, 0);
    const traced = new SmartRedisStore({ client, tracing: true });
    await new Promise((resolve) => setTimeout(resolve, 0)); // the API is imported asynchronously
    await traced.get("s1");
    assert.deepEqual(exporter.getFinishedSpans().map((span) => span.name), ["load"]);
  } finally {
    trace.disable();
  }
});

test("without @opentelemetry/api the traced operations run unchanged and record nothing", async () => {
  const calls: string[] = [];
  const operation = (name: string) => (...args: unknown[]) => {
    calls.push(`${name}(${args.join(",")})`);
    return Promise.resolve(name);
  };
  const engine = {
    load: operation("load"),
    commit: operation("commit"),
    touch: operation("touch"),
    destroy: operation("destroy"),
    release: operation("release"),
    sessions: operation("sessions"),
    ids: operation("ids"),
    clear: operation("clear"),
    sessionsOf: operation("sessionsOf"),
    destroyUser: operation("destroyUser"),
  };
  const missing = () => Promise.reject(new TypeError('Cannot find module "@opentelemetry/api"'));
  await traceOperations(engine, true, "127.0.0.1:6379", missing);
  assert.equal(await engine.load("a", true), "load");
  assert.equal(await engine.clear(), "clear");
  assert.deepEqual(calls, ["load(a,true)", "clear()"]);
});

test('option "tracing" is checked', async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  assert.throws(() => new SmartRedisStore({ client, tracing: "yes" as never }), /Option "tracing" must be/);
  assert.throws(() => new SmartRedisStore({ client, tracing: { tracerProvider: {} } as never }), TypeError);
});

/** OpenTelemetry's context across awaits, on AsyncLocalStorage (what @opentelemetry/context-async-hooks does). */
class AsyncContext implements ContextManager {
  #storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    active: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#storage.run(active, () => fn.call(thisArg, ...args));
  }
  bind<T>(_context: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#storage.disable();
    return this;
  }
}

test("with a context manager, clear()'s destroy spans are its children, under the app's span", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const { exporter, provider } = tracing();
  assert.ok(context.setGlobalContextManager(new AsyncContext()));
  try {
    const store = new SmartRedisStore({ client, tracing: { tracerProvider: provider } });
    await store.set("s1", session());
    await store.set("s2", session());
    exporter.reset();
    await provider.getTracer("app").startActiveSpan("request", async (request) => {
      await store.clear();
      request.end();
    });
    const spans = exporter.getFinishedSpans();
    const byName = (name: string) => spans.filter((span) => span.name === name);
    const [clear] = byName("clear");
    const [request] = byName("request");
    assert.equal(clear.parentSpanContext?.spanId, request.spanContext().spanId);
    const destroys = byName("destroy");
    assert.equal(destroys.length, 2);
    for (const destroy of destroys) {
      assert.equal(destroy.parentSpanContext?.spanId, clear.spanContext().spanId);
    }
  } finally {
    context.disable();
  }
});

test("a failed operation's span records neither the session id nor its key", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const { exporter, provider } = tracing();
  const store = new SmartRedisStore({ client, tracing: { tracerProvider: provider } });
  const sid = "secret-sid-4f1c";
  await client.rPush(`session:${sid}`, "x");
  await assert.rejects(store.get(sid), { name: "SessionDataError", message: new RegExp(sid) });
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  await assert.rejects(store.set("other-secret-sid", session({ cyclic })), { message: /other-secret-sid/ });
  const spans = exporter.getFinishedSpans();
  assert.deepEqual(spans.map((span) => [span.name, span.status.code]), [["load", 2], ["commit", 2]]);
  const recorded = JSON.stringify(spans.map((span) => [span.attributes, span.status, span.events]));
  assert.match(recorded, /is not a session/, "the message is kept");
  assert.match(recorded, /exception\.stacktrace/);
  assert.doesNotMatch(recorded, /secret-sid/);
});

test("destroyUser() and sessionsOf() are one span each, as documented", async () => {
  await using server = await startRedisServer();
  await using client = await connectClient(server);
  const { exporter, provider } = tracing();
  const store = new SmartRedisStore({
    client,
    user: (data) => data.userId,
    tracing: { tracerProvider: provider },
  });
  await store.set("s1", session({ userId: "u1" }));
  await store.set("s2", session({ userId: "u1" }));
  exporter.reset();
  assert.equal((await store.sessionsOf("u1")).length, 2);
  assert.equal(await store.destroyUser("u1"), 2);
  assert.deepEqual(exporter.getFinishedSpans().map((span) => span.name), ["sessionsOf", "destroyUser"]);
});
