/**
 * Turns the measurements into `results.md` (tables, goals) and `chart.svg`
 * (plain SVG text).
 * @module
 */

import type { ContentionCell } from "./http_bench.ts";
import type { StoreName } from "./_app_server.ts";
import { checkGoals } from "./_goals.ts";
import {
  benchGroups,
  CONNECT_REDIS,
  fmt,
  LABEL,
  median,
  type MixSummary,
  pct,
  type Results,
  sum,
  summarizeMix,
  time,
} from "./_summary.ts";

export type { Meta, Results, StoreBenchRow } from "./_summary.ts";

const COLOR: Record<StoreName, string> = {
  "ours": "#2b6cb0",
  "connect-redis": "#dd6b20",
  "floor": "#8a8a8a",
};

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
    }. Ratios are medians over rounds of ratios taken within one round (runs interleaved).`,
  );
  out.push("");
  const mix = summarizeMix(http.mix);
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
      "divided by the requests the app served: what the store costs the shared Redis, socket I/O included. " +
      "*Redis in commands*: the time Redis spent executing the commands clients sent (INFO commandstats " +
      "usec; a script's includes what it runs inside). Both are read from the server before and after " +
      "each run; the stores run one after another on the same redis-server. *app CPU*: the app process's user + system time " +
      "from /proc (10 ms resolution), Express, express-session, the store and the Redis client together. " +
      "*failed*: non-2xx responses, socket errors and timeouts.",
  );
  out.push("");

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
      "cookie touch, then touch (unchanged) or set (one property changed). Small: 3 fields; large: 50 fields, " +
      "~20 KB. Mean time per iteration; the ratio is to the group's baseline, measured in the same run.",
  );
  out.push("");
  out.push(table(
    ["group", "baseline", "baseline time", "candidate", "candidate time", "× baseline"],
    benchGroups(results.storeBench).flatMap((g) =>
      g.others.map((
        o,
      ) => [g.group, g.baseline.name, time(g.baseline.avg), o.name, time(o.avg), fmt(o.avg / g.baseline.avg)])
    ),
  ));
  out.push("");
  return out.join("\n");
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * The chart: req/s relative to connect-redis, p50 latency, and in-process CPU.
 * @param results Everything measured.
 * @returns chart.svg's text.
 */
export function renderSvg(results: Results): string {
  const mix = summarizeMix(results.http.mix);
  const cells = [...new Map(mix.map((m) => [`${m.setting}|${m.writeRatio}`, m])).values()];
  const width = 960;
  const left = 70;
  const plotWidth = width - left - 30;
  const panelHeight = 220;
  const parts: string[] = [];
  let y = 40;
  const text = (x: number, ty: number, value: string, attrs = "") =>
    `<text x="${x.toFixed(1)}" y="${ty.toFixed(1)}" ${attrs}>${escape(value)}</text>`;
  const title = results.meta.mode === "smoke" ? " (smoke mode: figures mean nothing)" : "";
  parts.push(
    text(
      width / 2,
      24,
      `connect-smart-redis vs ${CONNECT_REDIS}${title}`,
      'text-anchor="middle" font-size="16" font-weight="bold"',
    ),
  );

  /** One grouped bar panel. */
  const panel = (
    heading: string,
    groups: { label: string[]; bars: { store: StoreName; value: number; note?: string }[] }[],
    unit: string,
    reference?: number,
  ) => {
    const top = y + 30;
    const bottom = top + panelHeight;
    const values = groups.flatMap((g) => g.bars.map((b) => b.value)).filter(Number.isFinite);
    const highest = Math.max(reference ?? 0, ...values, 1e-9) * 1.12;
    // A round tick step (1, 2 or 5 times a power of ten) giving four or five ticks.
    const magnitude = 10 ** Math.floor(Math.log10(highest / 4));
    const step = [1, 2, 5, 10].map((m) => m * magnitude).find((candidate) => highest / candidate <= 5)!;
    const ticks = Math.ceil(highest / step);
    const max = ticks * step;
    const scale = (v: number) => bottom - (v / max) * panelHeight;
    parts.push(text(left, y + 18, heading, 'font-size="14" font-weight="bold"'));
    parts.push(`<line x1="${left}" y1="${bottom}" x2="${left + plotWidth}" y2="${bottom}" stroke="#333"/>`);
    parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#333"/>`);
    for (let i = 0; i <= ticks; i++) {
      const v = step * i;
      const ty = scale(v);
      parts.push(
        `<line x1="${left - 4}" y1="${ty.toFixed(1)}" x2="${left + plotWidth}" y2="${
          ty.toFixed(1)
        }" stroke="#ddd"/>`,
      );
      parts.push(
        text(left - 8, ty + 4, `${Number(v.toPrecision(6))}${unit}`, 'text-anchor="end" font-size="11"'),
      );
    }
    if (reference !== undefined) {
      const ty = scale(reference);
      parts.push(
        `<line x1="${left}" y1="${ty.toFixed(1)}" x2="${left + plotWidth}" y2="${ty.toFixed(1)}" stroke="${
          COLOR["connect-redis"]
        }" stroke-dasharray="6 4" stroke-width="2"/>`,
      );
    }
    const slot = plotWidth / Math.max(1, groups.length);
    for (const [i, group] of groups.entries()) {
      const barWidth = Math.min(40, (slot * 0.8) / Math.max(1, group.bars.length));
      const start = left + slot * i + (slot - barWidth * group.bars.length) / 2;
      for (const [j, bar] of group.bars.entries()) {
        if (!Number.isFinite(bar.value)) continue;
        const x = start + j * barWidth;
        const ty = scale(bar.value);
        parts.push(
          `<rect x="${x.toFixed(1)}" y="${ty.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${
            (bottom - ty).toFixed(1)
          }" fill="${COLOR[bar.store]}"/>`,
        );
        parts.push(
          text(
            x + barWidth / 2 - 1,
            ty - 4,
            bar.note ?? bar.value.toPrecision(3),
            'text-anchor="middle" font-size="10"',
          ),
        );
      }
      for (const [line, label] of group.label.entries()) {
        parts.push(
          text(
            left + slot * i + slot / 2,
            bottom + 15 + 13 * line,
            label,
            'text-anchor="middle" font-size="11"',
          ),
        );
      }
    }
    y = bottom + 28 + 13 * Math.max(...groups.map((g) => g.label.length));
  };

  const find = (c: MixSummary, store: StoreName) =>
    mix.find((x) => x.setting === c.setting && x.writeRatio === c.writeRatio && x.store === store);
  panel(
    "Throughput relative to connect-redis (dashed line = 1.0), same run",
    cells.map((c) => {
      const ours = find(c, "ours");
      const theirs = find(c, "connect-redis");
      const floor = find(c, "floor");
      return {
        label: [
          `${c.setting}, ${Math.round(c.writeRatio * 100)} % writes`,
          `${fmt(ours?.rps ?? NaN, 0)} vs ${fmt(theirs?.rps ?? NaN, 0)} req/s`,
          `floor: ${fmt(floor?.vsConnectRedis ?? NaN)}×`,
        ],
        bars: [
          {
            store: "ours" as const,
            value: ours?.vsConnectRedis ?? NaN,
            note: `${fmt(ours?.vsConnectRedis ?? NaN)}×`,
          },
          { store: "connect-redis" as const, value: 1, note: "1.00×" },
        ],
      };
    }),
    "×",
    1,
  );
  panel(
    "Median latency, ms (floor: the same app with an in-process store)",
    cells.map((c) => ({
      label: [`${c.setting}, ${Math.round(c.writeRatio * 100)} % writes`],
      bars: (["ours", "connect-redis", "floor"] as const).map((store) => {
        const m = find(c, store);
        return { store, value: m?.p50 ?? NaN, note: m ? fmt(m.p50) : "" };
      }),
    })),
    "",
  );
  const requestGroups = benchGroups(results.storeBench).filter((g) =>
    ["get", "request", "session", "destroy"].some((word) => g.group.includes(word))
  );
  panel(
    "In-process CPU per operation, fake Redis (relative to connect-redis = 1.0)",
    requestGroups.map((g) => ({
      label: [g.group.replace(/ (small|large)$/, ""), /(small|large)$/.exec(g.group)?.[1] ?? ""],
      bars: [
        {
          store: "ours" as const,
          value: g.others[0].avg / g.baseline.avg,
          note: `${fmt(g.others[0].avg / g.baseline.avg)}×`,
        },
        { store: "connect-redis" as const, value: 1, note: time(g.baseline.avg) },
      ],
    })),
    "×",
    1,
  );
  // Legend.
  let lx = left;
  for (const store of ["ours", "connect-redis", "floor"] as const) {
    parts.push(`<rect x="${lx}" y="${y - 10}" width="12" height="12" fill="${COLOR[store]}"/>`);
    parts.push(text(lx + 16, y, LABEL[store], 'font-size="12"'));
    lx += 200;
  }
  const machine = `${results.meta.nproc} × ${results.meta.cpuModel}; ${results.meta.date}`;
  parts.push(text(left, y + 22, machine, 'font-size="11" fill="#555"'));
  const height = y + 40;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}
