/**
 * The run report: TrendPacks (plus, when present, ResultsPack error texts,
 * promotion decisions and the RunHeader's identity) and a verify verdict in,
 * one self-contained HTML page out. Inline CSS and SVG only: no script, no
 * network, no external style or font. Pure and deterministic: the same input
 * gives the same bytes.
 *
 * @module
 */

import type { Lane, Status } from "../ers/types.ts";
import { compareCodePoints } from "../ers/_code_point.ts";
import { isPlainObject, rangeError, typeError } from "../ers/_validate.ts";
import type { TrendPack } from "./trendpack.ts";
import { buildReportModel, checkExtras, type ReportModel } from "./_report_model.ts";
import { costChart, costTable, heatMap, timeline } from "./_report_charts.ts";
import { clip, esc, int, plural, tickRange } from "./_svg.ts";

/**
 * Most tick buckets the lane timeline and the heat map draw: a longer run is
 * binned, each bucket showing the worst status and the sums of its ticks.
 *
 * @example 100,000 ticks become 1,000 buckets of 100 ticks
 * ```ts
 * import { DEFAULT_REPORT_BUCKETS } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_REPORT_BUCKETS, 1000);
 * assert.equal(Math.ceil(100_000 / DEFAULT_REPORT_BUCKETS), 100);
 * ```
 */
export const DEFAULT_REPORT_BUCKETS = 1000;

/** Most error clusters listed in the report; the rest are counted. */
const MAX_CLUSTERS_SHOWN = 200;

/**
 * One problem a verify found, naming its file.
 *
 * @example The shape of `verifyArtifacts`' issues
 * ```ts
 * import type { ReportIssue } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const issue: ReportIssue = { path: "viz/R/000000.trendpack.json", message: "SHA-256 differs" };
 * assert.equal(issue.path.startsWith("viz/"), true);
 * ```
 */
export interface ReportIssue {
  /** POSIX path relative to the artifacts root. */
  path: string;
  /** What is wrong. */
  message: string;
}

/**
 * The verify verdict the report shows in its header, and exactly what was
 * checked to reach it (one sentence per check).
 *
 * @example A clean verdict
 * ```ts
 * import type { ReportVerdict } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const verdict: ReportVerdict = {
 *   ok: true,
 *   checked: ["24 recorded files re-hashed: length and SHA-256 as the manifest records"],
 *   errors: [],
 *   warnings: [],
 * };
 * assert.equal(verdict.checked.length, 1);
 * ```
 */
export interface ReportVerdict {
  /** `true` when nothing recorded is wrong (warnings allowed). */
  ok: boolean;
  /** What was checked, one sentence each. */
  checked: readonly string[];
  /** Problems that make the verdict fail. */
  errors: readonly ReportIssue[];
  /** Problems that do not. */
  warnings: readonly ReportIssue[];
}

/**
 * One tick's task results, as a ResultsPack records them: the report takes
 * the error text of each task that ended in `error`.
 *
 * @example One failed task
 * ```ts
 * import type { ReportTickResults } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const results: ReportTickResults = {
 *   tick: 7,
 *   results: [{ task: "oracle:signal", status: "error", error: "RangeError: dropout at 12" }],
 * };
 * assert.equal(results.results[0]!.error, "RangeError: dropout at 12");
 * ```
 */
export interface ReportTickResults {
  /** The tick. */
  tick: number;
  /** Per task, its status and error text (`null` when none). */
  results: readonly { task: string; status: Status; error: string | null }[];
}

/**
 * A promotion decision recorded at the end of a tick (a PromotionDecision
 * entry); a `promoted` or `demoted` task runs in its new lane from the next tick.
 *
 * @example A shadow metric promoted at the end of tick 5
 * ```ts
 * import type { ReportPromotion } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const decision: ReportPromotion = {
 *   tick: 5, task: "shadow:sei", decision: "promoted", from: "shadow", to: "forecast", rule: "window 6 clean",
 * };
 * assert.equal(decision.to, "forecast");
 * ```
 */
