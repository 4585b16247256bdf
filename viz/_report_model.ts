// The numbers behind a run report: TrendPacks (and, when given, ResultsPack
// error texts and promotion decisions) aggregated into tick buckets, lane
// heat, error clusters and totals. Pure: no I/O, no clock, no randomness;
// the same input gives the same model.

import { type Lane, LANES, type Status, STATUSES } from "../ers/types.ts";
import { compareCodePoints } from "../ers/_code_point.ts";
import { checkNonNegativeInteger, isPlainObject, rangeError, typeError } from "../ers/_validate.ts";
import type { TrendPack } from "./trendpack.ts";

/** The TrendPack stats fields, in the order the report sums them. */
export const STAT_FIELDS = [
  "total_events",
  "ok_events",
  "errors",
  "skipped",
  "forecast_events",
  "shadow_events",
] as const;

/** Most timeline cells (rows x buckets) a report draws; more tasks mean wider buckets. */
export const MAX_TIMELINE_CELLS = 24_000;
/** Fewest buckets the cell limit may shrink the timeline to. */
const MIN_BUCKETS = 50;

/** A task's status in one tick, as the report needs it. */
export interface ErrorText {
  /** The task. */
  task: string;
  /** The error text, or `null` when the record holds none. */
  error: string | null;
}

/** The input the model needs (checked by {@linkcode buildReportModel}). */
export interface ModelInput {
  runId: string;
  trendpacks: readonly TrendPack[];
  /** Per tick, each task's error text (only errors matter). */
  errorTexts?: readonly { tick: number; results: readonly ErrorText[] }[];
  promotions?: readonly PromotionMark[];
  maxBuckets: number;
}

/** The decisions of the promotion lifecycle. */
export type PromotionKind = "enrolled" | "promoted" | "demoted" | "reset" | "withdrawn";

/** A promotion decision, reduced to what the timeline marks. */
export interface PromotionMark {
  tick: number;
  task: string;
  decision: PromotionKind;
  from: Lane;
  to: Lane;
  rule: string | null;
}

/** Counts and sums of one task (or lane, or run). */
export interface Totals {
  runs: number;
  ok: number;
  errors: number;
  skipped: number;
  spent_ops: number;
  spent_entropy: number;
}

/** One timeline row: a task in a lane, with per-bucket counts and sums. */
export interface Row {
  lane: Lane;
  task: string;
  ok: Uint32Array;
  error: Uint32Array;
  skipped: Uint32Array;
  ops: Float64Array;
  entropy: Float64Array;
  totals: Totals;
}

/** One lane's spend and skips per bucket. */
export interface LaneHeat {
  lane: Lane;
  ops: Float64Array;
  entropy: Float64Array;
  skipped: Uint32Array;
  skippedOps: Float64Array;
  totals: Totals;
}

/** A run of consecutive ticks in which one task ended in `error`. */
export interface ErrorCluster {
  lane: Lane;
  task: string;
  from: number;
  to: number;
  /** Distinct error texts with how many ticks gave each, most frequent first. */
  texts: { text: string; ticks: number }[];
}

/** Everything the report draws. */
export interface ReportModel {
  runId: string;
  fromTick: number;
  toTick: number;
  /** TrendPacks in the range. */
  recordedTicks: number;
  bucketSize: number;
  bucketCount: number;
  /** Recorded ticks per bucket. */
  bucketTicks: Uint32Array;
  /** Provenance keys, sorted, each with its distinct values in first-seen order. */
  provenance: [string, string[]][];
  rows: Row[];
  lanes: LaneHeat[];
  clusters: ErrorCluster[];
  stats: Record<(typeof STAT_FIELDS)[number], number>;
  run: Totals;
  promotions: PromotionMark[];
}

const ACTION = "render run report";

function emptyTotals(): Totals {
  return { runs: 0, ok: 0, errors: 0, skipped: 0, spent_ops: 0, spent_entropy: 0 };
}

