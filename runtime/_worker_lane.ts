// A lane placed in a Web Worker, seen from the supervisor's realm: it starts
// the worker, learns the pipeline's description from it, and runs each batch
// of the lane's tasks there (`LanePlacement`). It owns the faults: a task that
// does not settle within the timeout, a worker that exits or crashes. Each
// ends the worker, rejects the tick with a named error, and the next batch
// starts a fresh worker. The wall clock serves only this safety net.
//
// The two lanes of a pipeline share a `ContextHandoff`, and the supervisor
// hands them both batches at once (`contextHandoff`), the shadow lane's
// first. The shadow lane is told its round (and, when they changed, its
// tasks) through memory it shares with its worker, without waking it; the
// forecast lane worker then hands the context it leaves straight to the
// shadow lane worker over a `MessageChannel` between the two. So a tick
// costs one message to the forecast worker, one hand-over, and one reply
// from each, and the shadow lane starts the moment the forecast lane is done,
// without a round trip through the supervisor's thread. The channel is
// renewed when either worker is started or dropped. When the forecast batch
// fails, the shadow batch of the same round is abandoned, and a shadow task's
// timeout counts from the moment its lane got the context.

import {
  HANDED_OFF_CONTEXT,
  type Lane,
  type LaneBatch,
  type LaneBatchResult,
  type LanePlacement,
  type TaskContext,
  type TaskOutcome,
} from "../ers/mod.ts";
import type {
  BatchMessage,
  LaneDescription,
  WorkerMessage,
  WorkerReply,
} from "./_lane_protocol.ts";
import { PROGRESS_CONTEXT, PROGRESS_WAITING, SLOT, SLOTS } from "./_lane_protocol.ts";
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
  /** The tick's round (`ContextHandoff.begin()`). */
  readonly round: number;
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

/**
 * What a pipeline's two worker lanes share: the channel between their
 * workers, renewed for the next tick whenever a lane's worker was started,
 * dropped or failed, and the shadow lane, abandoned when the forecast lane
 * fails. In each tick the shadow lane's batch comes first (it takes its end
 * of a renewed channel), then the forecast lane's (it takes the other end).
 */
export class ContextHandoff {
  #stale = true;
  #forecastEnd: MessagePort | undefined;
  #round = 0;
  #failedRound = -1;
  #handedRound = -1;
  #shadow: WorkerLane | undefined;

  /** The next tick needs a new channel. */
  invalidate(): void {
    this.#stale = true;
  }

