/**
 * The deterministic tick scheduler.
 *
 * @module
 */

import type { Budget, BudgetInit } from "./budget.ts";
import { ensureTaskSpec } from "./_task_spec.ts";
import { type RunMessage, RunOrder } from "./_run_order.ts";
import { TickSupervisor } from "./_supervisor.ts";
import { applyLaneOverrides, checkLaneOverrides } from "./_lane_override.ts";
import { inProcessPlacement, type LanePlacement } from "./placement.ts";
import type { Lane, LaneMessage, TaskContext, TaskResult, TaskSpec, TraceEvent } from "./types.ts";
import { budgetFrom } from "./_budget_from.ts";
import {
  checkNonNegativeInteger,
  isPlainObject,
  orDefault,
  rangeError,
  typeError,
} from "./_validate.ts";

/**
 * Most tasks a scheduler may hold unless `maxTasks` says otherwise.
 *
 * @example A scheduler holds up to 2^20 tasks by default
 * ```ts
 * import { DEFAULT_MAX_TASKS } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_MAX_TASKS, 1_048_576);
 * assert.equal(DEFAULT_MAX_TASKS, 2 ** 20);
 * ```
 */
export const DEFAULT_MAX_TASKS = 1_048_576;

/**
 * Options for {@linkcode DeterministicScheduler}.
 *
 * @example A one-task scheduler, traced
 * ```ts
 * import { bindCallable, DeterministicScheduler, type DeterministicSchedulerOptions } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const relayed: string[] = [];
 * const options: DeterministicSchedulerOptions = {
 *   maxTasks: 1,
 *   onRelay: (lane, message) => relayed.push(`${lane} ${message.type}`),
 * };
 * const s = new DeterministicScheduler(options);
 * const task = { lane: "forecast", priority: 0, costOps: 1, fn: () => 0 } as const;
 * s.add(bindCallable({ ...task, name: "a" }));
 * assert.throws(() => s.add(bindCallable({ ...task, name: "b" })), RangeError);
 * await s.runTick({ tick: 0, budgetForecast: { ops: 1 }, budgetShadow: { ops: 0 } });
 * assert.deepEqual(relayed, ["forecast lane.begin", "forecast lane.run", "shadow lane.begin"]);
 * ```
 */
export interface DeterministicSchedulerOptions {
  /**
   * Most tasks the scheduler may hold, a positive integer.
   *
   * @default {1048576}
   */
  maxTasks?: number;
  /**
   * Where each lane's task bodies run. `openPipeline()` (in `./runtime`)
   * places them in workers; a lane left out runs in this realm.
   *
   * Defaults to both lanes in this realm ({@linkcode inProcessPlacement}).
   */
  placement?: { readonly forecast?: LanePlacement; readonly shadow?: LanePlacement };
  /**
   * Called with every message the tick supervisor relays, in relay order,
   * just before the lane actor receives it: a tracing hook for diagnostics.
   * A lane's messages are relayed before its batch of task bodies runs.
   * It must not throw and must not depend on the wall clock if its output
   * feeds anything hashed.
   */
  onRelay?: (lane: Lane, message: LaneMessage) => void;
}

/**
 * Options for {@linkcode DeterministicScheduler.prototype.runTick}.
 *
 * @example Shadow tasks read the context but cannot write it
 * ```ts
 * import { bindCallable, Budget, DeterministicScheduler, type RunTickOptions } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const s = new DeterministicScheduler();
 * s.add(bindCallable({ name: "read", lane: "shadow", priority: 0, costOps: 1, fn: (ctx) => ctx.x }));
 * s.add(bindCallable({
 *   name: "write", lane: "shadow", priority: 1, costOps: 1, fn: (ctx) => {
 *     ctx.x = 0;
 *   },
 * }));
 * const options: RunTickOptions = {
 *   tick: 5, budgetForecast: new Budget({ ops: 0 }), budgetShadow: { ops: 2 }, context: { x: 7 },
 * };
 * const out = await s.runTick(options);
 * assert.equal(out.results.read?.value, 7);
 * assert.equal(out.results.write?.status, "error");
 * assert.deepEqual(options.context, { x: 7 });
 * assert.ok(out.trace.every((event) => event.tick === 5));
 * ```
 */
