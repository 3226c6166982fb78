/**
 * What the HTTP benchmark is given and what it measures: its settings and
 * options, and the samples and cells of its load and contention runs.
 * @module
 */

import type { StoreName } from "./_app_server.ts";
import type { RoundTripRow } from "./_round_trips.ts";
import type { SessionSize } from "./_sessions.ts";
import type { StalenessRow } from "./_staleness.ts";

/** Where Redis is, seen from the app, and how hard autocannon pushes. */
export interface Setting {
  /** `loopback` or `hop`. */
  name: string;
  /** autocannon connections (concurrent requests). */
  connections: number;
  /** Delay the proxy adds in each direction, ms; 0: no proxy. */
  delayMs: number;
}

/** Sizes and durations of an HTTP benchmark run. */
export interface HttpBenchOptions {
  /** Seconds per measured run. */
  duration: number;
  /** Rounds of interleaved runs per cell. */
  rounds: number;
  /** Seconds of unmeasured load per app and setting before the first round. */
  warmup: number;
  /** Session cookies created per store; requests are spread over them. */
  sessions: number;
  /** Requests of each kind, one at a time, whose round trips to Redis are counted (hop setting). */
  roundTripRequests: number;
  /** Share of requests that change their session. */
  writeRatios: number[];
  /** The settings to run. */
  settings: Setting[];
  /** Changes whose staleness window is timed (local cache), per setting. */
  stalenessChanges: number;
  /**
   * The app-CPU phase: many short runs of ours, connect-redis and the floor store on loopback,
   * interleaved, whose per-round ratios decide the app-CPU goals (0 rounds: none).
   */
  appCpu: { rounds: number; duration: number; writeRatios: number[] };
  /** The contention benchmark: writers on one session. */
  contention: { writers: number[]; duration: number; rounds: number; settings: string[] };
  /** Where autocannon is installed. */
  depsDir: string;
  /** Progress messages. */
  log(message: string): void;
}

/** Redis figures of one run, as deltas of INFO. */
export interface RedisSample {
  /** Commands clients sent (EVALSHA counts once; the commands a script runs inside do not count). */
  clientCommands: number;
  /** Commands Redis executed, those run inside scripts included. */
  executedCommands: number;
  /** The delta of `total_commands_processed`, minus our own INFO calls. */
  totalProcessed: number;
  /** Redis's own CPU time, used_cpu_user + used_cpu_sys (INFO cpu), ms. */
  cpuMs: number;
  /** Seconds between the two INFO snapshots. */
  seconds: number;
  /** Time Redis spent executing commands (Σ usec of INFO commandstats, scripts included), µs. */
  commandUsec: number;
  /** Calls per command name. */
  calls: Record<string, number>;
  /** Time Redis spent executing each command, µs (a script's includes what it runs inside). */
  usec: Record<string, number>;
}

/** One measured run of one store. */
export interface MixSample {
  round: number;
  /** 2xx responses autocannon saw. */
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  rps: number;
  p50: number | null;
  p99: number | null;
  /** Requests that reached the session middleware (counted by the app). */
  appRequests: number;
  /** CPU time of the app process, ms (10 ms resolution). */
  appCpuMs: number | null;
  redis?: RedisSample;
}

/** The runs of one store in one setting at one write ratio. */
export interface MixCell {
  setting: string;
  writeRatio: number;
  store: StoreName;
  samples: MixSample[];
}

/** One contention run. */
export interface ContentionSample {
  round: number;
  ok: number;
  non2xx: number;
  seconds: number;
  rps: number;
  p50: number | null;
  p99: number | null;
  /** Commits the store reported done, per writer. */
  commits: number[];
  /** Commits that failed (errors reported by the store). */
  commitErrors: number;
  /** Each writer's own counter as stored at the end. */
  stored: number[];
  /** Σ (commits − stored own counter): own-property writes lost. */
  lostOwn: number;
  /** Σ commits − stored shared counter: increments of the shared counter lost. */
  lostShared: number;
  /** Requests that reached the session middleware (counted by the app). */
  appRequests: number;
  /** Redis INFO deltas over the run (conflict retries show as extra commands per request). */
  redis: RedisSample;
}

/** The contention runs of one store with N writers. */
export interface ContentionCell {
  setting: string;
  writers: number;
  store: StoreName;
  samples: ContentionSample[];
}

/** Redis memory of one stored session. */
export interface MemoryRow {
  size: SessionSize;
  store: string;
  bytes: number;
  encoding: string;
}

/** Everything the HTTP benchmark measured. */
export interface HttpResults {
  /** Median PING round trip, ms, straight and through each delay proxy. */
  rtt: Record<string, number>;
  /** Redis's CPU time while no client sent anything (its background work), ms per second. */
  redisIdleCpuMsPerSecond: number;
  mix: MixCell[];
  /** The app-CPU phase's runs (loopback; absent in older results). */
  appCpu?: MixCell[];
  contention: ContentionCell[];
  memory: MemoryRow[];
  /** Names of the commands our Lua scripts call (not counted as client commands). */
  scriptCommands: string[];
  /** Round trips per kind of request, counted through the delay proxy. */
  roundTrips: RoundTripRow[];
  /** The local cache's staleness window across two app servers (absent in older results). */
  staleness?: StalenessRow[];
}
