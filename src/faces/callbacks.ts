/**
 * Node-style callbacks beside Promises: every method of the store and of the
 * faces' sessions resolves a Promise, or calls the callback given instead.
 * @module
 */

/** A node-style callback; the store calls it exactly once. */
export type Callback<T> = (error: unknown, value?: T) => void;

/**
 * Reports the outcome to the callback exactly once, or through the Promise when there is none
 * (with a callback, a failure goes to it only, never also to an unhandled rejection).
 * @param work The operation.
 * @param callback The caller's callback, if any.
 * @returns The operation's Promise, settled once the callback has been called.
 */
export function settle<T>(work: Promise<T>, callback?: Callback<T>): Promise<T> {
  if (typeof callback !== "function") return work;
  return work.then(
    (value) => {
      callback(null, value);
      return value;
    },
    (error) => {
      callback(error);
      return undefined as T;
    },
  );
}