  /**
   * Opens a tick's round, for the shadow lane (its batch comes first): the
   * round, and the shadow lane's end of a new channel when the channel is
   * renewed this tick.
   */
  begin(): { round: number; end: MessagePort | undefined } {
    this.#round++;
    if (!this.#stale) return { round: this.#round, end: undefined };
    this.#stale = false;
    this.#forecastEnd?.close();
    const channel = new MessageChannel();
    this.#forecastEnd = channel.port1;
    return { round: this.#round, end: channel.port2 };
  }

  /** For the forecast lane: the round, and its end of the channel renewed this tick, if it was. */
  join(): { round: number; end: MessagePort | undefined } {
    const end = this.#forecastEnd;
    this.#forecastEnd = undefined;
    return { round: this.#round, end };
  }

  /** Sets the shadow lane to abandon. */
  serve(shadow: WorkerLane): void {
    this.#shadow = shadow;
  }

  /** The forecast lane has handed over the context of `round`. */
  handOver(round: number): void {
    this.#handedRound = round;
  }

  /** Whether the forecast lane has handed over the context of `round`. */
  handedOver(round: number): boolean {
    return this.#handedRound === round;
  }

  /** Whether the forecast lane failed in `round`. */
  failed(round: number): boolean {
    return this.#failedRound === round;
  }

  /** The forecast lane failed in `round`: its shadow batch will never get a context. */
  fail(round: number): void {
    this.#failedRound = round;
    this.#stale = true;
    this.#shadow?.abandon(round);
  }
}

/** The rejection of a shadow batch whose forecast lane failed; the tick rejects with the forecast lane's error. */
class AbandonedError extends Error {
  constructor(tick: number) {
    super(`Cannot run the shadow lane of tick ${tick} as its forecast lane failed`);
    this.name = "AbandonedError";
  }
}

/** A lane whose task bodies run in a worker. */
export class WorkerLane implements LanePlacement {
  readonly #lane: Lane;
  readonly #options: WorkerLaneOptions;
  readonly #description: LaneDescription;
  readonly #indexOf = new Map<string, number>();
  readonly #timeoutMs: number;
  readonly #handoff: ContextHandoff;
  #worker: Worker | undefined;
  #starting: Promise<Worker> | undefined;
  #shared = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  #pending: Pending | undefined;
  #closed = false;
  #lastRuns: LaneBatch["runs"] | undefined;
  #lastTasks: readonly object[] = [];
  #lastIndices = new Uint32Array(0);
  // The shadow lane's task list its worker has, and its version.
  #sentIndices: Uint32Array | undefined;
  #tasksVersion = 0;

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
    handoff: ContextHandoff,
  ) {
    this.#lane = lane;
    this.#options = options;
    this.#description = description;
    this.#timeoutMs = description.limits.taskTimeoutMs;
    this.#handoff = handoff;
    if (lane === "shadow") handoff.serve(this);
    description.tasks.forEach((task, index) => this.#indexOf.set(task.name, index));
    if (worker !== undefined) this.#adopt(worker);
  }

  /** Shared by both lanes of the pipeline: the supervisor hands the context over through it. */
  get contextHandoff(): object {
    return this.#handoff;
  }

  /**
   * Runs the batch in the worker. The shadow lane's batch comes first in a
   * tick; it runs once the forecast lane worker hands over its context.
   */
  run(batch: LaneBatch): Promise<LaneBatchResult> {
    const shadow = this.#lane === "shadow";
    const { round, end } = shadow ? this.#handoff.begin() : this.#handoff.join();
    const ran = shadow ? this.#runShadow(batch, round, end) : this.#runForecast(batch, round, end);
    ran.then(
      // The forecast lane replies after it has handed the context over.
      () => {
        if (!shadow) this.#handoff.handOver(round);
      },
      () => {
        // Whatever failed, the next tick starts on a new channel.
        if (shadow) this.#handoff.invalidate();
        else this.#handoff.fail(round);
      },
    );
    return ran;
  }

  /** Ends the worker; later batches are refused. */
  close(): void {
    this.#closed = true;
    this.#drop();
  }

  /**
   * Gives up the shadow batch of `tick`, whose forecast lane failed. A
   * worker that already runs it (it got the context just before the
   * forecast lane failed) is ended.
   */
  abandon(round: number): void {
    const pending = this.#pending;
    if (pending === undefined || pending.round !== round) return;
    Atomics.store(this.#shared, SLOT.round, -1);
    if (Atomics.load(this.#shared, SLOT.progress) !== PROGRESS_WAITING) this.#drop();
    pending.reject(new AbandonedError(pending.tick));
  }

  async #runForecast(
    batch: LaneBatch,
    round: number,
    end: MessagePort | undefined,
  ): Promise<LaneBatchResult> {
    const worker = await this.#ready(end);
    const indices = this.#indicesOf(batch.runs);
    const message: BatchMessage = {
      type: "lane.batch",
      tick: batch.tick,
      round,
      context: batch.context === CONTEXT_FROM_PIPELINE ? null : batch.context,
      indices,
      peer: end ?? null,
    };
    Atomics.store(this.#shared, SLOT.progress, PROGRESS_CONTEXT);
    const done = this.#expect(batch.tick, round, indices.length);
    try {
      worker.postMessage(message satisfies WorkerMessage, end === undefined ? [] : [end]);
    } catch (error) {
      this.#pending = undefined;
      throw new TypeError(
        `Cannot run tick ${batch.tick} as its context cannot be structured-cloned into the forecast lane worker: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
    return await this.#watched(batch.tick, round, done);
  }

  // Tells the worker the tick (and, when they changed, the tasks) through
  // shared memory and at most one message, before the forecast lane's batch
  // is posted: the hand-over that follows finds them set.
  async #runShadow(
    batch: LaneBatch,
    round: number,
    end: MessagePort | undefined,
  ): Promise<LaneBatchResult> {
    const worker = await this.#ready(end);
    if (this.#handoff.failed(round)) throw new AbandonedError(batch.tick);
    const indices = this.#indicesOf(batch.runs);
    const newTasks = indices !== this.#sentIndices;
    if (newTasks) {
      this.#sentIndices = indices;
      this.#tasksVersion++;
    }
    // Set before any message goes: the worker may find the hand-over queued
    // on a new channel the moment it gets it.
    const shared = this.#shared;
    Atomics.store(shared, SLOT.tasks, this.#tasksVersion);
    Atomics.store(shared, SLOT.progress, PROGRESS_WAITING);
    Atomics.store(shared, SLOT.round, round);
    if (end !== undefined) {
      worker.postMessage({ type: "lane.peer", port: end } satisfies WorkerMessage, [end]);
    }
    if (newTasks) {
      worker.postMessage(
        { type: "lane.tasks", version: this.#tasksVersion, indices } satisfies WorkerMessage,
      );
    }
    return await this.#watched(
      batch.tick,
      round,
      this.#expect(batch.tick, round, indices.length),
    );
  }

  // The worker, started if need be. Its channel end is closed if the lane cannot run.
  async #ready(end: MessagePort | undefined): Promise<Worker> {
    try {
      if (this.#closed) throw new Error("Cannot run tick as the pipeline is closed");
      return this.#worker ?? await (this.#starting ??= this.#restart());
    } catch (error) {
      end?.close();
      throw error;
    }
  }

  #expect(tick: number, round: number, count: number): Promise<LaneBatchResult> {
    return new Promise<LaneBatchResult>((resolve, reject) => {
      this.#pending = { tick, round, count, resolve, reject };
    });
  }

  async #watched(
    tick: number,
    round: number,
    done: Promise<LaneBatchResult>,
  ): Promise<LaneBatchResult> {
    const watchdog = this.#watch(tick, round);
    try {
      return await done;
    } finally {
      clearInterval(watchdog);
      this.#pending = undefined;
    }
  }

  // The batch's tasks by index in the description. A lane sends the same
  // run messages tick after tick until a task is added, so the last batch's
  // indices serve again when its tasks are the same objects in the same order
  // (at once when the supervisor hands over the same list of runs).
  #indicesOf(runs: LaneBatch["runs"]): Uint32Array {
    if (runs === this.#lastRuns) return this.#lastIndices;
    this.#lastRuns = runs;
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
  #watch(tick: number, round: number): ReturnType<typeof setInterval> {
    const pollMs = Math.max(1, Math.min(1000, Math.floor(this.#timeoutMs / 8)));
    let seen = Atomics.load(this.#shared, SLOT.progress);
    let since = performance.now();
    return setInterval(() => {
      const now = Atomics.load(this.#shared, SLOT.progress);
      // The shadow lane's clock starts once the forecast lane is done.
      const waiting = now === PROGRESS_WAITING && !this.#handoff.handedOver(round);
      if (now !== seen || waiting) {
        seen = now;
        since = performance.now();
      } else if (performance.now() - since >= this.#timeoutMs) {
        const pending = this.#pending;
        this.#drop();
        pending?.reject(
          now === PROGRESS_WAITING
            ? new LaneCrashError(
              null,
              tick,
              this.#lane,
              `it did not take the forecast lane's context within ${this.#timeoutMs} ms`,
            )
            : new TaskTimeoutError(this.#taskAt(now), tick, this.#timeoutMs),
        );
      }
    }, pollMs);
  }

  #taskAt(progress: number): string {
    return progress === PROGRESS_WAITING
      ? ""
      : progress === PROGRESS_CONTEXT
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
    this.#shared = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
    Atomics.store(this.#shared, SLOT.round, -1);
    this.#sentIndices = undefined;
    worker.postMessage({ type: "lane.init", shared: this.#shared.buffer } satisfies WorkerMessage);
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
    } else if (
      (reply.type !== "lane.done" && reply.type !== "lane.context-error") ||
      pending === undefined || reply.round !== pending.round
    ) {
      return; // a reply of a tick given up
    } else if (reply.type === "lane.context-error") {
      pending.reject(new Error(`Cannot run tick ${pending.tick}: ${reply.message}`));
    } else {
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
    const at = task ??
      (pending === undefined ? "" : this.#taskAt(Atomics.load(this.#shared, SLOT.progress)));
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
    this.#handoff.invalidate();
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
  return { outcomes, context: HANDED_OFF_CONTEXT };
}
