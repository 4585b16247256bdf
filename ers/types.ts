/**
 * The records ERS produces. Their snake_case fields are the byte contract with
 * the reference implementation: traces are hashed, so the names never change.
 *
 * @module
 */

import type { Budget } from "./budget.ts";
import type { PromoteSettings } from "./promotion.ts";

/**
 * The two lanes. Forecast runs first; shadow only observes.
 *
 * @example Forecast runs first, whatever the order tasks were added in
 * ```ts
 * import { bindCallable, DeterministicScheduler, type Lane } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const lanes: Lane[] = ["shadow", "forecast"];
 * const s = new DeterministicScheduler();
 * for (const lane of lanes) {
 *   s.add(bindCallable({ name: lane, lane, priority: 0, costOps: 1, fn: () => lane }));
 * }
 * const out = await s.runTick({ tick: 0, budgetForecast: { ops: 1 }, budgetShadow: { ops: 1 } });
 * assert.deepEqual(out.trace.map((event) => event.lane), ["forecast", "shadow"]);
 * ```
 */
export type Lane = typeof LANES[number];

/**
 * The lanes, in the order a tick runs them: forecast first, then shadow.
 *
 * @example The lane order
 * ```ts
 * import { LANES, type Lane } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const first: Lane = LANES[0];
 * assert.deepEqual(LANES, ["forecast", "shadow"]);
 * assert.equal(first, "forecast");
 * ```
 */
export const LANES: readonly ["forecast", "shadow"] = Object.freeze(
  ["forecast", "shadow"] as const,
);

/**
 * What happened to a task in one tick.
 *
 * @example One task of each status
 * ```ts
 * import { bindCallable, DeterministicScheduler, type Status } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const s = new DeterministicScheduler();
 * const task = { lane: "forecast", costOps: 1 } as const;
 * s.add(bindCallable({ ...task, name: "fine", priority: 0, fn: () => 1 }));
 * s.add(bindCallable({
 *   ...task, name: "broken", priority: 1, fn: () => {
 *     throw new Error("boom");
 *   },
 * }));
 * s.add(bindCallable({ ...task, name: "late", priority: 2, fn: () => 3 }));
 * const out = await s.runTick({ tick: 0, budgetForecast: { ops: 2 }, budgetShadow: { ops: 0 } });
 * const statuses: Status[] = out.trace.map((event) => event.status);
 * assert.deepEqual(statuses, ["ok", "error", "skipped_budget"]);
 * ```
 */
export type Status = typeof STATUSES[number];

/**
 * Every status a task can end a tick with.
 *
 * @example The three statuses
 * ```ts
 * import { STATUSES } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(STATUSES, ["ok", "error", "skipped_budget"]);
 * ```
 */
export const STATUSES: readonly ["ok", "error", "skipped_budget"] = Object.freeze(
  ["ok", "error", "skipped_budget"] as const,
);

/**
 * The context every task receives. Shadow tasks get a read-only view of it.
 *
 * @example Forecast tasks may change the context; shadow tasks may not
 * ```ts
 * import { bindCallable, DeterministicScheduler, type TaskContext } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const context: TaskContext = { prices: [1, 2, 3] };
 * const s = new DeterministicScheduler();
 * const prices = (ctx: TaskContext) => ctx.prices as number[];
 * s.add(bindCallable({
 *   name: "append", lane: "forecast", priority: 0, costOps: 1, fn: (ctx) => prices(ctx).push(4),
 * }));
 * s.add(bindCallable({
 *   name: "tamper", lane: "shadow", priority: 0, costOps: 1, fn: (ctx) => prices(ctx).pop(),
 * }));
 * s.add(bindCallable({
 *   name: "sum", lane: "shadow", priority: 1, costOps: 1,
 *   fn: (ctx) => prices(ctx).reduce((a, b) => a + b, 0),
 * }));
 * const out = await s.runTick({
 *   tick: 0, budgetForecast: { ops: 1 }, budgetShadow: { ops: 2 }, context,
 * });
 * assert.equal(out.results.tamper?.status, "error");
 * assert.equal(out.results.sum?.value, 10);
 * assert.deepEqual(context.prices, [1, 2, 3, 4]);
 * ```
 */
export type TaskContext = Record<string, unknown>;

