/**
 * The viz adapter: pure transformations of ERS traces into
 * visualization-friendly TrendPacks. No I/O, no rendering.
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
