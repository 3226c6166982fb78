/**
 * Sends many commands to a redis-server at once through `redis-cli --pipe` and
 * reads what Redis spent on them from `INFO commandstats`: the microbenchmark's
 * way to measure a script inside Redis, free of any client's cost.
 * @module
 */

import { redisCliCommand } from "../scripts/redis_server.ts";

const encoder = new TextEncoder();

/** One command in Redis's wire format (RESP arrays of bulk strings). */
export function resp(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${encoder.encode(arg).length}\r\n${arg}\r\n`;
  return out;
}

/** Runs one command through redis-cli and returns its output (raw, no formatting). */
export async function cli(port: number, args: readonly string[]): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command(redisCliCommand(), {
    args: ["-p", String(port), "--no-raw", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  if (!success) throw new Error(`redis-cli ${args.join(" ")} failed: ${new TextDecoder().decode(stderr)}`);
  return text;
}

/**
 * Pipes the commands `round(i)` for i in [0, calls) into Redis, the whole batch at once.
 * @param port The server's port on 127.0.0.1.
 * @param calls How many rounds.
 * @param round The commands of round i, already in wire format.
 */
export async function pipe(port: number, calls: number, round: (i: number) => string): Promise<void> {
  const child = new Deno.Command(redisCliCommand(), {
    args: ["-p", String(port), "--pipe"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  let chunk = "";
  for (let i = 0; i < calls; i++) {
    chunk += round(i);
    if (chunk.length > 1 << 20) {
      await writer.write(encoder.encode(chunk));
      chunk = "";
    }
  }
  await writer.write(encoder.encode(chunk));
  await writer.close();
  const { success, stdout } = await child.output();
  const report = new TextDecoder().decode(stdout);
  const errors = Number(/errors: (\d+)/.exec(report)?.[1] ?? NaN);
  if (!success || errors !== 0) throw new Error(`redis-cli --pipe reported errors: ${report.trim()}`);
}

/** Calls and µs per call of each command since the last `CONFIG RESETSTAT`. */
export async function commandStats(
  port: number,
): Promise<Map<string, { calls: number; usecPerCall: number }>> {
  const info = await cli(port, ["INFO", "commandstats"]);
  const stats = new Map<string, { calls: number; usecPerCall: number }>();
  for (const match of info.matchAll(/cmdstat_([\w|]+):calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/g)) {
    stats.set(match[1], { calls: Number(match[2]), usecPerCall: Number(match[3]) });
  }
  return stats;
}

/** The CPU time of Redis's main thread (user + system), in µs: immune to time lost to other processes. */
export async function mainThreadCpuUsec(port: number): Promise<number> {
  const info = await cli(port, ["INFO", "cpu"]);
  const value = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? NaN);
  return (value("used_cpu_user_main_thread") + value("used_cpu_sys_main_thread")) * 1e6;
}
