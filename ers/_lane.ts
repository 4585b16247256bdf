// A lane actor, as pure logic: its state is the tick and the budget it has
// left; `laneStep` takes one message to the next state and says what to do
// (nothing, reply now, or run the task); `settle` turns a run's outcome into
// the reply. Running a task body is the one effect, and it belongs to the
// lane's placement (`placement.ts`: in this realm, or a worker's), never to
// this logic. The same messages drive the lane wherever it is placed.

import { assert } from "./_assert.ts";
import { append, freeze, listDone, newList, objectToString } from "./_intrinsics.ts";
import type { RunMessage } from "./_run_order.ts";
import type { TaskOutcome } from "./placement.ts";
import type { Lane, LaneMessage, SkipMeta, TaskResult, TaskSpec, TraceEvent } from "./types.ts";

/** Remaining budget of a lane within a tick. */
export interface LaneBudget {
  readonly ops: number;
  readonly entropy: number;
}

/** A lane actor's state. */
export interface LaneState {
  readonly lane: Lane;
  readonly tick: number;
  readonly remaining: LaneBudget;
}

/** A lane actor's reply to a `lane.run` message: the task's result and trace event. */
export interface LaneReply {
  readonly result: TaskResult;
  readonly event: TraceEvent;
}

/** What a message asks of the lane's placement. */
export type LaneEffect =
  | { readonly kind: "none" }
  | { readonly kind: "reply"; readonly reply: LaneReply }
  | { readonly kind: "run"; readonly message: RunMessage };

const SKIP_META: SkipMeta = freeze({ reason: "budget" });
const NONE: LaneEffect = freeze({ kind: "none" });

/** A lane before its first tick. */
export function idleLane(lane: Lane): LaneState {
  return { lane, tick: -1, remaining: { ops: 0, entropy: 0 } };
}

/** Pure: whether `task` fits in `remaining`. */
export function planTask(remaining: LaneBudget, task: TaskSpec): "run" | "skip" {
  return task.costOps <= remaining.ops && task.costEntropy <= remaining.entropy ? "run" : "skip";
}

/** Pure: the budget left after charging an attempted `task`. */
export function chargeTask(remaining: LaneBudget, task: TaskSpec): LaneBudget {
  return { ops: remaining.ops - task.costOps, entropy: remaining.entropy - task.costEntropy };
}

/**
 * Pure: the messages of `messages` that `laneStep` runs, in order, when the
 * lane begins with `budget`; the others it skips. It lets a placement start
 * on a batch before the messages are relayed one by one.
 */
export function runsWithin(
  messages: readonly RunMessage[],
  budget: LaneBudget,
): readonly RunMessage[] {
  let remaining: LaneBudget = { ops: budget.ops, entropy: budget.entropy };
  const runs = newList<RunMessage>();
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as RunMessage;
    if (planTask(remaining, message.task) === "skip") continue;
    remaining = chargeTask(remaining, message.task);
    append(runs, message);
  }
  return listDone(runs);
}

/**
 * The lane's transition: `lane.begin` opens a tick with a fresh budget;
 * `lane.run` charges and runs a task that fits, and replies at once with a
 * budget skip for one that does not.
 */
export function laneStep(
  state: LaneState,
  message: LaneMessage,
): { readonly state: LaneState; readonly effect: LaneEffect } {
  if (message.type === "lane.begin") {
    const budget = message.budget;
    const remaining = { ops: budget.ops, entropy: budget.entropy };
    return { state: { lane: state.lane, tick: message.tick, remaining }, effect: NONE };
  }
  const task = message.task;
  // The message is built only on failure: this line runs once per task.
  if (task.lane !== state.lane) {
    assert(false, `task ${task.name} was sent to the ${state.lane} lane`);
  }
  if (planTask(state.remaining, task) === "skip") {
    return { state, effect: { kind: "reply", reply: skipReply(state.tick, task) } };
  }
  const next = { lane: state.lane, tick: state.tick, remaining: chargeTask(state.remaining, task) };
  return { state: next, effect: { kind: "run", message } };
}

/** The reply to a task that ran, from how its body ended. */
export function settle(tick: number, message: RunMessage, outcome: TaskOutcome): LaneReply {
  const task = message.task;
  const value = outcome.value;
  return {
    result: {
      name: task.name,
      lane: task.lane,
      status: outcome.status,
      value: value === undefined ? null : value,
      error: outcome.error,
      cost_ops: task.costOps,
      cost_entropy: task.costEntropy,
    },
    event: {
      tick,
      task: task.name,
      lane: task.lane,
      status: outcome.status,
      cost_ops: task.costOps,
      cost_entropy: task.costEntropy,
      meta: message.meta,
    },
  };
}

function skipReply(tick: number, task: TaskSpec): LaneReply {
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
      tick,
      task: task.name,
      lane: task.lane,
      status: "skipped_budget",
      cost_ops: task.costOps,
      cost_entropy: task.costEntropy,
      meta: SKIP_META,
    },
  };
}

/** Formats a thrown value as the reference does: `"<Error name>: <message>"`. */
export function describeThrown(thrown: unknown): string {
  try {
    if (thrown instanceof Error) return `${thrown.name}: ${thrown.message}`;
    return String(thrown);
  } catch {
    try {
      return objectToString(thrown);
    } catch {
      return "[a thrown value that cannot be described]"; // a hostile Proxy, say
    }
  }
}
