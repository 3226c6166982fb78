/**
 * What Redis did during a run, from INFO: commands and their time (commandstats),
 * CPU time, and which commands are our scripts' own rather than clients'.
 * @module
 */

import type { createClient } from "redis";
import type { RedisSample } from "./_http_types.ts";
import { ALL_SCRIPTS } from "../src/scripts/all_scripts.ts";
import { CONVERT_SCRIPT } from "../src/scripts/convert_script.ts";
import { LOAD_SCRIPT } from "../src/scripts/load_script.ts";

/**
 * Commands our scripts run inside Redis on the benchmark's paths, read from their Lua.
 * Redis 7.0's commandstats count a script's inner calls like clients' commands; these
 * names tell them apart. The load and convert scripts are left out: they run only in lock
 * mode, with `renewAfter: 0`, or on connect-redis's strings (none here), and their HGETALL,
 * GET and PTTL are what the store also sends as plain commands.
 */
export function scriptCommandNames(): string[] {
  const names = new Set<string>();
  for (const script of ALL_SCRIPTS.filter((s) => s !== LOAD_SCRIPT && s !== CONVERT_SCRIPT)) {
    // redis.call('X', …), redis.pcall('X', …), and the scripts' sliced('X', …) helper.
    for (const match of script.source.matchAll(/(?:redis\.p?call|sliced)\('([A-Za-z]+)'/g)) {
      names.add(match[1].toLowerCase());
    }
  }
  return [...names].sort();
}

/** INFO stats, commandstats and cpu at one moment. */
export interface InfoSnapshot {
  /** When it was taken (performance.now()). */
  at: number;
  calls: Map<string, number>;
  usec: Map<string, number>;
  total: number;
  cpuMs: number;
}

/** The benchmark's own connection to Redis, for INFO. */
export type Admin = ReturnType<typeof createClient>;

/** Takes an INFO snapshot. */
export async function redisInfo(admin: Admin): Promise<InfoSnapshot> {
  const at = performance.now();
  return parseInfo(String(await admin.sendCommand(INFO_SECTIONS)), at);
}

/** The INFO sections a snapshot reads. */
export const INFO_SECTIONS = ["INFO", "stats", "commandstats", "cpu"];

/**
 * Reads a snapshot out of the text of INFO stats, commandstats and cpu.
 * @param text INFO's answer.
 * @param at When it was asked (performance.now()).
 * @returns The snapshot.
 */
export function parseInfo(text: string, at: number): InfoSnapshot {
  const calls = new Map<string, number>();
  const usec = new Map<string, number>();
  let total = 0;
  let cpu = 0;
  for (const line of text.split("\r\n")) {
    if (line.startsWith("cmdstat_")) {
      const name = line.slice(8, line.indexOf(":"));
      calls.set(name, Number(/calls=(\d+)/.exec(line)?.[1] ?? 0));
      usec.set(name, Number(/usec=(\d+)/.exec(line)?.[1] ?? 0));
    } else if (line.startsWith("total_commands_processed:")) {
      total = Number(line.split(":")[1]);
    } else if (line.startsWith("used_cpu_sys:") || line.startsWith("used_cpu_user:")) {
      cpu += Number(line.split(":")[1]) * 1000;
    }
  }
  return { at, calls, usec, total, cpuMs: cpu };
}

/** INFO deltas between two snapshots, our own INFO calls left out. */
export function redisDelta(
  before: InfoSnapshot,
  after: InfoSnapshot,
  inner: ReadonlySet<string>,
): RedisSample {
  const calls: Record<string, number> = {};
  const usec: Record<string, number> = {};
  for (const [name, count] of after.calls) {
    const delta = count - (before.calls.get(name) ?? 0);
    if (delta > 0 && name !== "info") {
      calls[name] = delta;
      usec[name] = (after.usec.get(name) ?? 0) - (before.usec.get(name) ?? 0);
    }
  }
  const executed = Object.values(calls).reduce((a, b) => a + b, 0);
  const scripts = (calls.evalsha ?? 0) + (calls.eval ?? 0);
  // Scripts ran: what they call inside does not count as sent by a client (see
  // scriptCommandNames). connect-redis runs no script, so all it sends counts.
  const client = scripts === 0
    ? executed
    : Object.entries(calls).filter(([name]) => !inner.has(name)).reduce((a, [, n]) => a + n, 0);
  const infoCalls = (after.calls.get("info") ?? 0) - (before.calls.get("info") ?? 0);
  return {
    clientCommands: client,
    executedCommands: executed,
    totalProcessed: after.total - before.total - infoCalls,
    cpuMs: after.cpuMs - before.cpuMs,
    seconds: (after.at - before.at) / 1000,
    // A script's usec includes the commands it runs inside: count only what clients sent.
    commandUsec: Object.entries(usec).reduce(
      (total, [name, time]) => inner.has(name) && scripts > 0 ? total : total + time,
      0,
    ),
    calls,
    usec,
  };
}
