/**
 * Puts a time bound on every command, so that a dead or slow Redis makes
 * operations fail with a clear error instead of hanging the requests behind them.
 * @module
 */

import { RedisUnavailableError } from "../errors.ts";
import type { ConnectionState, RedisConnection, RedisNode } from "./connection.ts";
import { unrefTimer } from "./_util.ts";

/** A command in flight, until `done` (answered, failed or timed out). */
interface Pending {
  deadline: number;
  what: string | undefined;
  key: string | undefined;
  reject: (error: RedisUnavailableError) => void;
  done: boolean;
}

/** A connection whose commands fail fast when Redis is away. */
export class GuardedConnection {
  #inner: RedisConnection;
  #timeout: number;
  #lastError: unknown = undefined;
  #waiters = new Set<(error?: RedisUnavailableError) => void>();
  /**
   * Commands sent since the last sweep, answered ones included (marked `done`): an answer
   * only marks its entry, cheaper on the hot path than removing it from a Set. The list is
   * emptied whenever nothing is in flight, and compacted by each sweep.
   */
  #pending: Pending[] = [];
  #inFlight = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  /**
   * @param inner The client adapter.
   * @param timeout Milliseconds a command may take, waiting for the connection included.
   */
  constructor(inner: RedisConnection, timeout: number) {
    this.#inner = inner;
    this.#timeout = timeout;
    inner.boundRetries?.(timeout);
    // Connect a client nobody has connected: soon (so a Redis that is down from the start is
    // reported at once), but not now, so that an app calling client.connect() right after
    // creating the store still can. Commands also open it, in case this comes later.
    unrefTimer(setTimeout(() => this.#inner.ready || this.#inner.open?.(), 0));
    inner.onStateChange((state: ConnectionState) => {
      if (state.ready) {
        this.#lastError = undefined;
        for (const wake of this.#waiters) wake();
      } else if (state.error !== undefined) {
        this.#lastError = state.error;
        for (const wake of this.#waiters) wake(this.#unreachable());
      }
    });
  }

  /** The client adapter underneath. */
  get inner(): RedisConnection {
    return this.#inner;
  }

  /**
   * Sends a command to the node owning `key`.
   * @param key The key the command touches.
   * @param args The command.
   * @returns The reply.
   */
  send(key: string, args: readonly string[]): Promise<unknown> {
    return this.#bounded((deadline) => this.#inner.send(key, args, deadline), args[0], key);
  }

  /** Where Redis is (`host:port`), as the client says. */
  get address(): string {
    return this.#inner.address;
  }

  /**
   * Sends a command to one node (bulk operations).
   * @param node A node from `masters()`.
   * @param args The command.
   * @returns The reply.
   */
  sendTo(node: RedisNode, args: readonly string[]): Promise<unknown> {
    return this.#bounded(() => node.send(args), args[0]);
  }

  /**
   * The nodes bulk operations walk.
   * @returns Every master.
   */
  masters(): Promise<readonly RedisNode[]> {
    return this.#bounded(() => this.#inner.masters(), "CLUSTER NODES");
  }

  /** Runs `work` within the time bound: at once when the connection is ready (the hot path, no extra await). */
  #bounded<T>(work: (deadline: number) => Promise<T>, what: string | undefined, key?: string): Promise<T> {
    const deadline = Date.now() + this.#timeout;
    if (this.#inner.closed) {
      return Promise.reject(
        new RedisUnavailableError(
          `The Redis client for ${this.#inner.address} is closed (by the application, or by the client ` +
            "giving up reconnecting); connect it again, or give the store an open client",
        ),
      );
    }
    if (!this.#inner.ready) {
      this.#inner.open?.();
      return this.#whenReady(deadline).then(() => this.#timed(work, what, deadline, key));
    }
    return this.#timed(work, what, deadline, key);
  }

  #timed<T>(
    work: (deadline: number) => Promise<T>,
    what: string | undefined,
    deadline: number,
    key?: string,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { deadline, what, key, reject, done: false };
      this.#pending.push(entry);
      this.#inFlight++;
      if (this.#sweeper === undefined) this.#sweep();
      work(deadline).then(
        (value) => {
          if (this.#finish(entry)) resolve(value);
        },
        (error) => {
          if (this.#finish(entry)) reject(this.#unavailable(error, what, key));
        },
      );
    });
  }

  /** Marks a command answered; false when its deadline already failed it. */
  #finish(entry: Pending): boolean {
    if (entry.done) return false;
    entry.done = true;
    if (--this.#inFlight === 0) this.#pending.length = 0;
    return true;
  }

  /**
   * Fails commands past their deadline. One interval for all commands in flight,
   * rather than a timer each: cheaper on the hot path, at the price of firing up
   * to a tenth of `commandTimeout` late.
   */
  #sweep(): void {
    const every = Math.max(5, Math.min(100, this.#timeout / 10));
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      const left: Pending[] = [];
      for (const entry of this.#pending) {
        if (entry.done) continue;
        if (entry.deadline > now) {
          left.push(entry);
          continue;
        }
        entry.done = true;
        this.#inFlight--;
        entry.reject(
          new RedisUnavailableError(
            `Redis at ${this.#addressOf(entry.key)} did not answer ${entry.what ?? "a command"} within ` +
              `${this.#timeout} ms (option "commandTimeout")`,
          ),
        );
      }
      this.#pending = left;
      if (this.#inFlight === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
      }
    }, every);
    unrefTimer(this.#sweeper);
  }

  /** Waits for the connection, unless it is known to be down (then fails at once, or when it fails). */
  #whenReady(deadline: number): Promise<void> {
    if (this.#lastError !== undefined) return Promise.reject(this.#unreachable());
    return new Promise((resolve, reject) => {
      const wake = (error?: RedisUnavailableError) => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(this.#unreachable());
      }, Math.max(1, deadline - Date.now()));
      this.#waiters.add(wake);
    });
  }

  /**
   * A failure of the connection or of the cluster (not an answer of Redis to the command
   * itself) becomes a `RedisUnavailableError` naming the node; Redis's own error replies
   * (NOSCRIPT, WRONGTYPE, ERR ...), which the store reads, stay as they are.
   */
  #unavailable(error: unknown, what: string | undefined, key: string | undefined): unknown {
    if (!isUnavailability(error)) return error;
    const address = key === undefined
      ? this.#inner.address
      : this.#inner.addressOf?.(key) ?? this.#inner.address;
    return new RedisUnavailableError(
      `Redis at ${address} failed ${what ?? "a command"} (${errorText(error)}); ` +
        "it is unreachable or failing over: retry later",
      { cause: error },
    );
  }

  /** The node owning `key` when the adapter can tell, else the connection's address. */
  #addressOf(key: string | undefined): string {
    return (key === undefined ? undefined : this.#inner.addressOf?.(key)) ?? this.#inner.address;
  }

  #unreachable(): RedisUnavailableError {
    const reason = this.#lastError === undefined ? "not connected" : errorText(this.#lastError);
    return new RedisUnavailableError(
      `Redis is unreachable at ${this.#inner.address} (${reason}); check that it is running and reachable`,
      { cause: this.#lastError },
    );
  }
}

/** Replies meaning the node cannot serve the command now (moving slots, failover, loading, a lost quorum). */
const UNAVAILABLE_REPLIES =
  /^(?:MOVED|ASK|TRYAGAIN|CLUSTERDOWN|LOADING|MASTERDOWN|READONLY|NOREPLICAS|BUSY)\b/;

/** Whether an error is the connection's or the cluster's rather than Redis's answer to a command. */
function isUnavailability(error: unknown): boolean {
  if (error instanceof RedisUnavailableError || error instanceof TypeError || error instanceof RangeError) {
    return false;
  }
  const message = String((error as Error)?.message ?? error);
  // Redis's error replies start with an upper-case code ("WRONGTYPE ...", "ERR ..."); the client's own
  // errors do not ("Socket closed unexpectedly", "read ECONNRESET", "Too many Cluster redirections").
  return UNAVAILABLE_REPLIES.test(message) || !/^[A-Z][A-Z0-9_-]* /.test(message);
}

function errorText(error: unknown): string {
  const message = (error as Error)?.message || (error as { code?: string })?.code;
  return message ? String(message) : String(error);
}
