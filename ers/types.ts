/**
 * The records ERS produces. Their snake_case fields are the byte contract with
 * the reference implementation: traces are hashed, so the names never change.
 *
 * @module
 */

import type { Budget } from "./budget.ts";

/** The two lanes. Forecast runs first; shadow only observes. */
export type Lane = "forecast" | "shadow";

/** What happened to a task in one tick. */
export type Status = "ok" | "error" | "skipped_budget";

/** The context every task receives. Shadow tasks get a read-only view of it. */
export type TaskContext = Record<string, unknown>;

/** A task's body: sync or async; a throw or a rejection makes the task an `error`. */
export type TaskFn = (context: TaskContext) => unknown;

/**
 * A validated, immutable task, as made by {@linkcode bindCallable} or
 * {@linkcode bindRuneInvoke} and added with `DeterministicScheduler.add()`.
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
}

/** Meta of an attempted task (`ok` or `error`). */
export interface AttemptMeta {
  /** The task's tags. */
  readonly tags: readonly string[];
}

/** Meta of a task skipped for lack of budget. */
export interface SkipMeta {
  /** Always `"budget"`. */
  readonly reason: "budget";
}

/**
 * One trace event per task per tick, in execution order. Error text never
 * enters the trace, so the trace hash does not depend on messages.
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

/** The outcome of one task in one tick. */
export interface TaskResult {
  /** The task name. */
  name: string;
  /** The task's lane. */
  lane: Lane;
  /** What happened. */
  status: Status;
  /** What the task returned (awaited); `null` unless `ok`. */
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
