/**
 * Where two JSON artifacts differ: the first differing field as a path (array
 * items of tasks named by their task), the task it belongs to, and both
 * values. Pure: the replay, diff and invariance tools build their reports on it.
 *
 * @module
 */

import { compareCodePoints } from "../ers/_code_point.ts";

/**
 * One step of a {@linkcode JsonDifference} path: an object key, or an array
 * item (by its `task` when it has one, else by index).
 *
 * @example A task's item and a field
 * ```ts
 * import { firstJsonDifference, type JsonPathStep } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const found = firstJsonDifference({ results: [{ task: "f", v: 1 }] }, { results: [{ task: "f", v: 2 }] });
 * const steps: JsonPathStep[] = found!.path;
 * assert.deepEqual(steps, ["results", "f", "v"]);
 * ```
 */
export type JsonPathStep = string | number;

/**
 * The first place two JSON values differ.
 *
 * @example A changed value inside a task's result
 * ```ts
 * import { firstJsonDifference, type JsonDifference } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const a = { results: [{ task: "f:val", value: { v: 1 } }] };
 * const b = { results: [{ task: "f:val", value: { v: 2 } }] };
 * const found: JsonDifference | undefined = firstJsonDifference(a, b);
 * assert.deepEqual(found, { path: ["results", "f:val", "value", "v"], task: "f:val", a: 1, b: 2 });
 * ```
 */
export interface JsonDifference {
  /** The path from the root to the first differing value. */
  path: JsonPathStep[];
  /** The task whose item the path passes through, or `null`. */
  task: string | null;
  /** The value on side A; `undefined` when A has nothing there. */
  a: unknown;
  /** The value on side B; `undefined` when B has nothing there. */
  b: unknown;
}

/**
 * Finds the first difference between two JSON values, walking objects in
 * key (code point) order and arrays in index order. An array item that is an
 * object with a string `task` is named by that task in the path. A missing
 * key or item is `undefined` on its side.
 *
 * @param a One JSON value (such as a parsed TrendPack).
 * @param b The other.
 * @returns The first difference, or `undefined` when they are equal.
 *
 * @example Equal values, and an extra array item
 * ```ts
 * import { firstJsonDifference } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * assert.equal(firstJsonDifference({ x: [1, { y: null }] }, { x: [1, { y: null }] }), undefined);
 * assert.deepEqual(firstJsonDifference([1], [1, 2]), { path: [1], task: null, a: undefined, b: 2 });
 * ```
 */
export function firstJsonDifference(a: unknown, b: unknown): JsonDifference | undefined {
  return walk(a, b, [], { task: null });
}

function walk(
  a: unknown,
  b: unknown,
  path: JsonPathStep[],
  context: { task: string | null },
): JsonDifference | undefined {
  if (Object.is(a, b)) return undefined;
  const bothArrays = Array.isArray(a) && Array.isArray(b);
  const bothObjects = isObject(a) && isObject(b);
  if (!bothArrays && !bothObjects) {
    return { path: [...path], task: context.task, a, b };
  }
  if (bothArrays) {
    const x = a as unknown[];
    const y = b as unknown[];
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      const label = taskOf(x[i]) ?? taskOf(y[i]);
      path.push(label ?? i);
      const inner = label === undefined ? context : { task: label };
      const found = walk(x[i], y[i], path, inner);
      path.pop();
      if (found) return found;
    }
    return undefined;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort(compareCodePoints);
  for (const key of keys) {
    path.push(key);
    const found = walk(x[key], y[key], path, context);
    path.pop();
    if (found) return found;
  }
  return undefined;
}

/**
 * Every difference between two JSON values, in the order
 * {@linkcode firstJsonDifference} walks, up to `limit`.
 *
 * @param a One JSON value.
 * @param b The other.
 * @param limit The most differences to return.
 * @returns The differences, leaf by leaf.
 *
 * @example Two fields of a header differ
 * ```ts
 * import { jsonDifferences } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const found = jsonDifferences({ mode: "a", budgets: { ops: 1 } }, { mode: "b", budgets: { ops: 2 } });
 * assert.deepEqual(found.map((d) => d.path.join(".")), ["budgets.ops", "mode"]);
 * ```
 */
export function jsonDifferences(a: unknown, b: unknown, limit = 100): JsonDifference[] {
  const out: JsonDifference[] = [];
  collect(a, b, [], out, limit);
  return out;
}

function collect(
  a: unknown,
  b: unknown,
  path: JsonPathStep[],
  out: JsonDifference[],
  limit: number,
  task: string | null = null,
): void {
  if (out.length >= limit || Object.is(a, b)) return;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const label = taskOf(a[i]) ?? taskOf(b[i]);
      collect(a[i], b[i], [...path, label ?? i], out, limit, label ?? task);
    }
    return;
  }
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(compareCodePoints);
    for (const key of keys) collect(a[key], b[key], [...path, key], out, limit, task);
    return;
  }
  out.push({ path, task, a, b });
}

/**
 * A path as people read it: steps joined by ` › `.
 *
 * @param path The steps.
 * @returns Such as `results › f:val › value › v`; `(root)` for the empty path.
 *
 * @example The issue's own example
 * ```ts
 * import { formatJsonPath } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatJsonPath(["results", "f:val", "value", "v"]), "results › f:val › value › v");
 * assert.equal(formatJsonPath([]), "(root)");
 * ```
 */
export function formatJsonPath(path: readonly JsonPathStep[]): string {
  return path.length === 0 ? "(root)" : path.map(String).join(" › ");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function taskOf(value: unknown): string | undefined {
  return isObject(value) && typeof value.task === "string" ? value.task : undefined;
}
