// Per-tick lane overrides: a task listed in `RunTickOptions.lanes` with a lane
// other than its own runs in that lane for the tick, as if declared there. It
// takes its place in the target lane by the stable order (priority, name by
// code point), is charged to that lane's budget, is skipped there when the
// lane cannot afford it, sees that lane's context, and its trace event and
// result name the lane it ran in. Nothing else about the task changes.

import { assert } from "./_assert.ts";
import { codePointSortKey } from "./_code_point.ts";
import type { LaneOrder, RunMessage } from "./_run_order.ts";
import { type Lane, LANES, type TaskSpec } from "./types.ts";
import { isPlainObject, rangeError, typeError } from "./_validate.ts";

const ACTION = "run tick";

/**
 * Checks `lanes` (task name -> lane) against the scheduler's tasks and returns
 * the names whose lane actually changes, or `undefined` when none does.
 */
export function checkLaneOverrides(
  lanes: unknown,
  declared: (name: string) => Lane | undefined,
): ReadonlyMap<string, Lane> | undefined {
  if (lanes === undefined) return undefined;
  if (!isPlainObject(lanes)) typeError(ACTION, "lanes", "an object of task names to lanes", lanes);
  let moves: Map<string, Lane> | undefined;
  for (const name of Object.keys(lanes)) {
    const field = `lanes[${JSON.stringify(name)}]`;
    const own = declared(name);
    if (own === undefined) rangeError(ACTION, field, "the name of a task of the scheduler", name);
    const lane = lanes[name];
    if (lane !== "forecast" && lane !== "shadow") {
      const rule = `"forecast" or "shadow"`;
      if (typeof lane !== "string") typeError(ACTION, field, rule, lane);
      rangeError(ACTION, field, rule, lane);
    }
    if (lane !== own) (moves ??= new Map()).set(name, lane);
  }
  return moves;
}

/** The stable order with each task of `moves` run in its new lane. */
export function applyLaneOverrides(order: LaneOrder, moves: ReadonlyMap<string, Lane>): LaneOrder {
  const kept: Record<Lane, RunMessage[]> = { forecast: [], shadow: [] };
  const moved: Record<Lane, RunMessage[]> = { forecast: [], shadow: [] };
  for (const lane of LANES) {
    for (const message of order[lane]) {
      const target = moves.get(message.task.name);
      if (target === undefined) {
        kept[lane].push(message);
      } else {
        moved[target].push(Object.freeze({ ...message, task: inLane(message.task, target) }));
      }
    }
  }
  const size = order.forecast.length + order.shadow.length;
  const result = {
    forecast: mergeByStableOrder(kept.forecast, moved.forecast),
    shadow: mergeByStableOrder(kept.shadow, moved.shadow),
  };
  assert(result.forecast.length + result.shadow.length === size, "every task keeps one place");
  return result;
}

function inLane(task: TaskSpec, lane: Lane): TaskSpec {
  return Object.freeze({ ...task, lane });
}

// Both inputs are in the stable order of one lane; names are unique, so
// (priority, name) decides every comparison.
function runsFirst(a: TaskSpec, b: TaskSpec): boolean {
  if (a.priority !== b.priority) return a.priority < b.priority;
  return codePointSortKey(a.name) < codePointSortKey(b.name);
}

function mergeByStableOrder(kept: RunMessage[], moved: RunMessage[]): readonly RunMessage[] {
  if (moved.length === 0) return kept;
  moved.sort((a, b) => runsFirst(a.task, b.task) ? -1 : 1);
  const merged: RunMessage[] = [];
  let i = 0;
  let j = 0;
  while (i < kept.length && j < moved.length) {
    const a = kept[i] as RunMessage;
    const b = moved[j] as RunMessage;
    if (runsFirst(a.task, b.task)) {
      merged.push(a);
      i++;
    } else {
      merged.push(b);
      j++;
    }
  }
  while (i < kept.length) merged.push(kept[i++] as RunMessage);
  while (j < moved.length) merged.push(moved[j++] as RunMessage);
  return merged;
}
