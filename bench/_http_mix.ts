/**
 * The HTTP benchmark's load rounds: every store under autocannon at each write
 * ratio, in each setting, runs interleaved (the order rotating each round), with
 * the app's CPU time, the requests it saw and Redis's INFO deltas per run; and
 * the same for the app-CPU phase's many short runs (a plan of its own).
 * @module
 */

import type { StoreName } from "./_app_server.ts";
import type { HttpBenchOptions, MixCell, MixSample } from "./_http_types.ts";
import { type BenchRig, getJson, STORES } from "./_http_setup.ts";
import { delay, processCpuMs } from "./_processes.ts";
import { redisDelta, redisInfo } from "./_redis_info.ts";

/** Which runs a phase makes: the mix rounds, or the app-CPU phase's short ones. */
export interface MixPlan {
  /** Indexes into the options' settings. */
  settings: number[];
  stores: readonly StoreName[];
  writeRatios: number[];
  rounds: number;
  /** Seconds per run. */
  duration: number;
  /** Seconds of unmeasured load per setting and store first (0: none). */
  warmup: number;
  /** Which stores run at a write ratio (default: all). */
  runs?: (store: StoreName, writeRatio: number) => boolean;
}

/** The mix rounds: every store, setting and write ratio, as the options say. */
export function mixPlan(options: HttpBenchOptions): MixPlan {
  const { settings, writeRatios, rounds, duration, warmup } = options;
  return { settings: settings.map((_, i) => i), stores: STORES, writeRatios, rounds, duration, warmup };
}

/**
 * Runs the load rounds, after a warm-up per setting and store.
 * @param rig The apps, the load driver and the sessions.
 * @param plan The runs to make.
 * @returns One cell per setting, write ratio and store.
 */
export async function runMixRounds(rig: BenchRig, plan: MixPlan = mixPlan(rig.options)): Promise<MixCell[]> {
  const { options, admin, inner, apps, load, cookies, base } = rig;
  const { log } = options;
  const { stores, duration } = plan;
  const mix: MixCell[] = [];
  for (const s of plan.settings) {
    const setting = options.settings[s];
    for (const store of plan.warmup > 0 ? stores : []) {
      await load({
        kind: "mix",
        url: base(store, s),
        connections: setting.connections,
        duration: plan.warmup,
        cookies: cookies.get(store),
        writeRatio: 0.2,
        seed: 1,
      }, plan.warmup);
    }
    for (let round = 0; round < plan.rounds; round++) {
      for (const writeRatio of plan.writeRatios) {
        // Rotate who goes first, so no store always runs right after another.
        const order = stores.map((_, i) => stores[(i + round) % stores.length])
          .filter((store) => plan.runs?.(store, writeRatio) ?? true);
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
            duration,
            cookies: cookies.get(store),
            writeRatio,
            seed: 1000 * round + Math.round(writeRatio * 100) + 7,
          }, duration);
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
