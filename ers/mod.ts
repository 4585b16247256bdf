/**
 * ERS core: the deterministic scheduler, canonical JSON, trace hashing and the
 * invariance gate. Pure: no I/O, no clock, no randomness.
 *
 * @example Hash a tick's trace
 * ```ts
 * import { bindCallable, DeterministicScheduler, traceHashSha256 } from "@abraxas/ers/ers";
 * import assert from "node:assert/strict";
 *
 * const s = new DeterministicScheduler();
 * s.add(bindCallable({ name: "a", lane: "forecast", priority: 0, costOps: 1, fn: () => 1 }));
 * const { trace } = await s.runTick({ tick: 0, budgetForecast: { ops: 1 }, budgetShadow: { ops: 0 } });
 * assert.equal((await traceHashSha256(trace)).length, 64);
 * ```
 *
 * @module
 */

export * from "./budget.ts";
export * from "./bindings.ts";
export * from "./canonical_json.ts";
export * from "./invariance.ts";
export * from "./pipeline.ts";
export * from "./promotion.ts";
export * from "./placement.ts";
export * from "./scheduler.ts";
export * from "./trace.ts";
export * from "./types.ts";
