// Building validated, frozen TaskSpecs. Every error names the field with the
// caller's prefix, such as `tasks[2].costOps` for a pipeline's third task.

import { isWellFormed } from "./_code_point.ts";
import type { BindCallableOptions } from "./bindings.ts";
import type { TaskSpec } from "./types.ts";
import type { PromoteSettings } from "./promotion.ts";
import { checkPromote } from "./_promote_check.ts";
import {
  checkInteger,
  checkName,
  checkNonNegativeInteger,
  orDefault,
  rangeError,
  typeError,
} from "./_validate.ts";

/**
 * Longest task name accepted, in UTF-16 code units. Each tag is held to the
 * same length.
 *
 * @example A name one code unit too long is refused
 * ```ts
 * import { bindCallable, MAX_TASK_NAME_LENGTH } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const task = { lane: "forecast", priority: 0, costOps: 1, fn: () => 0 } as const;
 * const longest = bindCallable({ ...task, name: "a".repeat(MAX_TASK_NAME_LENGTH) });
 * assert.equal(longest.name.length, 1024);
 * assert.throws(
 *   () => bindCallable({ ...task, name: "a".repeat(MAX_TASK_NAME_LENGTH + 1) }),
 *   RangeError,
 * );
 * ```
 */
export const MAX_TASK_NAME_LENGTH = 1024;
/**
 * Most tags a task may carry.
 *
 * @example 257 tags are refused
 * ```ts
 * import { bindCallable, MAX_TASK_TAGS } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const task = { name: "a", lane: "forecast", priority: 0, costOps: 1, fn: () => 0 } as const;
 * const tags = (n: number) => Array.from({ length: n }, (_, i) => `tag${i}`);
 * assert.equal(bindCallable({ ...task, tags: tags(MAX_TASK_TAGS) }).tags.length, 256);
 * assert.throws(
 *   () => bindCallable({ ...task, tags: tags(MAX_TASK_TAGS + 1) }),
 *   RangeError,
 * );
 * ```
 */
export const MAX_TASK_TAGS = 256;

// Specs made here are frozen and already checked; `add()` trusts them.
const checkedSpecs = new WeakSet<TaskSpec>();

/** Returns `spec` when ERS already validated it, else a validated frozen copy. */
export function ensureTaskSpec(spec: TaskSpec, action: string): TaskSpec {
  return checkedSpecs.has(spec) ? spec : makeTaskSpec(spec, action);
}

/** Validates `options` and returns a frozen TaskSpec; `prefix` qualifies field names in errors. */
export function makeTaskSpec(
  options: BindCallableOptions | TaskSpec,
  action: string,
  prefix = "",
): TaskSpec {
  if (typeof options !== "object" || options === null) {
    typeError(action, prefix ? prefix.slice(0, -1) : "options", "an object", options);
  }
  const name = checkName(action, `${prefix}name`, options.name, MAX_TASK_NAME_LENGTH);
  const lane = options.lane;
  if (lane !== "forecast" && lane !== "shadow") {
    const rule = `"forecast" or "shadow"`;
    if (typeof lane !== "string") typeError(action, `${prefix}lane`, rule, lane);
    rangeError(action, `${prefix}lane`, rule, lane);
  }
  const fn = options.fn;
  if (typeof fn !== "function") typeError(action, `${prefix}fn`, "a function", fn);
  const promote = (options as { promote?: unknown }).promote;
  const settings: PromoteSettings | undefined = promote === undefined
    ? undefined
    : checkPromote(action, `${prefix}promote`, promote, lane);
  const spec: TaskSpec = {
    name,
    lane,
    priority: checkInteger(action, `${prefix}priority`, options.priority),
    costOps: checkNonNegativeInteger(action, `${prefix}costOps`, options.costOps),
    costEntropy: checkNonNegativeInteger(
      action,
      `${prefix}costEntropy`,
      orDefault(options.costEntropy, 0),
    ),
    fn,
    tags: checkTags(action, `${prefix}tags`, orDefault<readonly string[]>(options.tags, [])),
    ...(settings === undefined ? {} : { promote: settings }),
  };
  Object.freeze(spec);
  checkedSpecs.add(spec);
  return spec;
}

function checkTags(action: string, field: string, tags: unknown): readonly string[] {
  if (!Array.isArray(tags)) typeError(action, field, "an array of strings", tags);
  if (tags.length > MAX_TASK_TAGS) {
    throw new RangeError(
      `Cannot ${action} as '${field}' must hold at most ${MAX_TASK_TAGS} tags: current length is ${tags.length}`,
    );
  }
  // A loop, not map(): map() skips the holes of a sparse array.
  const checked = new Array<string>(tags.length);
  for (let i = 0; i < tags.length; i++) checked[i] = checkTag(action, `${field}[${i}]`, tags[i]);
  return Object.freeze(checked);
}

function checkTag(action: string, field: string, tag: unknown): string {
  const rule = `a string of at most ${MAX_TASK_NAME_LENGTH} characters`;
  if (typeof tag !== "string") typeError(action, field, rule, tag);
  if (tag.length > MAX_TASK_NAME_LENGTH) rangeError(action, field, rule, tag);
  if (!isWellFormed(tag)) {
    rangeError(action, field, "a well-formed Unicode string (no lone surrogates)", tag);
  }
  return tag;
}
