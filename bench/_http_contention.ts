/**
 * The contention benchmark: N writers on one session, each request changing its
 * writer's own property and a shared counter; what each store lost is counted
 * from what the app committed and what Redis holds at the end.
 * @module
 */

import type { ContentionCell, ContentionSample } from "./_http_types.ts";
import { type BenchRig, createSessions, getJson, STORES } from "./_http_setup.ts";
import { delay } from "./_processes.ts";
import { redisDelta, redisInfo } from "./_redis_info.ts";

/**
 * Runs the contention rounds in the settings `options.contention` names.
 * @param rig The apps and the load driver.
 * @returns One cell per setting, writer count and store.
 */
export async function runContention(rig: BenchRig): Promise<ContentionCell[]> {
  const { options, admin, inner, load, base } = rig;
  const { log } = options;
  const contention: ContentionCell[] = [];
  const contenders = STORES.filter((store) => store !== "floor");
  for (const settingName of options.contention.settings) {
    const s = options.settings.findIndex((setting) => setting.name === settingName);
    if (s < 0) continue;
    for (let round = 0; round < options.contention.rounds; round++) {
      for (const writers of options.contention.writers) {
        const order = round % 2 === 0 ? contenders : [...contenders].reverse();
        for (const store of order) {
          const url = base(store, s);
          const [cookie] = await createSessions(base(store, 0), 1);
          await getJson(`${url}/__writes?reset=1`);
          const countBefore = await getJson<{ requests: number }>(`${url}/__count`);
          const infoBefore = await redisInfo(admin);
          const result = await load<
            Omit<
              ContentionSample,
              | "round"
              | "commits"
              | "stored"
              | "lostOwn"
              | "lostShared"
              | "commitErrors"
              | "appRequests"
              | "redis"
            >
          >({
            kind: "contend",
            url,
            writers,
            duration: options.contention.duration,
            cookie,
          }, options.contention.duration);
          await delay(300); // let commits of requests autocannon gave up on land
          const infoAfter = await redisInfo(admin);
          const countAfter = await getJson<{ requests: number }>(`${url}/__count`);
          const writes = await getJson<{ ok: Record<string, number>; errors: number }>(`${url}/__writes`);
          const stored = await getJson<Record<string, unknown>>(`${base(store, 0)}/peek`, { cookie });
          const commits = Array.from({ length: writers }, (_, k) => writes.ok[k] ?? 0);
          const own = Array.from({ length: writers }, (_, k) => Number(stored[`w${k}`] ?? 0));
          const sample: ContentionSample = {
            round,
            ...result,
            commits,
            commitErrors: writes.errors,
            stored: own,
            lostOwn: commits.reduce((sum, n, k) => sum + n - own[k], 0),
            lostShared: commits.reduce((a, b) => a + b, 0) - Number(stored.shared ?? 0),
            appRequests: countAfter.requests - countBefore.requests,
            redis: redisDelta(infoBefore, infoAfter, inner),
          };
          let cell = contention.find((c) =>
            c.setting === settingName && c.writers === writers && c.store === store
          );
          if (!cell) contention.push(cell = { setting: settingName, writers, store, samples: [] });
          cell.samples.push(sample);
          log(
            `contention ${settingName}, ${writers} writers, ${store}, round ${round + 1}: ` +
              `${sample.rps.toFixed(0)} req/s, p99 ${sample.p99?.toFixed(2)} ms, ` +
              `lost own ${sample.lostOwn}/${
                commits.reduce((a, b) => a + b, 0)
              }, lost shared ${sample.lostShared}`,
          );
        }
      }
    }
  }
  return contention;
}
