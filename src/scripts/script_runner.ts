/**
 * Runs the store's Lua scripts with EVALSHA, falling back to EVAL when Redis has
 * lost its script cache (NOSCRIPT after a restart, a failover or SCRIPT FLUSH);
 * EVAL caches the script again, so the next call is an EVALSHA hit.
 * @module
 */

import { createHash } from "node:crypto";

/** A Lua script and its SHA1 digest. */
export interface LuaScript {
  /** A short name for error messages. */
  readonly name: string;
  /** The Lua source. */
  readonly source: string;
  /** SHA1 of the source, as EVALSHA wants it. */
  readonly sha: string;
}

/** Sends one command to the node owning the key and resolves with the raw reply. */
export type SendToKey = (key: string, args: readonly string[]) => Promise<unknown>;

/**
 * Names a Lua script and computes its digest once.
 * @param name A short name for error messages.
 * @param source The Lua source.
 * @returns The script, ready for {@linkcode runScript}.
 */
export function defineScript(name: string, source: string): LuaScript {
  return { name, source, sha: createHash("sha1").update(source).digest("hex") };
}

/** What the caller makes of a script's outcome, in the same step as the script (no Promise more). */
export interface ScriptOutcome<T> {
  /** Turns the reply into the result. */
  reply?: (reply: unknown) => T;
  /** Turns a failure into the error to throw. */
  error?: (error: unknown) => unknown;
}

/**
 * Runs a one-key script: one round trip, two when the script cache was lost.
 * @param send Sends a command to the node owning `key`.
 * @param script The script.
 * @param key Its only key.
 * @param args Its ARGV.
 * @param outcome What to make of the reply and of a failure.
 * @returns The script's reply, or what `outcome.reply` made of it.
 */
export function runScript<T = unknown>(
  send: SendToKey,
  script: LuaScript,
  key: string,
  args: readonly string[],
  outcome: ScriptOutcome<T> = {},
): Promise<T> {
  const command = ["EVALSHA", script.sha, "1", key];
  for (const arg of args) command.push(arg);
  const { reply, error: mapError } = outcome;
  const failed = (error: unknown) => {
    throw mapError ? mapError(error) : error;
  };
  return send(key, command).then(reply, (error) => {
    if (!String((error as Error)?.message).startsWith("NOSCRIPT")) failed(error);
    return send(key, ["EVAL", script.source, ...command.slice(2)]).then(reply, failed);
  }) as Promise<T>;
}
