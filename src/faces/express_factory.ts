/**
 * The seed's factory form, `require('connect-smart-redis')(session)`: the store
 * class for the express-session module the app passes, even another copy of it.
 * @module
 */

// @ts-types="@types/express-session"
import session from "express-session";
// @ts-types="@types/express-session"
import type { SessionData } from "express-session";
import { createCarryingSnapshot, SmartRedisStore } from "./express_store.ts";
import { type Emitter, initialize } from "./express_store_state.ts";
import type { SmartRedisStoreOptions } from "../options/store_options.ts";

/** The shape of express-session's module that the factory needs. */
export interface SessionModule {
  /** express-session's `Store` base class. */
  Store: abstract new () => object;
}

/**
 * The seed's factory form: `require('connect-smart-redis')(session)`. Returns a
 * store class that extends the given module's `Store`.
 * @param sessionModule The express-session module.
 * @returns The store class.
 */
export function connectSmartRedis(sessionModule: SessionModule): typeof SmartRedisStore {
  const Base = sessionModule?.Store;
  if (typeof Base !== "function") {
    throw new TypeError(
      "Pass the express-session module: require('connect-smart-redis')(require('express-session'))",
    );
  }
  if (Base === session.Store || SmartRedisStore.prototype instanceof Base) return SmartRedisStore;
  // Another copy of express-session: give its Store our methods. State lives in a
  // WeakMap, not in #private fields, so the methods work on this class too.
  const baseCreateSession = (Base.prototype as session.Store).createSession;
  const Bound = class SmartRedisStore extends (Base as unknown as new () => Emitter) {
    constructor(options: SmartRedisStoreOptions) {
      super();
      initialize(this, options);
    }
  };
  for (const name of Object.getOwnPropertyNames(SmartRedisStore.prototype)) {
    if (name === "constructor") continue;
    Object.defineProperty(
      Bound.prototype,
      name,
      Object.getOwnPropertyDescriptor(SmartRedisStore.prototype, name)!,
    );
  }
  Object.defineProperty(Bound.prototype, "createSession", {
    configurable: true,
    writable: true,
    value: function (this: session.Store, req: never, data: SessionData) {
      return createCarryingSnapshot(baseCreateSession, this, req, data);
    },
  });
  return Bound as unknown as typeof SmartRedisStore;
}
