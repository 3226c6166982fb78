/**
 * Internal helpers shared by the client adapters: reply normalization and
 * connection-state reporting.
 * @module
 */

import type { ConnectionState } from "./connection.ts";

const decoder = new TextDecoder();

/**
 * Turns a client's reply into the RESP2-like values the store reads: strings,
 * numbers, `null` and arrays of those. Buffers become UTF-8 strings, RESP3
 * maps flat arrays, booleans what RESP2 would send (`1` / `null`).
 * @param value A reply as the client library resolved it.
 * @returns The normalized reply.
 */
export function normalizeReply(value: unknown): unknown {
  if (typeof value === "string" || typeof value === "number" || value === null) return value;
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(normalizeReply);
  if (value instanceof Uint8Array) return decoder.decode(value);
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "boolean") return value ? 1 : null;
  if (value instanceof Map) {
    return [...value].flatMap(([field, item]) => [normalizeReply(field), normalizeReply(item)]);
  }
  if (value instanceof Set) return [...value].map(normalizeReply);
  // RESP3 maps, as node-redis 5 gives them by default: a plain object.
  if (typeof value === "object" && !(value instanceof Error)) {
    return Object.entries(value).flatMap(([field, item]) => [field, normalizeReply(item)]);
  }
  return value;
}

/**
 * Makes sure a rejection is an `Error` whose message starts with Redis's own
 * error text (e.g. `NOSCRIPT ...`), as the store's checks expect.
 * @param error What the client rejected with.
 * @returns An `Error`.
 */
export function redisError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error), { cause: error });
}

/**
 * Runs a client call and normalizes its reply and its error.
 * @param reply The client's pending reply.
 * @returns The normalized reply.
 */
export function settleReply(reply: Promise<unknown>): Promise<unknown> {
  return reply.then(normalizeReply, (error) => Promise.reject(redisError(error)));
}

/**
 * Tells listeners when a connection becomes ready or stops being ready. Each
 * change is reported once; while down, errors are reported as they come.
 */
export class StateReporter {
  #listeners: ((state: ConnectionState) => void)[] = [];
  #isReady: () => boolean;
  #reported: boolean;

  /**
   * @param isReady Reads the client's current readiness.
   */
  constructor(isReady: () => boolean) {
    this.#isReady = isReady;
    this.#reported = isReady();
  }

