// Benchmark 4: `dozenRunInvarianceGate` on a 10,000-event trace against 12 x
// (one run + `traceHashSha256`), the work the gate cannot avoid.
//
//   deno bench bench/invariance_bench.ts

import { dozenRunInvarianceGate, traceHashSha256 } from "../mod.ts";
import { noopTasks, schedulerOf, tickOf } from "./_fixtures.ts";

const COUNT = 10_000;
const RUNS = 12;
const scheduler = schedulerOf(noopTasks(COUNT));
const makeTrace = () => tickOf(scheduler, COUNT);
const group = `invariance gate, ${RUNS} runs of ${COUNT} events`;

Deno.bench({
  name: `${RUNS} x (runTick + traceHashSha256)`,
  group,
  baseline: true,
  fn: async () => {
    for (let i = 0; i < RUNS; i++) await traceHashSha256(await makeTrace());
  },
});

Deno.bench({
  name: "dozenRunInvarianceGate",
  group,
  fn: async () => {
    const result = await dozenRunInvarianceGate({ makeTrace, runs: RUNS });
    if (!result.ok) throw new Error("the no-op tasks must be invariant");
  },
});