export interface RunTickOptions {
  /** The tick number, a non-negative integer. Recorded in every trace event. */
  tick: number;
  /** The forecast lane's budget for this tick. */
  budgetForecast: Budget | BudgetInit;
  /** The shadow lane's budget for this tick. */
  budgetShadow: Budget | BudgetInit;
  /**
   * Passed to forecast tasks as is and to shadow tasks as a read-only view
   * (of the context as the forecast lane left it).
   *
   * Defaults to `{}`.
   */
  context?: TaskContext;
  /**
   * Per-tick lane overrides: task name to the lane it runs in for this tick.
   * A task moved to another lane takes its place there by the stable order,
   * is charged to that lane's budget (skipped when it cannot afford it), sees
   * that lane's context, and its trace event and result name that lane.
   * Promotion uses it to run a promoted shadow task in the forecast lane.
   *
   * Defaults to `{}` (no override).
   *
   * @example A shadow task run in the forecast lane for one tick
   * ```ts
   * import { bindCallable, DeterministicScheduler } from "@abraxas/ers";
   * import assert from "node:assert/strict";
   *
   * const s = new DeterministicScheduler();
   * s.add(bindCallable({ name: "candidate", lane: "shadow", priority: 0, costOps: 3, fn: (ctx) => ctx.x }));
   * s.add(bindCallable({ name: "signal", lane: "forecast", priority: 1, costOps: 1, fn: () => 1 }));
   * const out = await s.runTick({
   *   tick: 0, budgetForecast: { ops: 4 }, budgetShadow: { ops: 0 }, context: { x: 7 },
   *   lanes: { candidate: "forecast" },
   * });
   * assert.deepEqual(out.trace.map((e) => [e.task, e.lane]), [["candidate", "forecast"], ["signal", "forecast"]]);
   * assert.equal(out.results.candidate?.value, 7);
   * assert.equal(out.remaining.forecast.ops, 0);
   * ```
   */
  lanes?: Readonly<Record<string, Lane>>;
}

/**
 * What one tick produced.
 *
 * @example Results by name, the trace in execution order, what is left
 * ```ts
 * import { bindCallable, DeterministicScheduler, type TickOutput } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const s = new DeterministicScheduler();
 * s.add(bindCallable({ name: "b", lane: "forecast", priority: 0, costOps: 2, fn: () => "B" }));
 * s.add(bindCallable({ name: "a", lane: "forecast", priority: 0, costOps: 2, fn: () => "A" }));
 * const out: TickOutput = await s.runTick({
 *   tick: 1, budgetForecast: { ops: 3 }, budgetShadow: { ops: 0 },
 * });
 * assert.equal(out.tick, 1);
 * assert.deepEqual(out.trace.map((e) => [e.task, e.status]), [["a", "ok"], ["b", "skipped_budget"]]);
 * assert.equal(out.results.a?.value, "A");
 * assert.equal(out.results.b?.value, null);
 * assert.equal(out.remaining.forecast.ops, 1);
 * ```
 */
export interface TickOutput {
  /** The tick number. */
  tick: number;
  /** One result per task, by task name. */
  results: Record<string, TaskResult>;
  /** One event per task, in execution order. */
  trace: TraceEvent[];
  /** What is left of each lane's budget. */
  remaining: { forecast: Budget; shadow: Budget };
}