function addTotals(totals: Totals, status: Status, ops: number, entropy: number): void {
  totals.runs++;
  if (status === "ok") totals.ok++;
  else if (status === "error") totals.errors++;
  if (status === "skipped_budget") {
    totals.skipped++;
    return;
  }
  totals.spent_ops += ops;
  totals.spent_entropy += entropy;
}

/**
 * Checks the input and aggregates it.
 *
 * @throws {TypeError | RangeError} Naming the field: a TrendPack of another
 * run, ticks not strictly increasing, no TrendPack at all.
 */
export function buildReportModel(input: ModelInput): ReportModel {
  const packs = checkPacks(input.runId, input.trendpacks);
  const first = packs[0] as TrendPack;
  const last = packs[packs.length - 1] as TrendPack;
  const rowKeys = collectRows(packs);
  const span = last.tick - first.tick + 1;
  const limit = Math.min(
    input.maxBuckets,
    Math.max(MIN_BUCKETS, Math.floor(MAX_TIMELINE_CELLS / Math.max(1, rowKeys.length))),
  );
  const bucketSize = Math.ceil(span / limit);
  const bucketCount = Math.ceil(span / bucketSize);
  const rows = new Map<string, Row>();
  for (const [lane, task] of rowKeys) {
    rows.set(rowKey(lane, task), newRow(lane, task, bucketCount));
  }
  const lanes = LANES.map((lane) => newLaneHeat(lane, bucketCount));
  const bucketTicks = new Uint32Array(bucketCount);
  const stats = Object.fromEntries(STAT_FIELDS.map((f) => [f, 0])) as ReportModel["stats"];
  const run = emptyTotals();
  const errors = errorTextsByTick(input.errorTexts ?? []);
  const clusters = new ClusterBuilder();
  const provenance = new Map<string, string[]>();
  for (const pack of packs) {
    const b = Math.floor((pack.tick - first.tick) / bucketSize);
    bucketTicks[b]!++;
    addProvenance(provenance, pack.provenance);
    for (const field of STAT_FIELDS) stats[field] += numberOr0(pack.stats?.[field]);
    for (const entry of pack.timeline) {
      const row = rows.get(rowKey(entry.lane, entry.task)) as Row;
      const heat = lanes[LANES.indexOf(entry.lane)] as LaneHeat;
      addTotals(row.totals, entry.status, entry.cost_ops, entry.cost_entropy);
      addTotals(heat.totals, entry.status, entry.cost_ops, entry.cost_entropy);
      addTotals(run, entry.status, entry.cost_ops, entry.cost_entropy);
      if (entry.status === "skipped_budget") {
        row.skipped[b]!++;
        heat.skipped[b]!++;
        heat.skippedOps[b]! += entry.cost_ops;
        continue;
      }
      if (entry.status === "ok") row.ok[b]!++;
      else row.error[b]!++;
      row.ops[b]! += entry.cost_ops;
      row.entropy[b]! += entry.cost_entropy;
      heat.ops[b]! += entry.cost_ops;
      heat.entropy[b]! += entry.cost_entropy;
      if (entry.status === "error") {
        clusters.add(entry.lane, entry.task, pack.tick, errors.get(pack.tick)?.get(entry.task));
      }
    }
  }
  return {
    runId: input.runId,
    fromTick: first.tick,
    toTick: last.tick,
    recordedTicks: packs.length,
    bucketSize,
    bucketCount,
    bucketTicks,
    provenance: [...provenance].sort(([a], [b]) => compareCodePoints(a, b)),
    rows: [...rows.values()],
    lanes,
    clusters: clusters.done(),
    stats,
    run,
    promotions: (input.promotions ?? []).filter((p) => p.tick >= first.tick && p.tick <= last.tick),
  };
}

