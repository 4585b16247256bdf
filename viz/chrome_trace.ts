/**
 * A run as Chrome Trace Event JSON, for Perfetto (ui.perfetto.dev) and
 * `chrome://tracing`. Time is logical: it comes from the tick and the stable
 * execution order, never from a clock, so the same run gives the same bytes.
 *
 * Layout: one process (the run); one thread track per lane, plus a `ticks`
 * track with one slice per tick. An executed task is a complete event
 * (`ph: "X"`), a budget-skipped task an instant event (`ph: "i"`), each
 * lane's spend a counter track (`ph: "C"`), and a promotion decision a
 * process-wide instant event.
 *
 * @module
 */

import { type Lane, LANES } from "../ers/types.ts";
import { isPlainObject, typeError } from "../ers/_validate.ts";
import type { TrendPack } from "./trendpack.ts";
import type { ReportPromotion, ReportTickResults } from "./report.ts";
import { checkExtras, checkPacks } from "./_report_model.ts";

/**
 * Logical width of one event slot, in microseconds: the event at position
 * `i` of a tick starts `i * TRACE_SLOT_US` after the tick does and lasts one
 * slot. A tick spans 1,000 µs (1 ms) when it holds at most 100 events, and
 * the next multiple of 1,000 µs that fits its slots otherwise.
 *
 * @example Event 2 of tick 3 in a run of small ticks
 * ```ts
 * import { TRACE_SLOT_US } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * assert.equal(TRACE_SLOT_US, 10);
 * assert.equal(3 * 1000 + 2 * TRACE_SLOT_US, 3020); // its ts
 * ```
 */
export const TRACE_SLOT_US = 10;

/** Thread ids of the tracks. */
const TID: Readonly<Record<Lane | "ticks", number>> = { ticks: 1, forecast: 2, shadow: 3 };
const PID = 1;

/**
 * One Trace Event Format event.
 *
 * @example A complete event
 * ```ts
 * import type { ChromeTraceEvent } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const event: ChromeTraceEvent = { name: "a", cat: "forecast", ph: "X", ts: 0, dur: 10, pid: 1, tid: 2, args: {} };
 * assert.equal(event.ph, "X");
 * ```
 */
export interface ChromeTraceEvent {
  /** The event's name: the task, the track or the counter. */
  name: string;
  /** Category: the lane, `tick`, `budget` or `promotion`. */
  cat?: string;
  /** Phase: `X` complete, `i` instant, `C` counter, `M` metadata. */
  ph: "X" | "i" | "C" | "M";
  /** Logical timestamp in microseconds. */
  ts: number;
  /** Duration in microseconds (`X` only). */
  dur?: number;
  /** Process id: always 1, the run. */
  pid: number;
  /** Thread id: the track. */
  tid: number;
  /** Scope of an instant event: `t` thread, `p` process. */
  s?: "t" | "p";
  /** Colour name from the format's reserved list (`terrible` for an error). */
  cname?: string;
  /** Status, costs, tags, error text; a counter's values; a metadata name. */
  args?: Record<string, unknown>;
}

/**
 * The JSON Object Format of the Trace Event Format.
 *
 * @example Its top-level fields
 * ```ts
 * import { buildChromeTrace, ersTraceToTrendpack, type ChromeTrace } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const trace: ChromeTrace = buildChromeTrace({
 *   runId: "R", trendpacks: [ersTraceToTrendpack({ runId: "R", tick: 0, trace: [] })],
 * });
 * assert.equal(trace.displayTimeUnit, "ms");
 * assert.equal(trace.otherData.run_id, "R");
 * ```
 */
export interface ChromeTrace {
  /** Every event: metadata first, then tick by tick in execution order. */
  traceEvents: ChromeTraceEvent[];
  /** How viewers show time. */
  displayTimeUnit: "ms";
  /** The run, the tick range and the logical time scale. */
  otherData: {
    run_id: string;
    from_tick: number;
    to_tick: number;
    tick_us: number;
    slot_us: number;
    clock: string;
  };
}

