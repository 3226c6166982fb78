/**
 * The checks behind the options: each throws a `TypeError` or `RangeError`
 * whose message names the option and says what to pass.
 * @module
 */

/** The longest wait setTimeout keeps (longer ones fire at once). */
export const MAX_TIMER = 2 ** 31 - 1;

/** Checks a number option: a number of `unit`, within 0 (or above, unless `zeroAllowed`) and `max`. */
export function positive(
  name: string,
  value: unknown,
  unit: string,
  zeroAllowed: boolean,
  max: number,
): void {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`Option "${name}" must be a number of ${unit}, got ${describe(value)}`);
  }
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !zeroAllowed) || value > max) {
    throw new RangeError(
      `Option "${name}" must be a finite number of ${unit}, ${
        zeroAllowed ? "≥ 0" : "> 0"
      } and ≤ ${max}, got ${value}`,
    );
  }
}

/** Checks a whole-number option, at least `min`. */
export function wholeNumber(name: string, value: unknown, min: number): void {
  if (typeof value !== "number") {
    throw new TypeError(`Option "${name}" must be a whole number, got ${describe(value)}`);
  }
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`Option "${name}" must be a whole number ≥ ${min}, got ${value}`);
  }
}

/**
 * Checks an OpenTelemetry option: `true`, `false`, or an object holding under `key` a
 * provider with the method `method` (`{ meterProvider }` with `getMeter`).
 */
export function checkProvider(name: string, value: unknown, key: string, method: string, kind: string): void {
  if (typeof value === "boolean") return;
  const provider = (value as Record<string, Record<string, unknown> | undefined> | null)?.[key];
  if (typeof provider?.[method] !== "function") {
    throw new TypeError(
      `Option "${name}" must be true, false or { ${key} } with an OpenTelemetry ${kind}, got ` +
        String(value),
    );
  }
}

/** A short, quoted description of a bad value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") return `"${value}"`;
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}
