/**
 * What the encryption tests share: two keys, a day, and stores on another client of
 * the same Redis.
 */

import { randomBytes } from "node:crypto";
import { SmartRedisStore, type SmartRedisStoreOptions } from "../mod.ts";

/** A key of 32 random bytes. */
export const K1 = { id: "k1", secret: randomBytes(32) };
/** A key from a string secret. */
export const K2 = { id: "k2", secret: "a string secret of well over thirty-two characters" };
/** A day in ms: the maxAge of counted sessions. */
export const DAY = 86400000;

/** A store of another instance on the same Redis (its own options). */
export function storeOn(client: object, options: Omit<SmartRedisStoreOptions, "client">): SmartRedisStore {
  return new SmartRedisStore({ client, ...options });
}

/** `set()` with plain data (express-session's `SessionData` type wants its own fields). */
export function save(store: SmartRedisStore, sid: string, data: Record<string, unknown>): Promise<void> {
  return store.set(sid, data as never);
}

/** A session as express-session hands it to `set`, with a day's maxAge. */
export function sessionWith(data: Record<string, unknown>): Record<string, unknown> {
  return {
    cookie: { originalMaxAge: DAY, expires: new Date(Date.now() + DAY), httpOnly: true, path: "/" },
    ...data,
  };
}