export interface ReportPromotion {
  /** The tick at whose end it was decided. */
  tick: number;
  /** The task. */
  task: string;
  /** What happened: only `promoted` and `demoted` move the task between lanes. */
  decision: "enrolled" | "promoted" | "demoted" | "reset" | "withdrawn";
  /** The lane it left. */
  from: Lane;
  /** The lane it runs in from the next tick. */
  to: Lane;
  /** The rule that fired, when recorded. */
  rule?: string | null;
}

/**
 * The run's RunHeader, when it has one: its identity is shown in the header,
 * and lane budgets found in it scale the heat map.
 *
 * @example An identity with budgets
 * ```ts
 * import type { ReportRunHeader } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const header: ReportRunHeader = {
 *   path: "runs/R.runheader.json",
 *   sha256: "ab".repeat(32),
 *   identity: { ers: "0.2.0", mode: "cli" },
 *   budgets: { forecast: { ops: 50, entropy: 10 }, shadow: { ops: 10, entropy: 0 } },
 * };
 * assert.equal(header.budgets?.forecast?.ops, 50);
 * ```
 */
export interface ReportRunHeader {
  /** The header's path relative to the artifacts root. */
  path?: string;
  /** The header file's SHA-256. */
  sha256?: string;
  /** The identity part, shown key by key. */
  identity: Record<string, unknown>;
  /** Per-tick lane budgets from the identity; they scale the heat map. */
  budgets?: Partial<Record<Lane, { ops: number; entropy: number }>>;
}

/**
 * What {@linkcode renderRunReport} draws.
 *
 * @example The smallest input: one TrendPack and a verdict
 * ```ts
 * import { ersTraceToTrendpack, renderRunReport, type RunReportInput } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const input: RunReportInput = {
 *   runId: "R",
 *   trendpacks: [ersTraceToTrendpack({ runId: "R", tick: 0, trace: [] })],
 *   verdict: { ok: true, checked: [], errors: [], warnings: [] },
 * };
 * assert.match(renderRunReport(input), /<h1>ERS run <code>R<\/code><\/h1>/);
 * ```
 */
export interface RunReportInput {
  /** The run. */
  runId: string;
  /** Its TrendPacks in the range, ticks strictly increasing. */
  trendpacks: readonly TrendPack[];
  /** The verify verdict of the run. */
  verdict: ReportVerdict;
  /** ResultsPacks in the range, for error texts. */
  results?: readonly ReportTickResults[];
  /** Promotion decisions of the run. */
  promotions?: readonly ReportPromotion[];
  /** The RunHeader, when the run has one. */
  header?: ReportRunHeader;
  /**
   * Most tick buckets to draw.
   *
   * @default {1000}
   */
  maxBuckets?: number;
}

/**
 * Renders a run as one self-contained HTML page: a header (run, ticks,
 * engine, mode, ERS version, the verify verdict and what it checked, the
 * RunHeader identity), the lane timeline, the budget heat map with its
 * `skipped_budget` hot spots, error clusters, cost per task and per lane,
 * and the TrendPack stats summed. Ticks are binned into at most
 * `maxBuckets` buckets. Pure: the same input gives the same string.
 *
 * @param input The TrendPacks, verdict and optional records.
 * @returns The HTML page.
 * @throws {TypeError | RangeError} Naming the field: no TrendPack, one of
 * another run, ticks out of order, a bad timeline entry, a bad verdict.
 *
 * @example A tick with an error and a budget skip
 * ```ts
 * import { ersTraceToTrendpack, renderRunReport } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const trendpack = ersTraceToTrendpack({
 *   runId: "R", tick: 0, provenance: { engine: "abraxas", mode: "demo", ers: "v0.2" }, trace: [
 *     { tick: 0, task: "a", lane: "forecast", status: "error", cost_ops: 2, cost_entropy: 0, meta: { tags: [] } },
 *     { tick: 0, task: "s", lane: "shadow", status: "skipped_budget", cost_ops: 9, cost_entropy: 0, meta: { reason: "budget" } },
 *   ],
 * });
 * const html = renderRunReport({
 *   runId: "R",
 *   trendpacks: [trendpack],
 *   verdict: { ok: true, checked: ["2 recorded files re-hashed"], errors: [], warnings: [] },
 *   results: [{ tick: 0, results: [{ task: "a", status: "error", error: "Error: boom" }] }],
 * });
 * assert.match(html, /Error: boom/);
 * assert.match(html, /<svg[^>]* id="timeline"/);
 * assert.equal(html.includes("<script"), false);
 * assert.equal(html, renderRunReport({
 *   runId: "R", trendpacks: [trendpack],
 *   verdict: { ok: true, checked: ["2 recorded files re-hashed"], errors: [], warnings: [] },
 *   results: [{ tick: 0, results: [{ task: "a", status: "error", error: "Error: boom" }] }],
 * }));
 * ```
 */
