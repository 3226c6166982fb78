/**
 * Round trips per request, counted rather than assumed: one request at a time
 * through the delay proxy (one network hop away), which counts the times a
 * client waited on Redis (commands pipelined together count once). Each kind
 * of request runs on its own: a new session (login), a read-only request, a
 * changing request, and a logout (load, then destroy).
 * @module
 */

import type { StoreName } from "./_app_server.ts";
import type { LineChild } from "./_processes.ts";

/** The requests counted, in the order they run (each logout ends a login's session). */
export const ROUND_TRIP_REQUESTS = ["login", "read", "write", "logout"] as const;

/** What one kind of request cost one store, in total over its requests. */
export interface RoundTripRow {
  store: StoreName;
  request: (typeof ROUND_TRIP_REQUESTS)[number];
  requests: number;
  /** Round trips the proxy counted. */
  roundTrips: number;
  /** Commands clients sent (INFO commandstats deltas; a script counts once). */
  commands: number;
}

/** What the counting needs from the benchmark. */
export interface RoundTripSetup {
  store: StoreName;
  /** The app's URL whose Redis client goes through `proxy`. */
  url: string;
  proxy: LineChild;
  /** Requests of each kind. */
  requests: number;
  /** Runs `work` and returns the commands clients sent to Redis meanwhile. */
  commandsSent(work: () => Promise<void>): Promise<number>;
}

async function proxyCount(proxy: LineChild): Promise<number> {
  await proxy.send("count");
  return (await proxy.next<{ roundTrips: number }>(10_000)).roundTrips;
}

/** One GET; returns the session cookie it set, if any. */
async function get(url: string, cookie?: string): Promise<string | undefined> {
  const response = await fetch(url, { headers: cookie ? { cookie } : {} });
  const body = await response.text();
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${body}`);
  return response.headers.get("set-cookie")?.split(";")[0];
}

/**
 * Counts the round trips and commands of each kind of request for one store.
 * @param setup The app, its proxy and how many requests of each kind.
 * @returns One row per kind of request.
 */
export async function countRoundTrips(setup: RoundTripSetup): Promise<RoundTripRow[]> {
  const { url, proxy, requests } = setup;
  const cookies: string[] = [];
  const rows: RoundTripRow[] = [];
  for (const request of ROUND_TRIP_REQUESTS) {
    const before = await proxyCount(proxy);
    const commands = await setup.commandsSent(async () => {
      for (let i = 0; i < requests; i++) {
        if (request === "login") {
          const cookie = await get(`${url}/login`);
          if (!cookie) throw new Error(`GET ${url}/login set no session cookie`);
          cookies.push(cookie);
        } else {
          await get(`${url}/${request}`, cookies[i]);
        }
      }
    });
    const roundTrips = await proxyCount(proxy) - before;
    rows.push({ store: setup.store, request, requests, roundTrips, commands });
  }
  return rows;
}
