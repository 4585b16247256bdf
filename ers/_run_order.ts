// The stable run order of a scheduler's tasks, kept between ticks:
// `(lane_order, priority, name by code point, insertion_index)`.
//
// Sorting is most of the cost of a first tick, so the order is made cheaply
// and only once: each lane is sorted on its own (the lane never needs
// comparing); names are compared through a key whose native UTF-16 order is
// their code point order (`codePointSortKey`); and tasks added after the
// order was made are sorted alone and merged in, O(n + k log k) for k new
// tasks, instead of sorting all n again. The task set rarely changes between
// ticks, so most ticks reuse the order as it is. Between ticks only the two
// arrays of messages are kept: sort entries exist only for new tasks.

import { assert } from "./_assert.ts";
import { codePointSortKey } from "./_code_point.ts";
import type { Lane, LaneMessage } from "./types.ts";

/** The message that runs one task. */
export type RunMessage = Extract<LaneMessage, { type: "lane.run" }>;

/** Each lane's run messages, in the stable order. */
export interface LaneOrder {
  readonly forecast: readonly RunMessage[];
  readonly shadow: readonly RunMessage[];
}

// A task not yet placed. Its insertion index is above every placed task's.
interface Entry {
  readonly priority: number;
  readonly key: string;
  readonly insertion: number;
  readonly message: RunMessage;
}

// Within one lane: priority, then name by code point, then insertion.
function compareEntries(a: Entry, b: Entry): number {
  if (a.priority !== b.priority) return a.priority < b.priority ? -1 : 1;
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.insertion - b.insertion;
}

// Whether the placed task `placed` runs before the new task `entry`. On a
// tie (impossible: names are unique) the earlier insertion, `placed`, wins.
function runsBefore(placed: RunMessage, entry: Entry): boolean {
  const task = placed.task;
  if (task.priority !== entry.priority) return task.priority < entry.priority;
  return codePointSortKey(task.name) <= entry.key;
}

/** The run order of a growing set of tasks. */
export class RunOrder {
  #lanes: LaneOrder = { forecast: [], shadow: [] };
  #pending: Entry[] = [];
  #size = 0;

  /** How many tasks the order holds. */
  get size(): number {
    return this.#size;
  }

  /** Adds a task's run message; it takes its place at the next `lanes()`. */
  add(message: RunMessage): void {
    const task = message.task;
    this.#pending.push({
      priority: task.priority,
      key: codePointSortKey(task.name),
      insertion: this.#size,
      message,
    });
    this.#size++;
  }

  /** Each lane's messages in the stable order; the same arrays until the next `add()`. */
  lanes(): LaneOrder {
    if (this.#pending.length === 0) return this.#lanes;
    const added: Record<Lane, Entry[]> = { forecast: [], shadow: [] };
    for (const entry of this.#pending) added[entry.message.task.lane].push(entry);
    this.#pending = [];
    this.#lanes = {
      forecast: merge(this.#lanes.forecast, added.forecast.sort(compareEntries)),
      shadow: merge(this.#lanes.shadow, added.shadow.sort(compareEntries)),
    };
    assert(
      this.#lanes.forecast.length + this.#lanes.shadow.length === this.#size,
      "every task has one place",
    );
    return this.#lanes;
  }
}

// Merges the placed messages with the sorted new entries into a new array.
function merge(placed: readonly RunMessage[], added: readonly Entry[]): readonly RunMessage[] {
  if (added.length === 0) return placed;
  const merged: RunMessage[] = [];
  let i = 0;
  let j = 0;
  while (i < placed.length && j < added.length) {
    merged.push(
      runsBefore(placed[i] as RunMessage, added[j] as Entry)
        ? placed[i++] as RunMessage
        : (added[j++] as Entry).message,
    );
  }
  while (i < placed.length) merged.push(placed[i++] as RunMessage);
  while (j < added.length) merged.push((added[j++] as Entry).message);
  return merged;
}