/**
 * A deterministic, tick-based scheduler. Each tick runs every task once in the
 * stable order `(lane_order, priority, name, insertion_index)`: the forecast
 * lane first, then the shadow lane, lower priorities first, names by Unicode
 * code point. A task runs when its costs fit what is left of its lane's
 * budget; a task that runs is charged, a skipped one is not. No wall clock, no
 * randomness: the same tasks and inputs give the same trace.
 *
 * Internally each lane is an actor whose logic is a pure transition (its
 * budget and a message give the next budget and a reply); a tick supervisor
 * relays every message through it and hands the tasks that fit to the lane's
 * placement, which runs their bodies one after another. The sorted order is kept between ticks;
 * tasks added since the last tick are sorted alone and merged into it.
 *
 * @example One forecast and one shadow task
 * ```ts
 * import { bindCallable, Budget, DeterministicScheduler } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const s = new DeterministicScheduler();
 * s.add(bindCallable({ name: "shadow:sei", lane: "shadow", priority: 0, costOps: 1, fn: () => 1 }));
 * s.add(bindCallable({ name: "oracle:signal", lane: "forecast", priority: 9, costOps: 5, fn: () => 2 }));
 * const out = await s.runTick({
 *   tick: 0, budgetForecast: new Budget({ ops: 50 }), budgetShadow: new Budget({ ops: 10 }),
 * });
 * assert.deepEqual(out.trace.map((e) => e.task), ["oracle:signal", "shadow:sei"]);
 * assert.equal(out.results["oracle:signal"]?.value, 2);
 * assert.equal(out.remaining.forecast.ops, 45);
 * ```
 */
export class DeterministicScheduler {
  readonly #maxTasks: number;
  readonly #order = new RunOrder();
  readonly #lanes = new Map<string, Lane>();
  readonly #supervisor: TickSupervisor;
  #running = false;

