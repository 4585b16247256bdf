/**
 * Opening a pipeline module with isolated lanes: each lane an actor in its
 * own Web Worker, inside a deterministic sandbox, with the Deno permissions
 * the pipeline declares; or, for trusted code, both lanes inline.
 *
 * @module
 */

import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  bindCallable,
  Budget,
  DeterministicScheduler,
  type Lane,
  type Pipeline,
  type PipelineLimits,
  type PipelinePermissions,
  type PreparedPipeline,
  preparePipeline,
  type Sandbox,
  type TaskContext,
  type TaskSpec,
  type TickOutput,
} from "../ers/mod.ts";
import type { LaneDescription } from "./_lane_protocol.ts";
import { type PipelineSources, recordSources, sourcesOf } from "./_pipeline_sources.ts";
import {
  CONTEXT_FROM_PIPELINE,
  ContextHandoff,
  type LaneWarning,
  startWorker,
  WorkerLane,
} from "./_worker_lane.ts";
import { workerPermissionOptions } from "./_worker_permissions.ts";

export type { LaneWarning };

/**
 * Where lanes run: each in its own Web Worker, or both in the caller's realm.
 *
 * @example Both modes give the same trace
 * ```ts
 * import { type Isolation, openPipeline } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const traces = [];
 * for (const isolation of ["worker", "inline"] satisfies Isolation[]) {
 *   await using pipeline = await openPipeline(new URL("../tests/fixtures/steady_pipeline.ts", import.meta.url), { isolation });
 *   traces.push((await pipeline.runTick(1)).trace);
 * }
 * assert.deepEqual(traces[0], traces[1]);
 * ```
 */
export type Isolation = "worker" | "inline";

/**
 * Options for {@linkcode openPipeline}.
 *
 * @example Inline lanes, warnings collected
 * ```ts
 * import { openPipeline, type OpenPipelineOptions } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const warnings: string[] = [];
 * const options: OpenPipelineOptions = { isolation: "inline", onWarning: (w) => warnings.push(w.message) };
 * await using pipeline = await openPipeline(new URL("../tests/fixtures/steady_pipeline.ts", import.meta.url), options);
 * assert.equal(pipeline.isolation, "inline");
 * assert.deepEqual(warnings, []);
 * ```
 */
export interface OpenPipelineOptions {
  /**
   * `"worker"`: each lane runs in its own Web Worker, inside the pipeline's
   * deterministic sandbox and permissions. `"inline"`: both lanes run in the
   * caller's realm, the fast path for trusted code (no sandbox, no timeout).
   *
   * Defaults to `"worker"`.
   */
  isolation?: Isolation;
  /**
   * Receives what a lane reports besides outcomes: an unhandled rejection
   * (naming the task), a worker lost between ticks, and, once per process,
   * that workers inherit the caller's permissions because Deno runs without
   * `--unstable-worker-options`.
   *
   * Defaults to one line on stderr per warning.
   */
  onWarning?: (warning: LaneWarning) => void;
}

/**
 * Options for {@linkcode OpenedPipeline.prototype.runTick}.
 *
 * @example A shadow task run in the forecast lane for one tick
 * ```ts
 * import { openPipeline, type OpenedTickOptions } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * await using pipeline = await openPipeline(new URL("../tests/fixtures/steady_pipeline.ts", import.meta.url));
 * const options: OpenedTickOptions = { lanes: { watch: "forecast" } };
 * const out = await pipeline.runTick(2, undefined, options);
 * assert.equal(out.results.watch?.lane, "forecast");
 * ```
 */
export interface OpenedTickOptions {
  /**
   * Per-tick lane overrides, task name to lane, as
   * `DeterministicScheduler.runTick()` takes them. Worker lanes can run any
   * task of the pipeline in either lane.
   *
   * Defaults to no override.
   */
  lanes?: Readonly<Record<string, Lane>>;
}

/**
 * A pipeline module opened by {@linkcode openPipeline}.
 *
 * @example Worker lanes: the caller's context is cloned, never written
 * ```ts
 * import { openPipeline } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * await using pipeline = await openPipeline(new URL("../tests/fixtures/steady_pipeline.ts", import.meta.url));
 * assert.equal(pipeline.isolation, "worker");
 * assert.deepEqual(pipeline.sandbox, { clock: "forbid", random: "forbid", seed: 0 });
 * const context = { n: 4 };
 * const out = await pipeline.runTick(4, context);
 * assert.equal(out.results.count?.value, 8);
 * assert.deepEqual(context, { n: 4 });
 * ```
 */
