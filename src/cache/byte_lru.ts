/**
 * A least-recently-used map of raw session replies, bounded by an estimate of
 * the bytes they take and by a count, each entry stamped with when it was stored.
 * @module
 */

/** One cached reply: the flat field, value array `HGETALL` returned (empty for "not found"). */
export interface CachedReply {
  readonly pairs: readonly unknown[];
  readonly bytes: number;
  readonly storedAt: number;
}

/** Bytes a JavaScript string costs beyond two a character (header, hash, alignment). */
const STRING_OVERHEAD = 32;
/** Bytes an entry costs beyond its strings: the map slot, the entry object, its array. */
const ENTRY_OVERHEAD = 160;

/**
 * Estimates what a reply costs in memory, as the heap holds it.
 * @param key The Redis key.
 * @param pairs The reply.
 * @returns Bytes.
 */
export function replyBytes(key: string, pairs: readonly unknown[]): number {
  let bytes = ENTRY_OVERHEAD + STRING_OVERHEAD + key.length * 2;
  for (const item of pairs) bytes += STRING_OVERHEAD + 8 + String(item).length * 2;
  return bytes;
}

/** The LRU map itself. A `Map` keeps insertion order: a hit moves its entry to the end. */
export class ByteLru {
  #entries = new Map<string, CachedReply>();
  #bytes = 0;
  #maxBytes: number;
  #maxEntries: number;

  /**
   * @param maxBytes Most estimated bytes.
   * @param maxEntries Most entries.
   */
  constructor(maxBytes: number, maxEntries: number) {
    this.#maxBytes = maxBytes;
    this.#maxEntries = maxEntries;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The entry of `key`, made the most recently used.
   * @param key The Redis key.
   * @returns The entry, or `undefined`.
   */
  get(key: string): CachedReply | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  /**
   * Stores a reply, evicting the least recently used entries past the bounds. A reply
   * larger than the whole budget is not stored.
   * @param key The Redis key.
   * @param pairs The reply.
   * @param now When it was read.
   */
  set(key: string, pairs: readonly unknown[], now: number): void {
    this.delete(key);
    const bytes = replyBytes(key, pairs);
    if (bytes > this.#maxBytes) return;
    this.#entries.set(key, { pairs, bytes, storedAt: now });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes && this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
  }

  /**
   * Forgets `key`.
   * @param key The Redis key.
   * @returns Whether it was held.
   */
  delete(key: string): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    return true;
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }
}
