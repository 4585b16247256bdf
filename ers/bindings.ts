/**
 * Binding functions into tasks.
 *
 * @module
 */

import {
  checkInteger,
  checkName,
  checkNonNegativeInteger,
  isPlainObject,
  orDefault,
  rangeError,
  typeError,
} from "./_validate.ts";
import type { Lane, TaskContext, TaskFn, TaskSpec } from "./types.ts";

/** Longest task name accepted, in UTF-16 code units. */
export const MAX_TASK_NAME_LENGTH = 1024;
/** Most tags a task may carry. */
export const MAX_TASK_TAGS = 256;

/** Options for {@linkcode bindCallable}. */
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
}

// Specs made here are frozen and already checked; `add()` trusts them.
const boundSpecs = new WeakSet<TaskSpec>();

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

/** Options for {@linkcode bindRuneInvoke}. */
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
 * absent (`undefined` or `null`).
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
    const runeInputs = inputs === undefined || inputs === null
      ? undefined
      : ownValue(inputs, runeName);
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

// Own properties only: a rune named "constructor" must not find Object.
function ownValue(container: unknown, key: string): unknown {
  if (typeof container !== "object" || container === null) return undefined;
  return Object.hasOwn(container, key) ? (container as Record<string, unknown>)[key] : undefined;
}

/** Returns `spec` when ERS already validated it, else a validated frozen copy. */
export function ensureTaskSpec(spec: TaskSpec, action: string): TaskSpec {
  return boundSpecs.has(spec) ? spec : makeTaskSpec(spec, action);
}

function makeTaskSpec(options: BindCallableOptions | TaskSpec, action: string): TaskSpec {
  if (typeof options !== "object" || options === null) {
    typeError(action, "options", "an object", options);
  }
  const name = checkName(action, "name", options.name, MAX_TASK_NAME_LENGTH);
  const lane = options.lane;
  if (lane !== "forecast" && lane !== "shadow") {
    const rule = `"forecast" or "shadow"`;
    if (typeof lane !== "string") typeError(action, "lane", rule, lane);
    throw new RangeError(
      `Cannot ${action} as 'lane' must be ${rule}: current value is ${JSON.stringify(lane)}`,
    );
  }
  const fn = options.fn;
  if (typeof fn !== "function") typeError(action, "fn", "a function", fn);
  const spec: TaskSpec = {
    name,
    lane,
    priority: checkInteger(action, "priority", options.priority),
    costOps: checkNonNegativeInteger(action, "costOps", options.costOps),
    costEntropy: checkNonNegativeInteger(action, "costEntropy", orDefault(options.costEntropy, 0)),
    fn,
    tags: checkTags(action, orDefault(options.tags, [])),
  };
  Object.freeze(spec);
  boundSpecs.add(spec);
  return spec;
}

function checkTags(action: string, tags: unknown): readonly string[] {
  if (!Array.isArray(tags)) typeError(action, "tags", "an array of strings", tags);
  if (tags.length > MAX_TASK_TAGS) {
    throw new RangeError(
      `Cannot ${action} as 'tags' must hold at most ${MAX_TASK_TAGS} tags: current length is ${tags.length}`,
    );
  }
  const copy = tags.map((tag, i) => checkTag(action, `tags[${i}]`, tag));
  return Object.freeze(copy);
}

function checkTag(action: string, field: string, tag: unknown): string {
  const rule = `a string of at most ${MAX_TASK_NAME_LENGTH} characters`;
  if (typeof tag !== "string") typeError(action, field, rule, tag);
  if (tag.length > MAX_TASK_NAME_LENGTH) rangeError(action, field, rule, tag);
  if (!tag.isWellFormed()) {
    rangeError(action, field, "a well-formed Unicode string (no lone surrogates)", tag);
  }
  return tag;
}
