/**
 * Session data for the benchmarks: a small session (3 fields) and a large one
 * (50 fields, about 20 KB of JSON), shaped as express-session stores them.
 * @module
 */

/** The two session sizes every benchmark runs. */
export type SessionSize = "small" | "large";

/** One day, the cookie `maxAge` the benchmarks use. */
export const MAX_AGE = 24 * 3600 * 1000;

/** A session cookie as express-session serializes it (`Cookie#toJSON`). */
export function cookieData(now = Date.now()): Record<string, unknown> {
  return {
    originalMaxAge: MAX_AGE,
    expires: new Date(now + MAX_AGE).toISOString(),
    httpOnly: true,
    path: "/",
  };
}

/**
 * A session as `JSON.parse` of express-session's JSON gives it.
 * @param size `small`: cookie, user, visits; `large`: cookie, visits and 48 records of ~400 bytes.
 * @returns Fresh data (safe to mutate).
 */
export function sessionData(size: SessionSize): Record<string, unknown> {
  const session: Record<string, unknown> = { cookie: cookieData() };
  if (size === "small") {
    session.user = { id: 4711, name: "Ada Lovelace", roles: ["admin"] };
    session.visits = 0;
    return session;
  }
  session.visits = 0;
  for (let i = 0; i < 48; i++) {
    session[`item${String(i).padStart(2, "0")}`] = {
      id: 1000 + i,
      title: `Saved search number ${i}`,
      tags: ["alpha", "beta", "gamma", "delta"].slice(0, 1 + (i % 4)),
      updatedAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
      note: "lorem ipsum dolor sit amet ".repeat(11).slice(0, 280),
    };
  }
  return session;
}