  /**
   * Creates an empty scheduler.
   *
   * @param options Limits and the relay hook.
   * @throws {TypeError} When `options` is not a plain object, `maxTasks` is not a
   * number or `onRelay` is not a function.
   * @throws {RangeError} When `maxTasks` is not a positive integer.
   */
  constructor(options: DeterministicSchedulerOptions = {}) {
    if (!isPlainObject(options)) typeError("create scheduler", "options", "an object", options);
    const maxTasks = checkNonNegativeInteger(
      "create scheduler",
      "maxTasks",
      orDefault(options.maxTasks, DEFAULT_MAX_TASKS),
    );
    if (maxTasks === 0) rangeError("create scheduler", "maxTasks", "a positive integer", maxTasks);
    this.#maxTasks = maxTasks;
    const onRelay: unknown = options.onRelay;
    if (onRelay !== undefined && typeof onRelay !== "function") {
      typeError("create scheduler", "onRelay", "a function", onRelay);
    }
    const placement = orDefault(options.placement, {});
    if (!isPlainObject(placement)) {
      typeError("create scheduler", "placement", "an object", placement);
    }
    this.#supervisor = new TickSupervisor(
      {
        forecast: checkPlacement("forecast", placement.forecast),
        shadow: checkPlacement("shadow", placement.shadow),
      },
      onRelay as DeterministicSchedulerOptions["onRelay"],
    );
  }

  /**
   * How many tasks the scheduler holds.
   *
   * @returns The number of tasks added so far.
   *
   * @example A refused task is not counted
   * ```ts
   * import { bindCallable, DeterministicScheduler } from "@abraxas/ers";
   * import assert from "node:assert/strict";
   *
   * const s = new DeterministicScheduler();
   * assert.equal(s.size, 0);
   * const task = bindCallable({ name: "a", lane: "shadow", priority: 0, costOps: 1, fn: () => 0 });
   * s.add(task);
   * assert.throws(() => s.add(task), RangeError);
   * assert.equal(s.size, 1);
   * ```
   */
  get size(): number {
    return this.#order.size;
  }

  /**
   * Adds a task. Insertion order never changes the execution order; it only
   * breaks ties that cannot occur, since names are unique.
   *
   * @param task A task from {@linkcode bindCallable} or {@linkcode bindRuneInvoke}
   * (a hand-made spec is validated the same way).
   * @throws {TypeError} When `task` is not an object, or a field of a hand-made
   * spec has the wrong type.
   * @throws {RangeError} When the name is already taken, the scheduler is full,
   * or a field of a hand-made spec has a bad value.
   *
   * @example Duplicate names are refused
   * ```ts
   * import { bindCallable, DeterministicScheduler } from "@abraxas/ers";
   * import assert from "node:assert/strict";
   *
   * const s = new DeterministicScheduler();
   * const task = bindCallable({ name: "a", lane: "forecast", priority: 0, costOps: 1, fn: () => 0 });
   * s.add(task);
   * assert.throws(() => s.add(task), RangeError);
   * ```
   */
  add(task: TaskSpec): void {
    const spec = ensureTaskSpec(task, "add task");
    if (this.#lanes.has(spec.name)) {
      rangeError("add task", "name", "unique within the scheduler", spec.name);
    }
    if (this.#order.size >= this.#maxTasks) {
      throw new RangeError(
        `Cannot add task as the scheduler holds its maximum of ${this.#maxTasks} tasks: current value is ${
          JSON.stringify(spec.name)
        }`,
      );
    }
    const meta = Object.freeze({ tags: spec.tags });
    const message: RunMessage = Object.freeze({ type: "lane.run", task: spec, meta });
    this.#lanes.set(spec.name, spec.lane);
    this.#order.add(message);
  }

  /**
   * Runs every task once, in the stable order, and reports what happened.
   *
   * @param options The tick number, both lanes' budgets, the context and any
   * lane overrides.
   * @returns The results by name, the trace, and the remaining budgets.
   * @throws {TypeError | RangeError} When `options`, the tick, a budget, the
   * context or a lane override (unknown task, unknown lane) is invalid.
   * @throws {Error} When a tick of this scheduler is already running.
   *
   * @example A budget skip does not stop a later, cheaper task
   * ```ts
   * import { bindCallable, DeterministicScheduler } from "@abraxas/ers";
   * import assert from "node:assert/strict";
   *
   * const s = new DeterministicScheduler();
   * s.add(bindCallable({ name: "big", lane: "forecast", priority: 0, costOps: 8, fn: () => 0 }));
   * s.add(bindCallable({ name: "small", lane: "forecast", priority: 1, costOps: 2, fn: () => 0 }));
   * const out = await s.runTick({ tick: 3, budgetForecast: { ops: 5 }, budgetShadow: { ops: 0 } });
   * assert.deepEqual(out.trace.map((e) => e.status), ["skipped_budget", "ok"]);
   * assert.equal(out.remaining.forecast.ops, 3);
   * ```
   */
  async runTick(options: RunTickOptions): Promise<TickOutput> {
    if (!isPlainObject(options)) typeError("run tick", "options", "an object", options);
    const tick = checkNonNegativeInteger("run tick", "tick", options.tick);
    const budgetForecast = budgetFrom("run tick", "budgetForecast", options.budgetForecast);
    const budgetShadow = budgetFrom("run tick", "budgetShadow", options.budgetShadow);
    const context = orDefault(options.context, {});
    if (typeof context !== "object" || context === null) {
      typeError("run tick", "context", "an object", context);
    }
    const moves = checkLaneOverrides(options.lanes, (name) => this.#lanes.get(name));
    if (this.#running) {
      throw new Error("Cannot run tick as a tick of this scheduler is already running");
    }
    this.#running = true;
    try {
      const order = this.#order.lanes();
      const outcome = await this.#supervisor.runTick(
        moves === undefined ? order : applyLaneOverrides(order, moves),
        tick,
        { forecast: budgetForecast, shadow: budgetShadow },
        context,
      );
      return { tick, ...outcome };
    } finally {
      this.#running = false;
    }
  }
}

function checkPlacement(lane: Lane, placement: unknown): LanePlacement {
  if (placement === undefined) return inProcessPlacement;
  if (
    (typeof placement !== "object" && typeof placement !== "function") || placement === null ||
    typeof (placement as { run?: unknown }).run !== "function"
  ) {
    typeError("create scheduler", `placement.${lane}`, "an object with a run() method", placement);
  }
  const handoff: unknown = (placement as { contextHandoff?: unknown }).contextHandoff;
  if (
    handoff !== undefined &&
    ((typeof handoff !== "object" && typeof handoff !== "function") || handoff === null)
  ) {
    typeError("create scheduler", `placement.${lane}.contextHandoff`, "an object", handoff);
  }
  return placement as LanePlacement;
}
