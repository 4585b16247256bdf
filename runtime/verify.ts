/**
 * Re-hashing an artifacts directory against its manifests.
 *
 * @module
 */

import type { SealPublicKey } from "./seal_key.ts";
import { verifyPass } from "./_verify_pass.ts";

/**
 * One problem, naming the file it concerns.
 *
 * @example A stray file is a warning
 * ```ts
 * import { verifyArtifacts, type VerifyIssue } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/stray.txt`, "x");
 *   const report = await verifyArtifacts(dir);
 *   const issue: VerifyIssue = report.warnings[0]!;
 *   assert.deepEqual(issue, { path: "stray.txt", message: "no manifest record names this file" });
 *   assert.equal(report.ok, true);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface VerifyIssue {
  /** POSIX path relative to the artifacts root. */
  path: string;
  /** What is wrong. */
  message: string;
}

/**
 * What {@linkcode verifyArtifacts} found.
 *
 * @example The report of a clean one-tick run
 * ```ts
 * import { abraxasTick, verifyArtifacts, type VerifyReport } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   await abraxasTick({
 *     tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step,
 *   });
 *   const report: VerifyReport = await verifyArtifacts(dir);
 *   assert.deepEqual(report, { ok: true, runs: ["R"], records: 2, seals: 0, errors: [], warnings: [] });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface VerifyReport {
  /** `true` when nothing recorded is wrong (warnings allowed). */
  ok: boolean;
  /** The runs checked, sorted. */
  runs: string[];
  /** How many manifest records were checked. */
  records: number;
  /** How many seals were checked (see `sealRun()`). */
  seals: number;
  /** Recorded artifacts that are missing or differ; RunIndexes that disagree with their TrendPack; bad manifests. */
  errors: VerifyIssue[];
  /** Files no record names, such as temporary files left by a killed writer. */
  warnings: VerifyIssue[];
}

/**
 * Options for {@linkcode verifyArtifacts}.
 *
 * @example Checking one run of two
 * ```ts
 * import { abraxasTick, verifyArtifacts, type VerifyOptions } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   for (const runId of ["A", "B"]) {
 *     await abraxasTick({
 *       tick: 0, runId, mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step,
 *     });
 *   }
 *   const options: VerifyOptions = { runId: "A" };
 *   const report = await verifyArtifacts(dir, options);
 *   assert.deepEqual(report.runs, ["A"]);
 *   assert.equal(report.records, 2);
 *   await assert.rejects(verifyArtifacts(dir, { runId: "C" }), Deno.errors.NotFound);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface VerifyOptions {
  /** Check only this run (its manifest, or its seal, must exist). */
  runId?: string;
  /**
   * Check every seal's signature with this key (from `readSealPublicKey()`),
   * or with several (each seal signed by one of them, as after a key change);
   * every run checked must then be sealed. Without it, seals are still
   * checked, all but their signatures.
   */
  publicKey?: SealPublicKey | readonly SealPublicKey[];
  /**
   * Called after each recorded file is read and hashed, with how many are
   * done and how many the manifests record in all (for a progress line; the
   * report does not depend on it).
   */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Re-hashes every artifact the manifests record. A recorded file that is
 * missing, or whose length or SHA-256 differs, is an error; so is a RunIndex
 * whose refs or hashes disagree with its TrendPack, and a manifest that is not
 * valid (larger than `MAX_MANIFEST_BYTES`, or with a journal that does not fit
 * it, included). A file no record names (such as one left by a crash) is a
 * warning; a pending journal of an interrupted update is applied in memory and
 * warned of.
 *
 * A sealed run's seals are checked too (see `verifySeal()`): the chain, that
 * every artifact a seal names still matches it, and that the manifest still
 * holds every record a seal names (so a deleted or emptied manifest is an
 * error); with `publicKey`, every seal's signature, and an unsealed run is an
 * error.
 *
 * Needs only read access.
 *
 * @param artifactsDir The artifacts directory.
 * @param options Limit the check to one run.
 * @returns Errors and warnings, each naming its path.
 * @throws {TypeError | RangeError} When `options.runId` is not a valid run id,
 * or `options.publicKey` not a public key.
 * @throws {Deno.errors.NotFound} When the directory, or the run's manifest and
 * seal, do not exist.
 * @throws {ArtifactPermissionError} When read access is missing; the message
 * names the `--allow-read` flag.
 *
 * @example A tampered artifact is named
 * ```ts
 * import { abraxasTick, verifyArtifacts } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   const out = await abraxasTick({
 *     tick: 0, runId: "R", mode: "test", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step,
 *   });
 *   assert.equal((await verifyArtifacts(dir)).ok, true);
 *   await Deno.writeTextFile(out.artifacts.trendpack, "{}");
 *   const report = await verifyArtifacts(dir);
 *   assert.equal(report.ok, false);
 *   assert.ok(report.errors.some((e) => e.path === "viz/R/000000.trendpack.json"));
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function verifyArtifacts(
  artifactsDir: string,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  return await verifyPass(artifactsDir, options);
}
