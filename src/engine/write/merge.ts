/**
 * The three-way merge behind concurrent commits: combines this request's change
 * of a property with another request's change of the same property, key by key
 * through nested objects. Where both changed the same leaf, ours (the later
 * commit) wins.
 * @module
 */

/** Stands for "no such property" in a merge. */
export const ABSENT: unique symbol = Symbol("absent");

/** A value, or {@linkcode ABSENT}. */
export type MaybeValue = unknown;

/**
 * Merges two changes of one value.
 * @param base The value both sides started from.
 * @param ours This request's value.
 * @param theirs The value another request committed meanwhile.
 * @returns The merged value, or `ABSENT` when the property should not exist.
 */
export function mergeValues(base: MaybeValue, ours: MaybeValue, theirs: MaybeValue, depth = 0): MaybeValue {
  if (deepEqual(ours, base)) return theirs;
  if (deepEqual(theirs, base) || deepEqual(ours, theirs)) return ours;
  const mergeable = depth < MAX_DEPTH && isPlainObject(ours) && isPlainObject(theirs);
  if (mergeable && (base === ABSENT || isPlainObject(base))) {
    const start = base === ABSENT ? {} : base as Record<string, unknown>;
    const merged: Record<string, unknown> = {};
    for (const key of new Set([...Object.keys(start), ...Object.keys(ours), ...Object.keys(theirs)])) {
      const value = mergeValues(entry(start, key), entry(ours, key), entry(theirs, key), depth + 1);
      if (value !== ABSENT) {
        Object.defineProperty(merged, key, { value, enumerable: true, writable: true, configurable: true });
      }
    }
    return merged;
  }
  return ours;
}

/**
 * Structural equality of serializable data: plain objects key by key, arrays item
 * by item, dates by time, everything else by `Object.is`.
 */
export function deepEqual(a: unknown, b: unknown, depth = 0): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (depth >= MAX_DEPTH) return jsonEqual(a, b);
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && Object.is(a.getTime(), b.getTime());
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length &&
      a.every((item, i) => deepEqual(item, b[i], depth + 1));
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && deepEqual(entry(a, key), entry(b, key), depth + 1));
}

/**
 * Below this depth values are compared and merged as wholes, so that absurdly deep
 * data cannot exhaust the call stack (JSON.stringify itself is not recursive).
 */
const MAX_DEPTH = 64;

function jsonEqual(a: unknown, b: unknown): boolean {
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

function entry(object: object, key: string): unknown {
  return Object.hasOwn(object, key) ? (object as Record<string, unknown>)[key] : ABSENT;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
