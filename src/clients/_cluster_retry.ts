/**
 * Retries a Redis Cluster command that a node refused without running it while
 * slots move or a master is promoted: ASK and MOVED (past the client library's own
 * redirection limit), TRYAGAIN (keys of a slot half moved, or a script that refused
 * to start, see `src/scripts/_cluster_lua.ts`) and CLUSTERDOWN. None of these ran
 * the command, so a retry cannot apply it twice.
 * @module
 */

/** Replies that mean "not run, try again soon"; ioredis wraps the last one when it gives up. */
const REFUSED =
  /^(?:.*Too many Cluster redirections\. Last error: (?:\w*Error: )?)?(?:ASK|MOVED|TRYAGAIN|CLUSTERDOWN)\b/;

/**
 * Whether an error means the cluster refused the command without running it, for now.
 * @param error What the client rejected with.
 * @returns `true` for ASK, MOVED, TRYAGAIN, CLUSTERDOWN (also wrapped by ioredis).
 */
export function isRefusedForNow(error: unknown): boolean {
  return REFUSED.test(String((error as Error)?.message ?? ""));
}

/**
 * Whether an error, or the error it wraps (a store error's `cause`), is a refusal for now.
 * @param error What a send rejected with.
 * @returns `true` as {@linkcode isRefusedForNow} says, of it or of its cause.
 */
export function isRefusal(error: unknown): boolean {
  return isRefusedForNow(error) || isRefusedForNow((error as Error | undefined)?.cause);
}

/** A cluster `send` that retries refused commands, see {@linkcode retryRefused}. */
export interface RetryRefused {
  /**
   * Sends one command to the node owning `key`, retrying while the cluster refuses it for now,
   * until `deadline` (ms since the epoch, when the caller gives up) or else for the bound set by
   * `boundRetries`.
   */
  send(key: string, args: readonly string[], deadline?: number): Promise<unknown>;
  /** Stops the retries of commands sent without a deadline after `ms`; 10 s until told. */
  boundRetries(ms: number): void;
}

/**
 * Wraps a cluster client's `send` so that commands refused for now are sent again,
 * with a pause growing from 10 to 200 ms, for as long as the caller waits: each command
 * until its own deadline (stores sharing one client may wait for different times).
 * @param send Sends one command to the node owning the key.
 * @returns The retrying `send`, and how to bound its retries.
 */
export function retryRefused(send: (key: string, args: readonly string[]) => Promise<unknown>): RetryRefused {
  let retryFor = 10_000;
  return {
    async send(key, args, deadline) {
      const until = deadline ?? Date.now() + retryFor;
      for (let pause = 10;; pause = Math.min(200, pause * 2)) {
        try {
          return await send(key, args);
        } catch (error) {
          if (!isRefusedForNow(error) || Date.now() + pause >= until) throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    },
    boundRetries(ms) {
      retryFor = ms;
    },
  };
}
