/**
 * `c.get("session")` of the Hono face: a {@linkcode SmartSession} (data are
 * its own properties) with the `hono-sessions` methods on top: `get`, `set`,
 * `forget`, `flash`, `deleteSession`, `touch`.
 * @module
 */

import { SmartSession } from "./web/smart_session.ts";
import { define } from "./web/session_data.ts";

/** The data property holding flash values until they are read (`hono-sessions` keeps a flag per entry). */
export const FLASH_PROPERTY = "_flash";

/** What the session's extra methods act on besides the data. */
export interface HonoSessionControls {
  /** `deleteSession()`: destroy the session at the end of the request. */
  deleteAtEnd(): void;
  /** `touch()`: send the cookie again with a full life at the end of the request. */
  touchAtEnd(): void;
}

const controls = new WeakMap<HonoSmartSession, HonoSessionControls>();

/**
 * Ties a Hono session to its request's state.
 * @param session The session.
 * @param state The request's state.
 */
export function bindHonoSession(session: HonoSmartSession, state: HonoSessionControls): void {
  controls.set(session, state);
}

/**
 * The Hono face's session: set and delete its properties, or use the
 * `hono-sessions` methods. Flash values live under `_flash` until read.
 */
export class HonoSmartSession extends SmartSession {
  /**
   * A value of the session (a flash value is removed as it is read).
   * @param key The property.
   * @returns Its value, or `null` when there is none.
   */
  get(key: string): unknown {
    if (Object.hasOwn(this, key)) return this[key] ?? null;
    const flashes = this[FLASH_PROPERTY] as Record<string, unknown> | undefined;
    if (typeof flashes !== "object" || flashes === null || !Object.hasOwn(flashes, key)) return null;
    const { [key]: value, ...rest } = flashes;
    if (Object.keys(rest).length === 0) delete this[FLASH_PROPERTY];
    else define(this, FLASH_PROPERTY, rest);
    return value ?? null;
  }

  /**
   * Sets a value (anything the serializer takes: JSON by default).
   * @param key The property.
   * @param value Its value.
   */
  set(key: string, value: unknown): void {
    define(this, key, value);
  }

  /**
   * Removes a value.
   * @param key The property.
   */
  forget(key: string): void {
    delete this[key];
  }

  /**
   * Sets a value that the next `get(key)` reads once and removes (a one-off message).
   * @param key The name.
   * @param value The value.
   */
  flash(key: string, value: unknown): void {
    const flashes = this[FLASH_PROPERTY];
    const kept = typeof flashes === "object" && flashes !== null ? flashes : {};
    define(this, FLASH_PROPERTY, { ...kept, [key]: value });
  }

  /** Destroys the session at the end of the request (`destroy()` does it now). */
  deleteSession(): void {
    controlsOf(this).deleteAtEnd();
  }

  /** Sends the cookie again with a full life at the end of the request. */
  touch(): void {
    controlsOf(this).touchAtEnd();
  }
}

function controlsOf(session: HonoSmartSession): HonoSessionControls {
  const state = controls.get(session);
  if (!state) throw new TypeError("This method must be called on a session the middleware created");
  return state;
}
