/**
 * OpenTelemetry spans, one per store operation (option `tracing`, off by
 * default): load, commit, touch, destroy, release and the bulk operations,
 * each a CLIENT span named after its operation, with the database semantic
 * conventions' attributes and an error status when it fails. The session id
 * is not recorded: it is a credential. Without `@opentelemetry/api` nothing
 * runs; with `tracing: false` the operations are not even wrapped.
 * @module
 */

import { type MetricAttributes, serverAttributes } from "./telemetry.ts";
import { checkProvider } from "../options/option_checks.ts";

/** The part of an OpenTelemetry `Span` the store uses. */
export interface SpanLike {
  /** Sets an attribute. */
  setAttribute(key: string, value: string | number): unknown;
  /** Sets the status (`code` 2: error). */
  setStatus(status: { code: number; message?: string }): unknown;
  /** Records an exception as a span event. */
  recordException(exception: Error): unknown;
  /** Ends the span. */
  end(): void;
}

/** The part of an OpenTelemetry `Tracer` the store uses. */
export interface TracerLike {
  /** Starts a span, active while `fn` runs (so spans started inside it are its children). */
  startActiveSpan<T>(
    name: string,
    options: { kind?: number; attributes?: MetricAttributes },
    fn: (span: SpanLike) => T,
  ): T;
}

/** The part of an OpenTelemetry `TracerProvider` the store uses (an SDK `TracerProvider` is one). */
export interface TracerProviderLike {
  /** Returns the tracer of an instrumentation scope. */
  getTracer(name: string, version?: string): TracerLike;
}

/** Option `tracing`: `true` for the global tracer provider, `false` for none, or a provider of one's own. */
export type TracingSetting = boolean | { tracerProvider: TracerProviderLike };

/** The engine's operations that get a span, by method, with their `db.operation.name`. */
const OPERATIONS = {
  load: "load",
  commit: "commit",
  touch: "touch",
  destroy: "destroy",
  release: "release",
  sessions: "all",
  ids: "ids",
  clear: "clear",
  sessionsOf: "sessionsOf",
  destroyUser: "destroyUser",
} as const;

/** OpenTelemetry's `SpanKind.CLIENT` and `SpanStatusCode.ERROR` (numbers, so the API need not be loaded). */
const CLIENT = 2;
const ERROR = 2;

type Operations = { [M in keyof typeof OPERATIONS]: (...args: never[]) => Promise<unknown> };

/**
 * Wraps the engine's operations in spans once a tracer is found.
 * @param engine The engine (its methods are replaced on the instance).
 * @param setting The `tracing` option (not `false`).
 * @param address Where Redis is (`host:port`).
 * @param loadApi Imports `@opentelemetry/api` (replaceable for tests of its absence).
 * @returns Settles once the tracer was looked for.
 */
export function traceOperations(
  engine: Operations,
  setting: Exclude<TracingSetting, false>,
  address: string,
  loadApi: () => Promise<{ trace: TracerProviderLike }> = () => import("@opentelemetry/api"),
): Promise<void> {
  let tracer: TracerLike | undefined;
  const attributes = serverAttributes(address);
  for (const [method, operation] of Object.entries(OPERATIONS)) {
    const original = engine[method as keyof Operations] as (...args: unknown[]) => Promise<unknown>;
    const spanAttributes = { ...attributes, "db.operation.name": operation };
    Object.defineProperty(engine, method, {
      configurable: true,
      writable: true,
      value: (...args: unknown[]) => {
        if (!tracer) return original.apply(engine, args);
        return tracer.startActiveSpan(
          operation,
          { kind: CLIENT, attributes: spanAttributes },
          (span) =>
            ended(span, () => original.apply(engine, args), SID_FIRST.has(method) ? args[0] : undefined),
        );
      },
    });
  }
  if (typeof setting === "object") {
    tracer = setting.tracerProvider.getTracer(TRACER_NAME);
    return Promise.resolve();
  }
  return loadApi().then((api) => {
    tracer = api.trace.getTracer(TRACER_NAME);
  }, () => {/* not installed: no spans, no cost beyond a check per operation */});
}

/** The instrumentation scope's name. */
export const TRACER_NAME = "connect-smart-redis";

/** The operations whose first argument is a session id. */
const SID_FIRST = new Set(["load", "commit", "touch", "destroy", "release"]);

async function ended<T>(span: SpanLike, work: () => Promise<T>, sid: unknown): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const type = (error as Error)?.name ?? "Error";
    span.setAttribute("error.type", type);
    // Error messages name the session (and its key) for the app's logs; spans get them without it.
    const message = redacted(String((error as Error)?.message ?? error), sid);
    span.setStatus({ code: ERROR, message });
    if (error instanceof Error) {
      const recorded = Object.assign(new Error(message), { name: type });
      recorded.stack = error.stack === undefined ? undefined : redacted(error.stack, sid);
      span.recordException(recorded);
    }
    throw error;
  } finally {
    span.end();
  }
}

/**
 * A text without the session id: `sid` itself, and what the store's messages quote after
 * `Session` or `Redis key` (a bulk operation's errors name sessions the span does not know).
 * @param text An error's message or stack.
 * @param sid The operation's session id, if it has one.
 * @returns The text with each of those replaced.
 */
export function redacted(text: string, sid: unknown): string {
  const withoutSid = typeof sid === "string" && sid !== "" ? text.replaceAll(sid, "[session id]") : text;
  return withoutSid.replace(/(Session |Redis key )"(?:[^"\\]|\\.)*"/g, '$1"[redacted]"');
}

/**
 * Checks the `tracing` option.
 * @param tracing What the user passed.
 * @returns The setting.
 */
export function checkTracing(tracing: unknown): TracingSetting {
  checkProvider("tracing", tracing, "tracerProvider", "getTracer", "TracerProvider");
  return tracing as TracingSetting;
}
