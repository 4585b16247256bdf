/**
 * The TrendPack: a trace reshaped for visualization (lane timelines, budget
 * heat maps, error clusters, cost analysis). Pure data, no rendering.
 *
 * @module
 */

import { type Lane, LANES, type Status, STATUSES, type TraceEvent } from "../ers/types.ts";
import { checkNonNegativeInteger, isPlainObject, orDefault, typeError } from "../ers/_validate.ts";

/**
 * Largest TrendPack, in bytes: the artifact writer refuses to write a larger
 * one, and the readers refuse a larger record before reading it. One limit,
 * so that ERS never writes what it cannot read back.
 *
 * @example A record claiming more is refused without opening the file
 * ```ts
 * import { MAX_TRENDPACK_BYTES, readRunTicks, RunReadError } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const record = {
 *   tick: 0, kind: "trendpack", schema: "TrendPack.v0", path: "viz/R/000000.trendpack.json",
 *   sha256: "0".repeat(64), bytes: MAX_TRENDPACK_BYTES + 1,
 * };
 * const manifest = { run_id: "R", path: "manifests/R.manifest.json", sha256: "", bytes: 0, records: [record] };
 * await assert.rejects(readRunTicks("no-such-dir", manifest), RunReadError);
 * ```
 */
export const MAX_TRENDPACK_BYTES = 16 * 1024 * 1024;
/**
 * Most timeline entries one TrendPack may hold: {@linkcode ersTraceToTrendpack}
 * refuses a longer trace, and the readers a longer timeline.
 *
 * @example Room for a tick of the largest scheduler
 * ```ts
 * import { DEFAULT_MAX_TASKS } from "@abraxas/ers";
 * import { MAX_TIMELINE_EVENTS } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * // One timeline entry per task per tick.
 * assert.ok(MAX_TIMELINE_EVENTS >= DEFAULT_MAX_TASKS);
 * ```
 */
export const MAX_TIMELINE_EVENTS = 1_048_576;

/**
 * One timeline entry per trace event, in execution order.
 *
 * @example An entry is its event without the tick
 * ```ts
 * import { ersTraceToTrendpack, type TrendPackTimelineEntry } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const pack = ersTraceToTrendpack({
 *   runId: "R",
 *   tick: 3,
 *   trace: [
 *     { tick: 3, task: "a", lane: "forecast", status: "ok", cost_ops: 2, cost_entropy: 1, meta: { tags: ["x"] } },
 *   ],
 * });
 * const entry: TrendPackTimelineEntry = pack.timeline[0]!;
 * assert.deepEqual(entry, {
 *   task: "a", lane: "forecast", status: "ok", cost_ops: 2, cost_entropy: 1, meta: { tags: ["x"] },
 * });
 * assert.equal(pack.tick, 3);
 * ```
 */
export interface TrendPackTimelineEntry {
  /** Task name. */
  task: string;
  /** The task's lane. */
  lane: Lane;
  /** What happened. */
  status: Status;
  /** Declared ops cost. */
  cost_ops: number;
  /** Declared entropy cost. */
  cost_entropy: number;
  /** The event's meta. */
  meta: TraceEvent["meta"];
}

/**
 * Costs spent by one lane (events that were not skipped).
 *
 * @example An error is charged, a skip is not
 * ```ts
 * import { ersTraceToTrendpack, type TrendPackLaneSpend } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const pack = ersTraceToTrendpack({
 *   runId: "R",
 *   tick: 0,
 *   trace: [
 *     { tick: 0, task: "a", lane: "forecast", status: "ok", cost_ops: 3, cost_entropy: 1, meta: { tags: [] } },
 *     { tick: 0, task: "b", lane: "forecast", status: "error", cost_ops: 2, cost_entropy: 0, meta: { tags: [] } },
 *     { tick: 0, task: "c", lane: "forecast", status: "skipped_budget", cost_ops: 9, cost_entropy: 0, meta: { reason: "budget" } },
 *   ],
 * });
 * const forecast: TrendPackLaneSpend = pack.budget.forecast;
 * assert.deepEqual(forecast, { spent_ops: 5, spent_entropy: 1 });
 * assert.deepEqual(pack.budget.shadow, { spent_ops: 0, spent_entropy: 0 });
 * ```
 */
export interface TrendPackLaneSpend {
  /** Ops spent. */
  spent_ops: number;
  /** Entropy spent. */
  spent_entropy: number;
}

