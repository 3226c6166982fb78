/**
 * Draws `chart.svg` (plain SVG text): throughput relative to connect-redis,
 * median latency, and in-process CPU.
 * @module
 */

import type { StoreName } from "./_app_server.ts";
import {
  benchGroups,
  CONNECT_REDIS,
  fmt,
  LABEL,
  type MixSummary,
  type Results,
  summarizeMix,
  time,
} from "./_summary.ts";

const COLOR: Record<StoreName, string> = {
  "ours": "#2b6cb0",
  "ours-cached": "#2f855a",
  "ours-user": "#2b6cb0", // round trips only, never charted
  "ours-trivial-commit": "#2b6cb0", // app-CPU phase only, never charted
  "ours-bare-commit": "#2b6cb0",
  "connect-redis": "#dd6b20",
  "floor": "#8a8a8a",
};

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
      const cached = find(c, "ours-cached");
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
          ...(cached
            ? [{
              store: "ours-cached" as const,
              value: cached.vsConnectRedis,
              note: `${fmt(cached.vsConnectRedis)}×`,
            }]
            : []),
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
      bars: (["ours", "ours-cached", "connect-redis", "floor"] as const).filter((store) => find(c, store))
        .map(
          (store) => {
            const m = find(c, store);
            return { store, value: m?.p50 ?? NaN, note: m ? fmt(m.p50) : "" };
          },
        ),
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
  for (const store of ["ours", "ours-cached", "connect-redis", "floor"] as const) {
    parts.push(`<rect x="${lx}" y="${y - 10}" width="12" height="12" fill="${COLOR[store]}"/>`);
    parts.push(text(lx + 16, y, LABEL[store], 'font-size="12"'));
    lx += 230;
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
