// The isolation fields of a pipeline (`sandbox`, `limits`, `permissions`),
// checked and filled with their defaults. Declarations only: the runtime's
// lane workers enforce them (runtime/open_pipeline.ts).

import type { PipelineLimits, PipelinePermissions, Sandbox } from "./pipeline.ts";
import { checkNonNegativeInteger, isPlainObject, rangeError, typeError } from "./_validate.ts";

const ACTION = "prepare pipeline";

/** Most a task may run before its lane is replaced: 60 seconds. */
export const DEFAULT_TASK_TIMEOUT_MS = 60_000;
// setTimeout's largest delay.
const MAX_TASK_TIMEOUT_MS = 2_147_483_647;
const PERMISSION_NAMES = ["read", "write", "net", "env", "run", "ffi", "sys", "import"] as const;

/** `sandbox`, checked, with defaults: clock and random forbidden, seed 0. */
export function checkSandbox(value: unknown): Sandbox {
  if (value === undefined) return Object.freeze({ clock: "forbid", random: "forbid", seed: 0 });
  if (!isPlainObject(value)) typeError(ACTION, "sandbox", "an object", value);
  const clock = oneOf("sandbox.clock", value.clock ?? "forbid", ["forbid", "tick"] as const);
  const random = oneOf("sandbox.random", value.random ?? "forbid", ["forbid", "seeded"] as const);
  const seed = checkNonNegativeInteger(ACTION, "sandbox.seed", value.seed ?? 0);
  if (seed > 0xffff_ffff) rangeError(ACTION, "sandbox.seed", "at most 4294967295", seed);
  return Object.freeze({ clock, random, seed });
}

/** `limits`, checked, with defaults. */
export function checkLimits(value: unknown): Required<PipelineLimits> {
  if (value === undefined) return Object.freeze({ taskTimeoutMs: DEFAULT_TASK_TIMEOUT_MS });
  if (!isPlainObject(value)) typeError(ACTION, "limits", "an object", value);
  const ms = checkNonNegativeInteger(
    ACTION,
    "limits.taskTimeoutMs",
    value.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS,
  );
  if (ms < 1 || ms > MAX_TASK_TIMEOUT_MS) {
    rangeError(ACTION, "limits.taskTimeoutMs", `from 1 to ${MAX_TASK_TIMEOUT_MS}`, ms);
  }
  return Object.freeze({ taskTimeoutMs: ms });
}

/** `permissions`, checked: "none" (the default), "inherit" or a Deno permission descriptor. */
export function checkPermissions(value: unknown): PipelinePermissions {
  if (value === undefined || value === "none") return "none";
  if (value === "inherit") return "inherit";
  if (typeof value === "string") {
    rangeError(ACTION, "permissions", `"none", "inherit" or an object`, value);
  }
  if (!isPlainObject(value)) {
    typeError(ACTION, "permissions", `"none", "inherit" or an object`, value);
  }
  const checked: Record<string, boolean | "inherit" | readonly string[]> = {};
  for (const key of Object.keys(value)) {
    const field = `permissions.${key}`;
    if (!(PERMISSION_NAMES as readonly string[]).includes(key)) {
      rangeError(ACTION, "permissions", `keys among ${PERMISSION_NAMES.join(", ")}`, key);
    }
    const grant = value[key];
    if (typeof grant === "boolean" || grant === "inherit") checked[key] = grant;
    else if (Array.isArray(grant) && grant.every((item) => typeof item === "string")) {
      checked[key] = Object.freeze([...grant]);
    } else typeError(ACTION, field, `a boolean, "inherit" or an array of strings`, grant);
  }
  return Object.freeze(checked) as PipelinePermissions;
}

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if ((allowed as readonly unknown[]).includes(value)) return value as T;
  const rule = allowed.map((item) => JSON.stringify(item)).join(" or ");
  if (typeof value !== "string") typeError(ACTION, field, rule, value);
  return rangeError(ACTION, field, rule, value);
}
