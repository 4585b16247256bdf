// Validation of a task's `promote` settings, for `_task_spec.ts`.

import { MAX_PROMOTE_WINDOW, type PromoteSettings } from "./promotion.ts";
import type { Lane } from "./types.ts";
import {
  checkNonNegativeInteger,
  describeValue,
  isPlainObject,
  rangeError,
  typeError,
} from "./_validate.ts";

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
  const window = checkNonNegativeInteger(action, `${field}.window`, value.window);
  if (window === 0 || window > MAX_PROMOTE_WINDOW) {
    rangeError(action, `${field}.window`, `an integer from 1 to ${MAX_PROMOTE_WINDOW}`, window);
  }
  const limit = (key: "maxErrors" | "maxSkips") => {
    const raw = value[key] === undefined ? 0 : value[key];
    const count = checkNonNegativeInteger(action, `${field}.${key}`, raw);
    if (count > window) rangeError(action, `${field}.${key}`, `at most window (${window})`, count);
    return count;
  };
  return Object.freeze({ window, maxErrors: limit("maxErrors"), maxSkips: limit("maxSkips") });
}
