/**
 * The express-session face: commits a loaded session when the app ends its
 * response, before express-session writes the headers. express-session sets the
 * session cookie with the headers and only then calls the store, so a slow request
 * whose session another request destroyed meanwhile (a logout, or a login's
 * `regenerate()` in another tab) would re-send the old id and replace the
 * browser's new cookie. Committing first tells: such a request gets no cookie.
 * @module
 */

import type { SessionEngine } from "../engine/engine.ts";
import { COOKIE_FIELD } from "../engine/fields.ts";
import type { Snapshot } from "../engine/snapshot.ts";
import type { Serializer, SessionRecord } from "../options/store_options.ts";

/** The parts of Node's response used here. */
interface Response {
  readonly headersSent: boolean;
  end(...args: unknown[]): unknown;
  destroy(error?: unknown): unknown;
}

/** The parts of express-session's request used here (Express sets `req.res`). */
interface Request {
  res?: Response;
  session?: object;
  sessionID?: string;
  /** Express's `next` for the request (Express 4 and 5 set it). */
  next?: (error?: unknown) => void;
}

const wrapped = new WeakSet<object>();
/** Per session: the commit its response's end started, until express-session's `set` or `touch` takes it. */
const early = new WeakMap<object, Promise<void>>();
/** Per session: a commit express-session asked for (an explicit `save()`), while it is in flight. */
const saving = new WeakMap<object, Promise<void>>();

/**
 * Takes the commit started when the session's response ended, if any: express-session's
 * `touch` that follows answers with its outcome (once) instead of writing again, so a
 * failed commit is reported, not retried, and one still in flight is not doubled.
 * @param session The session express-session passes to the store.
 * @returns The early commit, or `undefined`.
 */
export function takeEarlyCommit(session: unknown): Promise<void> | undefined {
  if (typeof session !== "object" || session === null) return undefined;
  const commit = early.get(session);
  if (commit !== undefined) early.delete(session);
  return commit;
}

/**
 * express-session's `set` after an early commit ({@linkcode takeEarlyCommit}): once that
 * succeeded, what changed since (a `save()` right after `res.end()`) is committed too.
 * @param engine The store's engine.
 * @param serializer The store's serializer.
 * @param sid The session id.
 * @param session The session express-session passes to the store.
 * @returns The work, or `undefined` without an early commit.
 */
export function saveAfterEarlyCommit(
  engine: SessionEngine,
  serializer: Serializer,
  sid: string,
  session: unknown,
): Promise<void> | undefined {
  return takeEarlyCommit(session)?.then(() => {
    const snapshot = engine.snapshotOf(session as object, sid);
    if (snapshot && !snapshot.ended && dataChanged(session as object, snapshot, serializer)) {
      return whileSaving(session, engine.commit(sid, session));
    }
  });
}

/**
 * Records a commit of the session that express-session asked for, while it is in
 * flight: a response ended meanwhile waits for it before telling whether the data
 * changed, so `req.session.save()` without waiting, then `res.redirect()`, writes once.
 * @param session The session.
 * @param work The commit.
 * @returns `work`.
 */
export function whileSaving(session: unknown, work: Promise<void>): Promise<void> {
  // Only the end of a response wrapped here reads it (through its request's session): a new
  // session's first save, or a plain object, has no such response, and no record to pay for.
  const res = (session as { req?: Request } | null)?.req?.res;
  if (res === undefined || !wrapped.has(res)) return work;
  saving.set(session as object, work);
  const done = () => {
    if (saving.get(session as object) === work) saving.delete(session as object);
  };
  work.then(done, done);
  return work;
}

/**
 * Wraps the request's `res.end` (outside express-session's own wrapper): when the
 * app ends a response whose headers are not sent yet, a loaded session whose data
 * changed (when express-session re-sends the cookie) is committed first. If it was
 * destroyed meanwhile (nothing was written, by this commit or an explicit `save()`
 * before it), the request's `sessionID` is cleared,
 * which express-session reads as "no session to set a cookie for, save or touch".
 * Otherwise express-session goes on as usual, and the store answers its `set` or
 * `touch` with the early commit's outcome ({@linkcode takeEarlyCommit}). Responses
 * streamed before their end (headers already sent) are left as they are.
 * @param engine The store's engine.
 * @param serializer The store's serializer (to tell whether the data changed).
 * @param req express-session's request; nothing is done without its `res`.
 */
export function commitBeforeHeaders(engine: SessionEngine, serializer: Serializer, req: object): void {
  const request = req as Request;
  const res = request.res;
  if (!res || typeof res.end !== "function" || wrapped.has(res)) return;
  wrapped.add(res);
  const end = res.end as (...args: unknown[]) => unknown;
  const commitFirst = function (this: Response, ...args: unknown[]): unknown {
    const current = request.session;
    const sid = request.sessionID;
    const snapshot = current && typeof sid === "string" ? engine.snapshotOf(current, sid) : undefined;
    if (res.headersSent || !snapshot) return end.apply(this, args);
    if (snapshot.ended) {
      // An explicit save() already found the session destroyed: no cookie, nothing to commit again.
      request.sessionID = undefined;
      return end.apply(this, args);
    }
    if (!dataChanged(current!, snapshot, serializer)) return end.apply(this, args);
    // As express-session does before its save: the cookie slides to maxAge from now.
    (current as { touch?: () => unknown }).touch?.();
    const commit = engine.commit(sid!, current);
    early.set(current!, commit);
    commit.then(
      () => {
        if (engine.snapshotOf(current!, sid!)?.ended) request.sessionID = undefined;
      },
      () => {/* express-session's set or touch reports it */},
    ).then(() => endLate(request, this, end, args));
    return this;
  };
  let ended = false;
  res.end = function (this: Response, ...args: unknown[]) {
    // A second end is refused, as express-session refuses it: the first body stands.
    if (ended) return false;
    ended = true;
    const save = request.session && saving.get(request.session);
    if (!save) return commitFirst.apply(this, args);
    const go = () => endLate(request, this, commitFirst, args);
    save.then(go, go);
    return this;
  };
}

/**
 * Ends the response after a commit. What ending throws then (Node's write refusing
 * an argument, an invalid status code) can no longer reach the app's code that called
 * `res.end`: it goes where Express sends an error thrown by a handler, its `next`
 * (without Express, the response is destroyed), rather than becoming an unhandled
 * rejection that ends the process.
 */
function endLate(
  request: Request,
  res: Response,
  end: (...args: unknown[]) => unknown,
  args: unknown[],
): void {
  try {
    end.apply(res, args);
  } catch (error) {
    if (typeof request.next === "function") request.next(error);
    else res.destroy(error);
  }
}

/**
 * Whether a session's data (its cookie aside) differ from what it was loaded or last
 * written with. Runs at the end of every response, read-only ones included, so the
 * cookie (whose serialization costs more than a small session's data) is not serialized.
 */
function dataChanged(session: object, snapshot: Snapshot, serializer: Serializer): boolean {
  const record = session as SessionRecord;
  let count = 0;
  try {
    for (const name of Object.keys(record)) {
      if (name === COOKIE_FIELD) continue;
      const text = serializer.stringify(record[name]);
      if (text === undefined) continue;
      if (snapshot.fields.get(name) !== text) return true; // a bad name or value: the commit reports it
      count++;
    }
  } catch {
    return false; // express-session's own save reports it
  }
  return count !== snapshot.fields.size - (snapshot.fields.has(COOKIE_FIELD) ? 1 : 0);
}
