/**
 * The Sentinel clients the tests run against, each made for a throwaway Sentinel
 * setup and closed the way its library wants.
 * @module
 */

import { Redis } from "ioredis";
import { createSentinel as createSentinel5 } from "redis";
import { createSentinel as createSentinel6 } from "redis6";
import type { RedisSentinel } from "../scripts/redis_sentinel.ts";

const sentinels = (setup: RedisSentinel) => [{ host: "127.0.0.1", port: setup.port }];

/** A Sentinel client library, by name. */
export interface SentinelClientKind {
  name: string;
  create(setup: RedisSentinel): object;
  close(client: object): Promise<unknown>;
}

/** node-redis 6 and 5 `createSentinel()`, and ioredis with `sentinels`. */
export const SENTINEL_CLIENTS: readonly SentinelClientKind[] = [
  {
    name: "node-redis 6",
    create: (setup) => createSentinel6({ name: setup.name, sentinelRootNodes: sentinels(setup) }),
    close: (client) => (client as { destroy(): Promise<unknown> }).destroy().catch(() => {}),
  },
  {
    name: "node-redis 5",
    create: (setup) => createSentinel5({ name: setup.name, sentinelRootNodes: sentinels(setup) }),
    close: (client) => (client as { destroy(): Promise<unknown> }).destroy().catch(() => {}),
  },
  {
    name: "ioredis",
    create: (setup) => new Redis({ name: setup.name, sentinels: sentinels(setup) }),
    close: (client) => Promise.resolve((client as Redis).disconnect()),
  },
];
