/**
 * The artifact runtime: the canonical tick orchestrator, provenance-sealed
 * artifact writing with an append-only per-run manifest, and verification.
 * Writes happen only inside the artifacts directory the caller gives.
 *
 * @example Run a tick and verify its artifacts
 * ```ts
 * import { abraxasTick, verifyArtifacts } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   await abraxasTick({ tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   const report = await verifyArtifacts(dir);
 *   assert.equal(report.ok, true);
 *   assert.equal(report.records, 2);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @module
 */

export * from "./artifact_writer.ts";
export * from "./errors.ts";
export * from "./lane_errors.ts";
export * from "./open_pipeline.ts";
export * from "./abraxas_tick.ts";
export * from "./layout.ts";
export * from "./promotion.ts";
export * from "./pipeline_digest.ts";
export * from "./run_header.ts";
export * from "./replay.ts";
export * from "./tick.ts";
export * from "./verify.ts";
export * from "./run_reader.ts";
export * from "./run_report.ts";
export * from "./seal.ts";
export * from "./seal_key.ts";
