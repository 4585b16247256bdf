/**
 * The canonical tick orchestrator: runs the ERS scheduler over the forecast
 * pipeline and the shadow tasks, then emits the tick's TrendPack and RunIndex
 * with SHA-256 provenance.
 *
 * @module
 */

import { budgetFrom } from "../ers/_budget_from.ts";
import { resolve } from "node:path";
import type { BindCallableOptions } from "../ers/bindings.ts";
import type { Budget, BudgetInit } from "../ers/budget.ts";
import {
  DEFAULT_BUDGETS,
  type Pipeline,
  type PreparedPipeline,
  preparePipeline,
} from "../ers/pipeline.ts";
import type { TaskContext, TaskFn, TaskResult, TraceEvent } from "../ers/types.ts";
import {
  checkName,
  checkNonNegativeInteger,
  isPlainObject,
  orDefault,
  typeError,
} from "../ers/_validate.ts";
import { ersTraceToTrendpack } from "../viz/trendpack.ts";
import { type ArtifactRecord, ArtifactWriter } from "./artifact_writer.ts";
import { checkRunId } from "./_paths.ts";

/**
 * The ERS version recorded in provenance.
 *
 * @example Every TrendPack names it
 * ```ts
 * import { abraxasTick, ERS_PROVENANCE_VERSION } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   const out = await abraxasTick({
 *     tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step,
 *   });
 *   const trendpack = JSON.parse(await Deno.readTextFile(out.artifacts.trendpack));
 *   assert.equal(ERS_PROVENANCE_VERSION, "v0.2");
 *   assert.deepEqual(trendpack.provenance, {
 *     engine: "abraxas", ers: ERS_PROVENANCE_VERSION, mode: "demo",
 *   });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export const ERS_PROVENANCE_VERSION = "v0.2";

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
  /**
   * Shadow steps by name; each runs as `shadow:<name>`, priority 0.
   *
   * @default {{}}
   */
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
  /**
   * Declared costs; unset ones keep the reference's defaults.
   *
   * @default {{}}
   */
  costOps?: TickCosts;
}