/**
 * A task's body: sync or async; a throw or a rejection makes the task an `error`.
 *
 * @example Sync, async, throwing and rejecting bodies
 * ```ts
 * import { bindCallable, DeterministicScheduler, type TaskFn } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const bodies: Record<string, TaskFn> = {
 *   sync: () => 1,
 *   async: () => Promise.resolve(2),
 *   throws: () => {
 *     throw new Error("boom");
 *   },
 *   rejects: () => Promise.reject(new TypeError("no")),
 * };
 * const s = new DeterministicScheduler();
 * for (const [name, fn] of Object.entries(bodies)) {
 *   s.add(bindCallable({ name, lane: "forecast", priority: 0, costOps: 1, fn }));
 * }
 * const { results } = await s.runTick({ tick: 0, budgetForecast: { ops: 4 }, budgetShadow: { ops: 0 } });
 * assert.equal(results.sync?.value, 1);
 * assert.equal(results.async?.value, 2);
 * assert.equal(results.throws?.error, "Error: boom");
 * assert.equal(results.rejects?.error, "TypeError: no");
 * ```
 */
export type TaskFn = (context: TaskContext) => unknown;

/**
 * A validated, immutable task, as made by {@linkcode bindCallable} or
 * {@linkcode bindRuneInvoke} and added with `DeterministicScheduler.add()`.
 *
 * @example A hand-made spec is checked like a bound one
 * ```ts
 * import { DeterministicScheduler, type TaskSpec } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const spec: TaskSpec = {
 *   name: "hand-made", lane: "forecast", priority: 0, costOps: 1, costEntropy: 0,
 *   fn: () => "ran", tags: ["manual"],
 * };
 * const s = new DeterministicScheduler();
 * s.add(spec);
 * assert.throws(() => s.add({ ...spec, name: "negative", costOps: -1 }), RangeError);
 * const out = await s.runTick({ tick: 0, budgetForecast: { ops: 1 }, budgetShadow: { ops: 0 } });
 * assert.equal(out.results["hand-made"]?.value, "ran");
 * assert.deepEqual(out.trace[0]?.meta, { tags: ["manual"] });
 * ```
 */
export interface TaskSpec {
  /** Stable identifier, unique within a scheduler. Ordered by code point. */
  readonly name: string;
  /** The lane the task runs in. */
  readonly lane: Lane;
  /** Lower runs earlier within the lane. */
  readonly priority: number;
  /** Declared cost in abstract work units. */
  readonly costOps: number;
  /** Declared cost in abstract complexity units. */
  readonly costEntropy: number;
  /** The task's body. */
  readonly fn: TaskFn;
  /** Labels copied into `meta.tags` of the task's trace events. */
  readonly tags: readonly string[];
  /**
   * Promotion settings of a shadow task that is a promotion candidate
   * (see {@linkcode nextPromotionState}); absent otherwise.
   */
  readonly promote?: PromoteSettings;
}

/**
 * Meta of an attempted task (`ok` or `error`).
 *
 * @example The task's tags reach the trace
 * ```ts
 * import { type AttemptMeta, bindCallable, DeterministicScheduler } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const s = new DeterministicScheduler();
 * s.add(bindCallable({
 *   name: "a", lane: "forecast", priority: 0, costOps: 1, fn: () => 0, tags: ["oracle"],
 * }));
 * const budgets = { budgetForecast: { ops: 1 }, budgetShadow: { ops: 0 } };
 * const [event] = (await s.runTick({ tick: 0, ...budgets })).trace;
 * const expected: AttemptMeta = { tags: ["oracle"] };
 * assert.equal(event?.status, "ok");
 * assert.deepEqual(event?.meta, expected);
 * ```
 */
export interface AttemptMeta {
  /** The task's tags. */
  readonly tags: readonly string[];
}

/**
 * Meta of a task skipped for lack of budget.
 *
 * @example A skipped task's trace event
 * ```ts
 * import { bindCallable, DeterministicScheduler, type SkipMeta } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const s = new DeterministicScheduler();
 * s.add(bindCallable({
 *   name: "costly", lane: "shadow", priority: 0, costOps: 9, fn: () => 0, tags: ["x"],
 * }));
 * const budgets = { budgetForecast: { ops: 0 }, budgetShadow: { ops: 8 } };
 * const [event] = (await s.runTick({ tick: 0, ...budgets })).trace;
 * const expected: SkipMeta = { reason: "budget" };
 * assert.equal(event?.status, "skipped_budget");
 * assert.deepEqual(event?.meta, expected);
 * ```
 */
export interface SkipMeta {
  /** Always `"budget"`. */
  readonly reason: "budget";
}