export function renderRunReport(input: RunReportInput): string {
  const action = "render run report";
  if (!isPlainObject(input)) typeError(action, "input", "an object", input);
  checkVerdict(action, input.verdict);
  const maxBuckets = input.maxBuckets ?? DEFAULT_REPORT_BUCKETS;
  if (!Number.isSafeInteger(maxBuckets) || maxBuckets < 1 || maxBuckets > 100_000) {
    rangeError(action, "maxBuckets", "an integer from 1 to 100000", maxBuckets);
  }
  if (input.header !== undefined && !isPlainObject(input.header?.identity)) {
    typeError(action, "header.identity", "an object", input.header?.identity);
  }
  checkExtras(action, input.results, input.promotions);
  const model = buildReportModel({
    runId: input.runId,
    trendpacks: input.trendpacks,
    errorTexts: input.results,
    promotions: (input.promotions ?? []).map((p) => ({ ...p, rule: p.rule ?? null })),
    maxBuckets,
  });
  return page(model, input);
}

function checkVerdict(action: string, verdict: unknown): void {
  if (!isPlainObject(verdict)) typeError(action, "verdict", "an object", verdict);
  if (typeof verdict.ok !== "boolean") typeError(action, "verdict.ok", "a boolean", verdict.ok);
  for (const field of ["checked", "errors", "warnings"] as const) {
    if (!Array.isArray(verdict[field])) {
      typeError(action, `verdict.${field}`, "an array", verdict[field]);
    }
  }
}

