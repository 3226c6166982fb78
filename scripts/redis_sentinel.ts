/**
 * Starts a throwaway Redis Sentinel setup on loopback, for the tests: a master,
 * a replica of it and one sentinel watching them (`redis-server --sentinel`
 * with a generated config in a temporary directory), each a server from
 * {@linkcode startRedisServer} on a free port. Data lives in memory only.
 * @module
 */

import { redisCliCommand, type RedisServer, startRedisServer } from "./redis_server.ts";

/** A running master, replica and sentinel. */
export interface RedisSentinel extends AsyncDisposable {
  /** The name the sentinel knows the master by. */
  readonly name: string;
  /** The sentinel's port (127.0.0.1). */
  readonly port: number;
  /** The ports of the two data servers, the first master at the start. */
  readonly dataPorts: readonly number[];
  /**
   * The master's port as the sentinel announces it.
   * @returns The port.
   */
  masterPort(): Promise<number>;
  /**
   * Waits until the replica has every write the master acknowledged, then runs
   * `SENTINEL FAILOVER` and waits until the replica is the master, the sentinel
   * announces it, and the old master replicates from it.
   * @returns The ports of the old and the new master.
   */
  failover(): Promise<{ from: number; to: number }>;
}

/** Options of {@linkcode startRedisSentinel}. */
export interface RedisSentinelOptions {
  /**
   * The master's name.
   * @default {"mymaster"}
   */
  name?: string;
}

/**
 * Starts a master, a replica and a sentinel, and waits until the replica is in
 * sync and the sentinel knows both.
 * @param options The master's name.
 * @returns The running setup; `await using` kills it and removes its files.
 */
export async function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<RedisSentinel> {
  const name = options.name ?? "mymaster";
  const dir = await Deno.makeTempDir({ prefix: "redis-sentinel-" });
  const servers: RedisServer[] = [];
  const dispose = async () => {
    await Promise.all(servers.map((server) => server.kill()));
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    // Either may be the master after a failover; neither waits before a full sync, and a
    // replica loads it from the socket, so no dump file lands anywhere.
    const data = [
      "--repl-diskless-sync",
      "yes",
      "--repl-diskless-sync-delay",
      "0",
      "--repl-diskless-load",
      "swapdb",
      "--dir",
      dir,
    ];
    const master = await startRedisServer({ args: data });
    servers.push(master);
    const replica = await startRedisServer({
      args: [...data, "--replicaof", "127.0.0.1", String(master.port)],
    });
    servers.push(replica);
    await waitFor(`the replica on ${replica.port} to sync`, async () => await linkUp(replica.port));

    const config = `${dir}/sentinel.conf`;
    await Deno.writeTextFile(
      config,
      [
        `sentinel monitor ${name} 127.0.0.1 ${master.port} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 10000`,
        `sentinel parallel-syncs ${name} 1`,
        "",
      ].join("\n"),
    );
    const sentinel = await startRedisServer({ config, args: ["--sentinel", "--dir", dir] });
    servers.push(sentinel);
    const setup: RedisSentinel = {
      name,
      port: sentinel.port,
      dataPorts: [master.port, replica.port],
      async masterPort() {
        const [, port] = await cli(sentinel.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", name);
        return Number(port);
      },
      async failover() {
        const from = await setup.masterPort();
        const to = setup.dataPorts.find((port) => port !== from)!;
        // Every write the master took must be on the replica before it is promoted (a WAIT from a
        // connection of its own would wait for that connection's writes only: none).
        await waitFor(`the replica on ${to} to catch up`, async () => {
          const written = Number((await info(from, "replication")).get("master_repl_offset"));
          const replicated = Number((await info(to, "replication")).get("slave_repl_offset"));
          return replicated >= written && await linkUp(to);
        });
        await waitFor(`the sentinel to see the replica on ${to}`, () => sentinelSeesReplica(to));
        const reply = await cli(sentinel.port, "SENTINEL", "FAILOVER", name);
        if (reply[0] !== "OK") throw new Error(`SENTINEL FAILOVER ${name} answered ${reply.join(" ")}`);
        await waitFor(`port ${to} to become the master`, async () => {
          const role = await info(to, "replication");
          return role.get("role") === "master" && await setup.masterPort() === to;
        });
        // The sentinel demotes the old master at its next look at it (every 10 s at most).
        await waitFor(`port ${from} to replicate from ${to}`, async () => {
          const role = await info(from, "replication");
          return role.get("master_port") === String(to) && role.get("master_link_status") === "up";
        }, 30_000);
        return { from, to };
      },
      [Symbol.asyncDispose]: dispose,
    };
    const sentinelSeesReplica = async (port: number) => {
      const replicas = await cli(sentinel.port, "SENTINEL", "REPLICAS", name);
      return replicas.includes(String(port)) && !replicas.some((field) => /s_down|disconnected/.test(field));
    };
    await waitFor("the sentinel to discover the replica", () => sentinelSeesReplica(replica.port));
    return setup;
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** Whether a replica's link to its master is up. */
async function linkUp(port: number): Promise<boolean> {
  return (await info(port, "replication")).get("master_link_status") === "up";
}

async function info(port: number, section: string): Promise<Map<string, string>> {
  const fields = new Map<string, string>();
  for (const line of await cli(port, "INFO", section)) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** Runs one command with the command-line client; returns the reply's lines. */
async function cli(port: number, ...args: string[]): Promise<string[]> {
  const { stdout } = await new Deno.Command(redisCliCommand(), {
    args: ["-h", "127.0.0.1", "-p", String(port), ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(stdout).split(/\r?\n/).filter((line) => line !== "");
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Timed out after ${ms / 1000} s waiting for ${what}`);
}