/** Checks a run id and its TrendPacks (one run, ticks strictly increasing, valid entries). */
export function checkPacks(runId: unknown, packs: unknown): TrendPack[] {
  if (typeof runId !== "string" || runId === "") {
    typeError(ACTION, "runId", "a non-empty string", runId);
  }
  if (!Array.isArray(packs)) typeError(ACTION, "trendpacks", "an array of TrendPacks", packs);
  if (packs.length === 0) rangeError(ACTION, "trendpacks", "a non-empty array", packs);
  let previous = -1;
  packs.forEach((pack: unknown, i) => {
    const field = `trendpacks[${i}]`;
    if (!isPlainObject(pack)) typeError(ACTION, field, "a TrendPack", pack);
    if (pack.run_id !== runId) {
      rangeError(
        ACTION,
        `${field}.run_id`,
        `the report's run id ${JSON.stringify(runId)}`,
        pack.run_id,
      );
    }
    const tick = checkNonNegativeInteger(ACTION, `${field}.tick`, pack.tick);
    if (tick <= previous) {
      rangeError(ACTION, `${field}.tick`, `greater than the tick before it (${previous})`, tick);
    }
    previous = tick;
    if (!Array.isArray(pack.timeline)) {
      typeError(ACTION, `${field}.timeline`, "an array", pack.timeline);
    }
    pack.timeline.forEach((entry: unknown, j) => checkEntry(entry, `${field}.timeline[${j}]`));
  });
  return packs as TrendPack[];
}

const STATUS_NAMES: readonly string[] = STATUSES;

function checkEntry(entry: unknown, field: string): void {
  if (!isPlainObject(entry)) typeError(ACTION, field, "a timeline entry", entry);
  if (typeof entry.task !== "string") typeError(ACTION, `${field}.task`, "a string", entry.task);
  if (!LANES.includes(entry.lane as Lane)) {
    rangeError(ACTION, `${field}.lane`, "forecast or shadow", entry.lane);
  }
  if (!STATUS_NAMES.includes(entry.status as string)) {
    rangeError(ACTION, `${field}.status`, "ok, error or skipped_budget", entry.status);
  }
  checkNonNegativeInteger(ACTION, `${field}.cost_ops`, entry.cost_ops);
  checkNonNegativeInteger(ACTION, `${field}.cost_entropy`, entry.cost_entropy);
}

const DECISIONS: readonly string[] = ["enrolled", "promoted", "demoted", "reset", "withdrawn"];

/**
 * Checks the optional ResultsPack error texts and promotion decisions of a
 * report or trace input, naming the first bad field.
 */
export function checkExtras(action: string, results: unknown, promotions: unknown): void {
  if (results !== undefined) {
    if (!Array.isArray(results)) typeError(action, "results", "an array", results);
    results.forEach((r: unknown, i) => {
      if (!isPlainObject(r)) typeError(action, `results[${i}]`, "an object", r);
      checkNonNegativeInteger(action, `results[${i}].tick`, r.tick);
      if (!Array.isArray(r.results)) {
        typeError(action, `results[${i}].results`, "an array", r.results);
      }
      r.results.forEach((e: unknown, j) => {
        const field = `results[${i}].results[${j}]`;
        if (!isPlainObject(e) || typeof e.task !== "string") {
          typeError(action, `${field}.task`, "a string", isPlainObject(e) ? e.task : e);
        }
        if (e.error !== null && typeof e.error !== "string") {
          typeError(action, `${field}.error`, "a string or null", e.error);
        }
      });
    });
  }
  if (promotions !== undefined) {
    if (!Array.isArray(promotions)) typeError(action, "promotions", "an array", promotions);
    promotions.forEach((p: unknown, i) => {
      const field = `promotions[${i}]`;
      if (!isPlainObject(p)) typeError(action, field, "an object", p);
      checkNonNegativeInteger(action, `${field}.tick`, p.tick);
      if (typeof p.task !== "string") typeError(action, `${field}.task`, "a string", p.task);
      if (!DECISIONS.includes(p.decision as string)) {
        rangeError(action, `${field}.decision`, `one of ${DECISIONS.join(", ")}`, p.decision);
      }
      for (const lane of ["from", "to"] as const) {
        if (!LANES.includes(p[lane] as Lane)) {
          rangeError(action, `${field}.${lane}`, "forecast or shadow", p[lane]);
        }
      }
    });
  }
}