/**
 * What {@linkcode buildChromeTrace} exports.
 *
 * @example With error texts from a ResultsPack
 * ```ts
 * import { buildChromeTrace, ersTraceToTrendpack, type ChromeTraceInput } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const input: ChromeTraceInput = {
 *   runId: "R",
 *   trendpacks: [ersTraceToTrendpack({ runId: "R", tick: 0, trace: [
 *     { tick: 0, task: "a", lane: "forecast", status: "error", cost_ops: 1, cost_entropy: 0, meta: { tags: [] } },
 *   ] })],
 *   results: [{ tick: 0, results: [{ task: "a", status: "error", error: "Error: no" }] }],
 * };
 * const slice = buildChromeTrace(input).traceEvents.find((e) => e.ph === "X" && e.name === "a");
 * assert.equal(slice?.args?.error, "Error: no");
 * ```
 */
export interface ChromeTraceInput {
  /** The run. */
  runId: string;
  /** Its TrendPacks, ticks strictly increasing. */
  trendpacks: readonly TrendPack[];
  /** ResultsPacks, for error texts. */
  results?: readonly ReportTickResults[];
  /** Promotion decisions. */
  promotions?: readonly ReportPromotion[];
}

/**
 * Builds the Chrome Trace Event document of a run. Pure and deterministic.
 *
 * @param input The run's TrendPacks, and optionally its ResultsPacks and promotions.
 * @returns The trace, ready for {@linkcode renderChromeTrace} or `JSON.stringify`.
 * @throws {TypeError | RangeError} Naming the field, as `renderRunReport` does.
 *
 * @example An executed task, a skipped one, and the lane counters
 * ```ts
 * import { buildChromeTrace, ersTraceToTrendpack } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const trace = buildChromeTrace({
 *   runId: "R",
 *   trendpacks: [ersTraceToTrendpack({ runId: "R", tick: 2, trace: [
 *     { tick: 2, task: "a", lane: "forecast", status: "ok", cost_ops: 3, cost_entropy: 1, meta: { tags: ["x"] } },
 *     { tick: 2, task: "s", lane: "shadow", status: "skipped_budget", cost_ops: 9, cost_entropy: 0, meta: { reason: "budget" } },
 *   ] })],
 * });
 * const [a, s] = trace.traceEvents.filter((e) => e.cat === "forecast" || e.cat === "shadow");
 * assert.deepEqual([a?.ph, a?.ts, a?.dur, a?.args?.tags], ["X", 2000, 10, ["x"]]);
 * assert.deepEqual([s?.ph, s?.s, s?.ts], ["i", "t", 2010]);
 * const counter = trace.traceEvents.find((e) => e.ph === "C" && e.name === "forecast budget spent");
 * assert.deepEqual(counter?.args, { ops: 3, entropy: 1 });
 * ```
 */
export function buildChromeTrace(input: ChromeTraceInput): ChromeTrace {
  if (!isPlainObject(input)) typeError("export Chrome trace", "input", "an object", input);
  const packs = checkPacks(input.runId, input.trendpacks);
  checkExtras("export Chrome trace", input.results, input.promotions);
  const maxEvents = packs.reduce((n, p) => Math.max(n, p.timeline.length), 1);
  const tickUs = 1000 * Math.ceil((maxEvents * TRACE_SLOT_US) / 1000);
  const start = (tick: number) => tick * tickUs;
  const errors = errorTexts(input.results ?? []);
  const events: ChromeTraceEvent[] = metadata(input.runId);
  for (const pack of packs) {
    const t0 = start(pack.tick);
    events.push({
      name: `tick ${pack.tick}`,
      cat: "tick",
      ph: "X",
      ts: t0,
      dur: Math.max(TRACE_SLOT_US, pack.timeline.length * TRACE_SLOT_US),
      pid: PID,
      tid: TID.ticks,
      args: { tick: pack.tick, events: pack.timeline.length, stats: pack.stats },
    });
    pack.timeline.forEach((entry, order) => {
      events.push(taskEvent(pack.tick, order, t0 + order * TRACE_SLOT_US, entry, errors));
    });
    for (const lane of LANES) {
      const spend = pack.budget[lane];
      events.push(counter(lane, t0, spend.spent_ops, spend.spent_entropy));
    }
  }
  const last = packs[packs.length - 1] as TrendPack;
  const end = start(last.tick) + tickUs;
  for (const lane of LANES) events.push(counter(lane, end, 0, 0));
  const first = packs[0] as TrendPack;
  for (const p of input.promotions ?? []) {
    if (p.tick < first.tick || p.tick > last.tick) continue;
    events.push({
      name: `${p.decision} ${p.task}`,
      cat: "promotion",
      ph: "i",
      ts: start(p.tick) + tickUs,
      pid: PID,
      tid: TID[p.to],
      s: "p",
      args: { task: p.task, decision: p.decision, from: p.from, to: p.to, rule: p.rule ?? null },
    });
  }
  return {
    traceEvents: events,
    displayTimeUnit: "ms",
    otherData: {
      run_id: input.runId,
      from_tick: first.tick,
      to_tick: last.tick,
      tick_us: tickUs,
      slot_us: TRACE_SLOT_US,
      clock: "logical: tick t starts at t * tick_us; the event at position i at i * slot_us after",
    },
  };
}

