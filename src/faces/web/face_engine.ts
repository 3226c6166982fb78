/**
 * What every face of its own (Fastify, Koa, Hono) starts with: its options
 * split into the store's and its own, and an engine on the user's client.
 * @module
 */

import { connectionFor } from "../../clients/detect.ts";
import { SessionEngine } from "../../engine/engine.ts";
import { resolveOptions } from "../../options/options.ts";
import type { SmartRedisStoreOptions } from "../../options/store_options.ts";
import { newSessionId } from "./cookies.ts";
import type { HandleSettings } from "./session_handle.ts";

/** An engine and the handle settings of one face. */
export interface FaceSetup {
  /** The engine on the user's client. */
  engine: SessionEngine;
  /** Settings for each request's session handle. */
  settings: HandleSettings;
}

/**
 * Builds a face's engine from its options.
 * @param options Everything the user passed.
 * @param own The face's own option names (the rest are the store's).
 * @param defaults The face's cookie life and saving rule.
 * @returns The engine and the handle settings.
 */
export function faceSetup(
  options: object,
  own: readonly string[],
  defaults: { maxAge: number | null; saveUninitialized: boolean; genid?: () => string },
): FaceSetup {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Options are required, such as { client: createClient(), ... }");
  }
  const store: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) if (!own.includes(name)) store[name] = value;
  let resolved;
  try {
    resolved = resolveOptions(store);
  } catch (error) {
    if (error instanceof TypeError && error.message.startsWith("Unknown option")) {
      throw new TypeError(`${error.message}, or one of this middleware's: ${own.join(", ")}`);
    }
    throw error;
  }
  const client = (store as Partial<SmartRedisStoreOptions>).client;
  const engine = new SessionEngine(connectionFor(client), resolved, client);
  const maxAge = defaults.maxAge;
  if (maxAge !== null && (typeof maxAge !== "number" || !(maxAge > 0) || !Number.isFinite(maxAge))) {
    throw new RangeError(`Option "maxAge" must be a positive number of milliseconds or null, got ${maxAge}`);
  }
  const genid = defaults.genid ?? newSessionId;
  if (typeof genid !== "function") throw new TypeError("The session id generator must be a function");
  return {
    engine,
    settings: {
      maxAge,
      saveUninitialized: defaults.saveUninitialized,
      genid: () => checkedId(genid()),
      serializer: resolved.serializer,
    },
  };
}

/**
 * A generated session id, checked.
 * @param id What the generator returned.
 * @returns The id.
 */
export function checkedId(id: unknown): string {
  if (typeof id !== "string" || id === "") {
    throw new TypeError(`The session id generator must return a non-empty string, got ${String(id)}`);
  }
  return id;
}
