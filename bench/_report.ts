/**
 * Turns the measurements into `results.md` (tables, goals); `_chart.ts` draws
 * `chart.svg`.
 * @module
 */

import type { ContentionCell, MixCell } from "./http_bench.ts";
import { renderAppCpu } from "./_app_cpu_report.ts";
import { checkGoals } from "./_goals.ts";
import { renderWriteFloor } from "./_write_floor_report.ts";
import { benchGroups, fmt, LABEL, median, pct, type Results, sum, summarizeMix, time } from "./_summary.ts";

export type { Meta, Results, StoreBenchRow } from "./_summary.ts";
export { renderSvg } from "./_chart.ts";

/** Per command: calls per request and µs per call (commandstats), over a cell's rounds. */
function commandRows(cells: MixCell[]): string[][] {
  return cells.filter((cell) => cell.store !== "floor").map((cell) => {
    const requests = sum(cell.samples.map((s) => s.appRequests));
    const calls = new Map<string, number>();
    const usec = new Map<string, number>();
    for (const sample of cell.samples) {
      for (const [name, n] of Object.entries(sample.redis?.calls ?? {})) {
        calls.set(name, (calls.get(name) ?? 0) + n);
      }
      for (const [name, t] of Object.entries(sample.redis?.usec ?? {})) {
        usec.set(name, (usec.get(name) ?? 0) + t);
      }
    }
    const commands = [...calls].sort((a, b) => b[1] - a[1]).map(([name, n]) =>
      `${name} ${fmt(n / requests)} × ${fmt((usec.get(name) ?? NaN) / n)} µs`
    );
    return [cell.setting, pct(cell.writeRatio), LABEL[cell.store], commands.join(", ")];
  });
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

function contentionRows(cells: ContentionCell[]): string[][] {
  return cells.map((cell) => {
    const s = cell.samples;
    const commits = sum(s.map((x) => sum(x.commits)));
    return [
      cell.setting,
      String(cell.writers),
      LABEL[cell.store],
      fmt(sum(s.map((x) => x.ok)) / sum(s.map((x) => x.seconds)), 0),
      fmt(median(s.map((x) => x.p99 ?? NaN))),
      String(commits),
      `${sum(s.map((x) => x.lostOwn))} (${pct(commits ? sum(s.map((x) => x.lostOwn)) / commits : 0)})`,
      `${sum(s.map((x) => x.lostShared))} (${pct(commits ? sum(s.map((x) => x.lostShared)) / commits : 0)})`,
      s.every((x) => x.redis && x.appRequests)
        ? fmt(sum(s.map((x) => x.redis.clientCommands)) / sum(s.map((x) => x.appRequests)))
        : "–",
      String(sum(s.map((x) => x.commitErrors + x.non2xx))),
    ];
  });
}

/**
 * The markdown report.
 * @param results Everything measured.
 * @returns results.md's text.
 */
export function renderMarkdown(results: Results): string {
  const { meta, http } = results;
  const out: string[] = [];
  out.push(
    `# Benchmark results${
      meta.mode === "smoke" ? " (SMOKE MODE: tiny sizes, the figures mean nothing)" : ""
    }`,
  );
  out.push("");
  out.push(`${meta.date}. Chart: [chart.svg](chart.svg). Raw data: results.json.`);
  out.push("");
  out.push("## Machine and versions");
  out.push("");
  out.push(
    table(["", ""], [
      ["CPU", `${meta.nproc} × ${meta.cpuModel}`],
      ["memory", meta.memory],
      ["load average before / after", `${meta.loadBefore} / ${meta.loadAfter}`],
      ...Object.entries(meta.versions),
    ]),
  );
  out.push("");
  out.push(table(["parameter", "value"], Object.entries(meta.parameters)));
  out.push("");

  out.push("## Goals");
  out.push("");
  out.push(
    table(
      ["goal", "measured", "met"],
      checkGoals(results).map((g) => [g.goal, g.measured, g.met === null ? "–" : g.met ? "yes" : "**no**"]),
    ),
  );
  out.push("");

  out.push("## HTTP: Express 4 + express-session, real redis-server");
  out.push("");
  out.push(
    `PING round trip (median): ${
      Object.entries(http.rtt).map(([name, ms]) => `${name} ${fmt(ms, 3)} ms`).join(", ")
    }. Ratios are medians over rounds of ratios taken within one round (runs interleaved). Redis at rest ` +
      `(background work, in every run's *Redis CPU* whatever the store): ${
        fmt(http.redisIdleCpuMsPerSecond ?? NaN, 2)
      } ms of CPU per second.`,
  );
  out.push("");
  const mix = summarizeMix(http.mix, http.redisIdleCpuMsPerSecond ?? 0);
  out.push(table(
    [
      "setting",
      "writes",
      "store",
      "req/s",
      "× connect-redis",
      "× floor",
      "p50 ms",
      "p99 ms",
      "cmds/req sent",
      "cmds/req executed",
      "Redis CPU µs/req",
      "net of rest",
      "Redis in commands µs/req",
      "app CPU ms/1000 req",
      "failed",
    ],
    mix.map((m) => [
      m.setting,
      pct(m.writeRatio),
      LABEL[m.store],
      fmt(m.rps, 0),
      fmt(m.vsConnectRedis),
      fmt(m.vsFloor),
      fmt(m.p50),
      fmt(m.p99),
      fmt(m.clientCommands),
      fmt(m.executedCommands),
      fmt(m.redisCpuPer1000, 2),
      fmt(m.redisCpuNetUs, 2),
      fmt(m.redisCommandUs, 2),
      fmt(m.appCpuPer1000, 0),
      String(m.failures),
    ]),
  ));
  out.push("");
  out.push(
    "*cmds/req sent*: commands clients sent per request (INFO commandstats deltas; an EVALSHA counts once, " +
      `the commands a script runs inside — ${http.scriptCommands.join(", ")} — are not counted). ` +
      "*cmds/req executed*: every command Redis executed, those inside scripts included; this is what " +
      "`total_commands_processed` counts in Redis 7.0 (it counts script-internal calls too). " +
      "*Redis CPU*: the redis-server process's used_cpu_user + used_cpu_sys (INFO cpu) over the run, " +
      "divided by the requests the app served: what the store costs the shared Redis, socket I/O included; " +
      "*net of rest* takes off what Redis spends at rest over the same time (measured before the runs). " +
      "*Redis in commands*: the time Redis spent executing the commands clients sent (INFO commandstats " +
      "usec; a script's includes what it runs inside). Both are read from the server before and after " +
      "each run; the stores run one after another on the same redis-server. *app CPU*: the app process's user + system time " +
      "from /proc (10 ms resolution), Express, express-session, the store and the Redis client together. " +
      "*failed*: non-2xx responses, socket errors and timeouts.",
  );
  out.push("");

  const appCpu = renderAppCpu(results);
  if (appCpu) out.push(appCpu, "");

  out.push("### Redis time per command (INFO commandstats)");
  out.push("");
  out.push(
    "Per request: calls × Redis's time per call executing it. A script's time includes the commands it " +
      `runs inside, which are listed too (${http.scriptCommands.join(", ")}); socket I/O is not in these ` +
      "figures, only in *Redis CPU* above.",
  );
  out.push("");
  out.push(table(["setting", "writes", "store", "calls per request × µs per call"], commandRows(http.mix)));
  out.push("");

  if (results.scripts) {
    out.push("## Scripts inside Redis (INFO commandstats)");
    out.push("");
    out.push(
      "Each script on one path, called the same way many times in one pipeline (redis-cli --pipe: no " +
        "client's cost), against the floor: a script that only returns `{'ok'}`, sent the same arguments " +
        "in the same rounds. _µs per call_: usec_per_call, the time inside the command (commands the " +
        "script runs included; on a busy machine it also counts time the server lost to other processes); " +
        "× floor is the median of the rounds' ratios. _CPU µs per call_: Redis's main-thread CPU over the " +
        "run divided by the calls (reading and answering the commands included, time lost to other " +
        "processes not).",
    );
    out.push("");
    out.push(table(
      ["script, path", "µs per call", "floor µs", "× floor", "rounds", "CPU µs per call", "floor CPU µs"],
      results.scripts.map((r) => [
        r.name,
        fmt(r.usec),
        fmt(r.floorUsec),
        fmt(median(r.ratios)),
        r.ratios.map((x) => fmt(x)).join(", "),
        fmt(r.cpu),
        fmt(r.floorCpu),
      ]),
    ));
    out.push("");
  }

  if (results.writeFloor) out.push(renderWriteFloor(results.writeFloor), "");

  out.push("## Round trips per request (counted)");
  out.push("");
  out.push(
    "One request at a time through the delay proxy, which counts the times the app's Redis client " +
      "waited on Redis (commands pipelined together count once). *login* creates a session, *read* " +
      "only reads it, *write* changes one property, *logout* destroys it. *commands*: INFO commandstats " +
      "deltas, as above.",
  );
  out.push("");
  out.push(table(
    ["store", "request", "requests", "round trips / request", "commands / request"],
    (http.roundTrips ?? []).map((row) => [
      LABEL[row.store],
      row.request,
      String(row.requests),
      fmt(row.roundTrips / row.requests),
      fmt(row.commands / row.requests),
    ]),
  ));
  out.push("");

  out.push("## Contention: N parallel writers on one session");
  out.push("");
  out.push(
    "Each writer loops on a request that increments its own property and a shared counter. *lost own* " +
      "counts own-property increments a commit reported done that are missing at the end; *lost shared* " +
      "increments of the shared counter missing (both stores let the later write win on one property). " +
      "_cmds/req sent_ above 2 are our store's conflict retries (merge, then one more commit).",
  );
  out.push("");
  out.push(table(
    [
      "setting",
      "writers",
      "store",
      "req/s",
      "p99 ms",
      "commits",
      "lost own writes",
      "lost shared increments",
      "cmds/req sent",
      "errors",
    ],
    contentionRows(http.contention),
  ));
  out.push("");

  out.push("## Redis memory per session (MEMORY USAGE)");
  out.push("");
  out.push(table(
    ["session", "store", "bytes", "encoding"],
    http.memory.map((row) => [
      row.size,
      row.store.replace(/^ours/, "connect-smart-redis"),
      String(row.bytes),
      row.encoding,
    ]),
  ));
  out.push("");

  out.push("## In-process CPU: store operations on a fake Redis (deno bench)");
  out.push("");
  out.push(
    "Both stores on the same in-process fake Redis (no sockets, no client library: the cost of node-redis " +
      "encoding and parsing each command is left out for both). A request = get, createSession, " +
      "cookie touch, then touch (read-only) or set (one property changed); a new session is one set of a " +
      "session no store loaded. Small: 3 fields; large: 50 fields, ~20 KB. Mean time per iteration (the " +
      "goals use it) and the 75th percentile, steadier on a busy machine; ratios are to the group's " +
      "baseline, measured in the same run. Before timing, each case's Redis commands are checked " +
      "(our read-only request: one HGETALL, no write).",
  );
  out.push("");
  out.push(table(
    ["group", "baseline", "baseline mean", "candidate", "candidate mean", "× baseline", "× baseline (p75)"],
    benchGroups(results.storeBench).flatMap((g) =>
      g.others.map((o) => [
        g.group,
        g.baseline.name,
        time(g.baseline.avg),
        o.name,
        time(o.avg),
        fmt(o.avg / g.baseline.avg),
        fmt(o.p75 / g.baseline.p75),
      ])
    ),
  ));
  out.push("");
  return out.join("\n");
}