/**
 * What one tick did and wrote.
 *
 * @example The artifacts' paths and hashes
 * ```ts
 * import { abraxasTick, type AbraxasTickResult } from "@abraxas/ers/runtime";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   const result: AbraxasTickResult = await abraxasTick({
 *     tick: 3, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step,
 *   });
 *   assert.deepEqual([result.tick, result.run_id, result.mode], [3, "R", "demo"]);
 *   assert.equal(result.artifacts.trendpack, join(dir, "viz", "R", "000003.trendpack.json"));
 *   const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(result.artifacts.trendpack));
 *   const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
 *   assert.equal(hex, result.artifacts.trendpack_sha256);
 *   const runindex = JSON.parse(await Deno.readTextFile(result.artifacts.runindex));
 *   assert.equal(runindex.hashes.trendpack_sha256, result.artifacts.trendpack_sha256);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
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
  /**
   * The TrendPack's and the RunIndex's paths (`artifactsDir` joined with the
   * path the manifest records), with their SHA-256.
   */
  artifacts: {
    trendpack: string;
    trendpack_sha256: string;
    runindex: string;
    runindex_sha256: string;
  };
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
export async function abraxasTick(options: AbraxasTickOptions): Promise<AbraxasTickResult> {
  if (!isPlainObject(options)) typeError(ACTION, "options", "an object", options);
  const pipeline = preparePipeline({
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
  return await pipelineTick({
    pipeline,
    tick: options.tick,
    runId: options.runId,
    mode: options.mode,
    artifactsDir: options.artifactsDir,
    context: orDefault(options.context, {}),
  });
}

/**
 * Options for {@linkcode pipelineTick}.
 *
 * @example The context defaults to the pipeline's
 * ```ts
 * import { preparePipeline } from "@abraxas/ers";
 * import { pipelineTick, type PipelineTickOptions } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const pipeline = preparePipeline({
 *     tasks: [{ name: "echo", lane: "forecast", priority: 0, costOps: 1, fn: (ctx) => ctx.n }],
 *     context: (tick) => ({ n: tick }),
 *   });
 *   const options: PipelineTickOptions = {
 *     pipeline, tick: 4, runId: "P", mode: "test", artifactsDir: dir,
 *   };
 *   assert.equal((await pipelineTick(options)).results.echo?.value, 4);
 *   const given = await pipelineTick({ ...options, tick: 5, context: { n: "given" } });
 *   assert.equal(given.results.echo?.value, "given");
 *   await assert.rejects(pipelineTick({ ...options, runId: "." }), RangeError);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface PipelineTickOptions {
  /** The pipeline to run (prepared or not). */
  pipeline: Pipeline | PreparedPipeline;
  /** The tick number, a non-negative integer. */
  tick: number;
  /** The run: 1 to 128 letters, digits, `.`, `_`, `-`, but not `.` or `..`. */
  runId: string;
  /** The run mode recorded in provenance. */
  mode: string;
  /** Where artifacts are written (and nowhere else). */
  artifactsDir: string;
  /**
   * The tick's context.
   *
   * @default {pipeline.context(tick)}
   */
  context?: TaskContext;
}

/**
 * Runs one tick of any pipeline and emits its TrendPack, RunIndex and
 * manifest records exactly as {@linkcode abraxasTick} does. Every argument is
 * checked, and access to the directory too, before any task runs.
 *
 * @param options The pipeline, tick, run, mode and directory.
 * @returns Results, remaining budgets and the artifacts' paths and hashes.
 * @throws {TypeError | RangeError} For a bad argument, naming it; nothing runs.
 * @throws {DriftError} When this tick was already recorded with other bytes.
 * @throws {ArtifactPermissionError} When access is missing, naming the flag.
 * @throws {ManifestError} When the run's manifest on disk is corrupt.
 *
 * @example A custom pipeline
 * ```ts
 * import { pipelineTick } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const pipeline = { tasks: [{ name: "count", lane: "forecast" as const, priority: 0, costOps: 1, fn: () => 1 }] };
 *   const out = await pipelineTick({ pipeline, tick: 7, runId: "P", mode: "test", artifactsDir: dir });
 *   assert.equal(out.results.count?.status, "ok");
 *   assert.match(out.artifacts.runindex, /000007\.runindex\.json$/);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function pipelineTick(options: PipelineTickOptions): Promise<AbraxasTickResult> {
  if (!isPlainObject(options)) typeError(ACTION, "options", "an object", options);
  const tick = checkNonNegativeInteger(ACTION, "tick", options.tick);
  const runId = checkRunId(ACTION, options.runId);
  const mode = checkName(ACTION, "mode", options.mode, 128);
  const pipeline = preparePipeline(options.pipeline as Pipeline);
  const writer = writerFor(options.artifactsDir);
  writer.checkAccess();
  const out = await pipeline.runTick(tick, options.context);
  const records = await emitArtifacts(writer, out.trace, tick, runId, mode);
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
      trendpack: writer.resolve(records.trendpack.path),
      trendpack_sha256: records.trendpack.sha256,
      runindex: writer.resolve(records.runindex.path),
      runindex_sha256: records.runindex.sha256,
    },
  };
}

// The TrendPack and the RunIndex that points at it, written together (one
// lock, one manifest update). Paths are relative to the artifacts root, so
// hashes do not depend on where the directory lives.
async function emitArtifacts(
  writer: ArtifactWriter,
  trace: readonly TraceEvent[],
  tick: number,
  runId: string,
  mode: string,
): Promise<{ trendpack: ArtifactRecord; runindex: ArtifactRecord }> {
  const stem = String(tick).padStart(6, "0");
  const trendpack = await writer.prepareJson({
    runId,
    tick,
    kind: "trendpack",
    schema: "TrendPack.v0",
    obj: ersTraceToTrendpack({
      trace,
      runId,
      tick,
      provenance: { engine: "abraxas", mode, ers: ERS_PROVENANCE_VERSION },
    }),
    relPath: `viz/${runId}/${stem}.trendpack.json`,
    extra: { mode, ers: ERS_PROVENANCE_VERSION },
  });
  const runindex = await writer.prepareJson({
    runId,
    tick,
    kind: "runindex",
    schema: "RunIndex.v0",
    obj: {
      schema: "RunIndex.v0",
      run_id: runId,
      tick,
      refs: { trendpack: trendpack.record.path },
      hashes: { trendpack_sha256: trendpack.record.sha256 },
      tags: [],
      provenance: { engine: "abraxas", mode },
    },
    relPath: `run_index/${runId}/${stem}.runindex.json`,
    extra: { mode },
  });
  const [trendpackRecord, runindexRecord] = await writer.writeAll([trendpack, runindex]);
  return {
    trendpack: trendpackRecord as ArtifactRecord,
    runindex: runindexRecord as ArtifactRecord,
  };
}

// One writer per artifacts directory, so that its checked directories and
// resolved root carry over from tick to tick.
const MAX_CACHED_WRITERS = 64;
const writers = new Map<string, ArtifactWriter>();

function writerFor(artifactsDir: string): ArtifactWriter {
  if (typeof artifactsDir !== "string" || artifactsDir.length === 0) {
    return new ArtifactWriter(artifactsDir); // throws, naming artifactsDir
  }
  // Keyed by the directory as given and where it is now: a relative path
  // names another directory after the process changes its working directory.
  const key = `${artifactsDir}\u0000${resolve(artifactsDir)}`;
  let writer = writers.get(key);
  if (writer === undefined) {
    writer = new ArtifactWriter(artifactsDir);
    if (writers.size >= MAX_CACHED_WRITERS) writers.delete(writers.keys().next().value as string);
    writers.set(key, writer);
  }
  return writer;
}

// The reference pipeline: signal, compress, overlay (forecast, priorities 0..2)
// and one `shadow:<name>` task per shadow step, with overridable costs.
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
