// The report's SVG charts, drawn from a ReportModel: the lane timeline, the
// budget heat map and the cost bars. Hand-written SVG: rectangles, text and
// `<title>` tooltips, no script. Pure; fixed-precision coordinates.

import { type Lane, LANES } from "../ers/types.ts";
import type { LaneHeat, ReportModel, Row, Totals } from "./_report_model.ts";
import { clip, dec, esc, int, px, tickRange } from "./_svg.ts";

const LABEL_W = 200;
const ROW_H = 16;
const ROW_GAP = 3;
const LANE_H = 20;
const AXIS_H = 22;
const PLOT_W = 900;
const MAX_CELL_W = 40;
const LABEL_CHARS = 30;

function cellWidth(model: ReportModel): number {
  return Math.min(MAX_CELL_W, Math.max(1, PLOT_W / model.bucketCount));
}

function bucketRange(model: ReportModel, b: number): [number, number] {
  const from = model.fromTick + b * model.bucketSize;
  return [from, Math.min(model.toTick, from + model.bucketSize - 1)];
}

function svgOpen(id: string, label: string, width: number, height: number): string {
  return `<svg id="${id}" class="chart" role="img" aria-label="${
    esc(label)
  }" xmlns="http://www.w3.org/2000/svg" width="${px(width)}" height="${px(height)}" viewBox="0 0 ${
    px(width)
  } ${px(height)}">`;
}

// Tick labels under the plot: about eight, at bucket starts.
function axis(model: ReportModel, y: number): string {
  const w = cellWidth(model);
  const step = Math.max(1, Math.ceil(model.bucketCount / 8));
  const parts: string[] = [];
  for (let b = 0; b < model.bucketCount; b += step) {
    const x = LABEL_W + b * w;
    parts.push(
      `<line class="grid" x1="${px(x)}" y1="${px(y - 4)}" x2="${px(x)}" y2="${px(y)}"/>`,
      `<text class="ax" x="${px(x)}" y="${px(y + 12)}">${int(bucketRange(model, b)[0])}</text>`,
    );
  }
  parts.push(
    `<text class="ax" x="${px(LABEL_W + model.bucketCount * w)}" y="${
      px(y + 12)
    }" text-anchor="end">tick</text>`,
  );
  return parts.join("");
}

function rowLabel(text: string, y: number, indent = 10): string {
  const shown = clip(text, LABEL_CHARS);
  const title = shown === text ? "" : `<title>${esc(text)}</title>`;
  return `<text x="${indent}" y="${px(y + ROW_H - 4)}">${title}${esc(shown)}</text>`;
}

/** The lane timeline: one row per (lane, task), one column per bucket. */
export function timeline(model: ReportModel): string {
  const w = cellWidth(model);
  const plotW = model.bucketCount * w;
  const parts: string[] = [];
  let y = 4;
  const rowY = new Map<string, number>();
  for (const lane of LANES) {
    const rows = model.rows.filter((r) => r.lane === lane);
    if (rows.length === 0) continue;
    parts.push(`<text class="lane" x="0" y="${px(y + 13)}">${lane} lane</text>`);
    y += LANE_H;
    for (const row of rows) {
      rowY.set(`${lane}\u0000${row.task}`, y);
      parts.push(
        `<g class="row" data-lane="${lane}" data-task="${esc(row.task)}">`,
        rowLabel(row.task, y),
        `<rect class="bg" x="${LABEL_W}" y="${px(y)}" width="${px(plotW)}" height="${ROW_H}"/>`,
        timelineCells(model, row, y, w),
        "</g>",
      );
      y += ROW_H + ROW_GAP;
    }
  }
  parts.push(promotionMarks(model, rowY, w));
  y += 6;
  parts.push(axis(model, y));
  const height = y + AXIS_H;
  return svgOpen(
    "timeline",
    `Lane timeline of run ${model.runId}`,
    LABEL_W + plotW + 8,
    height,
  ) + parts.join("") + "</svg>";
}

function timelineCells(model: ReportModel, row: Row, y: number, w: number): string {
  const cells: string[] = [];
  for (let b = 0; b < model.bucketCount; b++) {
    const ok = row.ok[b] as number;
    const error = row.error[b] as number;
    const skipped = row.skipped[b] as number;
    if (ok + error + skipped === 0) continue;
    const all = ok + error + skipped;
    const cls = error > 0
      ? `er${share(error, all)}`
      : skipped > 0
      ? `sk${share(skipped, all)}`
      : "ok";
    const [from, to] = bucketRange(model, b);
    const counts = [
      ok > 0 ? `${int(ok)} ok` : "",
      error > 0 ? `${int(error)} error` : "",
      skipped > 0 ? `${int(skipped)} skipped_budget` : "",
    ].filter((s) => s !== "").join(", ");
    cells.push(
      `<rect class="${cls}" x="${px(LABEL_W + b * w)}" y="${px(y)}" width="${
        px(Math.max(w - (w > 3 ? 1 : 0), 0.5))
      }" height="${ROW_H}"><title>${esc(row.task)} ${tickRange(from, to)}: ${counts}; ops ${
        int(row.ops[b] as number)
      }, entropy ${int(row.entropy[b] as number)}</title></rect>`,
    );
  }
  return cells.join("");
}

