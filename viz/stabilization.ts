/**
 * The multi-tick stabilization gate: runs ticks 0..N-1 several times and
 * compares every tick's trace and results with the first run's, naming the
 * run, tick, event or result, field and the variation that made it differ.
 * Pure: how a run is produced (fresh pipeline, permuted tasks, another
 * budget, another isolation) is the caller's `runTick`.
 *
 * @module
 */

import { canonicalJsonString } from "../ers/_canonical.ts";
import { sha256Hex } from "../ers/_sha256.ts";
import type { TaskResult, TraceEvent } from "../ers/types.ts";
import { checkNonNegativeInteger, isPlainObject, rangeError, typeError } from "../ers/_validate.ts";
import { firstJsonDifference, type JsonPathStep } from "./drift.ts";
import { buildResultsPack } from "./results_pack.ts";

/**
 * Where a run first differs from run 0.
 *
 * @example A result that changed in run 1
 * ```ts
 * import type { StabilizationFailure } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const failure: StabilizationFailure = {
 *   run: 1, tick: 0, variation: "order", kind: "result", index: 0, task: "r", path: ["value"], a: 1, b: 2,
 * };
 * assert.equal(failure.kind, "result");
 * ```
 */
export interface StabilizationFailure {
  /** The run that differs. */
  run: number;
  /** The tick. */
  tick: number;
  /** The variation of that run, such as `order` or `budgets shadow.ops=0`. */
  variation: string;
  /** `event`: a trace event differs; `result`: a task's result differs. */
  kind: "event" | "result";
  /** The event's index in the (compared) trace, or the result's in task-name order. */
  index: number;
  /** The task, or `null` when one side has no item there. */
  task: string | null;
  /** The field path inside the event or result. */
  path: JsonPathStep[];
  /** Run 0's value (`undefined` when absent). */
  a: unknown;
  /** This run's value. */
  b: unknown;
}

/**
 * What {@linkcode stabilizationGate} found.
 *
 * @example A steady pipeline
 * ```ts
 * import { preparePipeline } from "@abraxas/ers";
 * import { stabilizationGate, type StabilizationResult } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const pipeline = preparePipeline({ tasks: [{ name: "t", lane: "forecast", priority: 0, costOps: 1, fn: (c) => c.n }], context: (n) => ({ n }) });
 * const result: StabilizationResult = await stabilizationGate({ ticks: 3, runs: 2, runTick: (_run, tick) => pipeline.runTick(tick) });
 * assert.equal(result.ok, true);
 * assert.equal(result.tick_hashes.length, 3);
 * ```
 */
export interface StabilizationResult {
  /** Whether every run matched run 0 at every tick. */
  ok: boolean;
  /** Ticks per run. */
  ticks: number;
  /** Runs. */
  runs: number;
  /** Whether only the forecast lane was compared. */
  forecast_only: boolean;
  /** Run 0's SHA-256 per tick: of its compared trace events and of its results. */
  tick_hashes: { trace_sha256: string; results_sha256: string }[];
  /** The first difference, or `null`. */
  failure: StabilizationFailure | null;
}

/**
 * Options for {@linkcode stabilizationGate}.
 *
 * @example Shadow budgets vary; only the forecast lane is compared
 * ```ts
 * import { preparePipeline } from "@abraxas/ers";
 * import { stabilizationGate, type StabilizationGateOptions } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const tasks = [
 *   { name: "f", lane: "forecast" as const, priority: 0, costOps: 1, fn: () => 1 },
 *   { name: "s", lane: "shadow" as const, priority: 0, costOps: 5, fn: () => 2 },
 * ];
 * const options: StabilizationGateOptions = {
 *   ticks: 2, runs: 2, forecastOnly: true, variation: (run) => `shadow.ops=${run * 5}`,
 *   runTick: (run, tick) => preparePipeline({ tasks, budgets: { shadow: { ops: run * 5 } } }).runTick(tick),
 * };
 * assert.equal((await stabilizationGate(options)).ok, true);
 * ```
 */
export interface StabilizationGateOptions {
  /** Ticks 0..ticks-1 per run, 1 to 100,000. */
  ticks: number;
  /** Runs, 2 to 1,000. */
  runs: number;
  /** Runs one tick of one run (a fresh pipeline per run is the caller's to make). */
  runTick: (
    run: number,
    tick: number,
  ) => Promise<{ trace: readonly TraceEvent[]; results: Readonly<Record<string, TaskResult>> }>;
  /**
   * Compare only forecast events and results (when shadow budgets vary).
   *
   * @default {false}
   */
  forecastOnly?: boolean;
  /**
   * Names the variation of a run, for the report.
   *
   * @default {() => "none"}
   */
  variation?: (run: number) => string;
}

