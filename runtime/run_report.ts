/**
 * Writing a run's HTML report and its Chrome trace: the file side of
 * `viz/report.ts` and `viz/chrome_trace.ts`. The run is read through the
 * checked run reader and verified first, so a damaged run is refused, never
 * drawn; the output file is written atomically (whole or not at all).
 *
 * @module
 */

import { checkNonNegativeInteger, isPlainObject, rangeError, typeError } from "../ers/_validate.ts";
import { renderChromeTrace } from "../viz/chrome_trace.ts";
import {
  renderRunReport,
  type ReportPromotion,
  type ReportRunHeader,
  type ReportTickResults,
  type ReportVerdict,
} from "../viz/report.ts";
import { readRunExtras, type RunExtras } from "./_run_extras.ts";
import { requireAccess, withPermissionHint, writeFileAtomic } from "./_fs.ts";
import { checkRunId } from "./_paths.ts";
import { ARTIFACT_LAYOUT, artifactPath } from "./layout.ts";
import { MAX_RUN_TICKS, type RunManifest, type RunManifestRecord } from "./run_reader.ts";
import type { RunTick } from "../viz/run_events.ts";
import type { VerifyReport } from "./verify.ts";
import { type VerifiedBytes, verifyPass } from "./_verify_pass.ts";
import { recordedJson, recordedTick } from "./_run_stream.ts";
import { assert } from "../ers/_assert.ts";
import { sha256Hex } from "../ers/_sha256.ts";

/**
 * Options for {@linkcode loadRunView}, {@linkcode writeRunReport} and
 * {@linkcode writeRunChromeTrace}: the tick range to show.
 *
 * @example Ticks 10 to 19
 * ```ts
 * import type { RunViewOptions } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const options: RunViewOptions = { fromTick: 10, toTick: 19 };
 * assert.equal(options.toTick! - options.fromTick! + 1, 10);
 * ```
 */
export interface RunViewOptions {
  /**
   * First tick shown.
   *
   * @default {0}
   */
  fromTick?: number;
  /**
   * Last tick shown.
   *
   * @default {Number.MAX_SAFE_INTEGER}
   */
  toTick?: number;
}

/**
 * A run read and verified for viewing: its TrendPacks in the range, and the
 * verdict of a real `verifyArtifacts` of the whole run.
 *
 * @example What a view holds
 * ```ts
 * import { abraxasTick, loadRunView, type RunView } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   await abraxasTick({ tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   const view: RunView = await loadRunView(dir, "R");
 *   assert.equal(view.ticks.length, 1);
 *   assert.equal(view.verdict.ok, true);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface RunView {
  /** The run. */
  runId: string;
  /** Its manifest. */
  manifest: RunManifest;
  /** Its TrendPacks in the range, checked against the manifest. */
  ticks: RunTick[];
  /** The verify verdict, with what was checked. */
  verdict: ReportVerdict;
  /** The run's RunHeader, when it has one. */
  header?: ReportRunHeader;
  /** The ResultsPacks of the ticks in the range that hold errors (their error entries). */
  results: ReportTickResults[];
  /** The promotion decisions recorded in the range. */
  promotions: ReportPromotion[];
}

/**
 * What {@linkcode writeRunReport} and {@linkcode writeRunChromeTrace} wrote.
 *
 * @example Bytes and ticks
 * ```ts
 * import type { RunViewWritten } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const written: RunViewWritten = { path: "out.html", bytes: 31_000, fromTick: 0, toTick: 11, ticks: 12 };
 * assert.equal(written.ticks, 12);
 * ```
 */
export interface RunViewWritten {
  /** The file written, as given. */
  path: string;
  /** Its length in bytes. */
  bytes: number;
  /** First tick shown. */
  fromTick: number;
  /** Last tick shown. */
  toTick: number;
  /** TrendPacks shown. */
  ticks: number;
}

/**
 * Raised when a run is damaged: `verifyArtifacts` found errors in it. The
 * report is refused, not drawn; `issues` holds what verify found.
 *
 * @example The first problem is in the message
 * ```ts
 * import { DamagedRunError } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const error = new DamagedRunError("R", [{ path: "viz/R/000000.trendpack.json", message: "SHA-256 differs" }]);
 * assert.equal(error.name, "DamagedRunError");
 * assert.match(error.message, /run R as verify finds an error in it: viz\/R\/000000\.trendpack\.json: SHA-256 differs/);
 * ```
 */
