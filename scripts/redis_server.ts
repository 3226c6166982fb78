/**
 * Starts throwaway redis-server processes on free loopback ports, for the
 * tests and the demo. Each server keeps its data in memory only.
 *
 * `SMART_REDIS_SERVER` chooses another Redis-compatible server binary (e.g.
 * `valkey-server`); `SMART_REDIS_CLI` its command-line client, by default the
 * `-cli` beside a `-server` (`valkey-cli` for `valkey-server`).
 * @module
 */

/** A redis-server child process. */
export interface RedisServer extends AsyncDisposable {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  /** Kills the server (SIGKILL: a crash, not a shutdown) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port after {@linkcode kill}. */
  restart(): Promise<void>;
}

/** Options of {@linkcode startRedisServer}. */
export interface RedisServerOptions {
  /**
   * The port; a free one when left out.
   * @default {undefined}
   */
  port?: number;
  /**
   * Extra redis-server arguments, e.g. `["--cluster-enabled", "yes"]`.
   * @default {[]}
   */
  args?: string[];
  /**
   * A config file to start from (the flags override it); a sentinel needs one it may rewrite.
   * @default {undefined}
   */
  config?: string;
}

/**
 * Starts redis-server and waits until it answers PING.
 * @param options Port and extra arguments.
 * @returns The running server; `await using` stops it.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  await requireRedisServer();
  let port = options.port ?? freePort();
  const start = () => spawn(port, options.args ?? [], options.config);
  let child: Deno.ChildProcess | undefined;
  // A port found free may be taken before the server binds it (by another test process's
  // server, or as a client connection's local port): a free one is tried again.
  for (let attempt = 1; !child; attempt++) {
    try {
      child = await start();
    } catch (error) {
      if (!(error instanceof PortTakenError) || options.port !== undefined || attempt >= 5) throw error;
      port = freePort();
    }
  }
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      if (!child) return;
      const exiting = child.status;
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await exiting;
      child = undefined;
    },
    async restart() {
      if (child) await server.kill();
      child = await start();
    },
    async [Symbol.asyncDispose]() {
      await server.kill();
    },
  };
  return server;
}

/**
 * The server binary the helpers start: `SMART_REDIS_SERVER`, or `redis-server`.
 * @returns A command name or path.
 */
export function redisServerCommand(): string {
  return Deno.env.get("SMART_REDIS_SERVER") || "redis-server";
}

/**
 * The command-line client matching {@linkcode redisServerCommand}: `SMART_REDIS_CLI`, or
 * the server's name with `-server` replaced by `-cli`, or `redis-cli`.
 * @returns A command name or path.
 */
export function redisCliCommand(): string {
  const server = redisServerCommand();
  return Deno.env.get("SMART_REDIS_CLI") ||
    (server.endsWith("-server") ? `${server.slice(0, -"-server".length)}-cli` : "redis-cli");
}

/** Throws a clear message when the server binary is not installed. */
export async function requireRedisServer(): Promise<void> {
  const command = redisServerCommand();
  try {
    await new Deno.Command(command, { args: ["--version"], stdout: "null", stderr: "null" }).output();
  } catch {
    throw new Error(
      `${command} is not installed: install it (Debian/Ubuntu: \`sudo apt-get install redis-server\`, ` +
        "macOS: `brew install redis`), set SMART_REDIS_SERVER to another Redis-compatible server, " +
        "or set REDIS_URL to a running Redis",
    );
  }
}

/** The server could not listen on its port: something else took it. */
export class PortTakenError extends Error {
  override name = "PortTakenError";
}

/** Whether nothing listens on 127.0.0.1:`port` right now. */
export function portIsFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** A TCP port nobody listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Whether something answers Redis PING at host:port.
 * @param hostname Host name or address.
 * @param port TCP port.
 * @returns True when it replied +PONG (or an auth error: a Redis all the same).
 */
export async function answersPing(hostname: string, port: number): Promise<boolean> {
  let connection: Deno.TcpConn | undefined;
  try {
    connection = await Deno.connect({ hostname, port });
    await connection.write(new TextEncoder().encode("PING\r\n"));
    const buffer = new Uint8Array(64);
    const timer = setTimeout(() => connection?.close(), 1000);
    const read = await connection.read(buffer).catch(() => null);
    clearTimeout(timer);
    const reply = read ? new TextDecoder().decode(buffer.subarray(0, read)) : "";
    return reply.startsWith("+PONG") || reply.startsWith("-NOAUTH");
  } catch {
    return false;
  } finally {
    try {
      connection?.close();
    } catch { /* closed by the timer */ }
  }
}

async function spawn(port: number, args: string[], config?: string): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(redisServerCommand(), {
    args: [
      ...config === undefined ? [] : [config], // the config file must come first
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
      "--loglevel",
      "warning",
      ...args,
    ],
    stdin: "null",
    stdout: "piped", // where it logs, unless told otherwise
    stderr: "piped",
  }).spawn();
  const log = Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()])
    .then((texts) => texts.join("").trim());
  for (let attempt = 0; attempt < 200; attempt++) {
    // Only our own child will do: another process's server may answer on the port we chose.
    if (await serverPid(port) === child.pid) return child;
    const exited = await Promise.race([child.status.then(() => true), delay(25).then(() => false)]);
    if (exited) {
      const message = `${redisServerCommand()} on port ${port} exited at start: ${await log}`;
      throw portIsFree(port) ? new Error(message) : new PortTakenError(message);
    }
  }
  child.kill("SIGKILL");
  await child.status;
  throw new Error(`${redisServerCommand()} on port ${port} did not answer within 5 s`);
}

/**
 * The process id of the Redis-compatible server at 127.0.0.1:`port` (its `INFO server`),
 * or `undefined` when none answers.
 */
async function serverPid(port: number): Promise<number | undefined> {
  let connection: Deno.TcpConn | undefined;
  const timer = setTimeout(() => connection?.close(), 1000);
  try {
    connection = await Deno.connect({ hostname: "127.0.0.1", port });
    await connection.write(new TextEncoder().encode("INFO server\r\n"));
    let reply = "";
    const buffer = new Uint8Array(4096);
    while (!reply.startsWith("-") && !wholeBulkReply(reply)) {
      const read = await connection.read(buffer);
      if (read === null) break;
      reply += new TextDecoder().decode(buffer.subarray(0, read));
    }
    const pid = /^process_id:(\d+)/m.exec(reply)?.[1];
    return pid === undefined ? undefined : Number(pid);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    try {
      connection?.close();
    } catch { /* closed by the timer */ }
  }
}

/** Whether `reply` holds a whole RESP bulk string ("$<length>\r\n<text>\r\n"; the text is ASCII). */
function wholeBulkReply(reply: string): boolean {
  const header = /^\$(\d+)\r\n/.exec(reply);
  return header !== null && reply.length >= header[0].length + Number(header[1]) + 2;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
