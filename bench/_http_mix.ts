/**
 * The HTTP benchmark's load rounds: every store under autocannon at each write
 * ratio, in each setting, runs interleaved (the order rotating each round), with
 * the app's CPU time, the requests it saw and Redis's INFO deltas per run.
 * @module
 */

import type { MixCell, MixSample } from "./_http_types.ts";
import { type BenchRig, getJson, STORES } from "./_http_setup.ts";
import { delay, processCpuMs } from "./_processes.ts";
import { redisDelta, redisInfo } from "./_redis_info.ts";

/**
 * Runs the load rounds, after a warm-up per setting and store.
 * @param rig The apps, the load driver and the sessions.
 * @returns One cell per setting, write ratio and store.
 */
export async function runMixRounds(rig: BenchRig): Promise<MixCell[]> {
  const { options, admin, inner, apps, load, cookies, base } = rig;
  const { log } = options;
  const mix: MixCell[] = [];
  for (const [s, setting] of options.settings.entries()) {
    for (const store of STORES) {
      await load({
        kind: "mix",
        url: base(store, s),
        connections: setting.connections,
        duration: options.warmup,
        cookies: cookies.get(store),
        writeRatio: 0.2,
        seed: 1,
      }, options.warmup);
    }
    for (let round = 0; round < options.rounds; round++) {
      for (const writeRatio of options.writeRatios) {
        // Rotate who goes first, so no store always runs right after another.
        const order = STORES.map((_, i) => STORES[(i + round) % STORES.length]);
        for (const store of order) {
          const app = apps.get(store)!;
          const url = base(store, s);
          const countBefore = await getJson<{ requests: number }>(`${url}/__count`);
          const cpuBefore = await processCpuMs(app.child.pid);
          const infoBefore = await redisInfo(admin);
          const result = await load<Omit<MixSample, "round" | "appRequests" | "appCpuMs">>({
            kind: "mix",
            url,
            connections: setting.connections,
            duration: options.duration,
            cookies: cookies.get(store),
            writeRatio,
            seed: 1000 * round + Math.round(writeRatio * 100) + 7,
          }, options.duration);
          await delay(100); // requests autocannon gave up on at the end still finish
          const infoAfter = await redisInfo(admin);
          const cpuAfter = await processCpuMs(app.child.pid);
          const countAfter = await getJson<{ requests: number }>(`${url}/__count`);
          const sample: MixSample = {
            round,
            ...result,
            appRequests: countAfter.requests - countBefore.requests,
            appCpuMs: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
            redis: store === "floor" ? undefined : redisDelta(infoBefore, infoAfter, inner),
          };
          let cell = mix.find((c) =>
            c.setting === setting.name && c.writeRatio === writeRatio && c.store === store
          );
          if (!cell) mix.push(cell = { setting: setting.name, writeRatio, store, samples: [] });
          cell.samples.push(sample);
          log(
            `${setting.name} ${Math.round(writeRatio * 100)}% writes, ${store}, round ${round + 1}: ` +
              `${sample.rps.toFixed(0)} req/s, p50 ${sample.p50?.toFixed(2)} ms, p99 ${
                sample.p99?.toFixed(2)
              } ms` +
              (sample.non2xx || sample.errors ? `, ${sample.non2xx} non-2xx, ${sample.errors} errors` : ""),
          );
        }
      }
    }
  }
  return mix;
}
