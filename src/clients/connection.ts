/**
 * The little the store needs from a Redis client. Adapters turn real clients
 * into this; implement it yourself to use a client the store does not know.
 * @module
 */

/** One Redis server: a single instance, or one master of a cluster. */
export interface RedisNode {
  /**
   * Sends one command to this node.
   * @param args The command and its arguments, e.g. `["SCAN", "0"]`.
   * @returns The raw reply: strings, integers, arrays and `null` as RESP2 gives them.
   */
  send(args: readonly string[]): Promise<unknown>;
}

/** A connection state change, reported to {@linkcode RedisConnection.onStateChange} listeners. */
export interface ConnectionState {
  /** Commands can be sent now. */
  ready: boolean;
  /** Why the connection is down, when known. */
  error?: unknown;
}

/** What the store needs from a Redis client. */
export interface RedisConnection {
  /**
   * Sends one command to the node that owns `key` (every store command touches one key).
   * @param key The key the command touches.
   * @param args The command and its arguments, e.g. `["EVALSHA", sha, "1", key]`.
   * @param deadline When the store gives up on the command (ms since the epoch, as `Date.now()`):
   *   an adapter that retries internally sends nothing after it. The store always gives it.
   * @returns The raw reply, as {@linkcode RedisNode.send}; Redis errors reject.
   */
  send(key: string, args: readonly string[], deadline?: number): Promise<unknown>;
  /**
   * The nodes bulk operations walk: the one server, or every master of a cluster.
   * @returns The nodes.
   */
  masters(): Promise<readonly RedisNode[]>;
  /** Whether commands can be sent right now. */
  readonly ready: boolean;
  /** Where Redis is, for error messages (`host:port`). */
  readonly address: string;
  /**
   * Where the node that owns `key` is (`host:port`), for error messages about a
   * command on it. Optional: {@linkcode RedisConnection.address} is used without it.
   * @param key The key a command touched.
   * @returns The node's address, as the client last knew it.
   */
  addressOf?(key: string): string;
  /**
   * The app closed the client (quit, disconnect, close): commands fail at once instead
   * of waiting `commandTimeout` for a connection that will not come. Optional.
   */
  readonly closed?: boolean;
  /**
   * Called by the store with its `commandTimeout` (ms): an adapter that retries a command
   * internally stops after it, since the caller has given up by then. Stores sharing one client
   * each call it, so prefer the `deadline` that comes with each command. Optional.
   */
  boundRetries?(ms: number): void;
  /**
   * Connects the client if nobody has yet. The store calls it before its first
   * command, not at construction, so an app may still call `client.connect()` itself
   * after creating the store. Optional: leave it out if the client connects by itself.
   */
  open?(): void;
  /**
   * Subscribes to connection state changes.
   * @param listener Called with every change.
   */
  onStateChange(listener: (state: ConnectionState) => void): void;
}