// 1 to 4: how much of a bucket's events had its worst status (up to an
// eighth, a quarter, a half, more); a one-tick bucket is always 4.
function share(count: number, all: number): number {
  const f = count / all;
  return f > 0.5 ? 4 : f > 0.25 ? 3 : f > 0.125 ? 2 : 1;
}

function promotionMarks(model: ReportModel, rowY: Map<string, number>, w: number): string {
  return model.promotions.map((p) => {
    if (p.decision !== "promoted" && p.decision !== "demoted") return "";
    const y = rowY.get(`${p.to}\u0000${p.task}`) ?? rowY.get(`${p.from}\u0000${p.task}`);
    if (y === undefined) return "";
    const b = Math.floor((p.tick - model.fromTick) / model.bucketSize);
    const x = LABEL_W + (b + 1) * w;
    const d = p.decision === "promoted"
      ? `M${px(x)} ${px(y + 1)}l5 9h-10Z`
      : `M${px(x)} ${px(y + 10)}l5 -9h-10Z`;
    return `<path class="${p.decision === "promoted" ? "pr" : "de"}" d="${d}"><title>${
      esc(p.task)
    } ${p.decision} at the end of tick ${p.tick}: ${p.from} → ${p.to}</title></path>`;
  }).join("");
}

/** The budget heat map: per lane, rows for ops, entropy and skips per bucket. */
export function heatMap(
  model: ReportModel,
  budgets: Partial<Record<Lane, { ops: number; entropy: number }>> | undefined,
): string {
  const w = cellWidth(model);
  const plotW = model.bucketCount * w;
  const parts: string[] = [];
  let y = 4;
  for (const heat of model.lanes) {
    parts.push(
      `<text class="lane" x="0" y="${px(y + 13)}">${heat.lane} lane: ${
        int(heat.totals.spent_ops)
      } ops, ${int(heat.totals.spent_entropy)} entropy, ${
        int(heat.totals.skipped)
      } skipped_budget</text>`,
    );
    y += LANE_H;
    const budget = budgets?.[heat.lane];
    parts.push(
      heatRow(model, heat, "ops", heat.ops, budget?.ops, y, w),
      heatRow(model, heat, "entropy", heat.entropy, budget?.entropy, y + ROW_H + ROW_GAP, w),
      skipRow(model, heat, y + 2 * (ROW_H + ROW_GAP), w),
    );
    y += 3 * (ROW_H + ROW_GAP) + 6;
  }
  parts.push(axis(model, y));
  return svgOpen(
    "heatmap",
    `Budget heat map of run ${model.runId}`,
    LABEL_W + plotW + 8,
    y + AXIS_H,
  ) +
    parts.join("") + "</svg>";
}

// Class h0..h8 for a share of the scale (0 only for nothing spent).
function shade(value: number, scale: number): number {
  if (value <= 0) return 0;
  return Math.min(8, Math.max(1, Math.ceil((value / scale) * 8)));
}

function heatRow(
  model: ReportModel,
  heat: LaneHeat,
  what: "ops" | "entropy",
  sums: Float64Array,
  budget: number | undefined,
  y: number,
  w: number,
): string {
  const means: number[] = [];
  for (let b = 0; b < model.bucketCount; b++) {
    const ticks = model.bucketTicks[b] as number;
    means.push(ticks === 0 ? 0 : (sums[b] as number) / ticks);
  }
  const scale = budget !== undefined && budget > 0 ? budget : Math.max(1, ...means);
  const of = budget !== undefined ? ` of a budget of ${int(budget)}` : "";
  const cells: string[] = [rowLabel(`${what} spent per tick`, y)];
  cells.push(
    `<rect class="bg" x="${LABEL_W}" y="${px(y)}" width="${
      px(model.bucketCount * w)
    }" height="${ROW_H}"/>`,
  );
  for (let b = 0; b < model.bucketCount; b++) {
    if ((model.bucketTicks[b] as number) === 0) continue;
    const [from, to] = bucketRange(model, b);
    cells.push(
      `<rect class="h${shade(means[b] as number, scale)}" x="${px(LABEL_W + b * w)}" y="${
        px(y)
      }" width="${px(w)}" height="${ROW_H}"><title>${heat.lane} ${tickRange(from, to)}: ${
        int(sums[b] as number)
      } ${what} spent, ${dec(means[b] as number)} per tick${of}</title></rect>`,
    );
  }
  return cells.join("");
}

