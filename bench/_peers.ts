/**
 * The peers the benchmarks measure the store against, pinned here (not in
 * deno.json) so that the benchmarks can follow the peers' current releases
 * while the tests keep the versions they check compatibility with.
 * @module
 */

export { RedisStore } from "npm:connect-redis@10.0.0";
export { createClient } from "npm:redis@6.3.1";

/** The versions imported above, for the report. */
export const PEER_VERSIONS = {
  "connect-redis": "10.0.0",
  "node-redis": "6.3.1",
} as const;
