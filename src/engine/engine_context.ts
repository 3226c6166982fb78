/**
 * What every part of the engine shares: the guarded connection, the options,
 * the codec, and running a script or a command on a session's key with errors
 * that say what is wrong.
 * @module
 */

import type { SessionReadCache } from "../cache/tracker.ts";
import type { GuardedConnection } from "../clients/guarded_connection.ts";
import { SessionDataError } from "../errors.ts";
import type { ResolvedOptions } from "../options/options.ts";
import { type LuaScript, runScript } from "../scripts/script_runner.ts";
import { RELEASE_SCRIPT } from "../scripts/release_script.ts";
import type { SessionCodec } from "./session_codec.ts";
import { type Snapshot, snapshotOf } from "./snapshot.ts";
import { StoreObserver } from "../observe/observer.ts";
import { FieldCipher } from "../encryption/field_cipher.ts";

/** One store's connection, options and codec. Snapshots it takes name it as their owner. */
export class EngineContext {
  /** The connection, every command time-bounded. */
  readonly connection: GuardedConnection;
  /** The resolved options. */
  readonly options: ResolvedOptions;
  /** Parses and serializes session fields. */
  readonly codec: SessionCodec;
  /** The local cache of session reads (option `localCache`), if any. */
  readonly readCache: SessionReadCache | undefined;
  /** Counts, measures and announces what the store does (events, `stats()`, metrics). */
  readonly observer: StoreObserver;
  /** Encrypts and decrypts property values (option `encrypt`), if any. */
  readonly cipher: FieldCipher | undefined;
  #send = (key: string, args: readonly string[]) => this.connection.send(key, args);

  /**
   * @param connection The guarded connection.
   * @param options The resolved options.
   * @param codec The codec.
   * @param readCache The local cache of session reads, if any.
   */
  constructor(
    connection: GuardedConnection,
    options: ResolvedOptions,
    codec: SessionCodec,
    readCache?: SessionReadCache,
  ) {
    this.connection = connection;
    this.options = options;
    this.codec = codec;
    this.readCache = readCache;
    this.observer = new StoreObserver(options.on, options.metrics, connection.address);
    this.cipher = options.encrypt && new FieldCipher(options.encrypt);
  }

  /** The Redis key of a session. */
  key(sid: string): string {
    return this.options.prefix + sid;
  }

  /** The snapshot this store took of `session`, if any. */
  snapshotOf(session: object, sid: string): Snapshot | undefined {
    return snapshotOf(session, sid, this);
  }

  /** Lock mode: gives up the lock a session's snapshot holds, if it still does. */
  async releaseLock(sid: string, snapshot: Snapshot | undefined): Promise<void> {
    const token = snapshot?.lockToken;
    if (!snapshot || !token) return;
    snapshot.lockToken = undefined;
    await this.run(RELEASE_SCRIPT, sid, [token]);
  }

  /**
   * Runs a script on a session's key. Every script may write the key (a commit, renewal,
   * destroy, conversion, even a failed compare-and-set's reload), so the local cache forgets
   * the key before it is sent and again once it is answered.
   * @param then What to make of the reply, in the same step (a Promise step costs more than
   *   the rest of a destroy's own work).
   */
  run<T = unknown>(script: LuaScript, sid: string, args: string[], then?: (reply: unknown) => T): Promise<T> {
    const key = this.key(sid);
    if (this.readCache !== undefined || this.observer.telemetry.active) {
      return this.#runWatched(script, key, args, then);
    }
    // The common case, no cache to keep and no round trip to time: no step but the script's.
    try {
      return runScript(this.#send, script, key, args, {
        reply: then,
        error: (error) => notASession(key, error),
      });
    } catch (error) {
      return Promise.reject(notASession(key, error));
    }
  }

  async #runWatched<T>(
    script: LuaScript,
    key: string,
    args: string[],
    then: ((reply: unknown) => T) | undefined,
  ): Promise<T> {
    this.readCache?.drop(key);
    const started = this.observer.telemetry.active ? performance.now() : 0;
    let reply: unknown;
    try {
      reply = await runScript(this.#send, script, key, args);
      if (started) {
        this.observer.telemetry.roundTrip("EVALSHA", script.name, (performance.now() - started) / 1000);
      }
    } catch (error) {
      if (started) {
        this.observer.telemetry.roundTrip(
          "EVALSHA",
          script.name,
          (performance.now() - started) / 1000,
          error,
        );
      }
      throw notASession(key, error);
    } finally {
      this.readCache?.drop(key);
    }
    return then ? then(reply) : reply as T;
  }

  /** Whether the Redis holding the session never evicts keys (no maxmemory, or `noeviction`). */
  async evictionImpossible(sid: string): Promise<boolean> {
    try {
      const info = String(await this.send(sid, ["INFO", "memory"]));
      const maxmemory = /^maxmemory:(\d+)/m.exec(info)?.[1];
      const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
      return maxmemory === "0" || policy === "noeviction";
    } catch {
      return false; // cannot tell: do not risk undoing a logout
    }
  }

  /** Sends a plain command on a session's key. */
  async send(sid: string, args: readonly string[]): Promise<unknown> {
    const key = this.key(sid);
    const started = this.observer.telemetry.active ? performance.now() : 0;
    try {
      const reply = await this.connection.send(key, args);
      if (started) {
        this.observer.telemetry.roundTrip(args[0], undefined, (performance.now() - started) / 1000);
      }
      return reply;
    } catch (error) {
      if (started) {
        this.observer.telemetry.roundTrip(args[0], undefined, (performance.now() - started) / 1000, error);
      }
      throw notASession(key, error);
    }
  }
}

/** Whether Redis refused a command for the key's type. */
export function isWrongType(error: unknown): boolean {
  return String((error as Error)?.message).includes("WRONGTYPE");
}

function notASession(key: string, error: unknown): unknown {
  if (!isWrongType(error)) return error;
  return new SessionDataError(
    `Redis key ${JSON.stringify(key)} is not a session (${(error as Error).message}); ` +
      "nothing was changed: remove the key or use another prefix",
    { cause: error },
  );
}
