/**
 * Errors of isolated lanes (see {@linkcode openPipeline}): a task that broke
 * the deterministic sandbox, ran out of time, or brought its lane down.
 *
 * @module
 */

/**
 * Thrown inside a lane worker when a task (or the pipeline module) uses an
 * API the sandbox forbids. The task ends as `error`, its trace event records
 * `error` and the message names the API, so the trace stays deterministic.
 *
 * @example The message names the API and the setting that allows it
 * ```ts
 * import { DeterminismViolationError } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const error = new DeterminismViolationError("Date.now()", "oracle:signal", "clock", 'clock: "tick"');
 * assert.equal(error.name, "DeterminismViolationError");
 * assert.equal(error.api, "Date.now()");
 * assert.match(error.message, /^Date\.now\(\) is forbidden in task "oracle:signal"/);
 * ```
 */
export class DeterminismViolationError extends Error {
  /** Always `"DeterminismViolationError"`. */
  override name = "DeterminismViolationError";
  /** The API that was used, such as `"Math.random()"`. */
  readonly api: string;

  /**
   * Creates the error.
   *
   * @param api The API that was used.
   * @param task The task (or `the pipeline module`) that used it.
   * @param setting The sandbox setting that forbids it (`clock` or `random`).
   * @param allow The setting that would make it deterministic instead.
   */
  constructor(api: string, task: string, setting: string, allow: string) {
    super(
      `${api} is forbidden in task ${
        JSON.stringify(task)
      }: the sandbox's ${setting} is "forbid" (declare sandbox: { ${allow} } for a deterministic one)`,
    );
    this.api = api;
  }
}

/**
 * A task did not settle within the pipeline's `limits.taskTimeoutMs`. Its lane
 * worker was terminated and is replaced for the next tick; nothing of the tick
 * was recorded.
 *
 * @example It names the task and the tick
 * ```ts
 * import { TaskTimeoutError } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const error = new TaskTimeoutError("slow", 4, 1000);
 * assert.equal(error.name, "TaskTimeoutError");
 * assert.deepEqual([error.task, error.tick, error.timeoutMs], ["slow", 4, 1000]);
 * assert.match(error.message, /task "slow" of tick 4 did not settle within 1000 ms/);
 * ```
 */
export class TaskTimeoutError extends Error {
  /** Always `"TaskTimeoutError"`. */
  override name = "TaskTimeoutError";
  /** The task that did not settle. */
  readonly task: string;
  /** The tick it ran in. */
  readonly tick: number;
  /** The limit it passed, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * Creates the error.
   *
   * @param task The task.
   * @param tick The tick.
   * @param timeoutMs The limit.
   */
  constructor(task: string, tick: number, timeoutMs: number) {
    super(
      `Cannot finish the tick as task ${
        JSON.stringify(task)
      } of tick ${tick} did not settle within ${timeoutMs} ms (limits.taskTimeoutMs); its lane worker was replaced`,
    );
    this.task = task;
    this.tick = tick;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A lane worker ended while running a task: the task called `Deno.exit()` or
 * `close()`, or an error escaped it (thrown from a timer, say). The worker is
 * replaced for the next tick; nothing of the tick was recorded.
 *
 * @example It names the task and what happened
 * ```ts
 * import { LaneCrashError } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const error = new LaneCrashError("quit", 2, "forecast", "it called Deno.exit(0)");
 * assert.equal(error.name, "LaneCrashError");
 * assert.equal(error.task, "quit");
 * assert.match(error.message, /task "quit" of tick 2: it called Deno\.exit\(0\)/);
 * ```
 */
export class LaneCrashError extends Error {
  /** Always `"LaneCrashError"`. */
  override name = "LaneCrashError";
  /** The task that was running, or `null` when the lane was between tasks. */
  readonly task: string | null;
  /** The tick. */
  readonly tick: number;
  /** The lane whose worker ended. */
  readonly lane: string;

  /**
   * Creates the error.
   *
   * @param task The task that was running, if any.
   * @param tick The tick.
   * @param lane The lane.
   * @param what What ended the worker.
   */
  constructor(task: string | null, tick: number, lane: string, what: string) {
    super(
      `Cannot finish the tick as the ${lane} lane crashed ${
        task === null ? "between tasks" : `in task ${JSON.stringify(task)}`
      } of tick ${tick}: ${what}; its lane worker was replaced`,
    );
    this.task = task;
    this.tick = tick;
    this.lane = lane;
  }
}
