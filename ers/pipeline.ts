/**
 * Pipelines: a set of tasks plus lane budgets, the unit a pipeline file
 * exports and that the `ers` command line runs and checks.
 *
 * @module
 */

import type { BindCallableOptions } from "./bindings.ts";
import { Budget, type BudgetInit } from "./budget.ts";
import { budgetFrom } from "./_budget_from.ts";
import { makeTaskSpec } from "./_task_spec.ts";
import { DeterministicScheduler, type TickOutput } from "./scheduler.ts";
import type { Lane, TaskContext, TaskSpec } from "./types.ts";
import { isPlainObject, orDefault, typeError } from "./_validate.ts";
import { checkLimits, checkPermissions, checkSandbox } from "./_isolation_fields.ts";

/**
 * A pipeline: tasks, optional budgets, and the context each tick receives.
 *
 * @example Budgets and context for every tick
 * ```ts
 * import { type Pipeline, preparePipeline } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const pipeline: Pipeline = {
 *   tasks: [
 *     { name: "double", lane: "forecast", priority: 0, costOps: 4, fn: (ctx) => Number(ctx.x) * 2 },
 *   ],
 *   budgets: { forecast: { ops: 10 } },
 *   context: (tick) => ({ x: tick }),
 * };
 * const out = await preparePipeline(pipeline).runTick(3);
 * assert.equal(out.results.double?.value, 6);
 * assert.equal(out.remaining.forecast.ops, 6);
 * assert.equal(out.remaining.shadow.ops, 20); // the default shadow budget
 * ```
 */
export interface Pipeline {
  /** The tasks, as {@linkcode bindCallable} takes them (or already bound). */
  readonly tasks: readonly (BindCallableOptions | TaskSpec)[];
  /**
   * Lane budgets for every tick.
   *
   * Defaults to `{ forecast: { ops: 50, entropy: 0 }, shadow: { ops: 20, entropy: 0 } }`.
   */
  readonly budgets?: { readonly forecast?: BudgetInit; readonly shadow?: BudgetInit };
  /**
   * Makes the context of tick `tick`. Must be deterministic.
   *
   * Defaults to a function returning `{}` for every tick.
   */
  readonly context?: (tick: number) => TaskContext;
  /**
   * The deterministic sandbox of the pipeline's lane workers (see
   * `openPipeline()` in `./runtime`). Inline lanes do not enforce it.
   *
   * Defaults to `{ clock: "forbid", random: "forbid", seed: 0 }`.
   */
  readonly sandbox?: SandboxOptions;
  /**
   * Limits enforced by the pipeline's lane workers.
   *
   * Defaults to `{ taskTimeoutMs: 60000 }`.
   */
  readonly limits?: PipelineLimits;
  /**
   * The Deno permissions of the pipeline's lane workers: `"none"`, `"inherit"`
   * (the caller's), or a descriptor such as `{ read: ["./data"], env: true }`.
   *
   * Defaults to `"none"`.
   */
  readonly permissions?: PipelinePermissions;
}

/**
 * The sandbox options a pipeline declares.
 *
 * @example A logical clock and a seeded random source
 * ```ts
 * import { preparePipeline, type SandboxOptions } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const sandbox: SandboxOptions = { clock: "tick", random: "seeded", seed: 7 };
 * assert.deepEqual(preparePipeline({ tasks: [], sandbox }).sandbox, sandbox);
 * assert.throws(() => preparePipeline({ tasks: [], sandbox: { clock: "wall" as "tick" } }), RangeError);
 * ```
 */
export interface SandboxOptions {
  /**
   * `"forbid"`: `Date.now()`, `new Date()` and `performance.now()` throw a
   * `DeterminismViolationError`; `"tick"`: they read a logical time, the tick
   * times 1,000 ms.
   *
   * Defaults to `"forbid"`.
   */
  readonly clock?: "forbid" | "tick";
  /**
   * `"forbid"`: `Math.random()`, `crypto.getRandomValues()` and
   * `crypto.randomUUID()` throw a `DeterminismViolationError`; `"seeded"`:
   * they draw from a generator seeded by `(seed, tick, task name)`.
   *
   * Defaults to `"forbid"`.
   */
  readonly random?: "forbid" | "seeded";
  /**
   * The seed of `random: "seeded"`, an integer from 0 to 2^32 - 1.
   *
   * Defaults to `0`.
   */
  readonly seed?: number;
}

/**
 * A pipeline's sandbox, every field set.
 *
 * @example The defaults forbid both
 * ```ts
 * import { preparePipeline, type Sandbox } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const sandbox: Sandbox = preparePipeline({ tasks: [] }).sandbox;
 * assert.deepEqual(sandbox, { clock: "forbid", random: "forbid", seed: 0 });
 * ```
 */