function rowKey(lane: Lane, task: string): string {
  return `${lane}\u0000${task}`;
}

// Every (lane, task) pair, forecast lane first, then in order of first
// appearance (tick, then execution order).
function collectRows(packs: readonly TrendPack[]): [Lane, string][] {
  const seen = new Set<string>();
  const byLane = new Map<Lane, [Lane, string][]>(LANES.map((lane) => [lane, []]));
  for (const pack of packs) {
    for (const entry of pack.timeline) {
      const key = rowKey(entry.lane, entry.task);
      if (seen.has(key)) continue;
      seen.add(key);
      byLane.get(entry.lane)?.push([entry.lane, entry.task]);
    }
  }
  return LANES.flatMap((lane) => byLane.get(lane) ?? []);
}

function newRow(lane: Lane, task: string, buckets: number): Row {
  return {
    lane,
    task,
    ok: new Uint32Array(buckets),
    error: new Uint32Array(buckets),
    skipped: new Uint32Array(buckets),
    ops: new Float64Array(buckets),
    entropy: new Float64Array(buckets),
    totals: emptyTotals(),
  };
}

function newLaneHeat(lane: Lane, buckets: number): LaneHeat {
  return {
    lane,
    ops: new Float64Array(buckets),
    entropy: new Float64Array(buckets),
    skipped: new Uint32Array(buckets),
    skippedOps: new Float64Array(buckets),
    totals: emptyTotals(),
  };
}

function numberOr0(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

function addProvenance(into: Map<string, string[]>, provenance: Record<string, unknown>): void {
  if (!isPlainObject(provenance)) return;
  for (const [key, value] of Object.entries(provenance)) {
    const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
    const values = into.get(key);
    if (values === undefined) into.set(key, [text]);
    else if (!values.includes(text)) values.push(text);
  }
}

function errorTextsByTick(
  list: readonly { tick: number; results: readonly ErrorText[] }[],
): Map<number, Map<string, string>> {
  const byTick = new Map<number, Map<string, string>>();
  for (const { tick, results } of list) {
    const texts = new Map<string, string>();
    for (const r of results) if (typeof r.error === "string") texts.set(r.task, r.error);
    if (texts.size > 0) byTick.set(tick, texts);
  }
  return byTick;
}

// Groups error ticks per (lane, task) into runs of consecutive ticks.
class ClusterBuilder {
  #open = new Map<string, ErrorCluster & { counts: Map<string, number> }>();
  #closed: (ErrorCluster & { counts: Map<string, number> })[] = [];

  add(lane: Lane, task: string, tick: number, text: string | undefined): void {
    const key = rowKey(lane, task);
    let cluster = this.#open.get(key);
    if (cluster === undefined || cluster.to !== tick - 1) {
      if (cluster !== undefined) this.#closed.push(cluster);
      cluster = { lane, task, from: tick, to: tick, texts: [], counts: new Map() };
      this.#open.set(key, cluster);
    }
    cluster.to = tick;
    const shown = text ?? "";
    cluster.counts.set(shown, (cluster.counts.get(shown) ?? 0) + 1);
  }

  // Clusters by first tick, then lane order, then task name.
  done(): ErrorCluster[] {
    const all = [...this.#closed, ...this.#open.values()];
    all.sort((a, b) =>
      a.from - b.from || LANES.indexOf(a.lane) - LANES.indexOf(b.lane) ||
      compareCodePoints(a.task, b.task)
    );
    return all.map(({ lane, task, from, to, counts }) => ({
      lane,
      task,
      from,
      to,
      texts: [...counts]
        .map(([text, ticks]) => ({ text, ticks }))
        .sort((a, b) => b.ticks - a.ticks || compareCodePoints(a.text, b.text)),
    }));
  }
}
