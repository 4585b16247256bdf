/**
 * The reference pipeline: one Abraxas tick (signal, compress, overlay in the
 * forecast lane, named shadow steps beside them) run through
 * {@linkcode pipelineTick}.
 *
 * @module
 */

import { budgetFrom } from "../ers/_budget_from.ts";
import type { BindCallableOptions } from "../ers/bindings.ts";
import type { Budget, BudgetInit } from "../ers/budget.ts";
import { DEFAULT_BUDGETS, type PreparedPipeline, preparePipeline } from "../ers/pipeline.ts";
import type { TaskContext, TaskFn } from "../ers/types.ts";
import {
  checkName,
  checkNonNegativeInteger,
  isPlainObject,
  orDefault,
  typeError,
} from "../ers/_validate.ts";
import { pipelineTick, type RecordedTick } from "./tick.ts";

/**
 * Declared ops costs of the reference pipeline's tasks, each a non-negative
 * integer.
 *
 * @example A costly signal leaves no room for the later steps
 * ```ts
 * import { abraxasTick, type TickCosts } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   const costs: TickCosts = { signal: 45, shadow: 15 };
 *   const out = await abraxasTick({
 *     tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step,
 *     runShadowTasks: { a: step, b: step }, costOps: costs,
 *   });
 *   assert.equal(out.results["oracle:signal"]?.status, "ok");
 *   assert.equal(out.results["oracle:compress"]?.status, "skipped_budget");
 *   assert.equal(out.results["shadow:b"]?.status, "skipped_budget");
 *   assert.deepEqual(out.remaining, { forecast: { ops: 5, entropy: 0 }, shadow: { ops: 5, entropy: 0 } });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface TickCosts {
  /**
   * `oracle:signal`.
   *
   * @default {10}
   */
  signal?: number;
  /**
   * `oracle:compress`.
   *
   * @default {10}
   */
  compress?: number;
  /**
   * `oracle:overlay`.
   *
   * @default {10}
   */
  overlay?: number;
  /**
   * Each `shadow:<name>` task.
   *
   * @default {2}
   */
  shadow?: number;
}

/**
 * Options for {@linkcode abraxasTick}.
 *
 * @example Context, shadow steps and budgets
 * ```ts
 * import { Budget } from "@abraxas/ers";
 * import { abraxasTick, type AbraxasTickOptions } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const options: AbraxasTickOptions = {
 *     tick: 1, runId: "RUN-7", mode: "test", artifactsDir: dir, context: { price: 10 },
 *     runSignal: (ctx) => Number(ctx.price) * 2, runCompress: () => "c", runOverlay: () => "o",
 *     runShadowTasks: { audit: (ctx) => ctx.price },
 *     budgetForecast: { ops: 20 }, budgetShadow: new Budget({ ops: 2 }),
 *   };
 *   const out = await abraxasTick(options);
 *   assert.equal(out.results["oracle:signal"]?.value, 20);
 *   assert.equal(out.results["oracle:overlay"]?.status, "skipped_budget");
 *   assert.equal(out.results["shadow:audit"]?.value, 10);
 *   await assert.rejects(abraxasTick({ ...options, runId: ".." }), RangeError);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface AbraxasTickOptions {
  /** The tick number, a non-negative integer. */
  tick: number;
  /** The run: 1 to 128 letters, digits, `.`, `_`, `-`, but not `.` or `..`. */
  runId: string;
  /** The run mode recorded in provenance, such as `production`. */
  mode: string;
  /**
   * Passed to forecast tasks as is and to shadow tasks read-only.
   *
   * Defaults to `{}`.
   */
  context?: TaskContext;
  /** Where artifacts are written (and nowhere else). */
  artifactsDir: string;
  /** The `oracle:signal` step (forecast, priority 0). */
  runSignal: TaskFn;
  /** The `oracle:compress` step (forecast, priority 1). */
  runCompress: TaskFn;
  /** The `oracle:overlay` step (forecast, priority 2). */
  runOverlay: TaskFn;
  /**
   * Shadow steps by name; each runs as `shadow:<name>`, priority 0.
   *
   * Defaults to `{}`.
   */
  runShadowTasks?: Record<string, TaskFn>;
  /**
   * The forecast lane's budget.
   *
   * Defaults to `{ ops: 50, entropy: 0 }`.
   */
  budgetForecast?: Budget | BudgetInit;
  /**
   * The shadow lane's budget.
   *
   * Defaults to `{ ops: 20, entropy: 0 }`.
   */
  budgetShadow?: Budget | BudgetInit;
  /**
   * Declared costs; unset ones keep the reference's defaults.
   *
   * Defaults to `{}`.
   */
  costOps?: TickCosts;
}