  /**
   * Re-reads the readiness and reports it if it changed (or if it is down and
   * there is an error to tell).
   * @param error The error the client just reported, if any.
   */
  update(error?: unknown): void {
    const ready = this.#isReady();
    if (ready === this.#reported && (ready || error === undefined)) return;
    this.#reported = ready;
    const state: ConnectionState = ready || error === undefined ? { ready } : { ready, error };
    for (const listener of this.#listeners) listener(state);
  }

  /**
   * Subscribes a listener.
   * @param listener Called with every reported state.
   */
  listen(listener: (state: ConnectionState) => void): void {
    this.#listeners.push(listener);
  }
}

/**
 * Wraps a node's `send` so that SCAN sees through a client-side key prefix
 * (ioredis `keyPrefix`): the client adds the prefix to keys, not to SCAN
 * patterns, and SCAN replies carry it. The pattern gets the prefix and the
 * replied keys lose it, so bulk operations see the keys the store wrote.
 * @param send Sends a command to one node.
 * @param keyPrefix The client's key prefix; `send` is returned as it is without one.
 * @returns The wrapped `send`.
 */
export function scanThroughKeyPrefix(
  send: (args: readonly string[]) => Promise<unknown>,
  keyPrefix: unknown,
): (args: readonly string[]) => Promise<unknown> {
  if (typeof keyPrefix !== "string" || keyPrefix === "") return send;
  const escaped = keyPrefix.replace(/[*?[\]\\]/g, "\\$&");
  return async (args) => {
    if (String(args[0]).toUpperCase() !== "SCAN") return await send(args);
    const scan = [...args];
    const match = scan.findIndex((arg, i) => i >= 2 && String(arg).toUpperCase() === "MATCH");
    if (match === -1) scan.push("MATCH", `${escaped}*`);
    else scan[match + 1] = escaped + scan[match + 1];
    const [cursor, keys] = await send(scan) as [unknown, unknown[]];
    return [
      cursor,
      keys.map((key) => String(key)).filter((key) => key.startsWith(keyPrefix)).map((key) =>
        key.slice(keyPrefix.length)
      ),
    ];
  };
}

/**
 * Lets the process exit while a timer is pending (Node `unref`, Deno `unrefTimer`).
 * @param timer What `setTimeout` returned.
 */
export function unrefTimer(timer: unknown): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer) {
    (timer as { unref(): void }).unref();
  } else if (typeof timer === "number") {
    (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno?.unrefTimer?.(timer);
  }
}

/**
 * Once the store has connected a client itself, lets the app's own later
 * `client.connect()` resolve once the client is ready instead of throwing "already
 * open / already connecting" (ordinary startup code awaits other things between
 * creating the store and connecting its client). Only while the client is busy
 * connecting or connected: a closed client, and the client library's own
 * reconnection (ioredis calls `connect()` itself), go to the real `connect`.
 * @param target The client (its `connect` is shadowed by an own property).
 * @param busy Whether the client is connecting or connected now.
 * @param isReady Whether the client is ready now.
 * @param result What the app's `connect()` resolves to (node-redis: the client).
 */
export function shareConnect(
  target: object,
  busy: () => boolean,
  isReady: () => boolean,
  result: unknown,
): void {
  type Listener = (...args: unknown[]) => void;
  const client = target as {
    connect(...args: unknown[]): Promise<unknown>;
    once(event: string, listener: Listener): unknown;
    removeListener(event: string, listener: Listener): unknown;
  };
  const original = client.connect;
  Object.defineProperty(client, "connect", {
    configurable: true,
    writable: true,
    value(...args: unknown[]) {
      if (!busy()) return original.apply(client, args);
      if (isReady()) return Promise.resolve(result);
      return new Promise((resolve, reject) => {
        const ready = () => {
          client.removeListener("error", failed);
          resolve(result);
        };
        const failed = (error: unknown) => {
          client.removeListener("ready", ready);
          reject(error);
        };
        client.once("ready", ready);
        client.once("error", failed);
      });
    },
  });
}

/** Milliseconds between a Sentinel read answered by a replica and its retry. */
const RETRY_PAUSE = 50;

/** The plain reads the store sends; every other command it sends writes (or is a script that does). */
const READS = new Set(["HGETALL", "HMGET", "GET", "PTTL"]);

/** A Sentinel client's `send` guarded against a demoted master, see {@linkcode masterOnlyReads}. */
export interface MasterOnlyReads {
  /** Sends one command; a read answered by a replica is retried until `deadline` (ms since the epoch). */
  send(args: readonly string[], deadline?: number): Promise<unknown>;
  /** Stops the retries of commands sent without a deadline after `ms`; 10 s until told. */
  boundRetries(ms: number): void;
}

/**
 * Guards a Sentinel client's plain reads against a demoted master. Right after a
 * failover the client may still (or again) be connected to the old master, now a
 * replica resyncing from the new one: writes fail there (READONLY), but a read
 * would find an empty or stale session and log its user out. So each read goes
 * with a `ROLE` in the same round trip, and one answered by a replica is retried
 * until the client has followed the master, for as long as the caller waits.
 * @param send Sends one command to the node the client deems the master.
 * @param onReplica Called each time a replica answered (the local cache's tracked connection
 *   flushes then: what it tracks there is not what the master changes).
 * @returns The guarded `send`, and how to bound its retries.
 */
export function masterOnlyReads(
  send: (args: readonly string[]) => Promise<unknown>,
  onReplica?: () => void,
): MasterOnlyReads {
  let retryFor = 10_000;
  return {
    async send(args, deadline) {
      if (!READS.has(String(args[0]).toUpperCase())) return await send(args);
      const started = Date.now();
      const until = deadline ?? started + retryFor;
      for (;;) {
        const [role, reply] = await Promise.all([send(["ROLE"]), send(args)]);
        if ((role as unknown[])?.[0] === "master") return reply;
        onReplica?.();
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE));
        // No attempt once the caller has given up (its wait began a little earlier, so it has
        // failed the command with the store's own timeout error by now).
        if (Date.now() >= until) {
          throw new Error(`READONLY the node still answers as a replica after ${Date.now() - started} ms`);
        }
      }
    },
    boundRetries(ms) {
      retryFor = ms;
    },
  };
}
