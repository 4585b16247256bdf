/**
 * The artifact layout, in one place: where each artifact of a run lives under
 * the artifacts directory, its schema tag, which run a path belongs to, and
 * the RunIndex that ties a tick's artifacts together. The tick orchestrator,
 * verification and the readers all take their paths and schema names from here.
 *
 * ```text
 * manifests/<run>.manifest.json                Manifest.v0          (one per run)
 * viz/<run>/<tick:06>.trendpack.json           TrendPack.v0         (one per tick)
 * run_index/<run>/<tick:06>.runindex.json      RunIndex.v0          (one per tick)
 * promotions/<run>/<tick:06>.promotion.json    PromotionDecision.v0 (ticks with a decision)
 * runs/<run>.runheader.json                    RunHeader.v0         (one per run, extended)
 * results/<run>/<tick:06>.resultspack.json     ResultsPack.v0       (one per tick, extended)
 * ```
 *
 * RunHeaders and ResultsPacks are written only with `provenance: "extended"`;
 * the first three are the reference implementation's, byte for byte.
 *
 * @module
 */

import { checkNonNegativeInteger, rangeError, typeError } from "../ers/_validate.ts";
import { checkRunId, isSafeRelPath, RUN_ID_PATTERN } from "./_paths.ts";

/**
 * The ERS version recorded in provenance.
 *
 * @example Every TrendPack names it
 * ```ts
 * import { abraxasTick, ERS_PROVENANCE_VERSION } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   const out = await abraxasTick({
 *     tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step,
 *   });
 *   const trendpack = JSON.parse(await Deno.readTextFile(out.artifacts.trendpack));
 *   assert.equal(ERS_PROVENANCE_VERSION, "v0.2");
 *   assert.deepEqual(trendpack.provenance, {
 *     engine: "abraxas", ers: ERS_PROVENANCE_VERSION, mode: "demo",
 *   });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export const ERS_PROVENANCE_VERSION = "v0.2";

/**
 * Where each kind of artifact lives: its top-level directory, its file-name
 * suffix and schema tag, and whether there is one per tick
 * (`<dir>/<run>/<tick:06><suffix>`) or one per run (`<dir>/<run><suffix>`).
 * The key is the kind recorded in the manifest.
 *
 * @example The TrendPack's place
 * ```ts
 * import { ARTIFACT_LAYOUT } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(ARTIFACT_LAYOUT.trendpack, {
 *   dir: "viz", suffix: ".trendpack.json", schema: "TrendPack.v0", perTick: true,
 * });
 * assert.equal(ARTIFACT_LAYOUT.manifest.perTick, false);
 * assert.ok(Object.isFrozen(ARTIFACT_LAYOUT.runindex));
 * ```
 */
export const ARTIFACT_LAYOUT: {
  readonly [K in ArtifactKind]: ArtifactPlace;
} = Object.freeze({
  manifest: place("manifests", ".manifest.json", "Manifest.v0", false),
  trendpack: place("viz", ".trendpack.json", "TrendPack.v0", true),
  runindex: place("run_index", ".runindex.json", "RunIndex.v0", true),
  promotion: place("promotions", ".promotion.json", "PromotionDecision.v0", true),
  runheader: place("runs", ".runheader.json", "RunHeader.v0", false),
  resultspack: place("results", ".resultspack.json", "ResultsPack.v0", true),
});

/**
 * The kinds of artifact {@linkcode ARTIFACT_LAYOUT} places.
 *
 * @example A kind names its place
 * ```ts
 * import { ARTIFACT_LAYOUT, type ArtifactKind } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const kind: ArtifactKind = "runindex";
 * assert.equal(ARTIFACT_LAYOUT[kind].dir, "run_index");
 * ```
 */
export type ArtifactKind =
  | "manifest"
  | "trendpack"
  | "runindex"
  | "promotion"
  | "runheader"
  | "resultspack";

/**
 * One entry of {@linkcode ARTIFACT_LAYOUT}.
 *
 * @example A per-tick place
 * ```ts
 * import { ARTIFACT_LAYOUT, type ArtifactPlace } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const place: ArtifactPlace = ARTIFACT_LAYOUT.runindex;
 * assert.equal(`${place.dir}/R/000001${place.suffix}`, "run_index/R/000001.runindex.json");
 * ```
 */
export interface ArtifactPlace {
  /** The top-level directory under the artifacts root. */
  readonly dir: string;
  /** The file name's suffix, after the tick or the run id. */
  readonly suffix: string;
  /** The schema tag recorded in the manifest (and in the artifact, where it has one). */
  readonly schema: string;
  /** `true`: one file per tick under `<dir>/<run>/`; `false`: one file per run in `<dir>/`. */
  readonly perTick: boolean;
}

