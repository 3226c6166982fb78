/**
 * The express-session face in lock mode: gives up a request's session lock
 * when the request ends without a commit or touch, and around `reload`,
 * `destroy` and `regenerate`.
 * @module
 */

import type { SessionEngine } from "../engine/engine.ts";

/** The parts of express-session's Session used here (a type-only import would not build for npm). */
interface ExpressSession {
  id: string;
  reload(callback: (error: unknown) => void): unknown;
  destroy(callback: (error: unknown) => void): unknown;
  regenerate(callback: (error: unknown) => void): unknown;
}

/**
 * Lock mode: a request whose response ended without a commit or touch gives its lock
 * up then, rather than after `lockExpiry`; `session.reload()` gives it up first, so the
 * reload does not wait for itself; and `destroy()` / `regenerate()` forget it, since
 * the tombstone replaces it. A response whose client went away mid-request keeps the
 * lock until its handler ends (its commit or touch releases it).
 * @param engine The store's engine.
 * @param req The request (express-session's `req`, with its `res`).
 * @param created The request's Session, holding the lock.
 */
export function releaseWhenDone(engine: SessionEngine, req: object, created: ExpressSession): void {
  const release = () => engine.release(created.id, created);
  const res =
    (req as { res?: { writableFinished?: boolean; once(event: "close", listener: () => void): unknown } })
      .res;
  res?.once("close", () => {
    if (res.writableFinished) release().catch(() => {/* it expires after lockExpiry */});
  });
  const proto = Object.getPrototypeOf(created) as ExpressSession;
  const forget = () => engine.forgetLock(created.id, created);
  overrideMethod(created, "reload", function (this: ExpressSession, callback: (error: unknown) => void) {
    release().then(() => proto.reload.call(this, callback), callback);
    return this;
  });
  overrideMethod(created, "destroy", function (this: ExpressSession, callback?: (error: unknown) => void) {
    forget();
    return proto.destroy.call(this, callback as (error: unknown) => void);
  });
  overrideMethod(created, "regenerate", function (this: ExpressSession, callback: (error: unknown) => void) {
    forget();
    return proto.regenerate.call(this, callback);
  });
}

function overrideMethod(target: object, name: string, value: (...args: never[]) => unknown): void {
  Object.defineProperty(target, name, { configurable: true, writable: true, value });
}