export interface Sandbox {
  /** See {@linkcode SandboxOptions.clock}. */
  readonly clock: "forbid" | "tick";
  /** See {@linkcode SandboxOptions.random}. */
  readonly random: "forbid" | "seeded";
  /** See {@linkcode SandboxOptions.seed}. */
  readonly seed: number;
}

/**
 * Limits a pipeline's lane workers enforce.
 *
 * @example A one-second task timeout
 * ```ts
 * import { preparePipeline, type PipelineLimits } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const limits: PipelineLimits = { taskTimeoutMs: 1000 };
 * assert.equal(preparePipeline({ tasks: [], limits }).limits.taskTimeoutMs, 1000);
 * assert.equal(preparePipeline({ tasks: [] }).limits.taskTimeoutMs, 60_000);
 * ```
 */
export interface PipelineLimits {
  /**
   * How long a task may run, in milliseconds, before its lane worker is
   * terminated and replaced and the tick rejects with a `TaskTimeoutError`.
   * From 1 to 2,147,483,647.
   *
   * Defaults to `60000`.
   */
  readonly taskTimeoutMs?: number;
}

/**
 * The Deno permissions a pipeline's lane workers get: `"none"`, `"inherit"`,
 * or per permission `true`, `false`, `"inherit"` or a list of allowed values
 * (paths, hosts, variable names), as Deno's worker `permissions` option takes.
 *
 * @example Read one directory, nothing else
 * ```ts
 * import { type PipelinePermissions, preparePipeline } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const permissions: PipelinePermissions = { read: ["./data"] };
 * assert.deepEqual(preparePipeline({ tasks: [], permissions }).permissions, permissions);
 * assert.equal(preparePipeline({ tasks: [] }).permissions, "none");
 * ```
 */
export type PipelinePermissions =
  | "none"
  | "inherit"
  | {
    readonly [name in "read" | "write" | "net" | "env" | "run" | "ffi" | "sys" | "import"]?:
      | boolean
      | "inherit"
      | readonly string[];
  };

/**
 * The reference's lane budgets: forecast 50 ops, shadow 20 ops, no entropy.
 *
 * @example A pipeline that sets no budgets gets these
 * ```ts
 * import { DEFAULT_BUDGETS, preparePipeline } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([DEFAULT_BUDGETS.forecast.ops, DEFAULT_BUDGETS.forecast.entropy], [50, 0]);
 * assert.deepEqual([DEFAULT_BUDGETS.shadow.ops, DEFAULT_BUDGETS.shadow.entropy], [20, 0]);
 * const pipeline = preparePipeline({ tasks: [] });
 * assert.equal(pipeline.budgets.forecast, DEFAULT_BUDGETS.forecast);
 * assert.equal(pipeline.budgets.shadow, DEFAULT_BUDGETS.shadow);
 * ```
 */
export const DEFAULT_BUDGETS: { readonly forecast: Budget; readonly shadow: Budget } = Object
  .freeze({
    forecast: new Budget({ ops: 50, entropy: 0 }),
    shadow: new Budget({ ops: 20, entropy: 0 }),
  });

/**
 * A pipeline made ready to run: bound tasks and concrete budgets.
 *
 * @example Ticks of a prepared pipeline
 * ```ts
 * import { preparePipeline, type PreparedPipeline } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const prepared: PreparedPipeline = preparePipeline({
 *   tasks: [{ name: "echo", lane: "forecast", priority: 0, costOps: 1, fn: (ctx) => ctx.tick }],
 *   context: (tick) => ({ tick }),
 * });
 * assert.equal(preparePipeline(prepared), prepared);
 * assert.ok(Object.isFrozen(prepared.tasks[0]));
 * assert.equal((await prepared.runTick(2)).results.echo?.value, 2);
 * assert.equal((await prepared.runTick(2, { tick: "given" })).results.echo?.value, "given");
 * assert.equal(prepared.scheduler().size, 1);
 * ```
 */
export interface PreparedPipeline {
  /** Validated, frozen tasks. */
  readonly tasks: readonly TaskSpec[];
  /** Both lanes' budgets. */
  readonly budgets: { readonly forecast: Budget; readonly shadow: Budget };
  /** The context maker. */
  readonly context: (tick: number) => TaskContext;
  /** The sandbox of its lane workers. */
  readonly sandbox: Sandbox;
  /** The limits its lane workers enforce. */
  readonly limits: Required<PipelineLimits>;
  /** The Deno permissions of its lane workers. */
  readonly permissions: PipelinePermissions;
  /** A fresh scheduler holding the tasks. */
  scheduler(): DeterministicScheduler;
  /**
   * Runs one tick with the pipeline's budgets on a scheduler kept for this
   * pipeline, so its tasks are sorted once rather than every tick. Calls made
   * at once each get their own scheduler.
   *
   * @param tick The tick number.
   * @param context The tick's context; `context(tick)` when omitted.
   * @param options `lanes`: lane overrides for this tick (see `RunTickOptions.lanes`).
   * @returns What the tick produced.
   */
  runTick(
    tick: number,
    context?: TaskContext,
    options?: { readonly lanes?: Readonly<Record<string, Lane>> },
  ): Promise<TickOutput>;
}

