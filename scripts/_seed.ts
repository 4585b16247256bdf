// The seed invariance scenario of the reference implementation:
// `oracle:signal` (forecast, p0, 1 op) and `shadow:sei` (shadow, p0, 1 op),
// budgets 10/10, tick 0. Its trace hash is a known golden value.

import { bindCallable, DeterministicScheduler, type TraceEvent } from "../ers/mod.ts";

/** The seed scenario's known trace hash (reference implementation). */
export const SEED_TRACE_HASH = "ae7e4fe3526ad0e133d2f46de48f5941e5cf24382490e9d25088d8920decfd16";

/** Builds the seed scheduler and returns a trace maker for the invariance gate. */
export function seedTraceMaker(): () => Promise<TraceEvent[]> {
  const s = new DeterministicScheduler();
  s.add(bindCallable({
    name: "oracle:signal",
    lane: "forecast",
    priority: 0,
    costOps: 1,
    fn: () => ({ ok: true }),
  }));
  s.add(bindCallable({
    name: "shadow:sei",
    lane: "shadow",
    priority: 0,
    costOps: 1,
    fn: () => ({ shadow: true }),
  }));
  return async () =>
    (await s.runTick({
      tick: 0,
      budgetForecast: { ops: 10, entropy: 0 },
      budgetShadow: { ops: 10, entropy: 0 },
      context: {},
    })).trace;
}