export class DamagedRunError extends Error {
  /** Always `"DamagedRunError"`. */
  override name = "DamagedRunError";
  /** The run. */
  readonly runId: string;
  /** Every error verify found. */
  readonly issues: readonly { path: string; message: string }[];

  /**
   * Creates the error.
   *
   * @param runId The run.
   * @param issues Every error verify found (at least one).
   */
  constructor(runId: string, issues: readonly { path: string; message: string }[]) {
    const first = issues[0];
    const count = issues.length === 1 ? "an error" : `${issues.length} errors`;
    const which = issues.length === 1 ? "" : ", the first";
    super(
      `Cannot show run ${runId} as verify finds ${count} in it${which}: ${first?.path}: ${first?.message}`,
    );
    this.runId = runId;
    this.issues = issues;
  }
}

const ACTION = "view run";

function checkOptions(options: RunViewOptions): { from: number; to: number } {
  if (!isPlainObject(options)) typeError(ACTION, "options", "an object", options);
  const from = checkNonNegativeInteger(ACTION, "fromTick", options.fromTick ?? 0);
  const to = checkNonNegativeInteger(ACTION, "toTick", options.toTick ?? Number.MAX_SAFE_INTEGER);
  if (to < from) rangeError(ACTION, "toTick", `at least fromTick (${from})`, to);
  return { from, to };
}