/**
 * A TrendPack, version 0.1: byte-compatible with the reference's.
 *
 * @example Errors and summary counts
 * ```ts
 * import { ersTraceToTrendpack, type TrendPack } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const pack: TrendPack = ersTraceToTrendpack({
 *   runId: "RUN-001",
 *   tick: 2,
 *   provenance: { engine: "abraxas" },
 *   trace: [
 *     { tick: 2, task: "a", lane: "forecast", status: "ok", cost_ops: 3, cost_entropy: 0, meta: { tags: [] } },
 *     { tick: 2, task: "s", lane: "shadow", status: "error", cost_ops: 1, cost_entropy: 0, meta: { tags: ["sei"] } },
 *   ],
 * });
 * assert.equal(pack.version, "0.1");
 * assert.deepEqual(pack.errors, [{ task: "s", lane: "shadow", cost_ops: 1, meta: { tags: ["sei"] } }]);
 * assert.deepEqual(pack.stats, {
 *   total_events: 2, forecast_events: 1, shadow_events: 1, errors: 1, skipped: 0, ok_events: 1,
 * });
 * ```
 */
export interface TrendPack {
  /** Always `"0.1"`. */
  version: "0.1";
  /** The run identifier. */
  run_id: string;
  /** The tick. */
  tick: number;
  /** Who made it and how, e.g. `{ engine, mode, ers }`. */
  provenance: Record<string, unknown>;
  /** Every event, in order. */
  timeline: TrendPackTimelineEntry[];
  /** Spend per lane. */
  budget: { forecast: TrendPackLaneSpend; shadow: TrendPackLaneSpend };
  /** Events with status `error`. */
  errors: { task: string; lane: Lane; cost_ops: number; meta: TraceEvent["meta"] }[];
  /** Events with status `skipped_budget`. */
  skipped: { task: string; lane: Lane; cost_ops: number; cost_entropy: number }[];
  /** Summary counts. */
  stats: {
    total_events: number;
    forecast_events: number;
    shadow_events: number;
    errors: number;
    skipped: number;
    ok_events: number;
  };
}

/**
 * Options for {@linkcode ersTraceToTrendpack}.
 *
 * @example A TrendPack of a scheduler tick
 * ```ts
 * import { bindCallable, DeterministicScheduler } from "@abraxas/ers";
 * import { ersTraceToTrendpack, type TrendpackOptions } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const s = new DeterministicScheduler();
 * s.add(bindCallable({ name: "a", lane: "forecast", priority: 0, costOps: 4, fn: () => 1 }));
 * const out = await s.runTick({ tick: 5, budgetForecast: { ops: 10 }, budgetShadow: { ops: 0 } });
 * const options: TrendpackOptions = {
 *   trace: out.trace,
 *   runId: "RUN-001",
 *   tick: out.tick,
 *   provenance: { mode: "demo" },
 * };
 * const pack = ersTraceToTrendpack(options);
 * assert.equal(pack.tick, 5);
 * assert.deepEqual(pack.provenance, { mode: "demo" });
 * assert.equal(pack.budget.forecast.spent_ops, 4);
 * ```
 */
export interface TrendpackOptions {
  /** The tick's trace, as `runTick()` returns it. */
  trace: readonly TraceEvent[];
  /** The run identifier. */
  runId: string;
  /** The tick number. */
  tick: number;
  /**
   * Provenance to embed.
   *
   * Defaults to `{}`.
   */
  provenance?: Record<string, unknown>;
}

/**
 * Converts an ERS trace into a TrendPack, exactly as the reference does.
 *
 * @param options The trace, run id, tick and provenance.
 * @returns A new TrendPack; the trace is not modified.
 * @throws {TypeError | RangeError} When `trace` is not an array, `runId` not a
 * string, `tick` not a non-negative integer or `provenance` not an object.
 *
 * @example Spend counts attempted tasks only
 * ```ts
 * import { ersTraceToTrendpack } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const pack = ersTraceToTrendpack({
 *   runId: "RUN-001",
 *   tick: 0,
 *   trace: [
 *     { tick: 0, task: "a", lane: "forecast", status: "ok", cost_ops: 3, cost_entropy: 0, meta: { tags: [] } },
 *     { tick: 0, task: "b", lane: "forecast", status: "skipped_budget", cost_ops: 9, cost_entropy: 0, meta: { reason: "budget" } },
 *   ],
 * });
 * assert.equal(pack.budget.forecast.spent_ops, 3);
 * assert.deepEqual(pack.skipped, [{ task: "b", lane: "forecast", cost_ops: 9, cost_entropy: 0 }]);
 * assert.equal(pack.stats.ok_events, 1);
 * ```
 */
