// A lane placed in a Web Worker, seen from the supervisor's realm: it starts
// the worker, learns the pipeline's description from it, and runs each batch
// of the lane's tasks there (`LanePlacement`). It owns the faults: a task that
// does not settle within the timeout, a worker that exits or crashes. Each
// ends the worker, rejects the tick with a named error, and the next batch
// starts a fresh worker. The wall clock serves only this safety net.

import type {
  Lane,
  LaneBatch,
  LaneBatchResult,
  LanePlacement,
  TaskContext,
  TaskOutcome,
} from "../ers/mod.ts";
import type {
  BatchMessage,
  LaneDescription,
  WorkerMessage,
  WorkerReply,
} from "./_lane_protocol.ts";
import { PROGRESS_CONTEXT } from "./_lane_protocol.ts";
import { LaneCrashError, TaskTimeoutError } from "./lane_errors.ts";

/**
 * A message of a lane worker that is not a task's outcome, given to
 * `openPipeline()`'s `onWarning`.
 *
 * @example A stray rejection names the task that left it
 * ```ts
 * import { type LaneWarning, openPipeline } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/p.js`, `export default { tasks: [
 *     { name: "stray", lane: "forecast", priority: 0, costOps: 1, fn: () => { Promise.reject(new Error("lost")); } },
 *   ] };`);
 *   const warnings: LaneWarning[] = [];
 *   await using pipeline = await openPipeline(`${dir}/p.js`, { onWarning: (w) => warnings.push(w) });
 *   assert.equal((await pipeline.runTick(0)).results.stray?.status, "ok");
 *   await pipeline.runTick(1);
 *   assert.equal(warnings[0]?.task, "stray");
 *   assert.match(warnings[0]?.message ?? "", /unhandled rejection: Error: lost/);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface LaneWarning {
  /** The lane. */
  readonly lane: Lane;
  /** The tick it happened in. */
  readonly tick: number;
  /** The task that was running, or `null`. */
  readonly task: string | null;
  /** What happened. */
  readonly message: string;
}

/** How to start a lane worker. */
export interface WorkerLaneOptions {
  /** The worker's entry module (it imports the lane worker, then the pipeline). */
  readonly entry: string;
  /** The pipeline module, for messages. */
  readonly pipeline: string;
  /** Deno's worker `permissions` option, or `undefined` to inherit. */
  readonly permissions: unknown;
  /** Reports warnings (stray rejections, a worker lost between ticks). */
  readonly onWarning: (warning: LaneWarning) => void;
}

/** The context a forecast batch gets when the caller gave none: the worker makes it. */
export const CONTEXT_FROM_PIPELINE: TaskContext = Object.freeze({});

interface Pending {
  readonly tick: number;
  readonly count: number;
  resolve(result: LaneBatchResult): void;
  reject(error: Error): void;
}

/** Starts a worker and waits for its description of the pipeline. */
export function startWorker(
  options: WorkerLaneOptions,
  label: string,
): Promise<{ worker: Worker; description: LaneDescription }> {
  const init: WorkerOptions = { type: "module", name: `ers ${label}` };
  if (options.permissions !== undefined) {
    init.deno = { permissions: options.permissions as Deno.PermissionOptions };
  }
  const worker = new Worker(options.entry, init);
  return new Promise((resolve, reject) => {
    const fail = (what: string) => {
      worker.terminate();
      reject(new Error(`Cannot open pipeline ${options.pipeline}: ${what}`));
    };
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const reply = event.data;
      if (reply.type === "lane.ready") resolve({ worker, description: reply.description });
      else if (reply.type === "lane.invalid") {
        worker.terminate();
        const Class = reply.name === "RangeError"
          ? RangeError
          : reply.name === "TypeError"
          ? TypeError
          : Error;
        reject(new Class(`Cannot open pipeline ${options.pipeline}: ${reply.message}`));
      } else if (reply.type === "lane.exit") fail(`its module ${reply.what} while loading`);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      fail(event.message);
    };
  });
}

