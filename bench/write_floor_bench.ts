/**
 * Redis's in-situ write floor: what Redis spends per request on each store's
 * command pattern with no app at all. 32 loops each send one request at a time
 * over 300 sessions (the HTTP benchmark's shape), a share of them writes, on a
 * fresh redis-server, in two shapes: each loop on its own connection, and all
 * loops on one shared connection, as the apps' node-redis client multiplexes
 * them (what is sent in the same tick leaves in one write); Redis's CPU per request comes from INFO cpu
 * before and after each run, net of Redis at rest, and the scripts' time from
 * INFO commandstats. The patterns:
 *
 * - connect-redis: a read is GET then EXPIRE (its touch), a write GET then SET … EX;
 * - ours: a read is HGETALL, a write HGETALL then EVALSHA of the commit, one property
 *   changed and the expiry kept: the path a changed express-session request takes in the
 *   HTTP benchmark (the store renews the key's life lazily, so its commits run HMGET and HSET
 *   and no PEXPIRE there);
 * - trivial: ours with a script that only returns `{'ok'}` in place of the commit, same arguments;
 * - plain: ours with the commit's HMGET and HSET sent as plain commands in one write
 *   (nothing checked, not atomic: a reference only);
 * - fcall: ours with the commit's body run as a Redis Function (FCALL).
 *
 * At 0 % writes the last three are ours; only connect-redis and ours run.
 *
 * ```sh
 * deno run -A bench/write_floor_bench.ts                 # 6 rounds of 1 s runs
 * deno run -A bench/write_floor_bench.ts --rounds=3 --duration=0.5
 * ```
 * @module
 */

import { startRedisServer } from "../scripts/redis_server.ts";
import { COMMIT_SCRIPT } from "../src/scripts/commit_script.ts";
import { INFO_SECTIONS, type InfoSnapshot, parseInfo, redisDelta } from "./_redis_info.ts";
import { type Reply, RespConnection } from "./_resp_client.ts";
import { DAY, expiry, SESSION, TRIVIAL_SCRIPT, WHOLE } from "./_script_cases.ts";
import { functionLibrary } from "./script_bench.ts";

/** The command patterns measured. */
export const FLOOR_PATTERNS = ["connect-redis", "ours", "trivial", "plain", "fcall"] as const;
export type FloorPattern = (typeof FLOOR_PATTERNS)[number];
/** Each loop on its own connection, or every loop on one. */
export type FloorShape = "separate" | "shared";

/** One run of one pattern. */
export interface FloorSample {
  round: number;
  shape: FloorShape;
  pattern: FloorPattern;
  writeRatio: number;
  requests: number;
  /** Writes among them. */
  writes: number;
  /** Commits that found another loop's change to their field (a conflict: nothing written). */
  conflicts: number;
  /** Redis's used_cpu_user + used_cpu_sys over the run, ms. */
  cpuMs: number;
  seconds: number;
  /** Calls and µs (INFO commandstats) per command name over the run. */
  calls: Record<string, number>;
  usec: Record<string, number>;
}

/** Everything the write-floor benchmark measured. */
export interface WriteFloorResults {
  /** Loops sending requests. */
  connections: number;
  sessions: number;
  duration: number;
  rounds: number;
  /** Redis's CPU with every connection open and nothing sent, ms per second. */
  idleCpuMsPerSecond: number;
  samples: FloorSample[];
}

/** Options of {@linkcode measureWriteFloor}. */
export interface WriteFloorOptions {
  /**
   * Connections, each sending one request at a time.
   * @default {32}
   */
  connections?: number;
  /**
   * Sessions per pattern the requests are spread over.
   * @default {300}
   */
  sessions?: number;
  /**
   * Seconds per run.
   * @default {1}
   */
  duration?: number;
  /**
   * Rounds; the patterns' order rotates each round.
   * @default {6}
   */
  rounds?: number;
  /**
   * The shapes to run.
   * @default {["shared", "separate"]}
   */
  shapes?: FloorShape[];
  /**
   * Shares of requests that write.
   * @default {[0, 0.2, 0.5]}
   */
  writeRatios?: number[];
}

/** One request of a pattern on one session; returns whether a commit found a conflict. */
type Request = (conn: RespConnection, key: string, write: boolean) => Promise<boolean>;

/** The `visits` value of an HGETALL reply (the field the write changes). */
function visits(reply: Reply): string {
  const fields = reply as string[];
  const at = fields.indexOf("visits");
  return at >= 0 && at % 2 === 0 ? fields[at + 1] : "0";
}

/** The commit's arguments after its key: the expiry kept, `visits` from its base to one more. */
function commitArgs(base: string): string[] {
  return [...expiry(Date.now(), true), "u", "visits", base, String(Number(base) + 1)];
}

/** Ours with `head` in place of EVALSHA commit on a write. */
function ours(head: string[]): Request {
  return async (conn, key, write) => {
    const [hash] = await conn.send(["HGETALL", key]);
    if (!write) return false;
    const [reply] = await conn.send([...head, "1", key, ...commitArgs(visits(hash))]);
    return Array.isArray(reply) && reply[0] === "conflict";
  };
}

