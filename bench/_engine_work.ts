// The Node-vs-Deno benchmark's workload, run in each runtime on the same core
// bundle (passed in, so this module's own bundle holds no copy of it): the
// 100,000 no-op tasks of `_noop_tasks.ts`, one sample at a time of
// - `runTick`, same task set as last tick (the scheduler kept warm);
// - a new scheduler + 100,000 `add()` + the first `runTick`;
// - `traceHashSha256` of the 100,000-event trace.
// Benchmarks may read the clock; nothing here reaches a trace or an artifact.

import type * as Ers from "../ers/mod.ts";
import { budgetsFor, noopTaskOptions } from "./_noop_tasks.ts";

/** The cases one sample can time. */
export const ENGINE_CASES = ["runTickWarm", "runTickCold", "traceHash"] as const;

/** One of {@linkcode ENGINE_CASES}. */
export type EngineCase = typeof ENGINE_CASES[number];

/** Times one case at a time, so that a driver can interleave two runtimes sample by sample. */
export interface EngineSampler {
  /** The hash of the 100,000-event trace: the same in every runtime, or the work differs. */
  traceSha256: string;
  /** Runs `name` once (after `gc()` where the runtime exposes it) and returns its milliseconds. */
  sample(name: EngineCase): Promise<number>;
}

/** Builds the task set and a warm scheduler with `ers`, then samples on demand. */
export async function engineSampler(ers: typeof Ers, count: number): Promise<EngineSampler> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const tasks = noopTaskOptions(count).map((option) => ers.bindCallable(option));
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
  const work: Record<EngineCase, () => Promise<unknown>> = {
    runTickWarm: () => tick(warm),
    runTickCold: () => tick(schedulerOf()),
    traceHash: () => ers.traceHashSha256(trace),
  };
  return {
    traceSha256: await ers.traceHashSha256(trace),
    async sample(name) {
      gc?.();
      const start = performance.now();
      await work[name]();
      return performance.now() - start;
    },
  };
}
