/**
 * ResultsPack: what each task of a tick returned, as canonical JSON, so that a
 * value drift (a task that returns something else for the same tick) changes
 * a hash. A value that cannot be canonical JSON is recorded as a stable
 * marker, never dropped.
 *
 * @module
 */

import { compareCodePoints } from "../ers/_code_point.ts";
import { MAX_JSON_DEPTH } from "../ers/_canonical.ts";
import type { Lane, Status, TaskResult } from "../ers/types.ts";
import { checkNonNegativeInteger, isPlainObject, typeError } from "../ers/_validate.ts";

/**
 * The key of an unserializable-value marker: `{"$unserializable": KIND}`.
 *
 * @example A BigInt is recorded as a marker
 * ```ts
 * import { canonicalResultValue, UNSERIALIZABLE_KEY } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(canonicalResultValue(1n), { [UNSERIALIZABLE_KEY]: "bigint" });
 * ```
 */
export const UNSERIALIZABLE_KEY = "$unserializable";

/**
 * One task's entry in a {@linkcode ResultsPack}.
 *
 * @example An error's text is kept
 * ```ts
 * import { buildResultsPack, type ResultsPackEntry } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const pack = buildResultsPack({ runId: "R", tick: 0, results: {
 *   f: { name: "f", lane: "forecast", status: "error", value: null, error: "Error: boom", cost_ops: 1, cost_entropy: 0 },
 * } });
 * const entry: ResultsPackEntry = pack.results[0]!;
 * assert.equal(entry.error, "Error: boom");
 * ```
 */
export interface ResultsPackEntry {
  /** The task name. */
  task: string;
  /** The task's lane. */
  lane: Lane;
  /** What happened. */
  status: Status;
  /** The value as canonical JSON (markers where it cannot be); `null` unless `ok`. */
  value: unknown;
  /** `"<Error name>: <message>"` for an error, else `null`. */
  error: string | null;
}

/**
 * ResultsPack.v0: every task's status, canonical value and error text for
 * one tick of a run, sorted by task name (code point order).
 *
 * @example Sorted by task name
 * ```ts
 * import { buildResultsPack, type ResultsPack } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const result = (name: string, value: unknown) => ({
 *   name, lane: "forecast" as const, status: "ok" as const, value, error: null, cost_ops: 1, cost_entropy: 0,
 * });
 * const pack: ResultsPack = buildResultsPack({ runId: "R", tick: 1, results: { b: result("b", 2), a: result("a", 1) } });
 * assert.deepEqual(pack.results.map((r) => r.task), ["a", "b"]);
 * assert.equal(pack.schema, "ResultsPack.v0");
 * ```
 */
export interface ResultsPack {
  /** Always `ResultsPack.v0`. */
  schema: "ResultsPack.v0";
  /** The run. */
  run_id: string;
  /** The tick. */
  tick: number;
  /** One entry per task, sorted by task name. */
  results: ResultsPackEntry[];
}

/**
 * Options for {@linkcode buildResultsPack}.
 *
 * @example From a scheduler tick's results
 * ```ts
 * import { preparePipeline } from "@abraxas/ers";
 * import { buildResultsPack, type ResultsPackOptions } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const pipeline = preparePipeline({ tasks: [{ name: "n", lane: "forecast", priority: 0, costOps: 1, fn: () => NaN }] });
 * const out = await pipeline.runTick(0);
 * const options: ResultsPackOptions = { runId: "R", tick: 0, results: out.results };
 * assert.deepEqual(buildResultsPack(options).results[0]?.value, { $unserializable: "NaN" });
 * ```
 */
export interface ResultsPackOptions {
  /** The run. */
  runId: string;
  /** The tick, a non-negative integer. */
  tick: number;
  /** The tick's results by task name, as the scheduler returns them. */
  results: Readonly<Record<string, TaskResult>>;
}

/**
 * Builds the ResultsPack of a tick: one entry per result, sorted by task
 * name, each value made canonical by {@linkcode canonicalResultValue}.
 *
 * @param options The run, the tick and its results.
 * @returns The ResultsPack (write it as canonical JSON).
 * @throws {TypeError | RangeError} When an argument is not of its type or range.
 *
 * @example A function value becomes a marker
 * ```ts
 * import { buildResultsPack } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const pack = buildResultsPack({ runId: "R", tick: 0, results: {
 *   f: { name: "f", lane: "shadow", status: "ok", value: { fn: () => 1 }, error: null, cost_ops: 1, cost_entropy: 0 },
 * } });
 * assert.deepEqual(pack.results[0]?.value, { fn: { $unserializable: "function" } });
 * ```
 */
