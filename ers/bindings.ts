/**
 * Binding functions into tasks.
 *
 * @module
 */

import { makeTaskSpec, MAX_TASK_NAME_LENGTH } from "./_task_spec.ts";
import { checkName, isPlainObject, orDefault, typeError } from "./_validate.ts";
import type { Lane, TaskContext, TaskFn, TaskSpec } from "./types.ts";
import type { PromoteInit } from "./promotion.ts";

export { MAX_TASK_NAME_LENGTH, MAX_TASK_TAGS } from "./_task_spec.ts";

/**
 * Options for {@linkcode bindCallable}; a pipeline's `tasks` take the same
 * shape.
 *
 * @example Every field set
 * ```ts
 * import { bindCallable, type BindCallableOptions } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const options: BindCallableOptions = {
 *   name: "oracle:signal",
 *   lane: "forecast",
 *   priority: 0,
 *   costOps: 5,
 *   costEntropy: 1,
 *   fn: (context) => context.x,
 *   tags: ["oracle"],
 * };
 * const task = bindCallable(options);
 * assert.equal(task.costEntropy, 1);
 * assert.deepEqual(task.tags, ["oracle"]);
 * assert.equal(task.fn({ x: 3 }), 3);
 * assert.ok(Object.isFrozen(task));
 * ```
 */
export interface BindCallableOptions {
  /** Unique task name. */
  name: string;
  /** `"forecast"` or `"shadow"`. */
  lane: Lane;
  /** Lower runs earlier within the lane; any safe integer. */
  priority: number;
  /** Declared ops cost; a non-negative integer. */
  costOps: number;
  /**
   * Declared entropy cost; a non-negative integer.
   *
   * @default {0}
   */
  costEntropy?: number;
  /** The task body: `(context) => value`, sync or async. */
  fn: TaskFn;
  /**
   * Labels recorded in the trace as `meta.tags`.
   *
   * @default {[]}
   */
  tags?: readonly string[];
  /**
   * Makes a shadow task a promotion candidate: it moves to the forecast lane
   * after `window` clean ticks (see {@linkcode nextPromotionState}). Refused
   * on a forecast task.
   */
  promote?: PromoteInit;
}

/**
 * Wraps a deterministic function `(context) => value` into a task.
 *
 * @param options The task's name, lane, priority, costs, body and tags.
 * @returns A frozen, validated {@linkcode TaskSpec}.
 * @throws {TypeError} When a field has the wrong type (name not a string, fn
 * not a function, a tag not a string, a cost not a number).
 * @throws {RangeError} When a field has a bad value (unknown lane, empty name,
 * fractional priority, negative or fractional cost); the message names the
 * field and the value.
 *
 * @example Binding a forecast task
 * ```ts
 * import { bindCallable } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const task = bindCallable({
 *   name: "oracle:signal", lane: "forecast", priority: 0, costOps: 5, fn: () => ({}),
 * });
 * assert.equal(task.costEntropy, 0);
 * assert.deepEqual(task.tags, []);
 * assert.throws(() => bindCallable({ ...task, costOps: -1 }), RangeError);
 * ```
 */
export function bindCallable(options: BindCallableOptions): TaskSpec {
  return makeTaskSpec(options, "bind task");
}

/**
 * Options for {@linkcode bindRuneInvoke}.
 *
 * @example Inputs under a custom context key
 * ```ts
 * import { bindRuneInvoke, type BindRuneInvokeOptions } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const options: BindRuneInvokeOptions = {
 *   runeName: "sigil",
 *   lane: "shadow",
 *   priority: 0,
 *   costOps: 1,
 *   invoker: (rune, inputs) => `${rune}(${inputs})`,
 *   inputKey: "inputs",
 * };
 * const task = bindRuneInvoke(options);
 * assert.deepEqual(task.tags, ["rune"]);
 * assert.equal(task.fn({ inputs: { sigil: 7 } }), "sigil(7)");
 * ```
 */
