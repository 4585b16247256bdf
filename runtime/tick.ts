/**
 * The canonical tick orchestrator: runs the ERS scheduler over the forecast
 * pipeline and the shadow tasks, then emits the tick's TrendPack and RunIndex
 * with SHA-256 provenance.
 *
 * @module
 */

import { bindCallable } from "../ers/bindings.ts";
import { Budget, type BudgetInit } from "../ers/budget.ts";
import { DeterministicScheduler } from "../ers/scheduler.ts";
import type { TaskContext, TaskFn, TaskResult } from "../ers/types.ts";
import {
  checkName,
  checkNonNegativeInteger,
  isPlainObject,
  orDefault,
  typeError,
} from "../ers/_validate.ts";
import { ersTraceToTrendpack } from "../viz/trendpack.ts";
import { ArtifactWriter } from "./artifact_writer.ts";
import { checkRunId } from "./_paths.ts";

/** The ERS version recorded in provenance. */
export const ERS_PROVENANCE_VERSION = "v0.2";

/** Declared ops costs of the pipeline's tasks. */
export interface TickCosts {
  /** `oracle:signal`. @default {10} */
  signal?: number;
  /** `oracle:compress`. @default {10} */
  compress?: number;
  /** `oracle:overlay`. @default {10} */
  overlay?: number;
  /** Each `shadow:<name>` task. @default {2} */
  shadow?: number;
}

/** Options for {@linkcode abraxasTick}. */
export interface AbraxasTickOptions {
  /** The tick number. */
  tick: number;
  /** The run: 1 to 128 letters, digits, `.`, `_`, `-`. */
  runId: string;
  /** The run mode recorded in provenance, such as `production`. */
  mode: string;
  /**
   * Passed to forecast tasks as is and to shadow tasks read-only.
   *
   * @default {{}}
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
  /** Shadow steps by name; each runs as `shadow:<name>`, priority 0. */
  runShadowTasks?: Record<string, TaskFn>;
  /**
   * The forecast lane's budget.
   *
   * @default {{ ops: 50, entropy: 0 }}
   */
  budgetForecast?: Budget | BudgetInit;
  /**
   * The shadow lane's budget.
   *
   * @default {{ ops: 20, entropy: 0 }}
   */
  budgetShadow?: Budget | BudgetInit;
  /** Declared costs; unset ones keep the reference's defaults. */
  costOps?: TickCosts;
}

/** What one tick did and wrote. */
export interface AbraxasTickResult {
  /** The tick. */
  tick: number;
  /** The run. */
  run_id: string;
  /** The mode. */
  mode: string;
  /** One result per task, by name. */
  results: Record<string, TaskResult>;
  /** What is left of each lane's budget. */
  remaining: {
    forecast: { ops: number; entropy: number };
    shadow: { ops: number; entropy: number };
  };
  /** Real paths under `artifactsDir`, with their SHA-256. */
  artifacts: {
    trendpack: string;
    trendpack_sha256: string;
    runindex: string;
    runindex_sha256: string;
  };
}

const ACTION = "run abraxas tick";

/** The reference's budgets: forecast 50 ops, shadow 20 ops, no entropy. */
export const DEFAULT_TICK_BUDGETS: { readonly forecast: Budget; readonly shadow: Budget } = Object
  .freeze({
    forecast: new Budget({ ops: 50, entropy: 0 }),
    shadow: new Budget({ ops: 20, entropy: 0 }),
  });

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
export async function abraxasTick(options: AbraxasTickOptions): Promise<AbraxasTickResult> {
  if (!isPlainObject(options)) typeError(ACTION, "options", "an object", options);
  const tick = checkNonNegativeInteger(ACTION, "tick", options.tick);
  const runId = checkRunId(ACTION, options.runId);
  const mode = checkName(ACTION, "mode", options.mode, 128);
  const writer = new ArtifactWriter(options.artifactsDir);
  writer.checkAccess();
  const scheduler = buildScheduler(options);
  const out = await scheduler.runTick({
    tick,
    budgetForecast: orDefault(options.budgetForecast, DEFAULT_TICK_BUDGETS.forecast),
    budgetShadow: orDefault(options.budgetShadow, DEFAULT_TICK_BUDGETS.shadow),
    context: orDefault(options.context, {}),
  });

  const trendpack = ersTraceToTrendpack({
    trace: out.trace,
    runId,
    tick,
    provenance: { engine: "abraxas", mode, ers: ERS_PROVENANCE_VERSION },
  });
  const stem = String(tick).padStart(6, "0");
  const trendpackRecord = await writer.writeJson({
    runId,
    tick,
    kind: "trendpack",
    schema: "TrendPack.v0",
    obj: trendpack,
    relPath: `viz/${runId}/${stem}.trendpack.json`,
    extra: { mode, ers: ERS_PROVENANCE_VERSION },
  });
  const runindex = {
    schema: "RunIndex.v0",
    run_id: runId,
    tick,
    refs: { trendpack: trendpackRecord.path },
    hashes: { trendpack_sha256: trendpackRecord.sha256 },
    tags: [],
    provenance: { engine: "abraxas", mode },
  };
  const runindexRecord = await writer.writeJson({
    runId,
    tick,
    kind: "runindex",
    schema: "RunIndex.v0",
    obj: runindex,
    relPath: `run_index/${runId}/${stem}.runindex.json`,
    extra: { mode },
  });
  return {
    tick,
    run_id: runId,
    mode,
    results: out.results,
    remaining: {
      forecast: { ops: out.remaining.forecast.ops, entropy: out.remaining.forecast.entropy },
      shadow: { ops: out.remaining.shadow.ops, entropy: out.remaining.shadow.entropy },
    },
    artifacts: {
      trendpack: writer.resolve(trendpackRecord.path),
      trendpack_sha256: trendpackRecord.sha256,
      runindex: writer.resolve(runindexRecord.path),
      runindex_sha256: runindexRecord.sha256,
    },
  };
}

function buildScheduler(options: AbraxasTickOptions): DeterministicScheduler {
  const costs: TickCosts = orDefault(options.costOps, {});
  if (!isPlainObject(costs)) typeError(ACTION, "costOps", "an object", costs);
  const cost = (key: keyof TickCosts, fallback: number) =>
    checkNonNegativeInteger(ACTION, `costOps.${key}`, orDefault(costs[key], fallback));
  const s = new DeterministicScheduler();
  const forecast = [
    ["oracle:signal", "runSignal", cost("signal", 10)],
    ["oracle:compress", "runCompress", cost("compress", 10)],
    ["oracle:overlay", "runOverlay", cost("overlay", 10)],
  ] as const;
  forecast.forEach(([name, field, costOps], priority) => {
    const fn = options[field];
    if (typeof fn !== "function") typeError(ACTION, field, "a function", fn);
    s.add(bindCallable({ name, lane: "forecast", priority, costOps, fn }));
  });
  const shadow = orDefault(options.runShadowTasks, {});
  if (!isPlainObject(shadow)) typeError(ACTION, "runShadowTasks", "an object of functions", shadow);
  const shadowCost = cost("shadow", 2);
  for (const [name, fn] of Object.entries(shadow)) {
    checkName(ACTION, "runShadowTasks key", name, 1000);
    if (typeof fn !== "function") typeError(ACTION, `runShadowTasks.${name}`, "a function", fn);
    s.add(
      bindCallable({
        name: `shadow:${name}`,
        lane: "shadow",
        priority: 0,
        costOps: shadowCost,
        fn,
      }),
    );
  }
  return s;
}
