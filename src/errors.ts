/**
 * Errors callers may want to catch. Bad arguments and options raise plain
 * `TypeError` / `RangeError`; these named classes cover what can happen at run time.
 * Their options are spelled `{ cause?: unknown }` rather than `ErrorOptions`, which
 * exists only in lib ES2022: the published types must check for ES2020 consumers too.
 *
 * The npm package holds the code twice (ESM for `import`, CommonJS for `require`), so an
 * app using both would have two copies of each class. Each error therefore carries a
 * mark under a registered symbol, and `instanceof` accepts an error of either copy.
 * @module
 */

/** Shared by both copies of the package: the name of the class an error was made by. */
const MARK: unique symbol = Symbol.for("connect-smart-redis error") as never;

/** Marks `error` as made by the class it names (its `name`). */
function mark(error: Error): void {
  Object.defineProperty(error, MARK, { value: error.name });
}

/** Redis could not be reached, or did not answer within `commandTimeout`. */
export class RedisUnavailableError extends Error {
  /**
   * Creates the error.
   * @param message What failed and what to check.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RedisUnavailableError";
    mark(this);
  }
}

/** A commit kept meeting concurrent changes and gave up after its bounded retries. */
export class SessionConflictError extends Error {
  /**
   * Creates the error.
   * @param message Which session and how many attempts.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SessionConflictError";
    mark(this);
  }
}

/**
 * What is stored for a session cannot be read (a field the serializer rejects, or a
 * key of the wrong type). Its `code` is `"ENOENT"`, which express-session takes as
 * "no such session": the request gets a new session instead of failing, and the
 * unreadable data is left in Redis untouched until it expires.
 */
export class SessionDataError extends Error {
  /** `"ENOENT"`: express-session treats the session as not found. */
  readonly code: "ENOENT" = "ENOENT";
  /**
   * Creates the error.
   * @param message Which session, key or field, and why.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SessionDataError";
    mark(this);
  }
}

/** Lock mode: a session stayed locked by another request longer than `lock.timeout`, or was loaded read-only. */
export class SessionLockedError extends Error {
  /**
   * Creates the error.
   * @param message Which session and how long the request waited.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SessionLockedError";
    mark(this);
  }
}

// `instanceof` accepts an error of either copy of the package (ESM or CommonJS), for the class
// itself; a subclass keeps the plain prototype check.
for (const cls of [RedisUnavailableError, SessionConflictError, SessionDataError, SessionLockedError]) {
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: object, value: unknown): boolean {
      if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
      return this === cls && typeof value === "object" && value !== null &&
        (value as { [MARK]?: unknown })[MARK] === cls.name;
    },
  });
}