export function ersTraceToTrendpack(options: TrendpackOptions): TrendPack {
  const action = "build TrendPack";
  if (!isPlainObject(options)) typeError(action, "options", "an object", options);
  const { trace, runId } = options;
  if (!Array.isArray(trace)) typeError(action, "trace", "an array of trace events", trace);
  if (trace.length > MAX_TIMELINE_EVENTS) {
    throw new RangeError(
      `Cannot ${action} as 'trace' must hold at most ${MAX_TIMELINE_EVENTS} events: current length is ${trace.length}`,
    );
  }
  if (typeof runId !== "string") typeError(action, "runId", "a string", runId);
  const tick = checkNonNegativeInteger(action, "tick", options.tick);
  const provenance = orDefault(options.provenance, {});
  if (!isPlainObject(provenance)) typeError(action, "provenance", "a plain object", provenance);

  const stats = {
    total_events: trace.length,
    forecast_events: 0,
    shadow_events: 0,
    errors: 0,
    skipped: 0,
    ok_events: 0,
  };
  const timeline: TrendPack["timeline"] = [];
  const errors: TrendPack["errors"] = [];
  const skipped: TrendPack["skipped"] = [];
  // An index loop and `append`, never `for...of` or `push`: in inline lanes,
  // a task may have replaced the array iterator's `next` or
  // `Array.prototype.push` to reach these lists.
  for (let i = 0; i < trace.length; i++) {
    const e = trace[i] as TraceEvent;
    append(timeline, {
      task: e.task,
      lane: e.lane,
      status: e.status,
      cost_ops: e.cost_ops,
      cost_entropy: e.cost_entropy,
      meta: e.meta,
    });
    if (e.lane === "forecast") stats.forecast_events++;
    if (e.lane === "shadow") stats.shadow_events++;
    if (e.status === "ok") stats.ok_events++;
    if (e.status === "skipped_budget") {
      append(skipped, {
        task: e.task,
        lane: e.lane,
        cost_ops: e.cost_ops,
        cost_entropy: e.cost_entropy,
      });
      continue;
    }
    if (e.status === "error") {
      append(errors, { task: e.task, lane: e.lane, cost_ops: e.cost_ops, meta: e.meta });
    }
  }
  stats.errors = errors.length;
  stats.skipped = skipped.length;
  return {
    version: "0.1",
    run_id: runId,
    tick,
    provenance,
    timeline,
    budget: { forecast: laneSpend(timeline, "forecast"), shadow: laneSpend(timeline, "shadow") },
    errors,
    skipped,
    stats,
  };
}

// `Reflect.defineProperty`, captured when this module loads, before any task.
const defineProperty = Reflect.defineProperty;

// Appends `value` as an own property: no `Array.prototype.push` and no setter
// a task put on `Array.prototype` runs.
function append<T>(list: T[], value: T): void {
  defineProperty(list, list.length, {
    __proto__: null,
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  } as PropertyDescriptor);
}

/**
 * What a lane spent in a timeline: the costs of its entries that were not
 * skipped. The one place lane spend is computed: {@linkcode ersTraceToTrendpack}
 * writes it and {@linkcode checkTrendPack} checks it.
 *
 * @param timeline A TrendPack's timeline.
 * @param lane The lane.
 * @returns Ops and entropy spent.
 *
 * @example A skipped entry costs nothing
 * ```ts
 * import { laneSpend } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const entry = { task: "a", lane: "forecast" as const, cost_ops: 4, cost_entropy: 1, meta: { tags: [] } };
 * assert.deepEqual(
 *   laneSpend([{ ...entry, status: "ok" }, { ...entry, status: "skipped_budget" }], "forecast"),
 *   { spent_ops: 4, spent_entropy: 1 },
 * );
 * ```
 */
export function laneSpend(
  timeline: readonly TrendPackTimelineEntry[],
  lane: Lane,
): TrendPackLaneSpend {
  const spend = { spent_ops: 0, spent_entropy: 0 };
  // An index loop, no iterator: see ersTraceToTrendpack.
  for (let i = 0; i < timeline.length; i++) {
    const entry = timeline[i] as TrendPackTimelineEntry;
    if (entry.lane !== lane || entry.status === "skipped_budget") continue;
    spend.spent_ops += entry.cost_ops;
    spend.spent_entropy += entry.cost_entropy;
  }
  return spend;
}

/**
 * Raised by {@linkcode checkTrendPack} for a value that is not the TrendPack
 * expected; `problem` says what is wrong.
 *
 * @example The problem is kept apart from the message
 * ```ts
 * import { TrendPackError } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const error = new TrendPackError("'timeline' is not an array");
 * assert.equal(error.name, "TrendPackError");
 * assert.equal(error.problem, "'timeline' is not an array");
 * ```
 */