export function buildResultsPack(options: ResultsPackOptions): ResultsPack {
  const action = "build ResultsPack";
  if (!isPlainObject(options)) typeError(action, "options", "an object", options);
  if (typeof options.runId !== "string") typeError(action, "runId", "a string", options.runId);
  const tick = checkNonNegativeInteger(action, "tick", options.tick);
  const results = options.results;
  if (!isPlainObject(results)) typeError(action, "results", "an object of results", results);
  const names = Object.keys(results).sort(compareCodePoints);
  return {
    schema: "ResultsPack.v0",
    run_id: options.runId,
    tick,
    results: names.map((name) => {
      const result = results[name] as TaskResult;
      return {
        task: name,
        lane: result.lane,
        status: result.status,
        value: canonicalResultValue(result.value),
        error: typeof result.error === "string" ? result.error : null,
      };
    }),
  };
}

/**
 * Returns a copy of `value` that canonical JSON can encode, with every part
 * that it cannot replaced by a marker `{"$unserializable": KIND}`:
 * `function`, `symbol`, `bigint`, `NaN`, `Infinity`, `-Infinity`,
 * `unsafe-integer` (beyond ±2^53), `lone-surrogate` (a string that is not
 * well-formed Unicode), `cycle` (a reference back to an ancestor),
 * `too-deep` (nesting beyond 512 levels), `throws` (a getter or proxy that
 * threw), and `object:<Class>` for an object that is not plain, such as
 * `object:Map` or `object:Date`. Properties holding `undefined` are left
 * out and `undefined` array items become `null`, as in JSON.
 *
 * @param value Any value a task returned.
 * @returns A JSON-shaped value.
 *
 * @example Markers where JSON has no answer
 * ```ts
 * import { canonicalResultValue } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const cyclic: Record<string, unknown> = { n: 1 };
 * cyclic.self = cyclic;
 * assert.deepEqual(canonicalResultValue(cyclic), { n: 1, self: { $unserializable: "cycle" } });
 * assert.deepEqual(canonicalResultValue([Infinity, new Map()]), [
 *   { $unserializable: "Infinity" }, { $unserializable: "object:Map" },
 * ]);
 * assert.equal(canonicalResultValue(undefined), null);
 * ```
 */
export function canonicalResultValue(value: unknown): unknown {
  return canonicalize(value, new Set(), 1);
}

function marker(kind: string): Record<string, string> {
  return { [UNSERIALIZABLE_KEY]: kind };
}

function canonicalize(value: unknown, ancestors: Set<object>, depth: number): unknown {
  switch (typeof value) {
    case "undefined":
      return null;
    case "boolean":
      return value;
    case "string":
      return value.isWellFormed() ? value : marker("lone-surrogate");
    case "number":
      if (Number.isNaN(value)) return marker("NaN");
      if (!Number.isFinite(value)) return marker(value > 0 ? "Infinity" : "-Infinity");
      if (Number.isInteger(value) && Math.abs(value) > 2 ** 53) return marker("unsafe-integer");
      return value === 0 ? 0 : value;
    case "bigint":
    case "symbol":
    case "function":
      return marker(typeof value);
    default:
      if (value === null) return null;
      return container(value as object, ancestors, depth);
  }
}

function container(value: object, ancestors: Set<object>, depth: number): unknown {
  if (depth > MAX_JSON_DEPTH) return marker("too-deep");
  if (ancestors.has(value)) return marker("cycle");
  ancestors.add(value);
  try {
    const proto = Object.getPrototypeOf(value);
    if (Array.isArray(value) && proto === Array.prototype) {
      const out: unknown[] = [];
      for (let i = 0; i < value.length; i++) out.push(canonicalize(value[i], ancestors, depth + 1));
      return out;
    }
    if (proto !== Object.prototype && proto !== null) return marker(`object:${className(proto)}`);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) {
        const safeKey = key.isWellFormed() ? key : key.toWellFormed();
        out[safeKey] = canonicalize(item, ancestors, depth + 1);
      }
    }
    return out;
  } catch {
    return marker("throws");
  } finally {
    ancestors.delete(value);
  }
}

function className(proto: object): string {
  try {
    const ctor = (proto as { constructor?: unknown }).constructor;
    const name = typeof ctor === "function" ? ctor.name : "";
    return typeof name === "string" && name.length > 0 && name.length <= 64 && name.isWellFormed()
      ? name
      : "anonymous";
  } catch {
    return "anonymous";
  }
}
