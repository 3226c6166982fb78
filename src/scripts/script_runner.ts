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

/**
 * Runs a one-key script: one round trip, two when the script cache was lost.
 * @param send Sends a command to the node owning `key`.
 * @param script The script.
 * @param key Its only key.
 * @param args Its ARGV.
 * @returns The script's reply.
 */
export async function runScript(
  send: SendToKey,
  script: LuaScript,
  key: string,
  args: readonly string[],
): Promise<unknown> {
  try {
    return await send(key, ["EVALSHA", script.sha, "1", key, ...args]);
  } catch (error) {
    if (!String((error as Error)?.message).startsWith("NOSCRIPT")) throw error;
    return await send(key, ["EVAL", script.source, "1", key, ...args]);
  }
}