/**
 * Reads a run for viewing: verifies the whole run as `verifyArtifacts` does
 * (refusing it when verify finds an error), in one pass that also takes the
 * TrendPacks in the range from the very bytes verify read and hashed, and
 * checks them as the checked run reader does (run, tick, shape). Each file is
 * read once. Needs only read access.
 *
 * @param artifactsDir The artifacts directory.
 * @param runId The run.
 * @param options The tick range.
 * @returns The TrendPacks in the range and the verdict.
 * @throws {DamagedRunError} When verify finds an error in the run.
 * @throws {Deno.errors.NotFound} When the run, or any TrendPack in the range, is missing.
 * @throws {RunReadError} When a TrendPack cannot be read back as recorded.
 * @throws {TypeError | RangeError} When the run id or the range is bad.
 *
 * @example Only the ticks asked for
 * ```ts
 * import { abraxasTick, loadRunView } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   for (const tick of [0, 1, 2]) {
 *     await abraxasTick({ tick, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   }
 *   const view = await loadRunView(dir, "R", { fromTick: 1, toTick: 1 });
 *   assert.deepEqual(view.ticks.map((t) => t.tick), [1]);
 *   assert.match(view.verdict.checked.join("\n"), /6 recorded artifacts/);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function loadRunView(
  artifactsDir: string,
  runId: string,
  options: RunViewOptions = {},
): Promise<RunView> {
  checkRunId(ACTION, runId);
  const { from, to } = checkOptions(options);
  // One pass: verify reads each file once and hands the bytes it checked
  // to the view; verify's verdict decides first, so a damaged run is refused
  // as damaged.
  const view = new TrendPackCollector(runId, from, to);
  const report = await verifyPass(artifactsDir, { runId }, view);
  if (!report.ok) throw new DamagedRunError(runId, report.errors);
  const { manifest, ticks } = await view.collected();
  const extras = await readRunExtras(artifactsDir, manifest, ticks);
  if (ticks.length === 0) {
    throw new Deno.errors.NotFound(
      `Run ${runId} records no TrendPack in ticks ${from}..${
        to === Number.MAX_SAFE_INTEGER ? "" : to
      }`,
    );
  }
  return {
    runId,
    manifest,
    ticks,
    verdict: verdictOf(report, manifest, ticks, extras),
    ...(extras.header === undefined ? {} : { header: extras.header }),
    results: extras.results,
    promotions: extras.promotions,
  };
}

// The run's manifest and its TrendPacks in the range, taken from the verify
// pass as each file is verified: parsed and checked (run, tick, shape) right
// away, so only the parsed TrendPacks are kept, never the files' bytes. A
// problem is kept, not thrown, so that verify's verdict is given first; the
// first one in record order is thrown by `collected()`, as a read of the
// range one TrendPack after another would throw it.
class TrendPackCollector implements VerifiedBytes {
  #runId: string;
  #from: number;
  #to: number;
  #manifest?: { bytes: Uint8Array; records: RunManifestRecord[] };
  #inRange = 0;
  #ticks: RunTick[] = [];
  #problem?: Error;

  constructor(runId: string, from: number, to: number) {
    this.#runId = runId;
    this.#from = from;
    this.#to = to;
  }

  manifest(runId: string, bytes: Uint8Array, records: readonly RunManifestRecord[]): void {
    assert(runId === this.#runId, "verify of one run hands on another run's manifest");
    this.#manifest = { bytes, records: [...records] };
    this.#inRange = records.filter((record) => this.#shows(record)).length;
    if (this.#inRange > MAX_RUN_TICKS) {
      const to = this.#to === Number.MAX_SAFE_INTEGER ? "" : this.#to;
      this.#problem = new RangeError(
        `Cannot view run ${runId} as it records ${this.#inRange} TrendPacks in ticks ${this.#from}..${to}, more than ${MAX_RUN_TICKS}: choose a range with fromTick and toTick`,
      );
    }
  }

  file(record: RunManifestRecord, bytes: Uint8Array): void {
    if (this.#problem !== undefined || !this.#shows(record)) return;
    try {
      this.#ticks.push(recordedTick(record, this.#runId, recordedJson(record, bytes)));
    } catch (error) {
      this.#problem = error as Error;
    }
  }

  // The manifest and the TrendPacks in the range, once verify found the run sound.
  async collected(): Promise<{ manifest: RunManifest; ticks: RunTick[] }> {
    if (this.#manifest === undefined) {
      throw new Deno.errors.NotFound(`No manifest for run ${this.#runId}`);
    }
    if (this.#problem !== undefined) throw this.#problem;
    // Verify hands on every file it found as recorded; it found no error.
    assert(this.#ticks.length === this.#inRange, "verify handed on fewer TrendPacks than recorded");
    const { bytes, records } = this.#manifest;
    const manifest: RunManifest = {
      run_id: this.#runId,
      path: artifactPath("manifest", this.#runId),
      sha256: await sha256Hex(bytes as Uint8Array<ArrayBuffer>),
      bytes: bytes.length,
      records,
    };
    return { manifest, ticks: this.#ticks };
  }

  #shows(record: RunManifestRecord): boolean {
    return record.tick >= this.#from && record.tick <= this.#to &&
      record.schema === ARTIFACT_LAYOUT.trendpack.schema;
  }
}

// Exactly what was checked, one sentence each.
function verdictOf(
  report: VerifyReport,
  manifest: RunManifest,
  ticks: RunTick[],
  extras: RunExtras,
): ReportVerdict {
  const also = [
    extras.header === undefined ? "" : `the RunHeader ${extras.header.path}`,
    extras.results.length === 0
      ? ""
      : `${extras.results.length} ResultsPacks (the ticks with errors)`,
    extras.promotions.length === 0 ? "" : "the PromotionDecision records in the range",
  ].filter((s) => s !== "");
  const first = ticks[0] as RunTick;
  const last = ticks[ticks.length - 1] as RunTick;
  return {
    ok: report.ok,
    checked: [
      `verifyArtifacts of run ${manifest.run_id}: manifest ${manifest.path} read as Manifest.v0 (sha256 ${manifest.sha256})`,
      `${report.records} recorded artifacts re-hashed: each file's length and SHA-256 as its record says`,
      "each RunIndex's refs and trendpack_sha256 checked against its TrendPack",
      "files no record names reported as warnings",
      report.seals === 0
        ? "no seal: the run is not sealed (see ers seal)"
        : `${report.seals} seals checked: the chain, every artifact each names, the manifest holding every sealed record; signatures not checked (no public key given)`,
      `${ticks.length} TrendPacks shown (ticks ${first.tick}..${last.tick}) read back through the checked reader: length, SHA-256, run, tick and shape`,
      ...(also.length === 0 ? [] : [
        `${also.join(", ")} read back through their records: length, SHA-256, run, tick and shape`,
      ]),
    ],
    errors: report.errors,
    warnings: report.warnings,
  };
}

/**
 * Writes the HTML report of a run (see `renderRunReport`) to `outFile`,
 * atomically. Needs read access to the artifacts directory and write access
 * to the directory of `outFile` (a temporary file is renamed into place).
 *
 * @param artifactsDir The artifacts directory.
 * @param runId The run.
 * @param outFile The HTML file to write; replaced if it exists.
 * @param options The tick range.
 * @returns What was written.
 * @throws {DamagedRunError | RunReadError | Deno.errors.NotFound | TypeError | RangeError}
 * As {@linkcode loadRunView}; nothing is written then.
 * @throws {ArtifactPermissionError} When write access to `outFile` is missing.
 *
 * @example Two reports of one run are byte-identical
 * ```ts
 * import { abraxasTick, writeRunReport } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   await abraxasTick({ tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   const written = await writeRunReport(dir, "R", `${dir}/a.html`);
 *   await writeRunReport(dir, "R", `${dir}/b.html`);
 *   const a = await Deno.readTextFile(`${dir}/a.html`);
 *   assert.equal(a, await Deno.readTextFile(`${dir}/b.html`));
 *   assert.equal(written.bytes, new TextEncoder().encode(a).length);
 *   assert.match(a, /ERS run <code>R<\/code>/);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeRunReport(
  artifactsDir: string,
  runId: string,
  outFile: string,
  options: RunViewOptions = {},
): Promise<RunViewWritten> {
  checkOutFile(outFile);
  const view = await loadRunView(artifactsDir, runId, options);
  const html = renderRunReport({
    runId,
    trendpacks: view.ticks.map((t) => t.trendpack),
    verdict: view.verdict,
    results: view.results,
    promotions: view.promotions,
    ...(view.header === undefined ? {} : { header: view.header }),
  });
  return await writeOut(outFile, html, view);
}

/**
 * Writes a run as Chrome Trace Event JSON (see `renderChromeTrace`) to
 * `outFile`, atomically, after the same checks as {@linkcode writeRunReport}.
 *
 * @param artifactsDir The artifacts directory.
 * @param runId The run.
 * @param outFile The JSON file to write; replaced if it exists.
 * @param options The tick range.
 * @returns What was written.
 * @throws {DamagedRunError | RunReadError | Deno.errors.NotFound | TypeError | RangeError}
 * As {@linkcode loadRunView}; nothing is written then.
 *
 * @example One complete event per executed task
 * ```ts
 * import { abraxasTick, writeRunChromeTrace } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   await abraxasTick({ tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   await writeRunChromeTrace(dir, "R", `${dir}/trace.json`);
 *   const trace = JSON.parse(await Deno.readTextFile(`${dir}/trace.json`));
 *   const slices = trace.traceEvents.filter((e: { ph: string; cat?: string }) => e.ph === "X" && e.cat === "forecast");
 *   assert.equal(slices.length, 3);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeRunChromeTrace(
  artifactsDir: string,
  runId: string,
  outFile: string,
  options: RunViewOptions = {},
): Promise<RunViewWritten> {
  checkOutFile(outFile);
  const view = await loadRunView(artifactsDir, runId, options);
  const json = renderChromeTrace({
    runId,
    trendpacks: view.ticks.map((t) => t.trendpack),
    results: view.results,
    promotions: view.promotions,
  });
  return await writeOut(outFile, json, view);
}

function checkOutFile(outFile: unknown): void {
  if (typeof outFile !== "string" || outFile === "") {
    typeError(ACTION, "outFile", "a non-empty path", outFile);
  }
}

async function writeOut(outFile: string, text: string, view: RunView): Promise<RunViewWritten> {
  const bytes = new TextEncoder().encode(text);
  requireAccess("write", outFile);
  await withPermissionHint(outFile, () => writeFileAtomic(outFile, bytes, false));
  const first = view.ticks[0] as RunTick;
  const last = view.ticks[view.ticks.length - 1] as RunTick;
  return {
    path: outFile,
    bytes: bytes.length,
    fromTick: first.tick,
    toTick: last.tick,
    ticks: view.ticks.length,
  };
}