export interface BindRuneInvokeOptions {
  /** The rune; the task is named `rune:<runeName>`. */
  runeName: string;
  /** `"forecast"` or `"shadow"`. */
  lane: Lane;
  /** Lower runs earlier within the lane. */
  priority: number;
  /** Declared ops cost. */
  costOps: number;
  /**
   * Declared entropy cost.
   *
   * @default {0}
   */
  costEntropy?: number;
  /** Invokes the rune with its inputs. */
  invoker: (runeName: string, inputs: unknown) => unknown;
  /**
   * The context key holding `{ [runeName]: inputs }`.
   *
   * @default {"rune_inputs"}
   */
  inputKey?: string;
  /**
   * Labels recorded in the trace.
   *
   * @default {["rune"]}
   */
  tags?: readonly string[];
}

/**
 * Adapts an ABX-Runes invoker into a task named `rune:<runeName>`. The task
 * calls `invoker(runeName, context[inputKey][runeName])`, or returns
 * `{ status: "not_computable", missing: runeName }` when those inputs are
 * absent (`undefined` or `null`). As in the reference implementation,
 * `context[inputKey]` must be a mapping (a non-array object): when it is
 * missing or empty-ish (`null`, `false`, `0`, `""`, `[]`) the rune is not
 * computable; any other list, string, number or boolean makes the task an
 * `error`.
 *
 * @param options The rune, lane, priority, cost, invoker and input key.
 * @returns A frozen, validated {@linkcode TaskSpec} tagged `rune`.
 * @throws {TypeError | RangeError} As {@linkcode bindCallable}, naming the field.
 *
 * @example Missing inputs are not computable
 * ```ts
 * import { bindRuneInvoke } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const task = bindRuneInvoke({
 *   runeName: "sigil", lane: "forecast", priority: 0, costOps: 1,
 *   invoker: (_rune, inputs) => ({ echoed: inputs }),
 * });
 * assert.equal(task.name, "rune:sigil");
 * assert.deepEqual(task.fn({}), { status: "not_computable", missing: "sigil" });
 * assert.deepEqual(task.fn({ rune_inputs: { sigil: 7 } }), { echoed: 7 });
 * ```
 */
export function bindRuneInvoke(options: BindRuneInvokeOptions): TaskSpec {
  const action = "bind rune task";
  if (!isPlainObject(options)) typeError(action, "options", "an object", options);
  const runeName = checkName(action, "runeName", options.runeName, MAX_TASK_NAME_LENGTH - 5);
  const inputKey = checkName(action, "inputKey", orDefault(options.inputKey, "rune_inputs"), 1024);
  const invoker = options.invoker;
  if (typeof invoker !== "function") typeError(action, "invoker", "a function", invoker);
  const fn = (context: TaskContext): unknown => {
    const inputs = ownValue(context, inputKey);
    // As the reference's `ctx.get(key, {}) or {}` then `inputs.get(rune)`: a
    // falsy value there is an empty mapping; any other non-mapping is an error.
    if (!isMapping(inputs)) {
      if (isFalsy(inputs)) return { status: "not_computable", missing: runeName };
      typeError(`invoke rune ${runeName}`, inputKey, "a mapping of rune names to inputs", inputs);
    }
    const runeInputs = ownValue(inputs, runeName);
    if (runeInputs === undefined || runeInputs === null) {
      return { status: "not_computable", missing: runeName };
    }
    return invoker(runeName, runeInputs);
  };
  return makeTaskSpec({
    name: `rune:${runeName}`,
    lane: options.lane,
    priority: options.priority,
    costOps: options.costOps,
    costEntropy: orDefault(options.costEntropy, 0),
    fn,
    tags: orDefault(options.tags, ["rune"]),
  }, action);
}

// A non-array object: what the reference's dict is to a JavaScript context.
function isMapping(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// Python's falsy values, as JavaScript holds them: None, False, 0, "", [].
function isFalsy(value: unknown): boolean {
  return value === undefined || value === null || value === false || value === 0 ||
    value === 0n || value === "" || (Array.isArray(value) && value.length === 0);
}

// Own properties only: a rune named "constructor" must not find Object.
function ownValue(container: unknown, key: string): unknown {
  if (typeof container !== "object" || container === null) return undefined;
  return Object.hasOwn(container, key) ? (container as Record<string, unknown>)[key] : undefined;
}
