// Benchmark 1: `runTick` on 1,000, 10,000 and 100,000 no-op tasks (half per
// lane, mixed priorities) against the bare loop doing the same work by hand.
// Tasks per second = iter/s x the task count in the group name.
//
//   deno bench bench/run_tick_bench.ts

import { bareRun, bareTick, runTickCase, schedulerOf, SIZES, tickOf } from "./_fixtures.ts";

for (const count of SIZES) {
  // The warm scheduler's order is cached, as between real ticks.
  const { tasks, bare, budgets, sorted, warm } = await runTickCase(count);
  const group = `runTick ${count} tasks`;

  Deno.bench({
    name: `bare loop (sort, call, check, event, result) x${count}`,
    group,
    baseline: true,
    fn: () => {
      bareTick(bare, 0, budgets);
    },
  });

  Deno.bench({
    name: `runTick, same task set as last tick x${count}`,
    group,
    fn: async () => {
      await tickOf(warm, count);
    },
  });

  Deno.bench({
    name: `bare loop without its sort (order given) x${count}`,
    group,
    fn: () => {
      bareRun(sorted, 0, budgets);
    },
  });

  Deno.bench({
    name: `new scheduler + ${count} add() + first runTick`,
    group,
    fn: async () => {
      await tickOf(schedulerOf(tasks), count);
    },
  });
}
