// Shared test fixtures.
import { bindCallable, type BindCallableOptions, type TaskSpec } from "../mod.ts";

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
