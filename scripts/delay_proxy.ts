/**
 * A TCP proxy on 127.0.0.1 that delays every chunk by a set time in each
 * direction: Redis "one network hop away", or a slow Redis, for tests and benchmarks.
 * @module
 */

/** A running proxy. */
export interface DelayProxy extends AsyncDisposable {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  /** Milliseconds each chunk waits, per direction; may be changed while running. */
  delay: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/**
 * Starts a proxy to `127.0.0.1:targetPort`.
 * @param targetPort Where to forward.
 * @param delay Milliseconds each chunk waits, per direction.
 * @returns The proxy; `await using` closes it.
 */
export function startDelayProxy(targetPort: number, delay: number): DelayProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections = new Set<Deno.Conn>();
  const pumps: Promise<void>[] = [];
  const proxy: DelayProxy = {
    port: (listener.addr as Deno.NetAddr).port,
    get url() {
      return `redis://127.0.0.1:${this.port}`;
    },
    delay,
    async close() {
      listener.close();
      for (const connection of connections) closeQuietly(connection);
      await Promise.allSettled(pumps);
    },
    [Symbol.asyncDispose]() {
      return proxy.close();
    },
  };
  (async () => {
    for await (const client of listener) {
      let server: Deno.Conn;
      try {
        server = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
      } catch {
        closeQuietly(client);
        continue;
      }
      connections.add(client).add(server);
      const done = () => {
        closeQuietly(client);
        closeQuietly(server);
        connections.delete(client);
        connections.delete(server);
      };
      pumps.push(pump(client, server, proxy).finally(done), pump(server, client, proxy).finally(done));
    }
  })().catch(() => {/* listener closed */});
  return proxy;
}

/** Copies `from` to `to`, each chunk sent `proxy.delay` ms after it arrived, in order. */
async function pump(from: Deno.Conn, to: Deno.Conn, proxy: DelayProxy): Promise<void> {
  const queue: { due: number; data: Uint8Array }[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const writer = (async () => {
    while (true) {
      if (queue.length === 0) {
        if (ended) return;
        await new Promise<void>((resolve) => wake = resolve);
        continue;
      }
      const { due, data } = queue[0];
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      queue.shift();
      let written = 0;
      while (written < data.length) written += await to.write(data.subarray(written));
    }
  })();
  try {
    const buffer = new Uint8Array(64 * 1024);
    while (true) {
      const read = await from.read(buffer);
      if (read === null) break;
      queue.push({ due: Date.now() + proxy.delay, data: buffer.slice(0, read) });
      wake?.();
    }
  } catch { /* connection closed */ }
  ended = true;
  wake?.();
  await writer.catch(() => {});
}

function closeQuietly(connection: Deno.Conn): void {
  try {
    connection.close();
  } catch { /* already closed */ }
}
