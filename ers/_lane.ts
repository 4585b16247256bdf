// A lane actor: it owns its lane's remaining budget and runs the tasks it is
// sent, one message at a time. The budget logic is pure (`planTask`,
// `chargeTask`); running a task body is the only effect, kept in `LaneActor`.

import { assert } from "./_assert.ts";
import { Budget } from "./budget.ts";
import { Mailbox } from "./_mailbox.ts";
import type {
  Lane,
  LaneMessage,
  SkipMeta,
  TaskContext,
  TaskResult,
  TaskSpec,
  TraceEvent,
} from "./types.ts";

/** A lane actor's reply to `lane.run`. */
export interface LaneReply {
  readonly result: TaskResult;
  readonly event: TraceEvent;
}

/** Remaining budget of a lane within a tick. */
export interface LaneBudget {
  readonly ops: number;
  readonly entropy: number;
}

const SKIP_META: SkipMeta = Object.freeze({ reason: "budget" });

/** Pure: whether `task` fits in `remaining`. */
export function planTask(remaining: LaneBudget, task: TaskSpec): "run" | "skip" {
  return task.costOps <= remaining.ops && task.costEntropy <= remaining.entropy ? "run" : "skip";
}

/** Pure: the budget left after charging an attempted `task`. */
export function chargeTask(remaining: LaneBudget, task: TaskSpec): LaneBudget {
  return { ops: remaining.ops - task.costOps, entropy: remaining.entropy - task.costEntropy };
}

/** Formats a thrown value as the reference does: `"<Error name>: <message>"`. */
export function describeThrown(thrown: unknown): string {
  try {
    if (thrown instanceof Error) return `${thrown.name}: ${thrown.message}`;
    return String(thrown);
  } catch {
    try {
      return Object.prototype.toString.call(thrown);
    } catch {
      return "[a thrown value that cannot be described]"; // a hostile Proxy, say
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

/** The actor of one lane. */
export class LaneActor {
  readonly lane: Lane;
  readonly mailbox: Mailbox<LaneMessage>;
  #tick = -1;
  #context: TaskContext = {};
  #remaining: LaneBudget = { ops: 0, entropy: 0 };

  constructor(lane: Lane, capacity: number) {
    this.lane = lane;
    this.mailbox = new Mailbox(`${lane} lane`, capacity);
  }

  /** The lane's budget left so far in this tick. */
  remaining(): Budget {
    return new Budget(this.#remaining);
  }

  /**
   * Handles one message. Returns the reply synchronously when the task body
   * is synchronous, so that a tick of sync tasks never yields to the event loop.
   */
  receive(message: LaneMessage): LaneReply | Promise<LaneReply> | undefined {
    if (message.type === "lane.begin") {
      this.#tick = message.tick;
      this.#context = message.context;
      this.#remaining = { ops: message.budget.ops, entropy: message.budget.entropy };
      return undefined;
    }
    const task = message.task;
    // The message is built only on failure: this line runs once per task.
    if (task.lane !== this.lane) {
      assert(false, `task ${task.name} was sent to the ${this.lane} lane`);
    }
    if (planTask(this.#remaining, task) === "skip") return this.#skip(task);
    this.#remaining = chargeTask(this.#remaining, task);
    let value: unknown;
    let pending: Promise<unknown> | undefined;
    try {
      value = task.fn(this.#context);
      // Reading `then` (or a promise's `constructor`) runs the task's code
      // too: if it throws, the task is an error, never the tick.
      if (isThenable(value)) pending = Promise.resolve(value);
    } catch (thrown) {
      return this.#settle(message, "error", null, describeThrown(thrown));
    }
    if (pending === undefined) return this.#settle(message, "ok", value, null);
    return pending.then(
      (resolved) => this.#settle(message, "ok", resolved, null),
      (thrown) => this.#settle(message, "error", null, describeThrown(thrown)),
    );
  }

  #skip(task: TaskSpec): LaneReply {
    return {
      result: {
        name: task.name,
        lane: task.lane,
        status: "skipped_budget",
        value: null,
        error: null,
        cost_ops: 0,
        cost_entropy: 0,
      },
      event: {
        tick: this.#tick,
        task: task.name,
        lane: task.lane,
        status: "skipped_budget",
        cost_ops: task.costOps,
        cost_entropy: task.costEntropy,
        meta: SKIP_META,
      },
    };
  }

  #settle(
    message: Extract<LaneMessage, { type: "lane.run" }>,
    status: "ok" | "error",
    value: unknown,
    error: string | null,
  ): LaneReply {
    const task = message.task;
    return {
      result: {
        name: task.name,
        lane: task.lane,
        status,
        value: value === undefined ? null : value,
        error,
        cost_ops: task.costOps,
        cost_entropy: task.costEntropy,
      },
      event: {
        tick: this.#tick,
        task: task.name,
        lane: task.lane,
        status,
        cost_ops: task.costOps,
        cost_entropy: task.costEntropy,
        meta: message.meta,
      },
    };
  }
}
