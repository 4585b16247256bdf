// The messages between a lane worker (runtime/_lane_worker.ts) and its
// supervisor side (runtime/_worker_lane.ts). Structured-cloneable data only:
// task functions never cross; tasks are named by their index in the
// description the worker reports once the pipeline module has loaded.

import type { Lane, PipelinePermissions, Sandbox, TaskContext } from "../ers/mod.ts";

/**
 * The slots of the `Int32Array` a lane worker shares with its supervisor
 * side. The shadow lane is told its round through it, not by a message: the
 * forecast lane worker's hand-over is the only message it waits for. A round
 * is one tick's dispatch (tick numbers may repeat, rounds do not).
 */
export const SLOT = {
  /** What the worker is doing: a `PROGRESS_*` value, or 1 + the index of the task running. */
  progress: 0,
  /** The round the shadow lane runs next, or -1 for none. */
  round: 1,
  /** The version of the task list the shadow lane runs (`lane.tasks`). */
  tasks: 2,
} as const;
/** Slots in the shared array. */
export const SLOTS = 3;

/** Progress value while the worker makes the tick's context. */
export const PROGRESS_CONTEXT = 0;
/** Progress value while the shadow lane waits for the forecast lane's context. */
export const PROGRESS_WAITING = -1;

/** What a lane worker reports of the pipeline module it loaded. */
export interface LaneDescription {
  tasks: {
    name: string;
    lane: Lane;
    priority: number;
    costOps: number;
    costEntropy: number;
    tags: string[];
    promote?: unknown;
  }[];
  budgets: {
    forecast: { ops: number; entropy: number };
    shadow: { ops: number; entropy: number };
  };
  sandbox: Sandbox;
  limits: { taskTimeoutMs: number };
  permissions: PipelinePermissions;
  /** The task functions' and the context maker's source text, for the pipeline digest. */
  sources: { tasks: string[]; context: string | null };
}

/** Runs the forecast lane's tasks of one tick. */
export interface BatchMessage {
  type: "lane.batch";
  tick: number;
  round: number;
  /** The context, or `null` for the pipeline's `context(tick)`, made in the worker. */
  context: TaskContext | null;
  /** The tasks to run, by index in the description, in order. */
  indices: Uint32Array;
  /** A new channel to the shadow lane worker, to use from this batch on; else `null`. */
  peer: MessagePort | null;
}

/** The tasks the shadow lane runs, from the round that `SLOT.tasks` names `version` on. */
export interface TasksMessage {
  type: "lane.tasks";
  version: number;
  /** By index in the description, in order. */
  indices: Uint32Array;
}

/**
 * Forecast lane worker to shadow lane worker, once the forecast tasks have
 * settled: the context they left. The shadow lane runs the round if it is
 * the one its supervisor side set in `SLOT.round`.
 */
export interface HandoffMessage {
  tick: number;
  round: number;
  context: TaskContext;
}

/** Supervisor to worker. */
export type WorkerMessage =
  | { type: "lane.init"; shared: SharedArrayBuffer }
  | { type: "lane.peer"; port: MessagePort }
  | BatchMessage
  | TasksMessage;

/** Worker to supervisor. */
export type WorkerReply =
  | { type: "lane.ready"; description: LaneDescription }
  | { type: "lane.invalid"; name: string; message: string }
  | {
    type: "lane.done";
    round: number;
    /** Per task run: 1 for ok, 0 for error. */
    statuses: Uint8Array;
    /** Per task run: its value (`null` for an error), or `null` when `numbers` holds them. */
    values: unknown[] | null;
    /** Every value, when every task ran ok and returned a number; else `null`. */
    numbers: Float64Array | null;
    /** Per task run: its error, or `null`; the whole list is `null` when no task failed. */
    errors: (string | null)[] | null;
  }
  | { type: "lane.context-error"; round: number; message: string }
  | { type: "lane.warning"; tick: number; task: string; message: string }
  | { type: "lane.exit"; task: string; what: string };