export class TrendPackError extends Error {
  /** Always `"TrendPackError"`. */
  override name = "TrendPackError";
  /** What is wrong, such as `'timeline' is not an array`. */
  readonly problem: string;

  /**
   * Creates the error.
   *
   * @param problem What is wrong with the value.
   */
  constructor(problem: string) {
    super(`Not a valid TrendPack: ${problem}`);
    this.problem = problem;
  }
}

/**
 * Checks a parsed value as a TrendPack of the expected run and tick: its
 * version, run, tick, every timeline entry, each lane's spend (against
 * {@linkcode laneSpend}) and the summary counts. Pure.
 *
 * @param value A parsed JSON value.
 * @param expected The run and tick it must belong to.
 * @returns The value, as a TrendPack.
 * @throws {TrendPackError} Naming the first thing wrong.
 *
 * @example A TrendPack passes; a changed spend does not
 * ```ts
 * import { checkTrendPack, ersTraceToTrendpack, TrendPackError } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const pack = ersTraceToTrendpack({ runId: "R", tick: 2, trace: [
 *   { tick: 2, task: "a", lane: "forecast", status: "ok", cost_ops: 3, cost_entropy: 0, meta: { tags: [] } },
 * ] });
 * const copy = JSON.parse(JSON.stringify(pack));
 * assert.deepEqual(checkTrendPack(copy, { runId: "R", tick: 2 }), pack);
 * copy.budget.forecast.spent_ops = 4;
 * assert.throws(() => checkTrendPack(copy, { runId: "R", tick: 2 }), TrendPackError);
 * ```
 */
export function checkTrendPack(
  value: unknown,
  expected: { readonly runId: string; readonly tick: number },
): TrendPack {
  const bad = (problem: string): never => {
    throw new TrendPackError(problem);
  };
  if (!isPlainObject(value)) return bad("it is not a JSON object");
  if (value.version !== "0.1") bad(`'version' is not "0.1"`);
  if (value.run_id !== expected.runId) bad(`'run_id' is not ${JSON.stringify(expected.runId)}`);
  if (value.tick !== expected.tick) {
    bad(`'tick' is not ${expected.tick}, the tick its record holds`);
  }
  if (!isPlainObject(value.provenance)) bad("'provenance' is not an object");
  const timeline = value.timeline;
  if (!Array.isArray(timeline)) return bad("'timeline' is not an array");
  if (timeline.length > MAX_TIMELINE_EVENTS) {
    bad(`'timeline' holds ${timeline.length} events, more than ${MAX_TIMELINE_EVENTS}`);
  }
  timeline.forEach((entry, i) => {
    const problem = timelineEntryProblem(entry);
    if (problem) bad(`timeline[${i}]${problem}`);
  });
  const budget = value.budget;
  if (!isPlainObject(budget)) return bad("'budget' is not an object");
  for (const lane of LANES) {
    const spend = budget[lane];
    if (!isLaneSpend(spend)) return bad(`budget.${lane} is not { spent_ops, spent_entropy }`);
    const spent = laneSpend(timeline as TrendPackTimelineEntry[], lane);
    if (spend.spent_ops !== spent.spent_ops || spend.spent_entropy !== spent.spent_entropy) {
      bad(`budget.${lane} does not add up to its timeline's costs`);
    }
  }
  const stats = value.stats;
  if (!isPlainObject(stats) || stats.total_events !== timeline.length) {
    bad("stats.total_events does not count the timeline");
  }
  if (!Array.isArray(value.errors) || !Array.isArray(value.skipped)) {
    bad("'errors' and 'skipped' are not both arrays");
  }
  return value as unknown as TrendPack;
}

const LANE_NAMES: readonly string[] = LANES;
const STATUS_NAMES: readonly string[] = STATUSES;

function timelineEntryProblem(entry: unknown): string | undefined {
  if (!isPlainObject(entry)) return " is not an object";
  if (typeof entry.task !== "string") return ".task is not a string";
  if (!LANE_NAMES.includes(entry.lane as string)) return ".lane is not forecast or shadow";
  if (!STATUS_NAMES.includes(entry.status as string)) {
    return ".status is not ok, error or skipped_budget";
  }
  if (!isCount(entry.cost_ops)) return ".cost_ops is not a non-negative integer";
  if (!isCount(entry.cost_entropy)) return ".cost_entropy is not a non-negative integer";
  return undefined;
}

function isLaneSpend(value: unknown): value is TrendPackLaneSpend {
  return isPlainObject(value) && isCount(value.spent_ops) && isCount(value.spent_entropy);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