function page(model: ReportModel, input: RunReportInput): string {
  const title = `ERS run ${model.runId}, ${tickRange(model.fromTick, model.toTick)}`;
  return [
    "<!DOCTYPE html>\n",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="ers report">`,
    `<title>${esc(title)}</title><style>${CSS}</style></head><body>\n`,
    header(model, input),
    section(
      "timeline",
      "Lane timeline",
      `Each row is a task in a lane; each column ${
        bucketWords(model)
      }, coloured by its worst status${
        model.bucketSize > 1 ? " (lighter when fewer of the bucket's events had it)" : ""
      }.`,
      legend(
        [["ok", "ok"], ["skipped_budget", "sk"], ["error", "er"], ["not scheduled", "no"]],
        model.promotions.some((p) => p.decision === "promoted" || p.decision === "demoted")
          ? PROMOTION_KEYS
          : "",
      ) +
        scroll(timeline(model)),
    ),
    section(
      "heat",
      "Budget heat map",
      heatCaption(model, input.header),
      scroll(heatMap(model, input.header?.budgets)),
    ),
    section("errors", "Error clusters", clusterCaption(model), tables(clusterTable(model, input))),
    section(
      "costs",
      "Cost per task",
      "Ops and entropy spent (costs of tasks that ran, ok or error; a skipped task spends nothing). Bars are shares of the run total.",
      scroll(costChart(model)) + tables(costTable(model)),
    ),
    section(
      "stats",
      "Stats",
      `The TrendPack stats summed over ${plural(model.recordedTicks, "tick")}.`,
      statsTable(model),
    ),
    model.promotions.length > 0
      ? section(
        "promotions",
        "Promotions",
        "Promotion decisions recorded in the range, in tick order; a promoted or demoted task runs in its new lane from the next tick.",
        tables(promotionTable(model)),
      )
      : "",
    `<footer>Written by <code>ers report</code> from ${
      plural(model.recordedTicks, "TrendPack")
    } of run <code>${
      esc(model.runId)
    }</code>. A pure function of the run: no clock, no random ids.</footer>\n`,
    "</body></html>\n",
  ].join("");
}

function bucketWords(model: ReportModel): string {
  return model.bucketSize === 1
    ? "one tick"
    : `a bucket of ${int(model.bucketSize)} ticks (${int(model.bucketCount)} buckets)`;
}

function section(id: string, title: string, caption: string, body: string): string {
  return `<section id="${id}"><h2>${esc(title)}</h2><p class="cap">${
    esc(caption)
  }</p>${body}</section>\n`;
}

function tables(html: string): string {
  return html === "" ? "" : `<div class="tables">${html}</div>`;
}

function scroll(svg: string): string {
  return `<div class="scroll">${svg}</div>`;
}

const PROMOTION_KEYS =
  '<span class="key"><svg width="12" height="12"><path class="pr" d="M6 1L11 11H1Z"/></svg>promoted</span>' +
  '<span class="key"><svg width="12" height="12"><path class="de" d="M6 11L11 1H1Z"/></svg>demoted</span>';

function legend(items: [string, string][], extra: string): string {
  return `<div class="legend">${
    items.map(([label, cls]) => `<span class="key"><i class="${cls}"></i>${esc(label)}</span>`)
      .join("")
  }${extra}</div>`;
}

function provenanceValue(model: ReportModel, key: string): string {
  const values = model.provenance.find(([k]) => k === key)?.[1];
  if (values === undefined) return '<span class="dim">not recorded</span>';
  return values.map((v) => `<code>${esc(v)}</code>`).join(", ");
}

function header(model: ReportModel, input: RunReportInput): string {
  const others = model.provenance.filter(([key]) => !["engine", "mode", "ers"].includes(key));
  const facts: [string, string][] = [
    [
      "Ticks",
      `${esc(tickRange(model.fromTick, model.toTick))}: ${
        plural(model.recordedTicks, "TrendPack")
      }` +
      (model.bucketSize > 1 ? `, ${int(model.bucketSize)} ticks per bucket` : ""),
    ],
    ["Engine", provenanceValue(model, "engine")],
    ["Mode", provenanceValue(model, "mode")],
    ["ERS version", provenanceValue(model, "ers")],
    ...others.map(([key, values]): [string, string] => [
      key,
      values.map((v) => `<code>${esc(v)}</code>`).join(", "),
    ]),
    [
      "Events",
      `${int(model.run.runs)}: ${int(model.run.ok)} ok, ${int(model.run.errors)} error, ${
        int(model.run.skipped)
      } skipped_budget`,
    ],
  ];
  return [
    `<header><h1>ERS run <code>${esc(model.runId)}</code></h1>`,
    `<dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join("")}</dl>`,
    verdictBox(input.verdict),
    input.header === undefined ? "" : identityBox(input.header),
    "</header>\n",
  ].join("");
}

function verdictBox(verdict: ReportVerdict): string {
  const issues = (kind: string, list: readonly ReportIssue[]) =>
    list.length === 0
      ? ""
      : `<ul class="${kind}">${
        list.slice(0, 50).map((i) => `<li><code>${esc(i.path)}</code>: ${esc(i.message)}</li>`)
          .join("")
      }${list.length > 50 ? `<li>and ${int(list.length - 50)} more</li>` : ""}</ul>`;
  return [
    `<div class="verdict ${verdict.ok ? "pass" : "fail"}" id="verdict">`,
    `<p><strong>verify: ${verdict.ok ? "OK" : "FAIL"}</strong> (${
      plural(verdict.errors.length, "error")
    }, ${plural(verdict.warnings.length, "warning")})</p>`,
    `<p>Checked:</p><ul>${verdict.checked.map((c) => `<li>${esc(c)}</li>`).join("")}</ul>`,
    issues("errs", verdict.errors),
    issues("warns", verdict.warnings),
    "</div>",
  ].join("");
}

// The identity, flattened to dotted keys sorted by code point.
function identityBox(runHeader: ReportRunHeader): string {
  const rows: [string, string][] = [];
  const walk = (value: unknown, path: string) => {
    if (isPlainObject(value) && Object.keys(value).length > 0) {
      for (const key of Object.keys(value).sort(compareCodePoints)) {
        walk(value[key], path === "" ? key : `${path}.${key}`);
      }
      return;
    }
    rows.push([path, typeof value === "string" ? value : JSON.stringify(value) ?? String(value)]);
  };
  walk(runHeader.identity, "");
  const where = runHeader.path === undefined ? "" : ` <code>${esc(runHeader.path)}</code>`;
  const hash = runHeader.sha256 === undefined
    ? ""
    : `<p class="dim">sha256 <code>${esc(runHeader.sha256)}</code></p>`;
  return `<div class="identity" id="identity"><p><strong>RunHeader identity</strong>${where}</p>${hash}<table><tbody>${
    rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td><code>${esc(clip(v, 200))}</code></td></tr>`)
      .join("")
  }</tbody></table></div>`;
}

function heatCaption(model: ReportModel, runHeader: ReportRunHeader | undefined): string {
  const scale = runHeader?.budgets === undefined
    ? "against the lane's busiest bucket (TrendPacks do not record budgets)"
    : "against the lane's per-tick budget from the RunHeader";
  return `Per lane and ${
    model.bucketSize === 1 ? "tick" : "bucket"
  }: mean ops and entropy spent per tick, ${scale}; the skipped_budget row marks hot spots where tasks did not fit.`;
}

function clusterCaption(model: ReportModel): string {
  if (model.clusters.length === 0) return "No task ended in error in this range.";
  const ticks = model.clusters.reduce((n, c) => n + c.to - c.from + 1, 0);
  return `${
    plural(model.clusters.length, "cluster")
  } (runs of consecutive ticks in which a task ended in error), ${plural(ticks, "error")} in all.`;
}

function clusterTable(model: ReportModel, input: RunReportInput): string {
  if (model.clusters.length === 0) return "";
  const shown = model.clusters.slice(0, MAX_CLUSTERS_SHOWN);
  const noText = input.results === undefined
    ? '<span class="dim">no ResultsPack</span>'
    : '<span class="dim">not recorded</span>';
  const rows = shown.map((c) => {
    const texts = c.texts.map((t) =>
      `<div>${t.text === "" ? noText : `<code>${esc(clip(t.text, 300))}</code>`}${
        c.texts.length > 1 ? ` <span class="dim">×${int(t.ticks)}</span>` : ""
      }</div>`
    ).join("");
    return `<tr><td>${c.lane}</td><td><code>${esc(c.task)}</code></td><td class="n">${
      esc(tickRange(c.from, c.to))
    }</td><td class="n">${int(c.to - c.from + 1)}</td><td class="msg">${texts}</td></tr>`;
  });
  const more = model.clusters.length > shown.length
    ? `<p class="dim">The first ${int(shown.length)} clusters by tick are listed; ${
      int(model.clusters.length - shown.length)
    } more are not.</p>`
    : "";
  return `<table><thead><tr><th>lane</th><th>task</th><th>ticks</th><th>length</th><th>error</th></tr></thead><tbody>${
    rows.join("")
  }</tbody></table>${more}`;
}

function statsTable(model: ReportModel): string {
  return `<table class="stats"><tbody>${
    Object.entries(model.stats).map(([k, v]) =>
      `<tr><th>${k}</th><td class="n">${int(v)}</td></tr>`
    )
      .join("")
  }</tbody></table>`;
}

function promotionTable(model: ReportModel): string {
  return `<table><thead><tr><th>tick</th><th>task</th><th>decision</th><th>lanes</th><th>rule</th></tr></thead><tbody>${
    model.promotions.map((p) =>
      `<tr><td class="n">${p.tick}</td><td><code>${
        esc(p.task)
      }</code></td><td>${p.decision}</td><td>${p.from} → ${p.to}</td><td>${
        esc(p.rule ?? "")
      }</td></tr>`
    ).join("")
  }</tbody></table>`;
}

const CSS = [
  ":root{color-scheme:light;--ok:#3f9e6a;--er:#d2453d;--sk:#eba721;--no:#eef1f5;--ink:#1d2530;--dim:#66707d;--line:#d9dee5}",
  "*{box-sizing:border-box}",
  "body{margin:0 auto;max-width:1180px;padding:24px 20px 40px;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:var(--ink);background:#fff}",
  "h1{font-size:22px;margin:0 0 12px}h1 code{font-size:20px}h2{font-size:17px;margin:0 0 4px}",
  "code{font:12.5px/1.3 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}",
  "header{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(320px,100%),1fr));gap:12px 24px;align-items:start;border-bottom:1px solid var(--line);padding-bottom:16px}",
  "header h1{grid-column:1/-1}",
  ".facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:0}",
  ".facts dt{color:var(--dim)}.facts dd{margin:0}",
  ".verdict,.identity{border:1px solid var(--line);border-radius:6px;padding:8px 12px;font-size:13px;overflow-wrap:anywhere;min-width:0}",
  ".tables{overflow-x:auto;max-width:100%}td code{white-space:nowrap}td.msg{min-width:16em}td.msg code{white-space:normal;overflow-wrap:anywhere}",
  ".verdict p,.identity p{margin:2px 0}.verdict ul{margin:2px 0 4px;padding-left:18px}",
  ".verdict.pass{border-color:#9ccfb1;background:#f2faf5}.verdict.fail{border-color:#e3a29d;background:#fdf3f2}",
  ".verdict.pass strong{color:#25764a}.verdict.fail strong{color:#a8271f}",
  ".identity{grid-column:1/-1}.identity table{margin-top:4px}",
  ".identity td code{white-space:normal;overflow-wrap:anywhere}",
  "section{margin-top:26px}.cap{margin:0 0 10px;color:var(--dim)}",
  ".scroll{overflow-x:auto;max-width:100%;border:1px solid var(--line);border-radius:6px;padding:8px;background:#fcfdfe}",
  ".legend{display:flex;flex-wrap:wrap;gap:14px;margin:0 0 8px;font-size:13px}",
  ".key{display:inline-flex;align-items:center;gap:5px}.key i{width:12px;height:12px;border-radius:2px;display:inline-block}",
  "i.ok{background:var(--ok)}i.er{background:var(--er)}i.sk{background:var(--sk)}i.no{background:var(--no);border:1px solid var(--line)}",
  "table{border-collapse:collapse;font-size:13px}th,td{text-align:left;padding:3px 10px 3px 0;border-bottom:1px solid #edf0f3;vertical-align:top}",
  "thead th{color:var(--dim);font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}",
  ".stats th{font-weight:normal;color:var(--dim)}",
  ".dim{color:var(--dim)}footer{margin-top:30px;color:var(--dim);font-size:12px}",
  "svg text{font:11px system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;fill:var(--ink)}",
  "svg .lane{font-weight:600;fill:var(--dim)}svg .ax{fill:var(--dim)}",
  "rect.bg{fill:var(--no)}rect.ok{fill:var(--ok)}",
  "rect.er1{fill:#f0b3ae}rect.er2{fill:#e7877f}rect.er3{fill:#dc6058}rect.er4{fill:var(--er)}",
  "rect.sk1{fill:#f8dfa8}rect.sk2{fill:#f4cc75}rect.sk3{fill:#efb948}rect.sk4{fill:var(--sk)}",
  "path.pr{fill:#2456b8}path.de{fill:#7c3aad}",
  "path.pr,path.de{stroke:#fff;stroke-width:1}",
  ".h0{fill:#eef1f5}.h1{fill:#e0ebf7}.h2{fill:#cadcf0}.h3{fill:#aecae7}.h4{fill:#8cb4dc}.h5{fill:#6a9dd0}.h6{fill:#4c86c2}.h7{fill:#3470b0}.h8{fill:#245c9a}",
  ".k1{fill:#fde3c6}.k2{fill:#fcd0a1}.k3{fill:#fbb77a}.k4{fill:#f89c55}.k5{fill:#f08236}.k6{fill:#e0691f}.k7{fill:#c95512}.k8{fill:#ad440b}",
  "rect.hot{stroke:#5c1a00;stroke-width:1}",
  "rect.bo{fill:#4f8bc4}rect.be{fill:#8a6fc9}line.grid{stroke:var(--line)}",
].join("");
