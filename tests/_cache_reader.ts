/**
 * Process B of tests/local_cache_two_process_test.ts: a store with `localCache` on
 * the client kind named by the second argument, on the Redis at the URL in the
 * first, serving its reads over HTTP. `GET /read/<sid>` answers
 * `{ session, stats }` (the session as the store returned it, `null` when not
 * found, and the cache stats right after), `GET /stats` the stats alone. Prints
 * its port as the first line of stdout once it listens.
 */

import { SmartRedisStore } from "../mod.ts";
import { CACHE_CLIENTS } from "./_cache_helpers.ts";

const [url, kindName] = Deno.args;
const kind = CACHE_CLIENTS.find((candidate) => candidate.name === kindName);
if (kind === undefined) throw new TypeError(`Unknown client kind "${kindName}"`);
const { client } = await kind.create(url);
const store = new SmartRedisStore({ client, localCache: true });

Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: ({ port }) => console.log(port) }, async (request) => {
  const path = new URL(request.url).pathname;
  if (path === "/stats") return Response.json(store.cacheStats());
  const session = await store.get(decodeURIComponent(path.replace(/^\/read\//, ""))) ?? null;
  // Taken with no I/O in between (a hit is answered without one): what the cache had heard of when it answered.
  return Response.json({ session, stats: store.cacheStats() });
});