export interface OpenedPipeline {
  /** The pipeline module's URL. */
  readonly url: string;
  /** Where the lanes run. */
  readonly isolation: Isolation;
  /**
   * The tasks, in the module's order. In worker isolation their `fn` is a
   * stand-in that throws: task bodies stay in the lane workers.
   */
  readonly tasks: readonly TaskSpec[];
  /** Both lanes' budgets. */
  readonly budgets: { readonly forecast: Budget; readonly shadow: Budget };
  /** The declared sandbox (enforced in worker isolation only). */
  readonly sandbox: Sandbox;
  /** The declared limits (enforced in worker isolation only). */
  readonly limits: Required<PipelineLimits>;
  /** The declared permissions of the lane workers. */
  readonly permissions: PipelinePermissions;
  /**
   * The permissions lane workers actually have: `"declared"`, `"inherited"`
   * (Deno runs without `--unstable-worker-options`), or `null` inline.
   */
  readonly workerPermissions: "declared" | "inherited" | null;
  /**
   * Runs one tick: forecast lane, then shadow lane, in the stable order.
   * Calls made at once run one after another.
   *
   * @param tick The tick, a non-negative integer.
   * @param context The tick's context (cloned into the forecast worker); the
   * pipeline's `context(tick)`, made inside the lane, when omitted.
   * @param options Per-tick lane overrides.
   * @returns The same output as `DeterministicScheduler.runTick()`.
   * @throws {TaskTimeoutError} A task did not settle within `limits.taskTimeoutMs`.
   * @throws {LaneCrashError} A lane worker exited or crashed during the tick.
   */
  runTick(tick: number, context?: TaskContext, options?: OpenedTickOptions): Promise<TickOutput>;
  /**
   * Ends the lane workers. Later ticks are refused.
   *
   * @returns When the workers are ended.
   */
  close(): Promise<void>;
  /**
   * The same as {@linkcode OpenedPipeline.prototype.close}, for `await using`.
   *
   * @returns When the workers are ended.
   */
  [Symbol.asyncDispose](): Promise<void>;
}

const openedPipelines = new WeakSet<OpenedPipeline>();

/**
 * Whether `value` was returned by {@linkcode openPipeline}.
 *
 * @param value Anything.
 * @returns `true` for an opened pipeline.
 *
 * @example A plain pipeline is not opened
 * ```ts
 * import { isOpenedPipeline, openPipeline } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * await using opened = await openPipeline(new URL("../tests/fixtures/steady_pipeline.ts", import.meta.url), { isolation: "inline" });
 * assert.equal(isOpenedPipeline(opened), true);
 * assert.equal(isOpenedPipeline({ tasks: [] }), false);
 * ```
 */
export function isOpenedPipeline(value: unknown): value is OpenedPipeline {
  return typeof value === "object" && value !== null &&
    openedPipelines.has(value as OpenedPipeline);
}

