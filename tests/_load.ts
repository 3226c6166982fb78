/**
 * Bounds that hold on a busy machine. A test that bounds a wait (a command timeout, how long
 * to poll for an event) measures how loaded the machine is right now and stretches the bound
 * by that much, instead of a fixed number of milliseconds that the suite's own parallel runs,
 * or anything else sharing the cores, can outlast.
 */

import process from "node:process";

/** CPU time the busy loop of {@linkcode loadFactor} burns, in microseconds. */
const SPIN_CPU_MICROSECONDS = 10_000;
/** The most a bound is stretched, so that a test that would hang still ends. */
const MAX_FACTOR = 10;

/**
 * How many times slower than on an idle core this process runs right now: the larger of the
 * wall time a short busy loop took over the CPU time it got (what the scheduler gives us this
 * instant) and the last minute's load average per core (what it has given lately); at least 1.
 * @returns The factor, between 1 and 10.
 */
export function loadFactor(): number {
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  let spun = 0;
  for (let sink = 0; spun < SPIN_CPU_MICROSECONDS; sink++) {
    if (sink % 10_000 === 0) {
      const used = process.cpuUsage(cpuStart);
      spun = used.user + used.system;
    }
  }
  const spinRatio = (performance.now() - wallStart) * 1000 / spun;
  const perCore = Deno.loadavg()[0] / navigator.hardwareConcurrency;
  return Math.min(MAX_FACTOR, Math.max(1, spinRatio, perCore));
}

/**
 * A bound in milliseconds, stretched by the machine's {@linkcode loadFactor} measured now.
 * @param ms The bound on an idle machine.
 * @returns The bound to use, rounded up to a whole millisecond.
 */
export function scaled(ms: number): number {
  return Math.ceil(ms * loadFactor());
}

/**
 * Polls `condition` every 20 ms until it holds or `ms` (stretched by {@linkcode scaled}) have passed.
 * @param condition What to wait for.
 * @param ms How long to wait on an idle machine.
 * @returns Whether the condition held in time.
 */
export async function until(condition: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = performance.now() + scaled(ms);
  while (!await condition()) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