function place(dir: string, suffix: string, schema: string, perTick: boolean): ArtifactPlace {
  return Object.freeze({ dir, suffix, schema, perTick });
}

/**
 * A tick as it appears in file names: at least six digits, zero-padded.
 *
 * @param tick A non-negative integer.
 * @returns The tick, padded to six digits.
 * @throws {TypeError | RangeError} When `tick` is not a non-negative integer.
 *
 * @example Six digits, more when needed
 * ```ts
 * import { tickStem } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * assert.equal(tickStem(7), "000007");
 * assert.equal(tickStem(1_234_567), "1234567");
 * assert.throws(() => tickStem(-1), RangeError);
 * ```
 */
export function tickStem(tick: number): string {
  return String(checkNonNegativeInteger("name tick file", "tick", tick)).padStart(6, "0");
}

/**
 * The path, relative to the artifacts root, of a run's artifact of `kind`:
 * `<dir>/<run>/<tick:06><suffix>` for a per-tick kind, `<dir>/<run><suffix>`
 * for a per-run kind (which takes no tick).
 *
 * @param kind A kind of {@linkcode ARTIFACT_LAYOUT}.
 * @param runId The run.
 * @param tick The tick, for a per-tick kind.
 * @returns The POSIX path relative to the artifacts root.
 * @throws {TypeError | RangeError} For an unknown kind, a bad run id, or a
 * tick missing from (or given to) the kind that needs (or takes) none.
 *
 * @example The three paths of tick 3 of run R
 * ```ts
 * import { artifactPath } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * assert.equal(artifactPath("trendpack", "R", 3), "viz/R/000003.trendpack.json");
 * assert.equal(artifactPath("runindex", "R", 3), "run_index/R/000003.runindex.json");
 * assert.equal(artifactPath("manifest", "R"), "manifests/R.manifest.json");
 * assert.throws(() => artifactPath("trendpack", "R"), TypeError);
 * assert.throws(() => artifactPath("manifest", ".."), RangeError);
 * ```
 */
export function artifactPath(kind: ArtifactKind, runId: string, tick?: number): string {
  const action = "name artifact path";
  if (typeof kind !== "string" || !Object.hasOwn(ARTIFACT_LAYOUT, kind)) {
    typeError(action, "kind", `one of ${Object.keys(ARTIFACT_LAYOUT).join(", ")}`, kind);
  }
  const { dir, suffix, perTick } = ARTIFACT_LAYOUT[kind];
  checkRunId(action, runId);
  if (!perTick) {
    if (tick !== undefined) rangeError(action, "tick", `absent for a ${kind}`, tick);
    return `${dir}/${runId}${suffix}`;
  }
  if (tick === undefined) typeError(action, "tick", `a tick for a ${kind}`, tick);
  return `${dir}/${runId}/${tickStem(tick)}${suffix}`;
}

/**
 * Which run a path relative to the artifacts root belongs to, by the layout's
 * two shapes: `<kind>/<run_id>/...` (the second segment) or
 * `<kind>/<run_id>.<ext>` (the file name less a suffix of
 * {@linkcode ARTIFACT_LAYOUT}, such as `.manifest.json`, or else less its last
 * extension). `undefined` when the path has neither shape, is not a safe
 * relative path, or names no valid run id.
 *
 * @param relPath A POSIX path relative to the artifacts root.
 * @returns The run id, or `undefined`.
 *
 * @example Per-tick files, per-run files, and paths of no run
 * ```ts
 * import { runOfPath } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * assert.equal(runOfPath("viz/RUN-1/000000.trendpack.json"), "RUN-1");
 * assert.equal(runOfPath("manifests/a.b.manifest.json"), "a.b");
 * assert.equal(runOfPath("notes/R.json"), "R");
 * assert.equal(runOfPath("stray.txt"), undefined);
 * assert.equal(runOfPath("viz/../x/1.json"), undefined);
 * ```
 */
export function runOfPath(relPath: string): string | undefined {
  if (typeof relPath !== "string" || !isSafeRelPath(relPath)) return undefined;
  const segments = relPath.split("/");
  let runId: string | undefined;
  if (segments.length >= 3) {
    runId = segments[1];
  } else if (segments.length === 2) {
    const name = segments[1] as string;
    const suffix = RUN_FILE_SUFFIXES.find((s) => name.endsWith(s));
    const dot = name.lastIndexOf(".");
    runId = suffix !== undefined
      ? name.slice(0, -suffix.length)
      : dot > 0
      ? name.slice(0, dot)
      : undefined;
  }
  return runId !== undefined && RUN_ID_PATTERN.regexp.test(runId) ? runId : undefined;
}

