/**
 * What each express-session store holds, kept in WeakMaps rather than #private
 * fields so that the methods also work on the class `connectSmartRedis` binds to
 * another copy of express-session: its engine and serializer, set up with its
 * connection events. (No express-session import here: a type-only one would not
 * build for npm.)
 * @module
 */

import { connectionFor } from "../clients/detect.ts";
import { SessionEngine } from "../engine/engine.ts";
import { resolveOptions } from "../options/options.ts";
import type { Serializer, SmartRedisStoreOptions } from "../options/store_options.ts";

const engines = new WeakMap<object, SessionEngine>();
const serializers = new WeakMap<object, Serializer>();

/** What the store needs of its base class besides the methods it defines. */
export interface Emitter {
  emit(event: string, payload?: unknown): boolean;
  listenerCount(event: string): number;
}

/** Sets a new store up: checks the options, makes its engine, and announces its connection's state. */
export function initialize(store: Emitter, options: SmartRedisStoreOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Options are required: new SmartRedisStore({ client: createClient() })");
  }
  const resolved = resolveOptions(options);
  const connection = connectionFor(options.client);
  const engine = new SessionEngine(connection, resolved, options.client);
  engine.observe(store); // the store's own listeners hear its events too
  engines.set(store, engine);
  serializers.set(store, resolved.serializer);
  // express-session skips sessions while the store says "disconnect", instead of hanging.
  let announced: "connect" | "disconnect" | undefined;
  connection.onStateChange(({ ready }) => {
    const event = ready ? "connect" : "disconnect";
    if (event !== announced) {
      announced = event;
      store.emit(event);
    }
  });
}

/** The engine of a store; a `TypeError` when called on anything else. */
export function engineOf(store: object): SessionEngine {
  const engine = engines.get(store);
  if (!engine) throw new TypeError("This method must be called on a SmartRedisStore instance");
  return engine;
}

/** The serializer of a store {@linkcode initialize} set up. */
export function serializerOf(store: object): Serializer {
  return serializers.get(store)!;
}
