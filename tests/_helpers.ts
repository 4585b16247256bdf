// Shared test fixtures.
import { bindCallable, type BindCallableOptions, type TaskSpec, type TraceEvent } from "../mod.ts";

/** A task with defaults: forecast lane, priority 0, cost 1, returns its name. */
export function task(name: string, options: Partial<BindCallableOptions> = {}): TaskSpec {
  return bindCallable({
    name,
    lane: "forecast",
    priority: 0,
    costOps: 1,
    fn: () => name,
    ...options,
  });
}

/** An `ok` forecast event of task `t` at tick 0, costing 1 op, with `overrides` applied. */
export function traceEvent(overrides: Record<string, unknown> = {}): TraceEvent {
  return {
    tick: 0,
    task: "t",
    lane: "forecast",
    status: "ok",
    cost_ops: 1,
    cost_entropy: 0,
    meta: { tags: [] },
    ...overrides,
  } as TraceEvent;
}
