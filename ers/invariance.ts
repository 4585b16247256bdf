/**
 * The N-run invariance gate: run the same work N times, hash every trace, and
 * report the first drift.
 *
 * @module
 */

import { canonicalCopy, canonicalJsonString } from "./_canonical.ts";
import { sha256Hex } from "./_sha256.ts";
import { copiesText, traceCopies } from "./_trace_text.ts";
import type { TraceEvent } from "./types.ts";
import {
  checkNonNegativeInteger,
  isPlainObject,
  orDefault,
  rangeError,
  typeError,
} from "./_validate.ts";

/**
 * Most runs one gate may make.
 *
 * @example One run more is refused
 * ```ts
 * import { dozenRunInvarianceGate, MAX_INVARIANCE_RUNS } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   dozenRunInvarianceGate({ makeTrace: () => [], runs: MAX_INVARIANCE_RUNS + 1 }),
 *   RangeError,
 * );
 * ```
 */
export const MAX_INVARIANCE_RUNS = 100_000;

/**
 * Where two traces first differ.
 *
 * @example A trace that grew an event
 * ```ts
 * import { type Divergence, dozenRunInvarianceGate, type TraceEvent } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const event: TraceEvent = {
 *   tick: 0, task: "a", lane: "forecast", status: "ok", cost_ops: 1, cost_entropy: 0, meta: { tags: [] },
 * };
 * const result = await dozenRunInvarianceGate({
 *   runs: 2,
 *   makeTrace: (run) => run === 0 ? [event] : [event, { ...event, task: "b" }],
 * });
 * const divergence: Divergence | null = result.divergence;
 * assert.deepEqual(divergence, { event_index: 1, diff: { a: { _len: 1 }, b: { _len: 2 } } });
 * ```
 */
export interface Divergence {
  /** Index of the first differing event (or the shorter length). */
  event_index: number;
  /**
   * The canonical events of run 0 (`a`) and of the drifting run (`b`), or
   * `{ _len }` of each when one trace is a prefix of the other.
   */
  diff: { a: TraceEvent | { _len: number }; b: TraceEvent | { _len: number } };
}

/**
 * The gate's verdict.
 *
 * @example A steady trace passes
 * ```ts
 * import { dozenRunInvarianceGate, type InvarianceResult, traceHashSha256 } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const result: InvarianceResult = await dozenRunInvarianceGate({ makeTrace: () => [] });
 * assert.equal(result.ok, true);
 * assert.equal(result.expected_hash, await traceHashSha256([]));
 * assert.equal(result.hashes.length, 12);
 * assert.equal(result.first_mismatch_index, null);
 * assert.equal(result.divergence, null);
 * ```
 */
export interface InvarianceResult {
  /** Whether every run hashed the same. */
  ok: boolean;
  /** The hash of run 0. */
  expected_hash: string;
  /** Every run's hash, in run order. */
  hashes: string[];
  /** The first run whose hash differs from run 0, or `null`. */
  first_mismatch_index: number | null;
  /** Where that run first differs from run 0, or `null`. */
  divergence: Divergence | null;
}

/**
 * Options for {@linkcode dozenRunInvarianceGate}.
 *
 * @example Three runs of a fresh scheduler
 * ```ts
 * import {
 *   bindCallable,
 *   DeterministicScheduler,
 *   dozenRunInvarianceGate,
 *   type InvarianceGateOptions,
 * } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const options: InvarianceGateOptions = {
 *   runs: 3,
 *   makeTrace: async () => {
 *     const s = new DeterministicScheduler();
 *     s.add(bindCallable({ name: "a", lane: "forecast", priority: 0, costOps: 1, fn: () => 1 }));
 *     const out = await s.runTick({ tick: 0, budgetForecast: { ops: 1 }, budgetShadow: { ops: 0 } });
 *     return out.trace;
 *   },
 * };
 * const result = await dozenRunInvarianceGate(options);
 * assert.equal(result.ok, true);
 * assert.equal(result.hashes.length, 3);
 * ```
 */
