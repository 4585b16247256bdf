/**
 * Queries over a run's TrendPacks, pure: every event across ticks (filtered
 * by lane, status, task), and totals per task or per lane. The runtime's
 * readers (`readRunTicks`, `streamRunTicks`, `readRunTick`) give the ticks.
 *
 * @module
 */

import { compareCodePoints } from "../ers/_code_point.ts";
import { isPlainObject, typeError } from "../ers/_validate.ts";
import { type Lane, LANES, type Status } from "../ers/types.ts";
import type { TrendPack, TrendPackTimelineEntry } from "./trendpack.ts";

/**
 * One tick's TrendPack, read and checked against its manifest record.
 *
 * @example The TrendPack a tick wrote, read back
 * ```ts
 * import { abraxasTick, readRunManifest, readRunTicks, type RunTick } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   const out = await abraxasTick({
 *     tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step,
 *   });
 *   const ticks: RunTick[] = await readRunTicks(dir, await readRunManifest(dir, "R"));
 *   assert.equal(ticks.length, 1);
 *   assert.equal(ticks[0]!.sha256, out.artifacts.trendpack_sha256);
 *   assert.equal(ticks[0]!.trendpack.stats.total_events, 3);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface RunTick {
  /** The tick. */
  tick: number;
  /** The TrendPack's path relative to the artifacts root. */
  path: string;
  /** Its SHA-256, equal to what the manifest records. */
  sha256: string;
  /** The TrendPack itself. */
  trendpack: TrendPack;
}

/**
 * One trace event of a run, as its tick's TrendPack records it.
 *
 * @example An event knows its tick and its place in it
 * ```ts
 * import { ersTraceToTrendpack } from "@abraxas/ers/viz";
 * import { type RunEvent, runEvents } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const trendpack = ersTraceToTrendpack({
 *   runId: "R", tick: 9, trace: [
 *     { tick: 9, task: "a", lane: "forecast", status: "ok", cost_ops: 1, cost_entropy: 0, meta: { tags: [] } },
 *     { tick: 9, task: "b", lane: "forecast", status: "error", cost_ops: 2, cost_entropy: 0, meta: { tags: [] } },
 *   ],
 * });
 * const events: RunEvent[] = runEvents([{ tick: 9, path: "viz/R/000009.trendpack.json", sha256: "", trendpack }]);
 * assert.deepEqual(events[1], {
 *   tick: 9, order: 1, task: "b", lane: "forecast", status: "error", cost_ops: 2, cost_entropy: 0,
 * });
 * ```
 */
export interface RunEvent {
  /** The tick. */
  tick: number;
  /** Position in the tick's execution order, from 0. */
  order: number;
  /** The task. */
  task: string;
  /** The task's lane. */
  lane: Lane;
  /** What happened. */
  status: Status;
  /** Declared ops cost. */
  cost_ops: number;
  /** Declared entropy cost. */
  cost_entropy: number;
}

/**
 * Which events {@linkcode runEvents} keeps; an unset field keeps all. An event
 * must match every field that is set.
 *
 * @example The shadow lane's successes
 * ```ts
 * import { ersTraceToTrendpack } from "@abraxas/ers/viz";
 * import { type RunEventFilter, runEvents } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const trendpack = ersTraceToTrendpack({
 *   runId: "R", tick: 0, trace: [
 *     { tick: 0, task: "f", lane: "forecast", status: "ok", cost_ops: 1, cost_entropy: 0, meta: { tags: [] } },
 *     { tick: 0, task: "s1", lane: "shadow", status: "ok", cost_ops: 1, cost_entropy: 0, meta: { tags: [] } },
 *     { tick: 0, task: "s2", lane: "shadow", status: "error", cost_ops: 1, cost_entropy: 0, meta: { tags: [] } },
 *   ],
 * });
 * const filter: RunEventFilter = { lane: "shadow", status: "ok" };
 * const events = runEvents([{ tick: 0, path: "viz/R/000000.trendpack.json", sha256: "", trendpack }], filter);
 * assert.deepEqual(events.map((e) => e.task), ["s1"]);
 * ```
 */
export interface RunEventFilter {
  /** Only this lane. */
  lane?: Lane;
  /** Only this status. */
  status?: Status;
  /** Only the task of exactly this name. */
  task?: string;
}