// Pipelines prepared here are returned as they are when prepared again.
const preparedPipelines = new WeakSet<PreparedPipeline>();
// Idle schedulers kept per prepared pipeline (enough for a few concurrent ticks).
const MAX_IDLE_SCHEDULERS = 4;

/**
 * Checks a pipeline and binds its tasks. The `ers` command line calls it on
 * a pipeline file's default export; preparing a prepared pipeline is harmless.
 *
 * @param pipeline The tasks, budgets and context maker.
 * @returns The prepared pipeline.
 * @throws {TypeError | RangeError} Naming the bad field, such as
 * `tasks[2].costOps` or `budgets.shadow.ops`.
 *
 * @example A two-task pipeline
 * ```ts
 * import { preparePipeline } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const pipeline = preparePipeline({
 *   tasks: [
 *     { name: "signal", lane: "forecast", priority: 0, costOps: 5, fn: (ctx) => ctx.x },
 *     { name: "watch", lane: "shadow", priority: 0, costOps: 1, fn: () => "seen" },
 *   ],
 *   budgets: { shadow: { ops: 3 } },
 *   context: (tick) => ({ x: tick * 2 }),
 * });
 * const out = await pipeline.scheduler().runTick({
 *   tick: 4, budgetForecast: pipeline.budgets.forecast, budgetShadow: pipeline.budgets.shadow,
 *   context: pipeline.context(4),
 * });
 * assert.equal(out.results.signal?.value, 8);
 * assert.equal(out.remaining.shadow.ops, 2);
 * ```
 */
export function preparePipeline(pipeline: Pipeline): PreparedPipeline {
  const action = "prepare pipeline";
  if (preparedPipelines.has(pipeline as PreparedPipeline)) return pipeline as PreparedPipeline;
  if (!isPlainObject(pipeline)) typeError(action, "pipeline", "an object with 'tasks'", pipeline);
  if (!Array.isArray(pipeline.tasks)) {
    typeError(action, "tasks", "an array of tasks", pipeline.tasks);
  }
  const tasks = pipeline.tasks.map((task, i) =>
    makeTaskSpec(task as BindCallableOptions, action, `tasks[${i}].`)
  );
  const budgets = orDefault(pipeline.budgets, {});
  if (!isPlainObject(budgets)) typeError(action, "budgets", "an object", budgets);
  const context = orDefault(pipeline.context, () => ({}));
  if (typeof context !== "function") {
    typeError(action, "context", "a function of the tick", context);
  }
  const sandbox = checkSandbox(pipeline.sandbox);
  const limits = checkLimits(pipeline.limits);
  const permissions = checkPermissions(pipeline.permissions);
  const laneBudgets = Object.freeze({
    forecast: laneBudget("forecast", budgets.forecast, DEFAULT_BUDGETS.forecast),
    shadow: laneBudget("shadow", budgets.shadow, DEFAULT_BUDGETS.shadow),
  });
  const scheduler = () => {
    const s = new DeterministicScheduler({ maxTasks: Math.max(1, tasks.length) });
    for (const task of tasks) s.add(task);
    return s;
  };
  const idle: DeterministicScheduler[] = [];
  const prepared: PreparedPipeline = {
    tasks,
    budgets: laneBudgets,
    context,
    sandbox,
    limits,
    permissions,
    scheduler,
    async runTick(
      tick: number,
      tickContext?: TaskContext,
      tickOptions?: { readonly lanes?: Readonly<Record<string, Lane>> },
    ): Promise<TickOutput> {
      const s = idle.pop() ?? scheduler();
      try {
        return await s.runTick({
          tick,
          budgetForecast: laneBudgets.forecast,
          budgetShadow: laneBudgets.shadow,
          context: tickContext === undefined ? context(tick) : tickContext,
          lanes: tickOptions?.lanes,
        });
      } finally {
        if (idle.length < MAX_IDLE_SCHEDULERS) idle.push(s);
      }
    },
  };
  const seen = new Set<string>();
  for (const [i, task] of tasks.entries()) {
    if (seen.has(task.name)) {
      throw new RangeError(
        `Cannot ${action} as 'tasks[${i}].name' must be unique: current value is ${
          JSON.stringify(task.name)
        }`,
      );
    }
    seen.add(task.name);
  }
  Object.freeze(prepared);
  preparedPipelines.add(prepared);
  return prepared;
}

function laneBudget(lane: string, init: unknown, fallback: Budget): Budget {
  return init === undefined ? fallback : budgetFrom("prepare pipeline", `budgets.${lane}`, init);
}
