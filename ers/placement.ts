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
  freeze,
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
  /**
   * Set on two placements that hand the context from the forecast lane to
   * the shadow lane between themselves. When the forecast lane's placement
   * and the shadow lane's hold the same object here, the supervisor hands
   * both their batches over before it relays a message, without waiting for
   * either: the shadow lane's first, then the forecast lane's (which tasks
   * run follows from the budgets alone). The shadow placement must take the
   * context from the forecast placement and leave the shadow tasks unrun
   * until the forecast tasks have settled; the shadow batch's `context`, and
   * the context of the shadow `lane.begin` that `onRelay` sees, is
   * {@linkcode HANDED_OFF_CONTEXT}. Every message is still relayed, in the
   * stable order, forecast lane first; the tick's results come once both
   * batches have settled. Placements that share no object here run one
   * after the other: the forecast batch, then the shadow batch with the
   * context the forecast batch left.
   */
  readonly contextHandoff?: object;
}

/**
 * The context a shadow lane's batch (and its `lane.begin`) carries when its
 * placement takes the real one from the forecast lane's placement (see
 * {@linkcode LanePlacement.contextHandoff}): empty and frozen, the same on
 * every tick.
 *
 * @example Two placements that hand the context over through a promise
 * ```ts
 * import { bindCallable, DeterministicScheduler, HANDED_OFF_CONTEXT, inProcessPlacement, type LanePlacement, type TaskContext } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const handoff = {};
 * let handOver: (context: TaskContext) => void = () => {};
 * const handed = new Promise<TaskContext>((resolve) => handOver = resolve);
 * const forecast: LanePlacement = {
 *   contextHandoff: handoff,
 *   run: async (batch) => {
 *     const ran = await inProcessPlacement.run(batch);
 *     handOver(batch.context);
 *     return { outcomes: ran.outcomes, context: HANDED_OFF_CONTEXT };
 *   },
 * };
 * const shadow: LanePlacement = {
 *   contextHandoff: handoff,
 *   run: async (batch) => inProcessPlacement.run({ ...batch, context: await handed }),
 * };
 * const begun: unknown[] = [];
 * const s = new DeterministicScheduler({
 *   placement: { forecast, shadow },
 *   onRelay: (_lane, message) => { if (message.type === "lane.begin") begun.push(message.context); },
 * });
 * s.add(bindCallable({ name: "w", lane: "forecast", priority: 0, costOps: 1, fn: (ctx) => { ctx.x = 1; } }));
 * s.add(bindCallable({ name: "r", lane: "shadow", priority: 0, costOps: 1, fn: (ctx) => ctx.x }));
 * const out = await s.runTick({ tick: 0, budgetForecast: { ops: 1 }, budgetShadow: { ops: 1 }, context: {} });
 * assert.equal(out.results.r?.value, 1);
 * assert.equal(begun[1], HANDED_OFF_CONTEXT);
 * ```
 */
export const HANDED_OFF_CONTEXT: TaskContext = freeze({});

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