/**
 * Totals over a group of events: one task, or one lane.
 *
 * @example The same events totalled per lane and per task
 * ```ts
 * import { type EventTotals, laneTotals, type RunEvent, taskTotals } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const events: RunEvent[] = [
 *   { tick: 0, order: 0, task: "a", lane: "shadow", status: "ok", cost_ops: 2, cost_entropy: 0 },
 *   { tick: 0, order: 1, task: "b", lane: "shadow", status: "ok", cost_ops: 3, cost_entropy: 0 },
 * ];
 * const byLane: EventTotals[] = laneTotals(events);
 * const byTask: EventTotals[] = taskTotals(events);
 * assert.deepEqual(byLane.map((t) => [t.task, t.runs, t.spent_ops]), [[null, 2, 5]]);
 * assert.deepEqual(byTask.map((t) => [t.task, t.runs, t.spent_ops]), [["a", 1, 2], ["b", 1, 3]]);
 * ```
 */
export interface EventTotals {
  /** The task, or `null` for a lane's totals. */
  task: string | null;
  /** The lane. */
  lane: Lane;
  /** Events in the group: times the task (or the lane's tasks) was scheduled. */
  runs: number;
  /** Events with status `ok`. */
  ok: number;
  /** Events with status `error`. */
  errors: number;
  /** Events with status `skipped_budget`. */
  skipped: number;
  /** Ops spent: the cost of every event that was not skipped. */
  spent_ops: number;
  /** Entropy spent: the cost of every event that was not skipped. */
  spent_entropy: number;
}

/**
 * Every event of the given ticks that passes the filter, in tick order and,
 * within a tick, in execution order. Pure.
 *
 * @param ticks TrendPacks from {@linkcode readRunTicks}.
 * @param filter Lane, status and task to keep; unset keeps all.
 * @returns One row per matching event.
 *
 * @example Only the skipped events
 * ```ts
 * import { ersTraceToTrendpack } from "@abraxas/ers/viz";
 * import { runEvents } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const trendpack = ersTraceToTrendpack({
 *   runId: "R", tick: 4, trace: [
 *     { tick: 4, task: "a", lane: "forecast", status: "ok", cost_ops: 3, cost_entropy: 0, meta: { tags: [] } },
 *     { tick: 4, task: "b", lane: "shadow", status: "skipped_budget", cost_ops: 9, cost_entropy: 0, meta: { reason: "budget" } },
 *   ],
 * });
 * const events = runEvents([{ tick: 4, path: "viz/R/000004.trendpack.json", sha256: "", trendpack }], {
 *   status: "skipped_budget",
 * });
 * assert.deepEqual(events, [
 *   { tick: 4, order: 1, task: "b", lane: "shadow", status: "skipped_budget", cost_ops: 9, cost_entropy: 0 },
 * ]);
 * ```
 */
export function runEvents(ticks: readonly RunTick[], filter: RunEventFilter = {}): RunEvent[] {
  if (!Array.isArray(ticks)) typeError("list run events", "ticks", "an array of RunTicks", ticks);
  if (!isPlainObject(filter)) typeError("list run events", "filter", "an object", filter);
  const events: RunEvent[] = [];
  for (const { tick, trendpack } of ticks) {
    trendpack.timeline.forEach((entry: TrendPackTimelineEntry, order: number) => {
      if (filter.lane !== undefined && entry.lane !== filter.lane) return;
      if (filter.status !== undefined && entry.status !== filter.status) return;
      if (filter.task !== undefined && entry.task !== filter.task) return;
      const { task, lane, status, cost_ops, cost_entropy } = entry;
      events.push({ tick, order, task, lane, status, cost_ops, cost_entropy });
    });
  }
  return events;
}

/**
 * Totals per task: how often each task was scheduled, how often it ended
 * `ok`, `error` or `skipped_budget`, and what it spent. Sorted by lane
 * (forecast first), then task name by code point. Pure.
 *
 * @param events Events from {@linkcode runEvents}.
 * @returns One row per (lane, task).
 *
 * @example A task that ran twice and was skipped once
 * ```ts
 * import { taskTotals } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const event = { order: 0, task: "a", lane: "forecast" as const, cost_ops: 5, cost_entropy: 1 };
 * const totals = taskTotals([
 *   { ...event, tick: 0, status: "ok" },
 *   { ...event, tick: 1, status: "error" },
 *   { ...event, tick: 2, status: "skipped_budget" },
 * ]);
 * assert.deepEqual(totals, [
 *   { task: "a", lane: "forecast", runs: 3, ok: 1, errors: 1, skipped: 1, spent_ops: 10, spent_entropy: 2 },
 * ]);
 * ```
 */
