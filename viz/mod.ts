/**
 * The viz adapter: pure transformations of ERS traces into
 * visualization-friendly TrendPacks, and of TrendPacks into a self-contained
 * HTML report and Chrome Trace Event JSON. No I/O, no clock, no randomness.
 *
 * @example An empty trace gives an empty TrendPack
 * ```ts
 * import { ersTraceToTrendpack } from "@abraxas/ers/viz";
 * import assert from "node:assert/strict";
 *
 * const pack = ersTraceToTrendpack({ trace: [], runId: "R", tick: 0 });
 * assert.deepEqual(pack.provenance, {});
 * assert.equal(pack.stats.total_events, 0);
 * ```
 *
 * @module
 */

export * from "./trendpack.ts";
export * from "./run_events.ts";
export * from "./report.ts";
export * from "./chrome_trace.ts";
export * from "./results_pack.ts";
export * from "./drift.ts";
export * from "./stabilization.ts";
