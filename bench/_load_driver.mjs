// The load generator of the HTTP benchmarks: autocannon under Node, in its own
// process. Reads one job per line (JSON) on stdin, runs it, writes one result
// per line (JSON) on stdout; exits when stdin closes.
//
//   AUTOCANNON_DIR=bench/.deps node bench/_load_driver.mjs
//
// Jobs:
//   {"kind":"mix","url","connections","duration","cookies":[...],"writeRatio","seed"}
//     requests spread over the cookies, GET /write with probability writeRatio, else GET /read
//   {"kind":"contend","url","writers","duration","cookie"}
//     `writers` connections on one session, writer k looping on GET /contend?w=k
// Latencies are taken from every response (float ms), not from autocannon's
// integer histogram; every run is bounded by its duration (and a 10 s request timeout).

import { createRequire } from "node:module";
import { join } from "node:path";
import { createInterface } from "node:readline";

const require = createRequire(join(process.env.AUTOCANNON_DIR ?? ".", "noop.js"));
const autocannon = require("autocannon");

/** A small seeded PRNG (mulberry32), so every store gets the same request sequence. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** Runs one autocannon instance; resolves with its result and the latencies it saw. */
function run(options, onStatus) {
  return new Promise((resolve, reject) => {
    const latencies = [];
    // sampleInt: autocannon checks for the end of the run at each sample; 100 ms keeps runs close to `duration`.
    const instance = autocannon({ timeout: 10, sampleInt: 100, ...options }, (error, result) => {
      if (error) reject(error);
      else resolve({ result, latencies });
    });
    instance.on("response", (_client, status, _bytes, ms) => {
      latencies.push(ms);
      onStatus(status);
    });
  });
}

function summary(latencies, ok, non2xx, started, results) {
  latencies.sort((a, b) => a - b);
  const seconds = (performance.now() - started) / 1000;
  return {
    ok,
    non2xx,
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    timeouts: results.reduce((sum, r) => sum + r.timeouts, 0),
    seconds,
    rps: ok / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}

async function mix(job) {
  const next = random(job.seed);
  let ok = 0;
  let non2xx = 0;
  const started = performance.now();
  const { result, latencies } = await run({
    url: job.url,
    connections: job.connections,
    duration: job.duration,
    requests: [{
      setupRequest(request) {
        const path = next() < job.writeRatio ? "/write" : "/read";
        const cookie = job.cookies[Math.floor(next() * job.cookies.length)];
        return { ...request, path, headers: { ...request.headers, cookie } };
      },
    }],
  }, (status) => (status >= 200 && status < 300 ? ok++ : non2xx++));
  return summary(latencies, ok, non2xx, started, [result]);
}

async function contend(job) {
  const perWriter = Array.from({ length: job.writers }, () => 0);
  let non2xx = 0;
  const started = performance.now();
  const runs = await Promise.all(perWriter.map((_, k) =>
    run({
      url: `${job.url}/contend?w=${k}`,
      connections: 1,
      duration: job.duration,
      headers: { cookie: job.cookie },
    }, (status) => (status >= 200 && status < 300 ? perWriter[k]++ : non2xx++))
  ));
  const latencies = runs.flatMap((r) => r.latencies);
  const ok = perWriter.reduce((a, b) => a + b, 0);
  return { ...summary(latencies, ok, non2xx, started, runs.map((r) => r.result)), perWriter };
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const job = JSON.parse(line);
  try {
    const result = job.kind === "mix" ? await mix(job) : await contend(job);
    process.stdout.write(JSON.stringify({ id: job.id, result }) + "\n");
  } catch (error) {
    process.stdout.write(JSON.stringify({ id: job.id, error: String(error?.stack ?? error) }) + "\n");
  }
}
process.exit(0);
