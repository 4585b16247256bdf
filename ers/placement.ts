/**
 * Where a lane's task bodies run. The tick supervisor steps each lane's pure
 * logic through the tick's messages and hands the lane's placement the tasks
 * to run, in the stable order, as one batch per lane and tick; the placement
 * runs them one after another and answers with their outcomes. By default
 * both lanes run in this realm; `openPipeline()` (in `./runtime`) places them
 * in Web Workers behind the same interface.
 *
 * @module
 */

import { describeThrown } from "./_lane.ts";
import {
  append,
  type List,
  listDone,
  newList,
  promiseResolve,
  promiseThen,
} from "./_intrinsics.ts";
import { readonlyView } from "./_readonly_view.ts";
import type { Lane, LaneMessage, TaskContext } from "./types.ts";

type RunMessage = Extract<LaneMessage, { type: "lane.run" }>;

/**
 * How a task body ended.
 *
 * @example An error names the thrown value
 * ```ts
 * import type { TaskOutcome } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const outcome: TaskOutcome = { status: "error", value: null, error: "RangeError: too far" };
 * assert.match(outcome.error ?? "", /^RangeError/);
 * ```
 */
export interface TaskOutcome {
  /** `ok` when the body returned or resolved, `error` when it threw or rejected. */
  readonly status: "ok" | "error";
  /** What it returned or resolved to (`null` on error). */
  readonly value: unknown;
  /** `"<Error name>: <message>"` of what it threw, or `null`. */
  readonly error: string | null;
}

/**
 * One lane's work in one tick.
 *
 * @example What a placement receives
 * ```ts
 * import { bindCallable, DeterministicScheduler, type LaneBatch, type LanePlacement } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const seen: string[] = [];
 * const placement: LanePlacement = {
 *   run(batch: LaneBatch) {
 *     seen.push(`${batch.lane} ${batch.tick} ${batch.runs.map((m) => m.task.name).join(",")}`);
 *     return { outcomes: batch.runs.map(() => ({ status: "ok", value: 1, error: null })), context: batch.context };
 *   },
 * };
 * const s = new DeterministicScheduler({ placement: { forecast: placement, shadow: placement } });
 * s.add(bindCallable({ name: "a", lane: "forecast", priority: 0, costOps: 1, fn: () => 0 }));
 * s.add(bindCallable({ name: "b", lane: "forecast", priority: 1, costOps: 9, fn: () => 0 }));
 * await s.runTick({ tick: 4, budgetForecast: { ops: 1 }, budgetShadow: { ops: 0 } });
 * assert.deepEqual(seen, ["forecast 4 a", "shadow 4 "]);
 * ```
 */
export interface LaneBatch {
  /** The lane. */
  readonly lane: Lane;
  /** The tick. */
  readonly tick: number;
  /**
   * The context as the caller gave it (forecast) or as the forecast lane
   * left it (shadow); the placement makes the shadow lane's read-only view.
   */
  readonly context: TaskContext;
  /** The tasks to run, in order; each runs once the one before has settled. */
  readonly runs: readonly Extract<LaneMessage, { type: "lane.run" }>[];
}

/**
 * What a lane's batch produced.
 *
 * @example Outcomes become results and trace events
 * ```ts
 * import { bindCallable, DeterministicScheduler, type LaneBatchResult } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const s = new DeterministicScheduler({
 *   placement: {
 *     forecast: {
 *       run: (batch): LaneBatchResult => ({
 *         outcomes: [{ status: "error", value: null, error: "Error: elsewhere" }],
 *         context: batch.context,
 *       }),
 *     },
 *   },
 * });
 * s.add(bindCallable({ name: "a", lane: "forecast", priority: 0, costOps: 1, fn: () => 0 }));
 * const out = await s.runTick({ tick: 0, budgetForecast: { ops: 1 }, budgetShadow: { ops: 0 } });
 * assert.equal(out.results.a?.error, "Error: elsewhere");
 * assert.equal(out.trace[0]?.status, "error");
 * ```
 */
export interface LaneBatchResult {
  /** One outcome per run, in order. */
  readonly outcomes: readonly TaskOutcome[];
  /** The context as the lane's tasks left it. */
  readonly context: TaskContext;
}

