/**
 * Starts a throwaway Redis Cluster on loopback, for the tests: three masters
 * (no replicas), each a redis-server from {@linkcode startRedisServer} keeping
 * its cluster config in a temporary directory, joined by
 * `redis-cli --cluster create`. Data lives in memory only.
 * @module
 */

import {
  portIsFree,
  PortTakenError,
  redisCliCommand,
  type RedisServer,
  startRedisServer,
} from "./redis_server.ts";

/** A running local Redis Cluster. */
export interface RedisCluster extends AsyncDisposable {
  /** The masters, in the order their ports were given to `redis-cli --cluster create`. */
  readonly masters: readonly RedisServer[];
  /** The masters' ports (127.0.0.1). */
  readonly ports: readonly number[];
  /** `redis://127.0.0.1:PORT` of every master: root nodes for cluster clients. */
  readonly urls: readonly string[];
  /** Kills every master (SIGKILL: a crash) and waits for them to exit. */
  kill(): Promise<void>;
  /**
   * Starts every master again on its port after {@linkcode kill}; each reloads its
   * cluster config (its node id and slots), so the cluster comes back as it was, empty.
   */
  restart(): Promise<void>;
}

/** Options of {@linkcode startRedisCluster}. */
export interface RedisClusterOptions {
  /**
   * How many masters; the 16384 slots are split evenly between them.
   * @default {3}
   */
  masters?: number;
  /**
   * Milliseconds a node may be unreachable before the others call it failing.
   * @default {2000}
   */
  nodeTimeout?: number;
}

/** Every slot of a Redis Cluster. */
const SLOTS = 16384;

/**
 * Starts a Redis Cluster and waits until every node reports `cluster_state:ok`
 * and knows an owner for every slot.
 * @param options How many masters and the node timeout.
 * @returns The running cluster; `await using` kills it and removes its files.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const count = options.masters ?? 3;
  if (!Number.isInteger(count) || count < 3) {
    throw new RangeError(`A Redis Cluster needs at least 3 masters, got ${count}`);
  }
  const nodeTimeout = options.nodeTimeout ?? 2000;
  const dir = await Deno.makeTempDir({ prefix: "redis-cluster-" });
  const masters: RedisServer[] = [];
  const cluster: RedisCluster = {
    masters,
    get ports() {
      return masters.map((server) => server.port);
    },
    get urls() {
      return masters.map((server) => server.url);
    },
    async kill() {
      await Promise.all(masters.map((server) => server.kill()));
    },
    async restart() {
      await Promise.all(masters.map((server) => server.restart()));
      await waitUntilHealthy(cluster.ports, count);
    },
    async [Symbol.asyncDispose]() {
      await cluster.kill();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
  const nodeArgs = (port: number) => [
    "--cluster-enabled",
    "yes",
    "--cluster-config-file",
    `${dir}/nodes-${port}.conf`,
    "--cluster-node-timeout",
    String(nodeTimeout),
    "--dir",
    dir,
  ];
  let retried = 0;
  try {
    const ports = clusterPorts(count);
    for (let i = 0; i < ports.length; i++) {
      try {
        masters.push(await startRedisServer({ port: ports[i], args: nodeArgs(ports[i]) }));
      } catch (error) {
        // Taken since it was found free (by another test process): another pair, once more.
        if (!(error instanceof PortTakenError) || retried++ >= 5) throw error;
        ports[i] = clusterPorts(1, ports)[0];
        i--;
      }
    }
    const create = await new Deno.Command(redisCliCommand(), {
      args: ["--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`), "--cluster-yes"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!create.success) {
      const output = new TextDecoder().decode(create.stdout) + new TextDecoder().decode(create.stderr);
      throw new Error(`${redisCliCommand()} --cluster create failed on ports ${ports.join(", ")}: ${output}`);
    }
    await waitUntilHealthy(ports, count);
    return cluster;
  } catch (error) {
    await cluster[Symbol.asyncDispose]();
    throw error;
  }
}

/**
 * Free loopback ports whose cluster bus port (port + 10000) is free too.
 * @param count How many.
 * @param avoid Ports already in use by this cluster.
 * @returns Distinct ports.
 */
export function clusterPorts(count: number, avoid: readonly number[] = []): number[] {
  const ports: number[] = [];
  for (let attempt = 0; ports.length < count; attempt++) {
    if (attempt > 1000) throw new Error("No free port pairs (port, port + 10000) on 127.0.0.1");
    const port = 20000 + Math.floor(Math.random() * 35000);
    if ([...ports, ...avoid].some((taken) => Math.abs(taken - port) === 10000 || taken === port)) continue;
    if (portIsFree(port) && portIsFree(port + 10000)) ports.push(port);
  }
  return ports;
}

/** Waits until every node says `cluster_state:ok`, knows every node and sees every slot served. */
async function waitUntilHealthy(ports: readonly number[], count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  let last = "";
  while (Date.now() < deadline) {
    const infos = await Promise.all(ports.map((port) => clusterInfo(port)));
    const healthy = infos.every((info) =>
      info.get("cluster_state") === "ok" && info.get("cluster_slots_ok") === String(SLOTS) &&
      info.get("cluster_known_nodes") === String(count)
    );
    if (healthy) return;
    last = infos.map((info, i) => `${ports[i]}: state ${info.get("cluster_state")}`).join(", ");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`The Redis Cluster on ports ${ports.join(", ")} did not become healthy in 15 s (${last})`);
}

async function clusterInfo(port: number): Promise<Map<string, string>> {
  const { stdout } = await new Deno.Command(redisCliCommand(), {
    args: ["-p", String(port), "cluster", "info"],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  const info = new Map<string, string>();
  for (const line of new TextDecoder().decode(stdout).split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) info.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return info;
}