/** A lane whose task bodies run in a worker. */
export class WorkerLane implements LanePlacement {
  readonly #lane: Lane;
  readonly #options: WorkerLaneOptions;
  readonly #description: LaneDescription;
  readonly #indexOf = new Map<string, number>();
  readonly #timeoutMs: number;
  #worker: Worker | undefined;
  #starting: Promise<Worker> | undefined;
  #progress = new Int32Array(new SharedArrayBuffer(4));
  #pending: Pending | undefined;
  #closed = false;
  #lastTasks: readonly object[] = [];
  #lastIndices = new Uint32Array(0);

  /**
   * Takes over a started worker (or none: one starts with the first batch).
   * `description` is what the first worker reported; every later one must
   * report the same tasks.
   */
  constructor(
    lane: Lane,
    options: WorkerLaneOptions,
    description: LaneDescription,
    worker: Worker | undefined,
  ) {
    this.#lane = lane;
    this.#options = options;
    this.#description = description;
    this.#timeoutMs = description.limits.taskTimeoutMs;
    description.tasks.forEach((task, index) => this.#indexOf.set(task.name, index));
    if (worker !== undefined) this.#adopt(worker);
  }

  /** Runs the batch in the worker. */
  run(batch: LaneBatch): Promise<LaneBatchResult> {
    return this.#run(batch);
  }

  /** Ends the worker; later batches are refused. */
  close(): void {
    this.#closed = true;
    this.#drop();
  }

  async #run(batch: LaneBatch): Promise<LaneBatchResult> {
    if (this.#closed) throw new Error("Cannot run tick as the pipeline is closed");
    const worker = this.#worker ?? await (this.#starting ??= this.#restart());
    const indices = this.#indicesOf(batch.runs);
    const message: BatchMessage = {
      type: "lane.batch",
      lane: batch.lane,
      tick: batch.tick,
      context: batch.context === CONTEXT_FROM_PIPELINE ? null : batch.context,
      indices,
      returnContext: batch.lane === "forecast",
    };
    Atomics.store(this.#progress, 0, PROGRESS_CONTEXT);
    const done = new Promise<LaneBatchResult>((resolve, reject) => {
      this.#pending = { tick: batch.tick, count: indices.length, resolve, reject };
    });
    try {
      worker.postMessage(message satisfies WorkerMessage);
    } catch (error) {
      this.#pending = undefined;
      throw new TypeError(
        `Cannot run tick ${batch.tick} as its context cannot be structured-cloned into the ${this.#lane} lane worker: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
    const watchdog = this.#watch(batch.tick);
    try {
      return await done;
    } finally {
      clearInterval(watchdog);
      this.#pending = undefined;
    }
  }

  // The batch's tasks by index in the description. A lane sends the same
  // run messages tick after tick until a task is added, so the last batch's
  // indices serve again when its tasks are the same objects in the same order.
  #indicesOf(runs: LaneBatch["runs"]): Uint32Array {
    const last = this.#lastTasks;
    let same = last.length === runs.length;
    for (let i = 0; same && i < runs.length; i++) same = runs[i]!.task === last[i];
    if (same) return this.#lastIndices;
    const tasks: object[] = [];
    const indices = new Uint32Array(runs.length);
    for (let i = 0; i < runs.length; i++) {
      const task = runs[i]!.task;
      tasks.push(task);
      indices[i] = this.#indexOf.get(task.name)!;
    }
    this.#lastTasks = tasks;
    this.#lastIndices = indices;
    return indices;
  }

  // Polls the worker's progress; a task that has not moved on within the
  // timeout ends the worker.
  #watch(tick: number): ReturnType<typeof setInterval> {
    const pollMs = Math.max(1, Math.min(1000, Math.floor(this.#timeoutMs / 8)));
    let seen = Atomics.load(this.#progress, 0);
    let since = performance.now();
    return setInterval(() => {
      const now = Atomics.load(this.#progress, 0);
      if (now !== seen) {
        seen = now;
        since = performance.now();
      } else if (performance.now() - since >= this.#timeoutMs) {
        const pending = this.#pending;
        this.#drop();
        pending?.reject(new TaskTimeoutError(this.#taskAt(now), tick, this.#timeoutMs));
      }
    }, pollMs);
  }

  #taskAt(progress: number): string {
    return progress === PROGRESS_CONTEXT
      ? "context()"
      : this.#description.tasks[progress - 1]?.name ?? "context()";
  }

  async #restart(): Promise<Worker> {
    try {
      const { worker, description } = await startWorker(this.#options, `${this.#lane} lane`);
      const same = description.tasks.length === this.#description.tasks.length &&
        description.tasks.every((task, i) => task.name === this.#description.tasks[i]?.name);
      if (!same) {
        worker.terminate();
        throw new Error(
          `Cannot restart the ${this.#lane} lane of pipeline ${this.#options.pipeline} as its module now declares other tasks`,
        );
      }
      this.#adopt(worker);
      return worker;
    } finally {
      this.#starting = undefined;
    }
  }

  #adopt(worker: Worker): void {
    this.#worker = worker;
    this.#progress = new Int32Array(new SharedArrayBuffer(4));
    worker.postMessage({ type: "lane.init", progress: this.#progress.buffer } as WorkerMessage);
    worker.onmessage = (event: MessageEvent<WorkerReply>) => this.#receive(event.data);
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#crash(`an error escaped it: ${event.message}`);
    };
  }

  #receive(reply: WorkerReply): void {
    const pending = this.#pending;
    if (reply.type === "lane.warning") {
      this.#options.onWarning({
        lane: this.#lane,
        tick: reply.tick,
        task: reply.task === "" ? null : reply.task,
        message: reply.message,
      });
    } else if (reply.type === "lane.exit") {
      this.#crash(reply.what, reply.task);
    } else if (reply.type === "lane.context-error") {
      pending?.reject(new Error(`Cannot run tick ${pending.tick}: ${reply.message}`));
    } else if (reply.type === "lane.done" && pending !== undefined) {
      let result: LaneBatchResult;
      try {
        result = checkedResult(reply, pending.count);
      } catch (error) {
        this.#crash((error as Error).message);
        return;
      }
      pending.resolve(result);
    }
  }

  // The worker ended or is beyond trust: drop it, reject the tick in flight
  // naming the task, or report a loss between ticks.
  #crash(what: string, task?: string): void {
    const pending = this.#pending;
    const at = task ?? (pending === undefined ? "" : this.#taskAt(Atomics.load(this.#progress, 0)));
    this.#drop();
    if (pending !== undefined) {
      pending.reject(new LaneCrashError(at === "" ? null : at, pending.tick, this.#lane, what));
    } else {
      this.#options.onWarning({
        lane: this.#lane,
        tick: -1,
        task: at === "" ? null : at,
        message:
          `the lane worker ended between ticks (${what}); a fresh one starts with the next tick`,
      });
    }
  }

  #drop(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
  }
}

// The worker's reply, checked: one outcome per task sent, each well formed.
function checkedResult(
  reply: Extract<WorkerReply, { type: "lane.done" }>,
  count: number,
): LaneBatchResult {
  const { statuses, errors } = reply;
  const values = reply.numbers ?? reply.values;
  if (values === null) throw new Error("it sent no values");
  if (
    statuses.length !== count || values.length !== count ||
    (errors !== null && errors.length !== count)
  ) {
    throw new Error(
      `Cannot accept a lane worker's reply: ${statuses.length} outcomes for ${count} tasks`,
    );
  }
  const outcomes: TaskOutcome[] = [];
  for (let i = 0; i < count; i++) {
    const ok = statuses[i] === 1;
    const error = errors === null ? null : errors[i];
    if (ok ? error !== null : typeof error !== "string") {
      throw new Error("it sent a malformed outcome");
    }
    outcomes.push({
      status: ok ? "ok" : "error",
      value: ok ? values[i] : null,
      error: error ?? null,
    });
  }
  const context = reply.context ?? CONTEXT_FROM_PIPELINE;
  return { outcomes, context };
}
