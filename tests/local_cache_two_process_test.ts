/**
 * The local cache across two processes: store B, with `localCache`, runs in a
 * process of its own (tests/_cache_reader.ts) and answers reads over HTTP;
 * store A, in this process, changes a session, renews it, replaces it in
 * connect-redis's format and converts it, destroys it, and creates one B had
 * read as missing. After each write returned, B's next read is fresh unless
 * B had not yet heard of the write when it answered (the invalidation still in
 * flight: its count in the same answer unchanged), and B's first read once it
 * has heard is fresh. Prints the flight (A's write returned → B's stats show
 * the invalidation, polled over HTTP) and how many next reads were still early.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { SmartRedisStore } from "../mod.ts";
import { connectClient, startRedisServer, test } from "./_helpers.ts";
import { sessionWith } from "./_cache_helpers.ts";
import { scaled, until } from "./_load.ts";

/** What B answers a read with. */
interface Answer {
  session: Record<string, unknown> & { cookie?: { expires?: string } } | null;
  stats: Stats;
}

interface Stats {
  hits: number;
  tracking: boolean;
  invalidations: number;
}

/** Process B, started on the Redis at `url` with a client of `kind`. */
async function startReader(url: string, kind: string) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-check",
      "--allow-net=127.0.0.1",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      "tests/_cache_reader.ts",
      url,
      kind,
    ],
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let port = "";
  // The first line is the port; a process that dies first ends the stream.
  const listening = (async () => {
    while (!port.includes("\n")) {
      const chunk = await lines.read();
      if (chunk.done) throw new Error(`B exited before it listened (it printed "${port}")`);
      port += chunk.value;
    }
  })();
  const timeout = scaled(30_000);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    listening,
    new Promise((_, reject) =>
      timer = setTimeout(() => reject(new Error(`B did not listen in ${timeout} ms`)), timeout)
    ),
  ]).finally(() => clearTimeout(timer));
  const base = `http://127.0.0.1:${Number(port.trim())}`;
  assert.ok(Number(port.trim()) > 0, `B printed "${port}"`);
  return {
    async read(sid: string): Promise<Answer> {
      const response = await fetch(`${base}/read/${encodeURIComponent(sid)}`);
      assert.equal(response.status, 200);
      return await response.json();
    },
    async stats(): Promise<Stats> {
      return await (await fetch(`${base}/stats`)).json();
    },
    async [Symbol.asyncDispose]() {
      lines.cancel().catch(() => {});
      child.kill();
      await child.status;
    },
  };
}

type Session = Answer["session"];

for (const kind of ["node-redis 5", "ioredis 5", "node-redis 4"]) {
  test(`localCache across two processes (${kind}): B reads A's writes fresh once it has heard of them`, async (t) => {
    await using server = await startRedisServer();
    await using raw = await connectClient(server);
    const a = new SmartRedisStore({ client: raw });
    const renewing = new SmartRedisStore({ client: raw, renewAfter: 0 });
    await using b = await startReader(server.url, kind);
    const flights: string[] = [];
    let early = 0;

    /** B holds `sid` in its cache: a read answered from it. */
    const cached = async (sid: string) => {
      const held = await until(async () => {
        const first = await b.read(sid);
        const second = await b.read(sid);
        return first.stats.tracking && second.stats.hits > first.stats.hits;
      }, 10_000);
      assert.ok(held, `B never served ${sid} from its cache`);
    };
    /**
     * B caches `sid` (unless it cannot: a connect-redis string), A writes; B's next read passes
     * `fresh` or B had not heard of the write yet; once it has, its next read passes `fresh`.
     */
    const afterWrite = async (
      what: string,
      sid: string,
      write: () => Promise<unknown>,
      fresh: (session: Session) => boolean,
      cache = true,
    ) => {
      if (cache) await cached(sid);
      const heard = (await b.stats()).invalidations;
      const limit = scaled(10_000); // measured before the write: it spins the CPU a while
      await write();
      const returned = performance.now();
      const next = await b.read(sid);
      if (!fresh(next.session)) {
        early++;
        assert.equal(
          next.stats.invalidations,
          heard,
          `${what}: stale after B heard of it: ${JSON.stringify(next)}`,
        );
      }
      if (cache) {
        // Polled back to back (until() measures the load first, which would count in the flight).
        while ((await b.stats()).invalidations === heard) {
          assert.ok(performance.now() - returned < limit, `${what}: B never heard of it`);
        }
        flights.push(`${what} ${(performance.now() - returned).toFixed(1)}`);
      }
      const after = await b.read(sid);
      assert.ok(fresh(after.session), `${what}: ${JSON.stringify(after)}`);
    };

    await t.step("a change", async () => {
      await a.set("s1", sessionWith({ n: 1 }));
      await afterWrite("change", "s1", async () => {
        const loaded = await a.get("s1");
        await a.set("s1", { ...loaded!, n: 2 });
      }, (session) => session?.n === 2);
    });

    await t.step("a renewal", async () => {
      await cached("s1");
      const before = Date.parse((await b.read("s1")).session!.cookie!.expires!);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await afterWrite(
        "renewal",
        "s1",
        () => renewing.get("s1"),
        (session) => Date.parse(session!.cookie!.expires!) > before,
      );
    });

    await t.step("a connect-redis write, then its conversion", async () => {
      const legacy = JSON.stringify(sessionWith({ n: 7 }));
      await afterWrite(
        "connect-redis write",
        "s1",
        () => raw.set("session:s1", legacy, { PX: 60_000 }),
        (session) => session?.n === 7,
      );
      // B reads a connect-redis string as such and never caches it: it reads the conversion from Redis.
      await afterWrite(
        "conversion",
        "s1",
        async () => {
          const loaded = await a.get("s1");
          await a.set("s1", { ...loaded!, n: 8 });
        },
        (session) => session?.n === 8,
        false,
      );
      assert.equal(await raw.type("session:s1"), "hash");
    });

    await t.step("a logout", async () => {
      await afterWrite("logout", "s1", () => a.destroy("s1"), (session) => session === null);
    });

    await t.step("a session that appears after it was not found", async () => {
      await afterWrite(
        "creation",
        "s2",
        () => a.set("s2", sessionWith({ n: 1 })),
        (session) => session?.n === 1,
      );
    });

    console.log(
      `${kind}: flight, A's write returned → B heard of it (ms): ${flights.join(", ")}; ` +
        `B's next read still early (stale, not yet heard): ${early} of 6`,
    );
  });
}
