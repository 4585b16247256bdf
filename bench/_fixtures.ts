// Shared fixtures of the benchmarks: the no-op task sets, the bare-minimum
// baselines each ERS operation is compared with, and small timing helpers.
// Benchmarks may read the clock; nothing here reaches a trace or an artifact.

import {
  bindCallable,
  DeterministicScheduler,
  type TaskResult,
  type TaskSpec,
  type TraceEvent,
} from "../mod.ts";
import { budgetsFor, noopTaskOptions } from "./_noop_tasks.ts";

/** The task counts of the `runTick` benchmark. */
export const SIZES = [1_000, 10_000, 100_000] as const;

/**
 * `count` no-op tasks (or tasks running `fn`), bound from
 * {@linkcode noopTaskOptions}: half per lane, priorities -4..5, costing 1 op
 * each, in a shuffled insertion order, some names non-ASCII.
 */
export function noopTasks(count: number, fn?: () => unknown): TaskSpec[] {
  return noopTaskOptions(count, fn).map(bindCallable);
}

export { budgetsFor };

/** A scheduler holding `tasks`. */
export function schedulerOf(tasks: readonly TaskSpec[]): DeterministicScheduler {
  const s = new DeterministicScheduler();
  for (const task of tasks) s.add(task);
  return s;
}

/** Runs one tick of `scheduler` with the budgets of `count` tasks. */
export async function tickOf(
  scheduler: DeterministicScheduler,
  count: number,
  tick = 0,
): Promise<TraceEvent[]> {
  const budgets = budgetsFor(count);
  const out = await scheduler.runTick({
    tick,
    budgetForecast: { ops: budgets.forecast },
    budgetShadow: { ops: budgets.shadow },
  });
  return out.trace;
}

// ---------------------------------------------------------------------------
// The bare loop: the least work that does what `runTick` does, by hand.

/** A task as the bare loop holds it: the spec plus its prebuilt, shared meta. */
export interface BareTask {
  readonly name: string;
  readonly lane: "forecast" | "shadow";
  readonly priority: number;
  readonly costOps: number;
  readonly costEntropy: number;
  readonly fn: (context: Record<string, unknown>) => unknown;
  readonly meta: { readonly tags: readonly string[] };
  readonly insertion: number;
}

/** The bare loop's view of `tasks` (what `add()` would have stored). */
export function bareTasks(tasks: readonly TaskSpec[]): BareTask[] {
  return tasks.map((t, insertion) => ({
    name: t.name,
    lane: t.lane,
    priority: t.priority,
    costOps: t.costOps,
    costEntropy: t.costEntropy,
    fn: t.fn,
    meta: Object.freeze({ tags: t.tags }),
    insertion,
  }));
}

// Code point order, written out by hand (UTF-16 order differs for astral
// characters against U+E000..U+FFFF).
function compareNames(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      return (x >= 0xe000 ? x - 0x800 : x + 0x2000) - (y >= 0xe000 ? y - 0x800 : y + 0x2000);
    }
    return x - y;
  }
  return a.length - b.length;
}

function compareBare(a: BareTask, b: BareTask): number {
  return (a.lane === b.lane ? 0 : a.lane === "forecast" ? -1 : 1) || a.priority - b.priority ||
    compareNames(a.name, b.name) || a.insertion - b.insertion;
}

const SKIPPED = Object.freeze({ reason: "budget" as const });

/** The bare loop's tasks in the stable order (what the bare tick sorts each time). */
export function bareSorted(tasks: readonly BareTask[]): BareTask[] {
  return tasks.slice().sort(compareBare);
}

/**
 * One tick by hand: stable sort, then per task a budget check, the call, one
 * trace event and one result. Sync bodies only (the no-op tasks).
 */
export function bareTick(
  tasks: readonly BareTask[],
  tick: number,
  budgets: { forecast: number; shadow: number },
  context: Record<string, unknown> = {},
): { results: Record<string, TaskResult>; trace: TraceEvent[] } {
  return bareRun(bareSorted(tasks), tick, budgets, context);
}

