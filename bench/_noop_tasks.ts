// The benchmarks' no-op task set as plain options, with no import of the
// core: `_fixtures.ts` binds them with the TypeScript sources, and the
// Node-vs-Deno benchmark binds the same options with whichever core (the
// bundle) each runtime loaded.

import type { BindCallableOptions } from "../ers/mod.ts";

const noop = () => undefined;

// A deterministic shuffle (xorshift32), so that insertion order is not sorted
// order and the sort does real work, yet every run benchmarks the same input.
function shuffled<T>(items: T[]): T[] {
  let state = 0x9e3779b9;
  for (let i = items.length - 1; i > 0; i--) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const j = (state >>> 0) % (i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/**
 * The options of `count` no-op tasks (or tasks running `fn`), half per lane,
 * priorities -4..5, costing 1 op each, in a shuffled insertion order. One name
 * in 64 holds a non-ASCII character (an astral one in 128) so that code point
 * order matters.
 */
export function noopTaskOptions(count: number, fn: () => unknown = noop): BindCallableOptions[] {
  const options: BindCallableOptions[] = [];
  for (let i = 0; i < count; i++) {
    const accent = i % 128 === 0 ? "\u{1F702}" : i % 64 === 0 ? "\uFB01" : "";
    options.push({
      name: `task:${accent}${i.toString(36).padStart(4, "0")}`,
      lane: i % 2 === 0 ? "forecast" : "shadow",
      priority: ((i * 7) % 10) - 4,
      costOps: 1,
      fn,
      tags: i % 3 === 0 ? ["bench"] : [],
    });
  }
  return shuffled(options);
}

/** Lane budgets for `count` tasks: every forecast task runs, the last tenth of the shadow tasks is skipped. */
export function budgetsFor(count: number): { forecast: number; shadow: number } {
  const perLane = Math.ceil(count / 2);
  return { forecast: perLane, shadow: perLane - Math.floor(perLane / 10) };
}