export function taskTotals(events: readonly RunEvent[]): EventTotals[] {
  return totalsBy(events, (event) => event.task);
}

/**
 * Totals per lane, as {@linkcode taskTotals} makes per task (`task` is
 * `null`). Forecast first. Pure.
 *
 * @param events Events from {@linkcode runEvents}.
 * @returns One row per lane that has events.
 *
 * @example Spend per lane
 * ```ts
 * import { laneTotals } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const totals = laneTotals([
 *   { tick: 0, order: 0, task: "a", lane: "forecast", status: "ok", cost_ops: 5, cost_entropy: 0 },
 *   { tick: 0, order: 1, task: "b", lane: "forecast", status: "ok", cost_ops: 7, cost_entropy: 0 },
 *   { tick: 0, order: 2, task: "s", lane: "shadow", status: "skipped_budget", cost_ops: 9, cost_entropy: 0 },
 * ]);
 * assert.deepEqual(totals.map((t) => [t.lane, t.runs, t.spent_ops, t.skipped]), [
 *   ["forecast", 2, 12, 0],
 *   ["shadow", 1, 0, 1],
 * ]);
 * ```
 */
export function laneTotals(events: readonly RunEvent[]): EventTotals[] {
  return totalsBy(events, () => null);
}

/**
 * Two lists of totals as one: rows of the same lane and task added up, in
 * the order {@linkcode taskTotals} and {@linkcode laneTotals} give. Totals
 * of a run, tick by tick, without holding its events. Pure.
 *
 * @param a Totals, such as those of the ticks so far.
 * @param b More totals of the same kind (per task, or per lane).
 * @returns The sums, one row per lane and task.
 *
 * @example Two ticks' totals
 * ```ts
 * import { mergeTotals, taskTotals } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const event = { tick: 0, order: 0, task: "a", lane: "forecast" as const, status: "ok" as const, cost_ops: 5, cost_entropy: 1 };
 * const merged = mergeTotals(taskTotals([event]), taskTotals([{ ...event, tick: 1 }]));
 * assert.deepEqual(merged.map((t) => [t.task, t.runs, t.spent_ops]), [["a", 2, 10]]);
 * assert.deepEqual(merged, taskTotals([event, { ...event, tick: 1 }]));
 * ```
 */
export function mergeTotals(a: readonly EventTotals[], b: readonly EventTotals[]): EventTotals[] {
  const groups = new Map<string, EventTotals>();
  for (const row of [...a, ...b]) {
    const key = `${row.lane}\u0000${row.task ?? ""}`;
    const sum = groups.get(key);
    if (sum === undefined) {
      groups.set(key, { ...row });
      continue;
    }
    sum.runs += row.runs;
    sum.ok += row.ok;
    sum.errors += row.errors;
    sum.skipped += row.skipped;
    sum.spent_ops += row.spent_ops;
    sum.spent_entropy += row.spent_entropy;
  }
  return [...groups.values()].sort(byLaneThenTask);
}

function byLaneThenTask(a: EventTotals, b: EventTotals): number {
  return LANES.indexOf(a.lane) - LANES.indexOf(b.lane) ||
    compareCodePoints(a.task ?? "", b.task ?? "");
}

function totalsBy(
  events: readonly RunEvent[],
  taskOf: (event: RunEvent) => string | null,
): EventTotals[] {
  if (!Array.isArray(events)) {
    typeError("total run events", "events", "an array of RunEvents", events);
  }
  const groups = new Map<string, EventTotals>();
  for (const event of events) {
    const task = taskOf(event);
    const key = `${event.lane}\u0000${task ?? ""}`;
    let totals = groups.get(key);
    if (totals === undefined) {
      totals = {
        task,
        lane: event.lane,
        runs: 0,
        ok: 0,
        errors: 0,
        skipped: 0,
        spent_ops: 0,
        spent_entropy: 0,
      };
      groups.set(key, totals);
    }
    addEvent(totals, event);
  }
  return [...groups.values()].sort(byLaneThenTask);
}

function addEvent(totals: EventTotals, event: RunEvent): void {
  totals.runs++;
  if (event.status === "ok") totals.ok++;
  if (event.status === "error") totals.errors++;
  if (event.status === "skipped_budget") {
    totals.skipped++;
    return;
  }
  totals.spent_ops += event.cost_ops;
  totals.spent_entropy += event.cost_entropy;
}