/**
 * Runs a lane's task bodies: in this realm ({@linkcode inProcessPlacement}) or
 * elsewhere, such as a worker.
 *
 * @example A placement that counts the tasks it runs
 * ```ts
 * import { bindCallable, DeterministicScheduler, inProcessPlacement, type LanePlacement } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * let ran = 0;
 * const counting: LanePlacement = {
 *   run(batch) {
 *     ran += batch.runs.length;
 *     return inProcessPlacement.run(batch);
 *   },
 * };
 * const s = new DeterministicScheduler({ placement: { forecast: counting } });
 * s.add(bindCallable({ name: "a", lane: "forecast", priority: 0, costOps: 1, fn: () => 7 }));
 * const out = await s.runTick({ tick: 0, budgetForecast: { ops: 1 }, budgetShadow: { ops: 0 } });
 * assert.equal(out.results.a?.value, 7);
 * assert.equal(ran, 1);
 * ```
 */
export interface LanePlacement {
  /**
   * Runs `batch.runs` one after another; synchronously when every body is.
   *
   * @param batch The lane, tick, context and tasks.
   * @returns One outcome per task, in order, and the context left.
   */
  run(batch: LaneBatch): LaneBatchResult | Promise<LaneBatchResult>;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

const ok = (value: unknown): TaskOutcome => ({ status: "ok", value, error: null });
const failed = (thrown: unknown): TaskOutcome => ({
  status: "error",
  value: null,
  error: describeThrown(thrown),
});

// An async body's outcome to come. A class of this module only, so that no
// task can make a value pass for one (`instanceof Promise` asks `Promise`).
class Pending {
  constructor(readonly promise: Promise<TaskOutcome>) {}
}

// Calls a task body: its outcome, or a pending one when the body is async.
// Reading `then` (or a promise's `constructor`) runs the task's code too: if
// it throws, the task is an error, never the tick.
function call(message: RunMessage, context: TaskContext): TaskOutcome | Pending {
  let value: unknown;
  try {
    value = message.task.fn(context);
    if (!isThenable(value)) return ok(value);
    return new Pending(promiseThen(promiseResolve(value), ok, failed) as Promise<TaskOutcome>);
  } catch (thrown) {
    return failed(thrown);
  }
}

async function settled(outcome: TaskOutcome | Pending): Promise<TaskOutcome> {
  return outcome instanceof Pending ? await outcome.promise : outcome;
}

/**
 * Runs task bodies in this realm, the default: the fast path, for trusted
 * code. Shadow tasks get a deep read-only view of the context.
 *
 * @example Shadow tasks cannot write the context
 * ```ts
 * import { bindCallable, inProcessPlacement } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const task = bindCallable({ name: "w", lane: "shadow", priority: 0, costOps: 0, fn: (ctx) => {
 *   ctx.x = 2;
 * } });
 * const context = { x: 1 };
 * const out = await inProcessPlacement.run({
 *   lane: "shadow", tick: 0, context, runs: [{ type: "lane.run", task, meta: { tags: [] } }],
 * });
 * assert.equal(out.outcomes[0]?.status, "error");
 * assert.deepEqual(context, { x: 1 });
 * ```
 */
export const inProcessPlacement: LanePlacement = {
  run(batch: LaneBatch): LaneBatchResult | Promise<LaneBatchResult> {
    const context = batch.lane === "shadow" ? readonlyView(batch.context) : batch.context;
    const runs = batch.runs;
    const outcomes = newList<TaskOutcome>();
    for (let i = 0; i < runs.length; i++) {
      const outcome = call(runs[i] as RunMessage, context);
      if (outcome instanceof Pending) return finish(outcome, i, runs, context, outcomes, batch);
      append(outcomes, outcome);
    }
    return { outcomes: listDone(outcomes), context: batch.context };
  },
};

// The rest of a batch once a body went async.
async function finish(
  pending: Pending,
  from: number,
  runs: readonly RunMessage[],
  context: TaskContext,
  outcomes: List<TaskOutcome>,
  batch: LaneBatch,
): Promise<LaneBatchResult> {
  append(outcomes, await pending.promise);
  for (let i = from + 1; i < runs.length; i++) {
    append(outcomes, await settled(call(runs[i] as RunMessage, context)));
  }
  return { outcomes: listDone(outcomes), context: batch.context };
}
