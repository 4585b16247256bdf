/**
 * ERS, the Execution & Resource Scheduler: runs a pipeline's tasks tick by
 * tick, deterministically, under explicit budgets, and proves it with
 * canonical SHA-256 trace hashes byte-identical to the reference Python
 * implementation.
 *
 * This entry re-exports the pure core (`./ers`), the viz adapter (`./viz`)
 * and the artifact runtime (`./runtime`).
 *
 * @example Run a tick and hash its trace
 * ```ts
 * import { bindCallable, Budget, DeterministicScheduler, traceHashSha256 } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const s = new DeterministicScheduler();
 * s.add(bindCallable({ name: "oracle:signal", lane: "forecast", priority: 0, costOps: 5, fn: () => ({}) }));
 * s.add(bindCallable({ name: "shadow:sei", lane: "shadow", priority: 0, costOps: 1, fn: () => ({}) }));
 * const out = await s.runTick({
 *   tick: 0, budgetForecast: new Budget({ ops: 50 }), budgetShadow: new Budget({ ops: 10 }), context: {},
 * });
 * assert.equal(
 *   await traceHashSha256(out.trace),
 *   "40a36b81f8b42f9e5a42fbaee681ddce75f2ff10bc8358875684cc827fccaab2",
 * );
 * ```
 *
 * @module
 */

export * from "./ers/mod.ts";
export * from "./viz/mod.ts";
export * from "./runtime/mod.ts";