/**
 * Runs every tick of every run and compares each with run 0's: the trace
 * events (canonical JSON) and the results (canonical values, by task name).
 * Stops at the first difference.
 *
 * @param options Ticks, runs, how to run a tick, what to compare.
 * @returns The verdict, run 0's hashes and the first difference.
 * @throws {TypeError | RangeError} For a bad option.
 *
 * @example Module state is caught
 * ```ts
 * import { preparePipeline } from "@abraxas/ers";
 * import { stabilizationGate } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * let calls = 0;
 * const pipeline = preparePipeline({ tasks: [{ name: "c", lane: "forecast", priority: 0, costOps: 1, fn: () => ++calls }] });
 * const result = await stabilizationGate({ ticks: 2, runs: 2, runTick: (_run, tick) => pipeline.runTick(tick) });
 * assert.equal(result.ok, false);
 * assert.deepEqual([result.failure?.run, result.failure?.tick, result.failure?.kind], [1, 0, "result"]);
 * assert.deepEqual([result.failure?.a, result.failure?.b], [1, 3]);
 * ```
 */
export async function stabilizationGate(
  options: StabilizationGateOptions,
): Promise<StabilizationResult> {
  const action = "run stabilization gate";
  if (!isPlainObject(options)) typeError(action, "options", "an object", options);
  const ticks = checkNonNegativeInteger(action, "ticks", options.ticks);
  if (ticks < 1 || ticks > 100_000) rangeError(action, "ticks", "from 1 to 100000", ticks);
  const runs = checkNonNegativeInteger(action, "runs", options.runs);
  if (runs < 2 || runs > 1000) rangeError(action, "runs", "from 2 to 1000", runs);
  if (typeof options.runTick !== "function") {
    typeError(action, "runTick", "a function", options.runTick);
  }
  const forecastOnly = options.forecastOnly === true;
  const variation = options.variation ?? (() => "none");
  const baseline: { events: string[]; results: string[] }[] = [];
  const result: StabilizationResult = {
    ok: true,
    ticks,
    runs,
    forecast_only: forecastOnly,
    tick_hashes: [],
    failure: null,
  };
  const encoder = new TextEncoder();
  for (let run = 0; run < runs; run++) {
    for (let tick = 0; tick < ticks; tick++) {
      const out = await options.runTick(run, tick);
      const texts = compared(out, tick, forecastOnly);
      if (run === 0) {
        baseline.push(texts);
        result.tick_hashes.push({
          trace_sha256: await sha256Hex(encoder.encode(`[${texts.events.join(",")}]`)),
          results_sha256: await sha256Hex(encoder.encode(`[${texts.results.join(",")}]`)),
        });
        continue;
      }
      const base = baseline[tick] as { events: string[]; results: string[] };
      const failure = firstItemDifference("event", base.events, texts.events) ??
        firstItemDifference("result", base.results, texts.results);
      if (failure !== undefined) {
        result.ok = false;
        result.failure = { run, tick, variation: variation(run), ...failure };
        return result;
      }
    }
  }
  return result;
}

// The canonical text of each compared trace event and result.
function compared(
  out: { trace: readonly TraceEvent[]; results: Readonly<Record<string, TaskResult>> },
  tick: number,
  forecastOnly: boolean,
): { events: string[]; results: string[] } {
  const keep = (lane: string) => !forecastOnly || lane === "forecast";
  return {
    events: out.trace.filter((e) => keep(e.lane)).map((e) => canonicalJsonString(e)),
    results: buildResultsPack({ runId: "", tick, results: out.results }).results
      .filter((r) => keep(r.lane)).map((r) => canonicalJsonString(r)),
  };
}

function firstItemDifference(
  kind: "event" | "result",
  a: readonly string[],
  b: readonly string[],
): Omit<StabilizationFailure, "run" | "tick" | "variation"> | undefined {
  for (let index = 0; index < Math.max(a.length, b.length); index++) {
    if (a[index] === b[index]) continue;
    const x = a[index] === undefined ? undefined : JSON.parse(a[index] as string);
    const y = b[index] === undefined ? undefined : JSON.parse(b[index] as string);
    const found = firstJsonDifference(x, y);
    const task = (x?.task ?? y?.task ?? null) as string | null;
    return { kind, index, task, path: found?.path ?? [], a: found?.a, b: found?.b };
  }
  return undefined;
}