function skipRow(model: ReportModel, heat: LaneHeat, y: number, w: number): string {
  let most = 1;
  for (let b = 0; b < model.bucketCount; b++) most = Math.max(most, heat.skipped[b] as number);
  const cells: string[] = [rowLabel("skipped_budget", y)];
  cells.push(
    `<rect class="bg" x="${LABEL_W}" y="${px(y)}" width="${
      px(model.bucketCount * w)
    }" height="${ROW_H}"/>`,
  );
  for (let b = 0; b < model.bucketCount; b++) {
    const skips = heat.skipped[b] as number;
    if (skips === 0) continue;
    const [from, to] = bucketRange(model, b);
    cells.push(
      `<rect class="k${shade(skips, most)}${w >= 6 ? " hot" : ""}" x="${px(LABEL_W + b * w)}" y="${
        px(y)
      }" width="${px(w)}" height="${ROW_H}"><title>${heat.lane} ${tickRange(from, to)}: ${
        int(skips)
      } skipped_budget (${int(heat.skippedOps[b] as number)} ops not run)</title></rect>`,
    );
  }
  return cells.join("");
}

const BAR_W = 300;
const BAR_LABEL_W = 230;

/** Cost bars: ops and entropy per task, per lane and for the run, as shares of the run. */
export function costChart(model: ReportModel): string {
  const lines: { label: string; totals: Totals; kind: "task" | "lane" | "run" }[] = [];
  for (const heat of model.lanes) {
    const rows = model.rows.filter((r) => r.lane === heat.lane);
    if (rows.length === 0) continue;
    for (const row of rows) lines.push({ label: row.task, totals: row.totals, kind: "task" });
    lines.push({ label: `${heat.lane} lane`, totals: heat.totals, kind: "lane" });
  }
  lines.push({ label: "run", totals: model.run, kind: "run" });
  const col2 = BAR_LABEL_W + BAR_W + 90;
  const parts: string[] = [
    `<text class="lane" x="${BAR_LABEL_W}" y="14">ops spent</text>`,
    `<text class="lane" x="${col2}" y="14">entropy spent</text>`,
  ];
  let y = 22;
  for (const line of lines) {
    const weight = line.kind === "task" ? "" : ' font-weight="600"';
    const label = line.kind === "task" ? line.label : `total, ${line.label}`;
    parts.push(
      `<g class="cost ${line.kind}"${
        line.kind === "task" ? ` data-task="${esc(line.label)}"` : ""
      }>`,
      `<text x="${line.kind === "task" ? 10 : 0}" y="${px(y + ROW_H - 4)}"${weight}>${
        clip(label, LABEL_CHARS) === label ? "" : `<title>${esc(label)}</title>`
      }${esc(clip(label, LABEL_CHARS))}</text>`,
      bar(
        BAR_LABEL_W,
        y,
        line.totals.spent_ops,
        model.run.spent_ops,
        "bo",
        `${label}: ${int(line.totals.spent_ops)} ops`,
      ),
      bar(
        col2,
        y,
        line.totals.spent_entropy,
        model.run.spent_entropy,
        "be",
        `${label}: ${int(line.totals.spent_entropy)} entropy`,
      ),
      "</g>",
    );
    y += ROW_H + ROW_GAP + (line.kind === "task" ? 0 : 6);
  }
  return svgOpen("costs-chart", `Cost per task of run ${model.runId}`, col2 + BAR_W + 90, y + 4) +
    parts.join("") + "</svg>";
}

function bar(
  x: number,
  y: number,
  value: number,
  total: number,
  cls: string,
  title: string,
): string {
  const width = total > 0 ? (value / total) * BAR_W : 0;
  const share = total > 0 ? ` (${dec((100 * value) / total)}%)` : "";
  return `<rect class="bg" x="${x}" y="${px(y)}" width="${BAR_W}" height="${ROW_H}"/>` +
    `<rect class="${cls}" x="${x}" y="${px(y)}" width="${px(width)}" height="${ROW_H}"><title>${
      esc(title)
    }${share}</title></rect>` +
    `<text x="${x + BAR_W + 6}" y="${px(y + ROW_H - 4)}">${int(value)}</text>`;
}

/** The cost table: per task, per lane and for the run, counts and spend. */
export function costTable(model: ReportModel): string {
  const tr = (label: string, lane: string, t: Totals, cls = "") =>
    `<tr${cls}><td>${label}</td><td>${lane}</td>${
      [t.runs, t.ok, t.errors, t.skipped, t.spent_ops, t.spent_entropy]
        .map((v) => `<td class="n">${int(v)}</td>`).join("")
    }</tr>`;
  const rows: string[] = [];
  for (const heat of model.lanes) {
    for (const row of model.rows.filter((r) => r.lane === heat.lane)) {
      rows.push(tr(`<code>${esc(row.task)}</code>`, heat.lane, row.totals));
    }
    if (heat.totals.runs > 0) {
      rows.push(tr("<strong>lane total</strong>", heat.lane, heat.totals, ' class="sum"'));
    }
  }
  rows.push(tr("<strong>run total</strong>", "", model.run, ' class="sum"'));
  return `<table class="costs"><thead><tr><th>task</th><th>lane</th><th>scheduled</th><th>ok</th><th>error</th><th>skipped</th><th>ops</th><th>entropy</th></tr></thead><tbody>${
    rows.join("")
  }</tbody></table>`;
}