/**
 * One trace event per task per tick, in execution order. Error text never
 * enters the trace, so the trace hash does not depend on messages.
 *
 * @example A trace written by hand hashes as the scheduler's does
 * ```ts
 * import { bindCallable, DeterministicScheduler, type TraceEvent, traceHashSha256 } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const event: TraceEvent = {
 *   tick: 0, task: "a", lane: "forecast", status: "error", cost_ops: 1, cost_entropy: 0,
 *   meta: { tags: [] },
 * };
 * const s = new DeterministicScheduler();
 * s.add(bindCallable({
 *   name: "a", lane: "forecast", priority: 0, costOps: 1, fn: () => {
 *     throw new Error("this text is not hashed");
 *   },
 * }));
 * const out = await s.runTick({ tick: 0, budgetForecast: { ops: 1 }, budgetShadow: { ops: 0 } });
 * assert.deepEqual(out.trace, [event]);
 * assert.equal(await traceHashSha256(out.trace), await traceHashSha256([event]));
 * ```
 */
export interface TraceEvent {
  /** The tick the event belongs to. */
  tick: number;
  /** The task name. */
  task: string;
  /** The task's lane. */
  lane: Lane;
  /** What happened. */
  status: Status;
  /** The declared ops cost (also for skipped tasks). */
  cost_ops: number;
  /** The declared entropy cost (also for skipped tasks). */
  cost_entropy: number;
  /** `{ tags }` for an attempted task, `{ reason: "budget" }` for a skipped one. */
  meta: AttemptMeta | SkipMeta;
}

/**
 * The outcome of one task in one tick.
 *
 * @example The result of a task that ran and of one that failed
 * ```ts
 * import { bindCallable, DeterministicScheduler, type TaskResult } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const s = new DeterministicScheduler();
 * s.add(bindCallable({ name: "answer", lane: "forecast", priority: 0, costOps: 2, fn: () => 42 }));
 * s.add(bindCallable({
 *   name: "fail", lane: "forecast", priority: 1, costOps: 1, fn: () => {
 *     throw new RangeError("too far");
 *   },
 * }));
 * const { results } = await s.runTick({ tick: 0, budgetForecast: { ops: 3 }, budgetShadow: { ops: 0 } });
 * const answer: TaskResult = {
 *   name: "answer", lane: "forecast", status: "ok", value: 42, error: null, cost_ops: 2, cost_entropy: 0,
 * };
 * assert.deepEqual(results.answer, answer);
 * assert.equal(results.fail?.value, null);
 * assert.equal(results.fail?.error, "RangeError: too far");
 * assert.equal(results.fail?.cost_ops, 1);
 * ```
 */
export interface TaskResult {
  /** The task name. */
  name: string;
  /** The task's lane. */
  lane: Lane;
  /** What happened. */
  status: Status;
  /** What the task returned (awaited; `undefined` becomes `null`); `null` unless `ok`. */
  value: unknown;
  /** `"<Error name>: <message>"` for an error, else `null`. */
  error: string | null;
  /** Ops charged: the declared cost when attempted, 0 when skipped. */
  cost_ops: number;
  /** Entropy charged: the declared cost when attempted, 0 when skipped. */
  cost_entropy: number;
}

/**
 * A message the tick supervisor relays to a lane actor: `lane.begin` opens
 * the lane's tick with its budget and context, then one `lane.run` per task,
 * in the stable order. Observe them with the scheduler's `onRelay` option.
 *
 * @example The messages of one tick, in relay order
 * ```ts
 * import { bindCallable, DeterministicScheduler, type LaneMessage } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const messages: LaneMessage[] = [];
 * const s = new DeterministicScheduler({ onRelay: (_lane, message) => messages.push(message) });
 * s.add(bindCallable({ name: "watch", lane: "shadow", priority: 0, costOps: 1, fn: () => 0 }));
 * s.add(bindCallable({ name: "act", lane: "forecast", priority: 0, costOps: 1, fn: () => 0 }));
 * await s.runTick({ tick: 2, budgetForecast: { ops: 5 }, budgetShadow: { ops: 3 } });
 * const seen = messages.map((m) =>
 *   m.type === "lane.begin" ? `begin tick ${m.tick} with ${m.budget.ops} ops` : `run ${m.task.name}`
 * );
 * assert.deepEqual(seen, ["begin tick 2 with 5 ops", "run act", "begin tick 2 with 3 ops", "run watch"]);
 * ```
 */
export type LaneMessage =
  | {
    /** Opens the lane's tick. */
    readonly type: "lane.begin";
    /** The tick. */
    readonly tick: number;
    /** The lane's budget for the tick. */
    readonly budget: Budget;
    /** What the lane's tasks receive (a read-only view for the shadow lane). */
    readonly context: TaskContext;
  }
  | {
    /** Runs one task. */
    readonly type: "lane.run";
    /** The task. */
    readonly task: TaskSpec;
    /** The meta its trace event carries when it runs. */
    readonly meta: AttemptMeta;
  };
