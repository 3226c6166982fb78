/**
 * Adapter for node-redis 5 and 6 Sentinel clients made by `createSentinel()`.
 * @module
 */

import type { RedisConnection, RedisNode } from "./connection.ts";
import { masterOnlyReads, settleReply, StateReporter } from "./_util.ts";
import { FLAT_MAPS } from "./node_redis.ts";

/** A server as node-redis's Sentinel client names it. */
interface SentinelNode {
  readonly host: string;
  readonly port: number;
}

/** The parts of a node-redis `createSentinel()` client the adapter uses (the same in versions 5 and 6). */
interface NodeRedisSentinel {
  /** Its first argument says whether a replica may answer; the store always wants the master. */
  sendCommand(isReadonly: boolean, args: string[], options?: object): Promise<unknown>;
  connect(): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  getMasterNode(): SentinelNode | undefined;
  getSentinelNode(): SentinelNode | undefined;
  readonly isReady: boolean;
  readonly isOpen: boolean;
}

/**
 * Whether `client` looks like a node-redis Sentinel client.
 * @param client Any object.
 * @returns True for a node-redis 5 or 6 `createSentinel()` client.
 */
export function isNodeRedisSentinel(client: object): boolean {
  const candidate = client as Partial<NodeRedisSentinel>;
  return typeof candidate.sendCommand === "function" && typeof candidate.connect === "function" &&
    typeof candidate.getMasterNode === "function" && typeof candidate.getSentinelNode === "function";
}

/**
 * Wraps a node-redis Sentinel client: every command goes to the current master,
 * which node-redis follows through failovers (reads only once the node answers as master). Connects the client at first use
 * when nobody has, and listens for its `error` events.
 * @param client A client from node-redis `createSentinel()`.
 * @param onReplica Called when a replica answered a read (see {@linkcode masterOnlyReads}).
 * @returns The store's view of it.
 */
export function nodeRedisSentinelConnection(client: object, onReplica?: () => void): RedisConnection {
  const sentinel = client as NodeRedisSentinel;
  const state = new StateReporter(() => sentinel.isReady);
  // The nodes last known, for error messages while a failover leaves the client without a master.
  let lastMaster: SentinelNode | undefined;
  let lastSentinel: SentinelNode | undefined;
  const remember = () => {
    lastMaster = sentinel.getMasterNode() ?? lastMaster;
    lastSentinel = sentinel.getSentinelNode() ?? lastSentinel;
  };
  // node-redis 6 reports its state changes; node-redis 5 only errors and topology changes.
  sentinel.on("error", (error) => {
    remember();
    state.update(error);
  });
  sentinel.on("client-error", (error) => state.update(error));
  for (const event of ["connect", "ready", "reconnecting", "end", "topology-change"]) {
    sentinel.on(event, () => {
      remember();
      state.update();
    });
  }

  // Connect a client nobody opened, once; never reopen one the app has closed.
  let mayOpen = !sentinel.isOpen;
  let opened = sentinel.isOpen;
  sentinel.on("connect", () => opened = true);
  const reads = masterOnlyReads(
    (args) => settleReply(sentinel.sendCommand(false, [...args], FLAT_MAPS)),
    onReplica,
  );
  const node: RedisNode = { send: reads.send };
  return {
    send: (_key, args, deadline) => reads.send(args, deadline),
    masters: () => Promise.resolve([node]),
    boundRetries: reads.boundRetries,
    get ready() {
      return sentinel.isReady;
    },
    get address() {
      remember();
      const [master, watcher] = [lastMaster, lastSentinel];
      const via = watcher ? ` via the sentinel at ${watcher.host}:${watcher.port}` : "";
      if (master === undefined) {
        return watcher
          ? `the sentinel at ${watcher.host}:${watcher.port} (no master named yet)`
          : "the sentinels";
      }
      // During a failover the client forgets the master until the sentinels name the next one.
      const now = sentinel.getMasterNode();
      const current = now !== undefined && now.host === master.host && now.port === master.port;
      return `${master.host}:${master.port} (${
        current ? "the master" : "the last master, no new one named yet"
      }${via})`;
    },
    get closed() {
      return opened && !sentinel.isOpen;
    },
    open() {
      if (!mayOpen || sentinel.isOpen) return;
      mayOpen = false;
      sentinel.connect().then(() => {
        opened = true;
        state.update();
      }, (error) => state.update(error));
    },
    onStateChange: (listener) => state.listen(listener),
  };
}
