/**
 * The local cache's staleness window across two app servers: one app process
 * (the store without a cache) changes a session, and the other (the store with
 * `localCache`) is read until it shows the change. Measured with Redis one hop
 * away while autocannon loads the cached app, so the invalidation travels the
 * way it does in production.
 * @module
 */

/** One change: how long until the cached app showed it, and how many reads showed the old value. */
export interface StalenessSample {
  /** Milliseconds from the writer's response to the first fresh read's response. */
  ms: number;
  /** Reads answered with the old value after the write had returned (0: the next read was fresh). */
  staleReads: number;
}

/** The staleness measured in one setting. */
export interface StalenessRow {
  setting: string;
  /** What loaded the cached app meanwhile. */
  load: string;
  samples: StalenessSample[];
}

/** What a measurement needs. */
export interface StalenessOptions {
  /** Base URL of the app that writes (the store without a cache). */
  writer: string;
  /** Base URL of the app that caches. */
  reader: string;
  /** A session cookie both apps accept (same secret, same Redis). */
  cookie: string;
  /** How many changes to time. */
  changes: number;
}

/**
 * Times `changes` changes of one session, written through one app and read through the other.
 * @param options The two apps and the session.
 * @returns One sample per change.
 */
export async function measureStaleness(options: StalenessOptions): Promise<StalenessSample[]> {
  const headers = { cookie: options.cookie };
  const visits = async () => {
    const response = await fetch(`${options.reader}/peek`, { headers });
    return Number((await response.json() as { visits?: number }).visits ?? -1);
  };
  await visits(); // cached from here on
  const samples: StalenessSample[] = [];
  for (let change = 0; change < options.changes; change++) {
    const response = await fetch(`${options.writer}/write`, { headers });
    const written = Number(await response.text());
    const returned = performance.now();
    let staleReads = 0;
    while (await visits() < written) {
      staleReads++;
      if (performance.now() - returned > 10_000) throw new Error("the cached app never showed a change");
    }
    samples.push({ ms: performance.now() - returned, staleReads });
    await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10));
  }
  return samples;
}
