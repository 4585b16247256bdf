// The Node-vs-Deno benchmark's workload, run in each runtime on the same core
// bundle (passed in, so this module's own bundle holds no copy of it): the
// 100,000 no-op tasks of `_noop_tasks.ts`, timed as
// - `runTick`, same task set as last tick (the scheduler kept warm);
// - a new scheduler + 100,000 `add()` + the first `runTick`;
// - `traceHashSha256` of the 100,000-event trace.
// Benchmarks may read the clock; nothing here reaches a trace or an artifact.

import type * as Ers from "../ers/mod.ts";
import { budgetsFor, noopTaskOptions } from "./_noop_tasks.ts";

/** Median milliseconds per case, and the trace hash that proves the work was the same. */
export interface EngineFigures {
  runTickWarmMs: number;
  runTickColdMs: number;
  traceHashMs: number;
  traceSha256: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? sorted[mid] as number
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Times each case `rounds` times after `warmup` discarded rounds (calling
 * `gc()` before each sample where the runtime exposes it) and returns the
 * medians.
 */
export async function engineFigures(
  ers: typeof Ers,
  count: number,
  rounds: number,
  warmup = 2,
): Promise<EngineFigures> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const options = noopTaskOptions(count);
  const tasks = options.map((option) => ers.bindCallable(option));
  const budgets = budgetsFor(count);
  const tick = (scheduler: Ers.DeterministicScheduler) =>
    scheduler.runTick({
      tick: 0,
      budgetForecast: { ops: budgets.forecast },
      budgetShadow: { ops: budgets.shadow },
    });
  const schedulerOf = () => {
    const scheduler = new ers.DeterministicScheduler();
    for (const task of tasks) scheduler.add(task);
    return scheduler;
  };
  const warm = schedulerOf();
  const { trace } = await tick(warm);
  const samples = { warm: [] as number[], cold: [] as number[], hash: [] as number[] };
  const time = async (into: number[], round: number, work: () => Promise<unknown>) => {
    gc?.();
    const start = performance.now();
    await work();
    const ms = performance.now() - start;
    if (round >= 0) into.push(ms);
  };
  for (let round = -warmup; round < rounds; round++) {
    await time(samples.warm, round, () => tick(warm));
    await time(samples.cold, round, () => tick(schedulerOf()));
    await time(samples.hash, round, () => ers.traceHashSha256(trace));
  }
  return {
    runTickWarmMs: median(samples.warm),
    runTickColdMs: median(samples.cold),
    traceHashMs: median(samples.hash),
    traceSha256: await ers.traceHashSha256(trace),
  };
}