/**
 * The trace as JSON text: one event per line, keys in a fixed order, so that
 * the same run gives the same bytes and a diff shows events.
 *
 * @param input As for {@linkcode buildChromeTrace}.
 * @returns The JSON text, ending with a newline.
 *
 * @example It parses, and is stable
 * ```ts
 * import { ersTraceToTrendpack, renderChromeTrace } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const input = { runId: "R", trendpacks: [ersTraceToTrendpack({ runId: "R", tick: 0, trace: [] })] };
 * const text = renderChromeTrace(input);
 * assert.equal(JSON.parse(text).otherData.run_id, "R");
 * assert.equal(text, renderChromeTrace(input));
 * ```
 */
export function renderChromeTrace(input: ChromeTraceInput): string {
  const trace = buildChromeTrace(input);
  const lines = trace.traceEvents.map((event) => JSON.stringify(event));
  return `{"displayTimeUnit":${JSON.stringify(trace.displayTimeUnit)},"otherData":${
    JSON.stringify(trace.otherData)
  },"traceEvents":[\n${lines.join(",\n")}\n]}\n`;
}

function metadata(runId: string): ChromeTraceEvent[] {
  const meta = (name: string, tid: number, args: Record<string, unknown>): ChromeTraceEvent => ({
    name,
    ph: "M",
    ts: 0,
    pid: PID,
    tid,
    args,
  });
  return [
    meta("process_name", 0, { name: `ERS run ${runId}` }),
    meta("process_sort_index", 0, { sort_index: 0 }),
    meta("thread_name", TID.ticks, { name: "ticks" }),
    meta("thread_sort_index", TID.ticks, { sort_index: 0 }),
    meta("thread_name", TID.forecast, { name: "forecast lane" }),
    meta("thread_sort_index", TID.forecast, { sort_index: 1 }),
    meta("thread_name", TID.shadow, { name: "shadow lane" }),
    meta("thread_sort_index", TID.shadow, { sort_index: 2 }),
  ];
}

function taskEvent(
  tick: number,
  order: number,
  ts: number,
  entry: TrendPack["timeline"][number],
  errors: Map<number, Map<string, string>>,
): ChromeTraceEvent {
  const meta = isPlainObject(entry.meta) ? entry.meta as Record<string, unknown> : {};
  const args: Record<string, unknown> = {
    tick,
    order,
    status: entry.status,
    cost_ops: entry.cost_ops,
    cost_entropy: entry.cost_entropy,
    tags: Array.isArray(meta.tags) ? meta.tags : [],
  };
  if (entry.status === "skipped_budget") {
    args.reason = typeof meta.reason === "string" ? meta.reason : "budget";
    return {
      name: entry.task,
      cat: entry.lane,
      ph: "i",
      ts,
      pid: PID,
      tid: TID[entry.lane],
      s: "t",
      args,
    };
  }
  const event: ChromeTraceEvent = {
    name: entry.task,
    cat: entry.lane,
    ph: "X",
    ts,
    dur: TRACE_SLOT_US,
    pid: PID,
    tid: TID[entry.lane],
    args,
  };
  if (entry.status === "error") {
    event.cname = "terrible";
    args.error = errors.get(tick)?.get(entry.task) ?? null;
  }
  return event;
}

function counter(lane: Lane, ts: number, ops: number, entropy: number): ChromeTraceEvent {
  return {
    name: `${lane} budget spent`,
    cat: "budget",
    ph: "C",
    ts,
    pid: PID,
    tid: TID[lane],
    args: { ops, entropy },
  };
}

function errorTexts(list: readonly ReportTickResults[]): Map<number, Map<string, string>> {
  const byTick = new Map<number, Map<string, string>>();
  for (const { tick, results } of list) {
    for (const r of results) {
      if (typeof r.error !== "string") continue;
      let texts = byTick.get(tick);
      if (texts === undefined) byTick.set(tick, texts = new Map());
      texts.set(r.task, r.error);
    }
  }
  return byTick;
}