/** The bare tick without its sort: `order` must already be in the stable order. */
export function bareRun(
  order: readonly BareTask[],
  tick: number,
  budgets: { forecast: number; shadow: number },
  context: Record<string, unknown> = {},
): { results: Record<string, TaskResult>; trace: TraceEvent[] } {
  const left = { forecast: budgets.forecast, shadow: budgets.shadow };
  const results: Record<string, TaskResult> = Object.create(null);
  const trace: TraceEvent[] = [];
  for (const task of order) {
    if (task.costOps > left[task.lane]) {
      trace.push({
        tick,
        task: task.name,
        lane: task.lane,
        status: "skipped_budget",
        cost_ops: task.costOps,
        cost_entropy: task.costEntropy,
        meta: SKIPPED,
      });
      results[task.name] = {
        name: task.name,
        lane: task.lane,
        status: "skipped_budget",
        value: null,
        error: null,
        cost_ops: 0,
        cost_entropy: 0,
      };
      continue;
    }
    left[task.lane] -= task.costOps;
    const value = task.fn(context);
    trace.push({
      tick,
      task: task.name,
      lane: task.lane,
      status: "ok",
      cost_ops: task.costOps,
      cost_entropy: task.costEntropy,
      meta: task.meta,
    });
    results[task.name] = {
      name: task.name,
      lane: task.lane,
      status: "ok",
      value: value === undefined ? null : value,
      error: null,
      cost_ops: task.costOps,
      cost_entropy: task.costEntropy,
    };
  }
  return { results, trace };
}

const encoder = new TextEncoder();

/** The bare hash: `JSON.stringify` (not canonical), UTF-8, Web Crypto SHA-256, hex. */
export async function bareHash(events: readonly TraceEvent[]): Promise<string> {
  const bytes = encoder.encode(JSON.stringify(events));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The same events as a caller might hand them over: keys in another order and
 * fresh, unfrozen meta, so that hashing takes the general path.
 */
export function arbitraryTrace(trace: readonly TraceEvent[]): TraceEvent[] {
  return trace.map((e) => ({
    meta: JSON.parse(JSON.stringify(e.meta)),
    status: e.status,
    tick: e.tick,
    lane: e.lane,
    cost_entropy: e.cost_entropy,
    task: e.task,
    cost_ops: e.cost_ops,
  }));
}

/**
 * The same events with a second meta field, a shape outside the fast path:
 * every event goes through the general canonical encoder.
 */
export function generalTrace(trace: readonly TraceEvent[]): TraceEvent[] {
  return trace.map((e) => ({
    ...e,
    meta: { ...e.meta, source: "imported" } as unknown as TraceEvent["meta"],
  }));
}

// ---------------------------------------------------------------------------
// Timing helpers for the report script.

/** The median of `values` (not sorted in place). */
export function median(values: readonly number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid] as number
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Milliseconds taken by `fn`. */
export async function timeMs(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Everything benchmark 1 compares at one size, the scheduler already warm. */
export interface RunTickCase {
  tasks: TaskSpec[];
  bare: BareTask[];
  budgets: { forecast: number; shadow: number };
  sorted: BareTask[];
  warm: DeterministicScheduler;
  /** The warm scheduler's first trace (its order is cached from then on). */
  warmTrace: TraceEvent[];
}

/** Builds the inputs of benchmark 1 for `count` tasks and runs the warm-up tick. */
export async function runTickCase(count: number): Promise<RunTickCase> {
  const tasks = noopTasks(count);
  const bare = bareTasks(tasks);
  const warm = schedulerOf(tasks);
  const warmTrace = await tickOf(warm, count);
  return { tasks, bare, budgets: budgetsFor(count), sorted: bareSorted(bare), warm, warmTrace };
}