/**
 * Opens a pipeline module: a file path (relative to the working directory or
 * absolute) or a URL whose default export is a {@linkcode Pipeline}.
 *
 * In worker isolation (the default) each lane is an actor in its own Web
 * Worker. Each worker imports the module itself, after installing the
 * deterministic sandbox (`sandbox` field), with the Deno permissions the
 * pipeline declares (`permissions` field); task functions never leave it. The
 * supervisor stays in the caller's realm: it computes the stable order, sends
 * each lane its tasks, and assembles the trace and the results itself.
 *
 * @param pipeline The module.
 * @param options Isolation and the warning hook.
 * @returns The opened pipeline; close it (or `await using` it) when done.
 * @throws {TypeError | RangeError} For a bad argument or an invalid pipeline,
 * naming the field.
 * @throws {Error} When the module cannot be loaded.
 *
 * @example Seeded randomness is the same on every run and differs per tick
 * ```ts
 * import { openPipeline } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const file = `${dir}/dice.js`;
 *   await Deno.writeTextFile(file, `export default {
 *     tasks: [{ name: "roll", lane: "forecast", priority: 0, costOps: 1, fn: () => Math.random() }],
 *     sandbox: { random: "seeded", seed: 42 },
 *   };`);
 *   const rolls = [];
 *   for (let run = 0; run < 2; run++) {
 *     await using pipeline = await openPipeline(file);
 *     rolls.push([(await pipeline.runTick(0)).results.roll?.value, (await pipeline.runTick(1)).results.roll?.value]);
 *   }
 *   assert.deepEqual(rolls[0], rolls[1]);
 *   assert.notEqual(rolls[0]?.[0], rolls[0]?.[1]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function openPipeline(
  pipeline: string | URL,
  options: OpenPipelineOptions = {},
): Promise<OpenedPipeline> {
  const url = moduleUrl(pipeline);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot open pipeline as 'options' must be an object: current value is ${String(options)}`,
    );
  }
  const isolation = options.isolation ?? "worker";
  if (isolation !== "worker" && isolation !== "inline") {
    throw new RangeError(
      `Cannot open pipeline as 'isolation' must be "worker" or "inline": current value is ${
        JSON.stringify(isolation)
      }`,
    );
  }
  const onWarning = options.onWarning ?? warnOnStderr;
  if (typeof onWarning !== "function") {
    throw new TypeError("Cannot open pipeline as 'onWarning' must be a function");
  }
  await checkExists(url);
  const opened = isolation === "inline"
    ? await openInline(url)
    : await openInWorkers(url, onWarning);
  openedPipelines.add(opened);
  return opened;
}

function moduleUrl(pipeline: string | URL): string {
  if (pipeline instanceof URL) return pipeline.href;
  if (typeof pipeline !== "string" || pipeline.length === 0) {
    throw new TypeError(
      `Cannot open pipeline as 'pipeline' must be a file path or a URL: current value is ${
        typeof pipeline === "string" ? '""' : String(pipeline)
      }`,
    );
  }
  return /^(file|https?|data|blob|jsr|npm):/.test(pipeline)
    ? new URL(pipeline).href
    : pathToFileURL(resolve(pipeline)).href;
}

// A local module that is missing is named before any worker starts (when Deno
// lets this process see it; otherwise the import reports it).
async function checkExists(url: string): Promise<void> {
  if (!url.startsWith("file:")) return;
  const path = fileURLToPath(url);
  if ((await Deno.permissions.query({ name: "read", path })).state !== "granted") return;
  const info = await Deno.stat(path).catch(() => undefined);
  if (!info?.isFile) throw new Error(`Cannot open pipeline ${path} as it does not exist`);
}

function warnOnStderr(warning: LaneWarning): void {
  const where = warning.task === null
    ? `the ${warning.lane} lane`
    : `task ${JSON.stringify(warning.task)}`;
  const when = warning.tick < 0 ? "" : ` (tick ${warning.tick})`;
  console.error(`ers: warning: ${where}${when}: ${warning.message}`);
}

// Runs ticks one after another, whatever the caller awaits.
function serialized<T extends unknown[], R>(run: (...args: T) => Promise<R>) {
  let queue: Promise<unknown> = Promise.resolve();
  return (...args: T): Promise<R> => {
    const next = queue.then(() => run(...args));
    queue = next.catch(() => {});
    return next;
  };
}

async function openInline(url: string): Promise<OpenedPipeline> {
  let module: Record<string, unknown>;
  try {
    module = await import(url);
  } catch (error) {
    throw new Error(
      `Cannot open pipeline ${url}: ${error instanceof Error ? error.message : error}`,
    );
  }
  if (module.default === undefined) {
    throw new TypeError(`Cannot open pipeline ${url}: it has no default export`);
  }
  const prepared = preparePipeline(module.default as Pipeline);
  const scheduler = prepared.scheduler();
  let closed = false;
  return withSources(
    sourcesOf(prepared),
    handle(
      url,
      "inline",
      prepared,
      null,
      serialized((tick, context, tickOptions) => {
        if (closed) return Promise.reject(new Error("Cannot run tick as the pipeline is closed"));
        return scheduler.runTick({
          tick,
          budgetForecast: prepared.budgets.forecast,
          budgetShadow: prepared.budgets.shadow,
          context: context === undefined ? prepared.context(tick) : context,
          ...lanesOf(tickOptions),
        });
      }),
      () => {
        closed = true;
      },
    ),
  );
}

async function openInWorkers(
  url: string,
  onWarning: (warning: LaneWarning) => void,
): Promise<OpenedPipeline> {
  const inner = URL.createObjectURL(
    new Blob([`import * as pipeline from ${JSON.stringify(url)};\nexport { pipeline };\n`], {
      type: "text/javascript",
    }),
  );
  const entry = URL.createObjectURL(
    new Blob([
      `import { serveLane } from ${
        JSON.stringify(new URL("./_lane_worker.ts", import.meta.url).href)
      };\n` +
      `serveLane(() => import(${JSON.stringify(inner)}));\n`,
    ], { type: "text/javascript" }),
  );
  const declared = workerPermissionOptions();
  if (!declared) warnInheritedOnce(onWarning);
  const base = { entry, pipeline: url, onWarning };
  let lanes: { forecast: WorkerLane; shadow: WorkerLane } | undefined;
  try {
    // The module is first loaded with no permissions at all, to read what it
    // declares; lanes then start with exactly that.
    const first = await startWorker(
      { ...base, permissions: declared ? "none" : undefined },
      "forecast lane",
    );
    const description = first.description;
    const permissions = declared ? description.permissions : undefined;
    const handoff = new ContextHandoff();
    const lane = (name: Lane, worker: Worker | undefined) =>
      new WorkerLane(name, { ...base, permissions }, description, worker, handoff);
    const keepFirst = !declared || description.permissions === "none";
    if (!keepFirst) first.worker.terminate();
    lanes = {
      forecast: lane("forecast", keepFirst ? first.worker : undefined),
      shadow: lane("shadow", undefined),
    };
    const scheduler = new DeterministicScheduler({
      maxTasks: Math.max(1, description.tasks.length),
      placement: lanes,
    });
    const tasks = description.tasks.map((task) => standIn(task));
    for (const task of tasks) scheduler.add(task);
    const prepared = {
      tasks,
      budgets: {
        forecast: new Budget(description.budgets.forecast),
        shadow: new Budget(description.budgets.shadow),
      },
      sandbox: Object.freeze(description.sandbox),
      limits: Object.freeze(description.limits),
      permissions: description.permissions,
    };
    const opened = lanes;
    return withSources(
      description.sources,
      handle(
        url,
        "worker",
        prepared,
        declared ? "declared" : "inherited",
        serialized((tick, context, tickOptions) =>
          scheduler.runTick({
            tick,
            budgetForecast: prepared.budgets.forecast,
            budgetShadow: prepared.budgets.shadow,
            context: context === undefined ? CONTEXT_FROM_PIPELINE : context,
            ...lanesOf(tickOptions),
          })
        ),
        () => {
          opened.forecast.close();
          opened.shadow.close();
          URL.revokeObjectURL(entry);
        },
      ),
    );
  } catch (error) {
    lanes?.forecast.close();
    lanes?.shadow.close();
    URL.revokeObjectURL(entry);
    URL.revokeObjectURL(inner);
    throw error;
  }
}

function lanesOf(
  options: OpenedTickOptions | undefined,
): { lanes?: Readonly<Record<string, Lane>> } {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot run tick as 'options' must be an object: current value is ${String(options)}`,
    );
  }
  return options.lanes === undefined ? {} : { lanes: options.lanes };
}

// A task of the description, bound in the supervisor's realm with a body
// that only says where the real one runs.
function standIn(task: LaneDescription["tasks"][number]): TaskSpec {
  const name = task.name;
  return bindCallable({
    name,
    lane: task.lane,
    priority: task.priority,
    costOps: task.costOps,
    costEntropy: task.costEntropy,
    tags: task.tags,
    ...(task.promote === undefined ? {} : { promote: task.promote as never }),
    fn: () => {
      throw new Error(`Task ${JSON.stringify(name)} runs in its lane worker, not in this realm`);
    },
  });
}

let inheritedSaid = false;

function warnInheritedOnce(onWarning: (warning: LaneWarning) => void): void {
  if (inheritedSaid) return;
  inheritedSaid = true;
  onWarning({
    lane: "forecast",
    tick: -1,
    task: null,
    message:
      "lane workers inherit this process's permissions, as Deno runs without --unstable-worker-options; run with it to give them only the permissions the pipeline declares",
  });
}

// The opened pipeline, with the sources its digest covers recorded.
function withSources(sources: PipelineSources, opened: OpenedPipeline): OpenedPipeline {
  recordSources(opened, sources);
  return opened;
}

function handle(
  url: string,
  isolation: Isolation,
  prepared: Pick<PreparedPipeline, "tasks" | "budgets" | "sandbox" | "limits" | "permissions">,
  workerPermissions: "declared" | "inherited" | null,
  runTick: (
    tick: number,
    context?: TaskContext,
    options?: OpenedTickOptions,
  ) => Promise<TickOutput>,
  close: () => void,
): OpenedPipeline {
  const closeAll = () => {
    close();
    return Promise.resolve();
  };
  return Object.freeze({
    url,
    isolation,
    tasks: prepared.tasks,
    budgets: prepared.budgets,
    sandbox: prepared.sandbox,
    limits: prepared.limits,
    permissions: prepared.permissions,
    workerPermissions,
    runTick,
    close: closeAll,
    [Symbol.asyncDispose]: closeAll,
  });
}
