/**
 * Child processes of the HTTP benchmarks (apps, delay proxy, load driver):
 * started with piped stdin (each exits when it closes), read line by line, and
 * always stopped, even when the benchmark fails.
 * @module
 */

/** A child that speaks one JSON object per line on stdout. */
export interface LineChild {
  readonly pid: number;
  readonly name: string;
  /** The next stdout line, parsed; fails after `timeoutMs` or when the child exits. */
  next<T>(timeoutMs: number): Promise<T>;
  /** Writes one JSON line to its stdin. */
  send(message: unknown): Promise<void>;
}

/** Every child started through it is stopped by `stopAll()` (or `await using`). */
export class Children implements AsyncDisposable {
  #running: { child: Deno.ChildProcess; writer: WritableStreamDefaultWriter<Uint8Array>; name: string }[] =
    [];

  /**
   * Starts a child.
   * @param name For error messages.
   * @param command The program.
   * @param args Its arguments.
   * @param env Extra environment variables.
   * @returns The child.
   */
  spawn(name: string, command: string, args: string[], env: Record<string, string> = {}): LineChild {
    const child = new Deno.Command(command, {
      args,
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const writer = child.stdin.getWriter();
    this.#running.push({ child, writer, name });
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const encoder = new TextEncoder();
    let buffer = "";
    return {
      pid: child.pid,
      name,
      async next<T>(timeoutMs: number): Promise<T> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const newline = buffer.indexOf("\n");
          if (newline >= 0) {
            const line = buffer.slice(0, newline);
            buffer = buffer.slice(newline + 1);
            if (line.trim()) return JSON.parse(line) as T;
            continue;
          }
          let timer: ReturnType<typeof setTimeout> | undefined;
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`${name} said nothing for ${timeoutMs} ms`)),
              Math.max(1, deadline - Date.now()),
            );
          });
          try {
            const { value, done } = await Promise.race([reader.read(), timeout]);
            if (done) throw new Error(`${name} exited`);
            buffer += value;
          } finally {
            clearTimeout(timer);
          }
        }
      },
      async send(message: unknown): Promise<void> {
        await writer.write(encoder.encode(JSON.stringify(message) + "\n"));
      },
    };
  }

  /** Stops every child: closes its stdin, then SIGTERM, then SIGKILL after 3 s. */
  async stopAll(): Promise<void> {
    const running = this.#running.splice(0);
    await Promise.all(running.map(async ({ child, writer }) => {
      await writer.close().catch(() => {});
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      const exited = await Promise.race([child.status.then(() => true), delay(3000).then(() => false)]);
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
        await child.status;
      }
    }));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stopAll();
  }
}

/**
 * Reads a file under /proc through `cat`: Deno lets only `--allow-all` read /proc itself.
 * @param path The file.
 * @returns Its text, or "" when it cannot be read.
 */
export async function readProc(path: string): Promise<string> {
  try {
    const { stdout } = await new Deno.Command("cat", { args: [path], stdout: "piped", stderr: "null" })
      .output();
    return new TextDecoder().decode(stdout);
  } catch {
    return "";
  }
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux). */
export async function processCpuMs(pid: number): Promise<number | null> {
  try {
    const stat = await readProc(`/proc/${pid}/stat`);
    if (!stat) return null;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of proc(5), utime and stime, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
