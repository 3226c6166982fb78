/**
 * The session object the faces of their own hand the app: its data are its own
 * properties, its methods live on the prototype and act through the request's
 * session handle.
 * @module
 */

import type { DestroyUserOptions, UserSession } from "../../users/user_sessions.ts";

/** What a session's methods act on: the request's session handle. */
export interface SessionControls {
  /** The current session id. */
  readonly sid: string;
  /** Created by this request. */
  readonly isNew: boolean;
  /** The cookie life in ms, or `null`. */
  maxAge: number | null;
  /** Writes the changes now. */
  save(): Promise<void>;
  /** Destroys the session. */
  destroy(): Promise<void>;
  /** Destroys the session and starts a new empty one under a new id. */
  regenerate(): Promise<void>;
  /** Loads the session again. */
  reload(): Promise<void>;
  /** Sessions per user: a user's live sessions. */
  sessionsOf(user: string | number): Promise<UserSession[]>;
  /** Sessions per user: destroys a user's live sessions but `except`. */
  destroyUser(user: string | number, options?: DestroyUserOptions): Promise<number>;
}

/**
 * Ties a session object to the handle its methods act on.
 * @param session The session object.
 * @param handle Its handle.
 */
export function bindSession(session: SmartSession, handle: SessionControls): void {
  controls.set(session, handle);
}

const controls = new WeakMap<SmartSession, SessionControls>();

/**
 * A request's session: its data are its own enumerable properties (set and
 * delete them as on any object); the methods below live on the prototype.
 * `cookie` is reserved.
 */
export class SmartSession {
  /** The session's data: any property the app sets (except `cookie`). */
  [property: string]: unknown;

  /** The session id. */
  get id(): string {
    return handleOf(this).sid;
  }

  /** Whether the session was created by this request (nothing was loaded). */
  get isNew(): boolean {
    return handleOf(this).isNew;
  }

  /** Milliseconds the session lives after its last use; `null`: until the browser closes. */
  get maxAge(): number | null {
    return handleOf(this).maxAge;
  }

  set maxAge(value: number | null) {
    if (value !== null && (typeof value !== "number" || !(value > 0) || !Number.isFinite(value))) {
      throw new RangeError(`maxAge must be a positive number of milliseconds or null, got ${String(value)}`);
    }
    handleOf(this).maxAge = value;
  }

  /**
   * Writes the changes now instead of at the end of the request.
   * @returns Resolves once written.
   */
  save(): Promise<void> {
    return handleOf(this).save();
  }

  /**
   * Destroys the session; requests already in flight cannot bring it back.
   * @returns Resolves once destroyed.
   */
  destroy(): Promise<void> {
    return handleOf(this).destroy();
  }

  /**
   * Destroys the session and starts an empty one under a new id (do it at login).
   * @returns Resolves once the old one is destroyed.
   */
  regenerate(): Promise<void> {
    return handleOf(this).regenerate();
  }

  /**
   * Loads the session again from Redis, dropping unsaved changes.
   * @returns Resolves once loaded.
   */
  reload(): Promise<void> {
    return handleOf(this).reload();
  }

  /**
   * Sessions per user (the store option `user`): the user's live sessions, latest
   * login first, each with its `id`, `loggedInAt`, `lastSeenAt` and `expiresAt`.
   * @param user The user id.
   * @returns The sessions.
   */
  sessionsOf(user: string | number): Promise<UserSession[]> {
    return handleOf(this).sessionsOf(user);
  }

  /**
   * Sessions per user (the store option `user`): destroys every live session of the
   * user ("log out everywhere"), but `except` ("sign out other devices":
   * `{ except: session.id }`). Requests in flight on them stay logged out.
   * @param user The user id.
   * @param options `except`: a session id to keep.
   * @returns How many live sessions were destroyed.
   */
  destroyUser(user: string | number, options?: DestroyUserOptions): Promise<number> {
    return handleOf(this).destroyUser(user, options);
  }
}

function handleOf(session: SmartSession): SessionControls {
  const handle = controls.get(session);
  if (!handle) throw new TypeError("This method must be called on a session the middleware created");
  return handle;
}