const ACTION = "run abraxas tick";

/**
 * Runs one Abraxas tick through ERS and emits its artifacts:
 * `viz/<runId>/<tick>.trendpack.json`, `run_index/<runId>/<tick>.runindex.json`
 * (tick as 6 digits) and the run's manifest, byte-identical to the reference
 * implementation's. Every argument is checked before any task runs.
 *
 * @param options The tick, run, mode, context, directory and pipeline steps.
 * @returns Results, remaining budgets and the artifacts' paths and hashes.
 * @throws {TypeError | RangeError} For a bad argument, naming it; nothing runs.
 * @throws {DriftError} When this tick was already recorded with other bytes.
 * @throws {ArtifactPermissionError} When write access is missing; the message
 * names the `--allow-write` flag to add.
 * @throws {ManifestError} When the run's manifest on disk is corrupt.
 *
 * @example One tick
 * ```ts
 * import { abraxasTick } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const out = await abraxasTick({
 *     tick: 0, runId: "RUN-001", mode: "production", artifactsDir: dir,
 *     runSignal: () => ({ ok: true }), runCompress: () => ({ ok: true }), runOverlay: () => ({ ok: true }),
 *     runShadowTasks: { sei: () => ({ ok: true }), anagram: () => ({ ok: true }) },
 *   });
 *   assert.equal(out.remaining.forecast.ops, 20);
 *   assert.equal(out.artifacts.trendpack_sha256, "75075c6babe511c37367b5b8b8d0b9900fa8af9b16d663b503a27671841d70d1");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function abraxasTick(options: AbraxasTickOptions): Promise<RecordedTick> {
  if (!isPlainObject(options)) typeError(ACTION, "options", "an object", options);
  return await pipelineTick({
    pipeline: referencePipeline(options),
    tick: options.tick,
    runId: options.runId,
    mode: options.mode,
    artifactsDir: options.artifactsDir,
    context: orDefault(options.context, {}),
  });
}

// The reference pipeline: signal, compress, overlay (forecast, priorities 0..2)
// and one `shadow:<name>` task per shadow step, with overridable costs, and
// the two lanes' budgets. Every option is checked before any task runs.
function referencePipeline(options: AbraxasTickOptions): PreparedPipeline {
  return preparePipeline({
    tasks: referenceTasks(options),
    budgets: {
      forecast: budgetFrom(
        ACTION,
        "budgetForecast",
        orDefault(options.budgetForecast, DEFAULT_BUDGETS.forecast),
      ),
      shadow: budgetFrom(
        ACTION,
        "budgetShadow",
        orDefault(options.budgetShadow, DEFAULT_BUDGETS.shadow),
      ),
    },
  });
}

function referenceTasks(options: AbraxasTickOptions): BindCallableOptions[] {
  const costs: TickCosts = orDefault(options.costOps, {});
  if (!isPlainObject(costs)) typeError(ACTION, "costOps", "an object", costs);
  const cost = (key: keyof TickCosts, fallback: number) =>
    checkNonNegativeInteger(ACTION, `costOps.${key}`, orDefault(costs[key], fallback));
  const forecast = [
    ["oracle:signal", "runSignal", cost("signal", 10)],
    ["oracle:compress", "runCompress", cost("compress", 10)],
    ["oracle:overlay", "runOverlay", cost("overlay", 10)],
  ] as const;
  const tasks: BindCallableOptions[] = forecast.map(([name, field, costOps], priority) => {
    const fn = options[field];
    if (typeof fn !== "function") typeError(ACTION, field, "a function", fn);
    return { name, lane: "forecast", priority, costOps, fn };
  });
  const shadow = orDefault(options.runShadowTasks, {});
  if (!isPlainObject(shadow)) typeError(ACTION, "runShadowTasks", "an object of functions", shadow);
  const shadowCost = cost("shadow", 2);
  for (const [name, fn] of Object.entries(shadow)) {
    checkName(ACTION, "runShadowTasks key", name, 1000);
    if (typeof fn !== "function") typeError(ACTION, `runShadowTasks.${name}`, "a function", fn);
    tasks.push({
      name: `shadow:${name}`,
      lane: "shadow",
      priority: 0,
      costOps: shadowCost,
      fn: fn as TaskFn,
    });
  }
  return tasks;
}
