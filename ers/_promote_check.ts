// Validation of promotion settings: a task's `promote` (for `_task_spec.ts`)
// and the settings given to the rule (for `promotion.ts`).

import type { PromoteSettings } from "./promotion.ts";
import type { Lane } from "./types.ts";
import {
  checkNonNegativeInteger,
  describeValue,
  isPlainObject,
  rangeError,
  typeError,
} from "./_validate.ts";

/**
 * Longest promotion window, in ticks.
 *
 * @example A window of 1025 ticks is refused
 * ```ts
 * import { bindCallable, MAX_PROMOTE_WINDOW } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const task = { name: "m", lane: "shadow", priority: 0, costOps: 1, fn: () => 0 } as const;
 * assert.equal(bindCallable({ ...task, promote: { window: MAX_PROMOTE_WINDOW } }).promote?.window, 1024);
 * assert.throws(() => bindCallable({ ...task, promote: { window: MAX_PROMOTE_WINDOW + 1 } }), RangeError);
 * ```
 */
export const MAX_PROMOTE_WINDOW = 1024;

const PROMOTE_KEYS = new Set(["window", "maxErrors", "maxSkips"]);

/**
 * Checks a task's `promote` value; `field` is its name in errors, such as
 * `tasks[3].promote`. Only shadow tasks may be candidates.
 */
export function checkPromote(
  action: string,
  field: string,
  value: unknown,
  lane: Lane,
): PromoteSettings {
  const shape = "an object { window, maxErrors?, maxSkips? }";
  if (!isPlainObject(value)) typeError(action, field, shape, value);
  if (lane !== "shadow") {
    throw new RangeError(
      `Cannot ${action} as '${field}' is only allowed on a shadow task: the task's lane is "${lane}"`,
    );
  }
  for (const key of Object.keys(value)) {
    if (!PROMOTE_KEYS.has(key)) {
      throw new RangeError(
        `Cannot ${action} as '${field}' must hold only window, maxErrors and maxSkips: current value has ${
          describeValue(key)
        }`,
      );
    }
  }
  // Each field is read once: a getter cannot pass the check with one value and give another.
  const { window, maxErrors, maxSkips } = value;
  const orZero = (raw: unknown) => raw === undefined ? 0 : raw;
  return checkCounts(action, field, window, orZero(maxErrors), orZero(maxSkips));
}

/**
 * Checks settings given to the promotion rule (all three fields, as
 * {@linkcode PromoteSettings} holds them); `field` is their name in errors,
 * such as `step.settings`.
 */
export function checkPromoteSettings(action: string, field: string, value: unknown): void {
  const shape = "an object { window, maxErrors, maxSkips }";
  if (typeof value !== "object" || value === null) typeError(action, field, shape, value);
  const { window, maxErrors, maxSkips } = value as Record<string, unknown>;
  checkCounts(action, field, window, maxErrors, maxSkips);
}

function checkCounts(
  action: string,
  field: string,
  rawWindow: unknown,
  rawErrors: unknown,
  rawSkips: unknown,
): PromoteSettings {
  const window = checkNonNegativeInteger(action, `${field}.window`, rawWindow);
  if (window === 0 || window > MAX_PROMOTE_WINDOW) {
    rangeError(action, `${field}.window`, `an integer from 1 to ${MAX_PROMOTE_WINDOW}`, window);
  }
  const limit = (key: "maxErrors" | "maxSkips", raw: unknown) => {
    const count = checkNonNegativeInteger(action, `${field}.${key}`, raw);
    if (count > window) rangeError(action, `${field}.${key}`, `at most window (${window})`, count);
    return count;
  };
  return Object.freeze({
    window,
    maxErrors: limit("maxErrors", rawErrors),
    maxSkips: limit("maxSkips", rawSkips),
  });
}