// Longest first, so that `.manifest.json` wins over `.json`.
const RUN_FILE_SUFFIXES: readonly string[] = Object.values(ARTIFACT_LAYOUT)
  .filter((p) => !p.perTick)
  .map((p) => p.suffix)
  .sort((a, b) => b.length - a.length);

/**
 * A RunIndex: the record that ties one tick of a run to its TrendPack, by
 * path and SHA-256. Written as canonical JSON (keys sorted).
 *
 * @example The RunIndex of tick 0, as written
 * ```ts
 * import { abraxasTick, type RunIndex } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   const out = await abraxasTick({
 *     tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step,
 *   });
 *   const index: RunIndex = JSON.parse(await Deno.readTextFile(out.artifacts.runindex));
 *   assert.equal(index.refs.trendpack, "viz/R/000000.trendpack.json");
 *   assert.equal(index.hashes.trendpack_sha256, out.artifacts.trendpack_sha256);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface RunIndex {
  /** Always `RunIndex.v0`. */
  schema: "RunIndex.v0";
  /** The run. */
  run_id: string;
  /** The tick. */
  tick: number;
  /**
   * Paths, relative to the artifacts root, of the tick's other artifacts;
   * `results_pack` and `run_header` only with extended provenance.
   */
  refs: { trendpack: string; results_pack?: string; run_header?: string };
  /** Their SHA-256, lowercase hex (the run header's is in `provenance`). */
  hashes: { trendpack_sha256: string; results_pack_sha256?: string };
  /** Free tags (always empty today). */
  tags: string[];
  /** Who wrote it; `run_header_sha256` only with extended provenance. */
  provenance: { engine: "abraxas"; mode: string; run_header_sha256?: string };
}

/**
 * Options for {@linkcode buildRunIndex}.
 *
 * @example The TrendPack a RunIndex points at
 * ```ts
 * import { buildRunIndex, type RunIndexInit } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const init: RunIndexInit = {
 *   runId: "R", tick: 2, mode: "demo",
 *   trendpack: { path: "viz/R/000002.trendpack.json", sha256: "ab".repeat(32) },
 * };
 * assert.equal(buildRunIndex(init).refs.trendpack, "viz/R/000002.trendpack.json");
 * ```
 */
export interface RunIndexInit {
  /** The run. */
  runId: string;
  /** The tick. */
  tick: number;
  /** The run mode. */
  mode: string;
  /** The tick's TrendPack: its path and SHA-256. */
  trendpack: { path: string; sha256: string };
  /** The tick's ResultsPack (extended provenance). */
  resultsPack?: { path: string; sha256: string };
  /** The run's RunHeader (extended provenance). */
  runHeader?: { path: string; sha256: string };
}

/**
 * The RunIndex of a tick, exactly as the reference implementation writes it.
 *
 * @param init The run, tick, mode and the TrendPack's path and hash.
 * @returns The RunIndex object (write it as canonical JSON).
 *
 * @example Tick 2 of run R
 * ```ts
 * import { buildRunIndex } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const sha256 = "ab".repeat(32);
 * assert.deepEqual(
 *   buildRunIndex({ runId: "R", tick: 2, mode: "demo", trendpack: { path: "viz/R/000002.trendpack.json", sha256 } }),
 *   {
 *     schema: "RunIndex.v0", run_id: "R", tick: 2,
 *     refs: { trendpack: "viz/R/000002.trendpack.json" }, hashes: { trendpack_sha256: sha256 },
 *     tags: [], provenance: { engine: "abraxas", mode: "demo" },
 *   },
 * );
 * ```
 */
export function buildRunIndex(init: RunIndexInit): RunIndex {
  const index: RunIndex = {
    schema: "RunIndex.v0",
    run_id: init.runId,
    tick: init.tick,
    refs: { trendpack: init.trendpack.path },
    hashes: { trendpack_sha256: init.trendpack.sha256 },
    tags: [],
    provenance: { engine: "abraxas", mode: init.mode },
  };
  if (init.resultsPack !== undefined) {
    index.refs.results_pack = init.resultsPack.path;
    index.hashes.results_pack_sha256 = init.resultsPack.sha256;
  }
  if (init.runHeader !== undefined) {
    index.refs.run_header = init.runHeader.path;
    index.provenance.run_header_sha256 = init.runHeader.sha256;
  }
  return index;
}