export interface InvarianceGateOptions {
  /** Makes the trace of run `runIndex`; may be async. */
  makeTrace: (runIndex: number) => readonly TraceEvent[] | Promise<readonly TraceEvent[]>;
  /**
   * How many runs to make.
   *
   * @default {12}
   */
  runs?: number;
}

/**
 * Runs `makeTrace(i)` for every `i` in `0 .. runs - 1`, hashes each trace
 * canonically and passes when all hashes match. On drift it reports the first
 * mismatching run and where its trace first differs from run 0's.
 *
 * @param options The trace maker and the number of runs.
 * @returns The verdict, with every run's hash.
 * @throws {TypeError | RangeError} When `makeTrace` is not a function or `runs`
 * is not an integer from 1 to 100,000; errors from `makeTrace` pass through.
 *
 * @example A task that fails on every second call is caught
 * ```ts
 * import { bindCallable, DeterministicScheduler, dozenRunInvarianceGate } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * let calls = 0;
 * const result = await dozenRunInvarianceGate({
 *   makeTrace: async () => {
 *     const s = new DeterministicScheduler();
 *     s.add(bindCallable({
 *       name: "task", lane: "forecast", priority: 0, costOps: 1,
 *       fn: () => { if (++calls % 2 === 0) throw new Error("drift"); return 1; },
 *     }));
 *     return (await s.runTick({ tick: 0, budgetForecast: { ops: 10 }, budgetShadow: { ops: 10 } })).trace;
 *   },
 * });
 * assert.equal(result.ok, false);
 * assert.equal(result.first_mismatch_index, 1);
 * assert.equal(result.divergence?.event_index, 0);
 * ```
 */
export async function dozenRunInvarianceGate(
  options: InvarianceGateOptions,
): Promise<InvarianceResult> {
  const action = "run invariance gate";
  if (!isPlainObject(options)) typeError(action, "options", "an object", options);
  const { makeTrace } = options;
  if (typeof makeTrace !== "function") typeError(action, "makeTrace", "a function", makeTrace);
  const runs = checkNonNegativeInteger(action, "runs", orDefault(options.runs, 12));
  if (runs < 1 || runs > MAX_INVARIANCE_RUNS) {
    rangeError(action, "runs", `an integer from 1 to ${MAX_INVARIANCE_RUNS}`, runs);
  }
  const encoder = new TextEncoder();
  const hashes: string[] = [];
  let baseline: readonly object[] = [];
  let mismatch: { index: number; events: readonly object[] } | undefined;
  for (let i = 0; i < runs; i++) {
    const copies = traceCopies(await makeTrace(i));
    hashes.push(await sha256Hex(encoder.encode(copiesText(copies))));
    if (i === 0) baseline = copies.events;
    else if (mismatch === undefined && hashes[i] !== hashes[0]) {
      mismatch = { index: i, events: copies.events };
    }
  }
  const expected = hashes[0] as string;
  if (mismatch === undefined) {
    return {
      ok: true,
      expected_hash: expected,
      hashes,
      first_mismatch_index: null,
      divergence: null,
    };
  }
  return {
    ok: false,
    expected_hash: expected,
    hashes,
    first_mismatch_index: mismatch.index,
    divergence: firstDivergence(baseline, mismatch.events),
  };
}

// Where two runs' canonical event copies first differ (only on drift). The
// report holds fresh copies, built without text: V8's JSON.parse can misread
// escaped one-character keys.
function firstDivergence(a: readonly object[], b: readonly object[]): Divergence {
  const shared = Math.min(a.length, b.length);
  for (let i = 0; i < shared; i++) {
    if (canonicalJsonString(a[i]) !== canonicalJsonString(b[i])) {
      return {
        event_index: i,
        diff: { a: canonicalCopy(a[i]) as TraceEvent, b: canonicalCopy(b[i]) as TraceEvent },
      };
    }
  }
  return { event_index: shared, diff: { a: { _len: a.length }, b: { _len: b.length } } };
}