const REQUESTS: Record<FloorPattern, Request> = {
  async "connect-redis"(conn, key, write) {
    const [value] = await conn.send(["GET", key]);
    if (!write) {
      await conn.send(["EXPIRE", key, String(Number(DAY) / 1000)]);
      return false;
    }
    const session = JSON.parse(value as string);
    session.visits++;
    await conn.send(["SET", key, JSON.stringify(session), "EX", String(Number(DAY) / 1000)]);
    return false;
  },
  ours: ours(["EVALSHA", COMMIT_SCRIPT.sha]),
  trivial: ours(["EVALSHA", TRIVIAL_SCRIPT.sha]),
  fcall: ours(["FCALL", COMMIT_SCRIPT.name]),
  async plain(conn, key, write) {
    const [hash] = await conn.send(["HGETALL", key]);
    if (!write) return false;
    const [, , , , , , field, , next] = commitArgs(visits(hash));
    await conn.send(["HMGET", key, "\0dead", "\0ttl", field], ["HSET", key, field, next]);
    return false;
  },
};

/** Writes each pattern's sessions: a hash as our store keeps it, a JSON string for connect-redis. */
async function writeSessions(conn: RespConnection, sessions: number): Promise<void> {
  const exp = String(Date.now() + Number(DAY));
  for (const pattern of FLOOR_PATTERNS) {
    for (let i = 0; i < sessions; i++) {
      const key = `${pattern}:${i}`;
      await conn.send(
        pattern === "connect-redis"
          ? ["SET", key, WHOLE, "PX", DAY]
          : ["HSET", key, ...SESSION, "\0ttl", DAY, "\0exp", exp],
        ["PEXPIRE", key, DAY],
      );
    }
  }
}

/** A small seeded generator (xorshift32): the same requests in every run of a round. */
function random(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Every connection loops requests of one pattern until the time is up. */
async function drive(
  conns: RespConnection[],
  pattern: FloorPattern,
  writeRatio: number,
  seconds: number,
  sessions: number,
  seed: number,
): Promise<{ requests: number; writes: number; conflicts: number }> {
  const request = REQUESTS[pattern];
  const until = performance.now() + seconds * 1000;
  const counts = { requests: 0, writes: 0, conflicts: 0 };
  await Promise.all(conns.map(async (conn, c) => {
    const next = random(seed * 131 + c + 1);
    while (performance.now() < until) {
      const write = next() < writeRatio;
      const conflict = await request(conn, `${pattern}:${Math.floor(next() * sessions)}`, write);
      counts.requests++;
      if (write) counts.writes++;
      if (conflict) counts.conflicts++;
    }
  }));
  return counts;
}

/**
 * Runs every pattern at every write ratio, interleaved, on a fresh redis-server.
 * @param options Connections, sessions, durations, rounds, write ratios.
 * @returns Every run, with Redis at rest.
 */
export async function measureWriteFloor(options: WriteFloorOptions = {}): Promise<WriteFloorResults> {
  const { connections = 32, sessions = 300, duration = 1, rounds = 6, writeRatios = [0, 0.2, 0.5] } = options;
  const { shapes = ["shared", "separate"] } = options;
  await using server = await startRedisServer({ args: ["--save", "", "--appendonly", "no"] });
  await using admin = await RespConnection.open(server.port);
  for (const script of [TRIVIAL_SCRIPT, COMMIT_SCRIPT]) await admin.send(["SCRIPT", "LOAD", script.source]);
  await admin.send(["FUNCTION", "LOAD", "REPLACE", functionLibrary(COMMIT_SCRIPT)]);
  await writeSessions(admin, sessions);
  const own = await Promise.all(Array.from({ length: connections }, () => RespConnection.open(server.port)));
  const shared = await RespConnection.open(server.port);
  const loops: Record<FloorShape, RespConnection[]> = { separate: own, shared: own.map(() => shared) };
  try {
    const info = async (): Promise<InfoSnapshot> => {
      const at = performance.now();
      const [text] = await admin.send(INFO_SECTIONS);
      return parseInfo(String(text), at);
    };
    for (const pattern of FLOOR_PATTERNS) {
      for (const shape of shapes) await drive(loops[shape], pattern, 0.2, duration / 4, sessions, 1);
    }
    const rest = await info();
    await new Promise((resolve) => setTimeout(resolve, Math.max(1000, duration * 1000)));
    const idle = redisDelta(rest, await info(), new Set());
    const samples: FloorSample[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const shape of shapes) {
        for (const writeRatio of writeRatios) {
          const patterns = writeRatio > 0 ? FLOOR_PATTERNS : FLOOR_PATTERNS.slice(0, 2);
          for (const [i] of patterns.entries()) {
            const pattern = patterns[(i + round) % patterns.length];
            const before = await info();
            const counts = await drive(loops[shape], pattern, writeRatio, duration, sessions, round + 2);
            const { cpuMs, seconds, calls, usec } = redisDelta(before, await info(), new Set());
            samples.push({ round, shape, pattern, writeRatio, ...counts, cpuMs, seconds, calls, usec });
          }
        }
      }
    }
    return {
      connections,
      sessions,
      duration,
      rounds,
      idleCpuMsPerSecond: idle.cpuMs / idle.seconds,
      samples,
    };
  } finally {
    for (const conn of [...own, shared]) conn.close();
  }
}

if (import.meta.main) {
  const { renderWriteFloor } = await import("./_write_floor_report.ts");
  const number = (name: string) => {
    const arg = Deno.args.find((a) => a.startsWith(`--${name}=`));
    return arg === undefined ? undefined : Number(arg.slice(name.length + 3));
  };
  const results = await measureWriteFloor({ rounds: number("rounds"), duration: number("duration") });
  console.log(renderWriteFloor(results));
}
