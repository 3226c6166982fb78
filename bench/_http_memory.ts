/**
 * Redis memory per stored session, ours (a hash) against connect-redis's (a
 * string), and ours again with a hash value limit that fits the cookie into
 * Redis's compact encoding.
 * @module
 */

import { createClient } from "redis";
import { RedisStore } from "./_peers.ts";
import { SmartRedisStore } from "../mod.ts";
import type { MemoryRow } from "./_http_types.ts";
import { sessionData, type SessionSize } from "./_sessions.ts";

/** What one small and one large session take in Redis, stored by each store. */
export async function measureMemory(url: string): Promise<MemoryRow[]> {
  const client = createClient({ url });
  await client.connect();
  const rows: MemoryRow[] = [];
  try {
    const ours = new SmartRedisStore({ client });
    const theirs = new RedisStore({ client: client as never });
    const measure = async (size: SessionSize, store: string, key: string) => {
      const bytes = Number(await client.sendCommand(["MEMORY", "USAGE", key, "SAMPLES", "0"]));
      const encoding = String(await client.sendCommand(["OBJECT", "ENCODING", key]));
      rows.push({ size, store, bytes, encoding });
    };
    for (const size of ["small", "large"] as const) {
      await theirs.set(`memory-${size}`, sessionData(size) as never);
      await measure(size, "connect-redis", `sess:memory-${size}`);
      await ours.set(`memory-${size}`, sessionData(size) as never);
      await measure(size, "ours", `session:memory-${size}`);
    }
    // What a small session would take if the cookie field (~90 bytes) fitted Redis's
    // compact listpack encoding (hash-max-listpack-value defaults to 64 bytes).
    const previous = await client.configGet("hash-max-listpack-value");
    await client.configSet("hash-max-listpack-value", "128");
    try {
      await ours.set("memory-small-listpack", sessionData("small") as never);
      await measure("small", "ours, hash-max-listpack-value 128", "session:memory-small-listpack");
    } finally {
      await client.configSet("hash-max-listpack-value", previous["hash-max-listpack-value"] ?? "64");
    }
  } finally {
    await client.close();
  }
  return rows;
}
