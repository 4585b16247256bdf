// The messages between a lane worker (runtime/_lane_worker.ts) and its
// supervisor side (runtime/_worker_lane.ts). Structured-cloneable data only:
// task functions never cross; tasks are named by their index in the
// description the worker reports once the pipeline module has loaded.

import type { Lane, PipelinePermissions, Sandbox, TaskContext } from "../ers/mod.ts";

/** Progress value while the worker makes the tick's context. */
export const PROGRESS_CONTEXT = 0;

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

/** Runs one lane's tasks of one tick. */
export interface BatchMessage {
  type: "lane.batch";
  lane: Lane;
  tick: number;
  /** The context, or `null` for the pipeline's `context(tick)`, made in the worker. */
  context: TaskContext | null;
  /** The tasks to run, by index in the description, in order. */
  indices: Uint32Array;
  /** Whether to send the context back (the forecast lane's, for the shadow lane). */
  returnContext: boolean;
}

/** Supervisor to worker. */
export type WorkerMessage =
  | { type: "lane.init"; progress: SharedArrayBuffer }
  | BatchMessage;

/** Worker to supervisor. */
export type WorkerReply =
  | { type: "lane.ready"; description: LaneDescription }
  | { type: "lane.invalid"; name: string; message: string }
  | {
    type: "lane.done";
    /** Per task run: 1 for ok, 0 for error. */
    statuses: Uint8Array;
    /** Per task run: its value (`null` for an error), or `null` when `numbers` holds them. */
    values: unknown[] | null;
    /** Every value, when every task ran ok and returned a number; else `null`. */
    numbers: Float64Array | null;
    /** Per task run: its error, or `null`; the whole list is `null` when no task failed. */
    errors: (string | null)[] | null;
    context: TaskContext | null;
  }
  | { type: "lane.context-error"; message: string }
  | { type: "lane.warning"; tick: number; task: string; message: string }
  | { type: "lane.exit"; task: string; what: string };
