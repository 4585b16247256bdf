/**
 * Drift forensics over recorded runs: {@linkcode replayRun} re-executes a
 * run's recorded ticks in memory and compares them with the recorded bytes;
 * {@linkcode diffRuns} compares two recorded runs tick by tick. Both write
 * nothing, and report the first divergence: the tick, the artifact, the task,
 * the JSON path and both values.
 *
 * @module
 */

import { canonicalJsonString, jsonString } from "../ers/_canonical.ts";
import {
  advancePromotions,
  type PromotionAdvance,
  promotionCandidates,
  promotionLanes,
} from "../ers/promotion.ts";
import { buildPromotionRecord, replayPromotions } from "./_promotion_book.ts";
import { type Pipeline, type PreparedPipeline, preparePipeline } from "../ers/pipeline.ts";
import { checkNonNegativeInteger, isPlainObject, typeError } from "../ers/_validate.ts";
import { firstJsonDifference, jsonDifferences, type JsonPathStep } from "../viz/drift.ts";
import { buildResultsPack } from "../viz/results_pack.ts";
import { ersTraceToTrendpack } from "../viz/trendpack.ts";
import { ERS_PROVENANCE_VERSION } from "./layout.ts";
import { isOpenedPipeline, type OpenedPipeline } from "./open_pipeline.ts";
import { buildRunHeader, isRunHeader, type RunHeader } from "./run_header.ts";
import { RunReadError } from "./errors.ts";
import { readRunManifest, type RunManifest } from "./run_reader.ts";
import type { ManifestRecord } from "./_manifest.ts";
import { type DirectoryChecks, readRecordedFile } from "./_read.ts";
import { type CheckedFile, checkedFile, FilesAhead, settled } from "./_read_ahead.ts";
import { parseJson } from "./_json.ts";

/**
 * The first place two runs (or a run and its replay) differ.
 *
 * @example A value drift, as replay reports it
 * ```ts
 * import type { TickDivergence } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const divergence: TickDivergence = {
 *   tick: 3, artifact: "resultspack", task: "f:val", path: ["results", "f:val", "value", "v"], a: 1, b: 2,
 * };
 * assert.equal(divergence.artifact, "resultspack");
 * ```
 */
export interface TickDivergence {
  /** The tick. */
  tick: number;
  /** Which artifact: `trendpack`, `resultspack` or `promotion` (the tick's PromotionDecision.v0). */
  artifact: "trendpack" | "resultspack" | "promotion";
  /** The task the differing field belongs to, or `null`. */
  task: string | null;
  /** The JSON path of the first differing field. */
  path: JsonPathStep[];
  /** The value on side A (the recording, for replay); `undefined` when absent. */
  a: unknown;
  /** The value on side B (the replay); `undefined` when absent. */
  b: unknown;
}

/**
 * What {@linkcode replayRun} found.
 *
 * @example A clean replay
 * ```ts
 * import { pipelineTick, replayRun, type ReplayReport } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const pipeline = { tasks: [{ name: "n", lane: "forecast" as const, priority: 0, costOps: 1, fn: () => 1 }] };
 *   for (const tick of [0, 1]) {
 *     await pipelineTick({ pipeline, tick, runId: "R", mode: "m", artifactsDir: dir, provenance: "extended" });
 *   }
 *   const report: ReplayReport = await replayRun(dir, "R", { pipeline });
 *   assert.equal(report.ok, true);
 *   assert.deepEqual([report.from, report.to, report.ticks], [0, 1, 2]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface ReplayReport {
  /** The run. */
  run_id: string;
  /** `true` when every replayed tick equals its recording. */
  ok: boolean;
  /** The first tick replayed, or `null` when the range holds none. */
  from: number | null;
  /** The last tick replayed (up to the divergence), or `null`. */
  to: number | null;
  /** How many ticks were replayed. */
  ticks: number;
  /** How many ResultsPacks were compared (extended runs only). */
  results_packs: number;
  /** The pipeline digest the RunHeader records, or `null` for a run without one. */
  recorded_pipeline_sha256: string | null;
  /** The digest of the pipeline replayed. */
  pipeline_sha256: string;
  /** Whether the two digests differ (a replay still runs). */
  pipeline_changed: boolean;
  /** The first divergence, or `null`. */
  divergence: TickDivergence | null;
}

/**
 * Options for {@linkcode replayRun}.
 *
 * @example Replay ticks 2 to 3 only
 * ```ts
 * import { pipelineTick, replayRun, type ReplayOptions } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const pipeline = { tasks: [{ name: "n", lane: "forecast" as const, priority: 0, costOps: 1, fn: () => 1 }] };
 *   for (let tick = 0; tick < 5; tick++) {
 *     await pipelineTick({ pipeline, tick, runId: "R", mode: "m", artifactsDir: dir });
 *   }
 *   const options: ReplayOptions = { pipeline, from: 2, to: 3 };
 *   assert.equal((await replayRun(dir, "R", options)).ticks, 2);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface ReplayOptions {
  /** The pipeline to replay with (prepared, opened, or not). */
  pipeline: Pipeline | PreparedPipeline | OpenedPipeline;
  /** Its module digest, from `pipelineDigest()`; else its tasks are digested. */
  pipelineSha256?: string;
  /**
   * The first tick to replay.
   *
   * @default {0}
   */
  from?: number;
  /**
   * The last tick to replay.
   *
   * @default {the last recorded tick}
   */
  to?: number;
}

const ACTION = "replay run";

/**
 * Re-executes a run's recorded ticks in memory, each with `pipeline.context(tick)`,
 * and compares each tick's TrendPack and, where one was recorded, its
 * ResultsPack with the recorded bytes. Writes nothing; stops at the first
 * divergence. A pipeline whose digest differs from the RunHeader's is what
 * replay is for: it is reported (`pipeline_changed`) and replayed all the same.
 *
 * @param artifactsDir The artifacts directory.
 * @param runId The run.
 * @param options The pipeline and the tick range.
 * @returns The report; `ok` is `false` at the first divergence.
 * @throws {TypeError | RangeError} For a bad argument.
 * @throws {Deno.errors.NotFound} When the run has no manifest.
 * @throws {RunReadError} When a recorded artifact is missing or differs from its record.
 *
 * @example An edited task is caught at its first tick
 * ```ts
 * import { pipelineTick, replayRun } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const task = (fn: () => unknown) => ({ name: "f:val", lane: "forecast" as const, priority: 0, costOps: 1, fn });
 *   await pipelineTick({ pipeline: { tasks: [task(() => ({ v: 1 }))] }, tick: 0, runId: "R", mode: "m", artifactsDir: dir, provenance: "extended" });
 *   const report = await replayRun(dir, "R", { pipeline: { tasks: [task(() => ({ v: 2 }))] } });
 *   assert.equal(report.ok, false);
 *   assert.equal(report.pipeline_changed, true);
 *   assert.deepEqual(report.divergence, {
 *     tick: 0, artifact: "resultspack", task: "f:val", path: ["results", "f:val", "value", "v"], a: 1, b: 2,
 *   });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function replayRun(
  artifactsDir: string,
  runId: string,
  options: ReplayOptions,
): Promise<ReplayReport> {
  if (!isPlainObject(options)) typeError(ACTION, "options", "an object", options);
  const pipeline = isOpenedPipeline(options.pipeline)
    ? options.pipeline
    : preparePipeline(options.pipeline as Pipeline);
  const from = checkNonNegativeInteger(ACTION, "from", options.from ?? 0);
  const to = options.to === undefined
    ? Number.MAX_SAFE_INTEGER
    : checkNonNegativeInteger(ACTION, "to", options.to);
  const manifest = await readRunManifest(artifactsDir, runId);
  // One pass over the run: each directory checked once, files read ahead.
  const checked: DirectoryChecks = new Map();
  const header = await recordedRunHeader(artifactsDir, manifest, checked);
  const current = await buildRunHeader({
    runId,
    firstTick: 0,
    mode: "",
    pipeline,
    pipelineDigest: options.pipelineSha256 === undefined
      ? undefined
      : { sha256: options.pipelineSha256, modules: [] },
  });
  const ticks = tickRecords(manifest).filter(([tick]) => tick >= from && tick <= to);
  // Promotion: candidates judged as the run judged them (over its recorded
  // pipeline digest), from the states its records give before the first tick.
  const candidates = await promotionCandidates(pipeline.tasks, header?.identity.pipeline_sha256);
  let states = (await replayPromotions(artifactsDir, manifest, ticks[0]?.[0] ?? 0)).states;
  const report: ReplayReport = {
    run_id: runId,
    ok: true,
    from: ticks[0]?.[0] ?? null,
    to: null,
    ticks: 0,
    results_packs: 0,
    recorded_pipeline_sha256: header?.identity.pipeline_sha256 ?? null,
    pipeline_sha256: current.identity.pipeline_sha256,
    pipeline_changed: header !== undefined &&
      header.identity.pipeline_sha256 !== current.identity.pipeline_sha256,
    divergence: null,
  };
  // The recorded files in the order the loop compares them, read ahead.
  const order = ticks.flatMap(([, r]) =>
    [r.trendpack, r.resultspack, r.promotion].filter((x) => x !== undefined)
  );
  await using recorded = new FilesAhead(artifactsDir, order, checked);
  let taken = 0;
  const next = async () => recordedText(order[taken++] as ManifestRecord, await recorded.next());
  for (const [tick, records] of ticks) {
    const lanes = promotionLanes(states, candidates);
    const out = await pipeline.runTick(tick, undefined, {
      lanes: Object.keys(lanes).length === 0 ? undefined : lanes,
    });
    const advance = advancePromotions(states, tick, candidates, out.trace);
    states = advance.states;
    report.ticks++;
    report.to = tick;
    const mode = modeOf(records.trendpack, header);
    const trendpack = canonicalJsonString(ersTraceToTrendpack({
      trace: out.trace,
      runId,
      tick,
      provenance: { engine: "abraxas", mode, ers: ERS_PROVENANCE_VERSION },
    }));
    let divergence = compareText(tick, records.trendpack, await next(), trendpack) ??
      (records.resultspack === undefined ? undefined : compareText(
        tick,
        records.resultspack,
        await next(),
        canonicalJsonString(buildResultsPack({ runId, tick, results: out.results })),
      ));
    if (records.resultspack !== undefined) report.results_packs++;
    divergence ??= comparePromotion(
      records.promotion === undefined ? undefined : [records.promotion, await next()],
      runId,
      tick,
      advance,
    );
    if (divergence !== undefined) {
      report.ok = false;
      report.divergence = divergence;
      break;
    }
  }
  return report;
}

interface TickRecords {
  trendpack: ManifestRecord;
  resultspack?: ManifestRecord;
  promotion?: ManifestRecord;
}

// The tick's replayed promotion decisions against its recorded
// PromotionDecision.v0 and its text (none recorded: none made).
function comparePromotion(
  recorded: [ManifestRecord, string] | undefined,
  runId: string,
  tick: number,
  advance: PromotionAdvance,
): TickDivergence | undefined {
  if (recorded === undefined && advance.decisions.length === 0) return undefined;
  const replayed = canonicalJsonString(buildPromotionRecord(runId, tick, advance.decisions));
  if (recorded !== undefined) return compareText(tick, recorded[0], recorded[1], replayed);
  const none = canonicalJsonString(buildPromotionRecord(runId, tick, []));
  return divergenceOf(tick, "promotion", none, replayed);
}

// The TrendPack (and ResultsPack) record of each recorded tick, in tick order.
function tickRecords(manifest: RunManifest): [number, TickRecords][] {
  const byTick = new Map<number, Partial<TickRecords>>();
  for (const record of manifest.records) {
    if (
      record.kind !== "trendpack" && record.kind !== "resultspack" && record.kind !== "promotion"
    ) continue;
    const entry = byTick.get(record.tick) ?? {};
    entry[record.kind] = record;
    byTick.set(record.tick, entry);
  }
  return [...byTick].filter(([, r]) => r.trendpack !== undefined)
    .sort(([a], [b]) => a - b) as [number, TickRecords][];
}

function modeOf(record: ManifestRecord, header: RunHeader | undefined): string {
  const mode = record.extra?.mode;
  return typeof mode === "string" ? mode : header?.identity.mode ?? "";
}

const decoder = new TextDecoder();

// The text of `file`, read for `record`; a RunReadError when it differs from its record.
function recordedText(record: ManifestRecord, file: CheckedFile): string {
  if (file.bytes === undefined) throw new RunReadError(record.path, file.problem);
  return decoder.decode(file.bytes);
}

function compareText(
  tick: number,
  record: ManifestRecord,
  recorded: string,
  replayed: string,
): TickDivergence | undefined {
  if (recorded === replayed) return undefined;
  return divergenceOf(tick, record.kind as TickDivergence["artifact"], recorded, replayed);
}

function divergenceOf(
  tick: number,
  artifact: TickDivergence["artifact"],
  a: string,
  b: string,
): TickDivergence {
  const found = firstJsonDifference(parseJson(a), parseJson(b));
  if (found === undefined) return { tick, artifact, task: null, path: [], a, b }; // same JSON, other bytes
  return { tick, artifact, task: found.task, path: found.path, a: found.a, b: found.b };
}

/**
 * Reads a run's RunHeader, checked against its manifest record (length and
 * SHA-256) and its shape.
 *
 * @param artifactsDir The artifacts directory.
 * @param runId The run.
 * @returns The header, or `undefined` for a run recorded without one (`--compat v0.2`).
 * @throws {RunReadError} When the header does not match its record or is not a RunHeader.v0.
 *
 * @example A run with extended provenance names its header's pipeline
 * ```ts
 * import { pipelineTick, readRunHeader } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const pipeline = { tasks: [{ name: "t", lane: "forecast" as const, priority: 0, costOps: 1, fn: () => 1 }] };
 *   await pipelineTick({ pipeline, tick: 0, runId: "R", mode: "m", artifactsDir: dir, provenance: "extended" });
 *   assert.equal((await readRunHeader(dir, "R"))?.run_id, "R");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function readRunHeader(
  artifactsDir: string,
  runId: string,
): Promise<RunHeader | undefined> {
  return await recordedRunHeader(artifactsDir, await readRunManifest(artifactsDir, runId));
}

// The run's RunHeader, read and checked against its record, or undefined.
async function recordedRunHeader(
  root: string,
  manifest: RunManifest,
  checked?: DirectoryChecks,
): Promise<RunHeader | undefined> {
  const record = manifest.records.find((r) => r.kind === "runheader");
  if (record === undefined) return undefined;
  const file = checkedFile(await readRecordedFile(root, record, checked));
  const header = parseJson(recordedText(record, file));
  if (!isRunHeader(header)) throw new RunReadError(record.path, "not a RunHeader.v0");
  return header;
}

/**
 * One field that differs between two RunHeaders.
 *
 * @example The mode differs
 * ```ts
 * import type { HeaderDifference } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const difference: HeaderDifference = { field: "identity.mode", a: "cli", b: "e2e" };
 * assert.equal(difference.field, "identity.mode");
 * ```
 */
export interface HeaderDifference {
  /** The dotted field, such as `identity.budgets.shadow.ops` or `environment.deno`. */
  field: string;
  /** Its value in run A (`undefined` when absent, `null` when A has no header). */
  a: unknown;
  /** Its value in run B. */
  b: unknown;
}

/**
 * What {@linkcode diffRuns} found.
 *
 * @example Two identical runs
 * ```ts
 * import { diffRuns, type DiffReport, pipelineTick } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const a = await Deno.makeTempDir();
 * const b = await Deno.makeTempDir();
 * try {
 *   const pipeline = { tasks: [{ name: "n", lane: "forecast" as const, priority: 0, costOps: 1, fn: () => 1 }] };
 *   for (const dir of [a, b]) await pipelineTick({ pipeline, tick: 0, runId: "R", mode: "m", artifactsDir: dir });
 *   const report: DiffReport = await diffRuns(a, "R", b, "R");
 *   assert.equal(report.ok, true);
 *   assert.equal(report.common_ticks, 1);
 * } finally {
 *   await Deno.remove(a, { recursive: true });
 *   await Deno.remove(b, { recursive: true });
 * }
 * ```
 */
export interface DiffReport {
  /** Run A. */
  run_a: string;
  /** Run B. */
  run_b: string;
  /** `true` when the identities, the ticks and every artifact compared are the same. */
  ok: boolean;
  /** Differences in the RunHeaders' identities (they make `ok` false). */
  identity: HeaderDifference[];
  /** Differences in the environments (informational). */
  environment: HeaderDifference[];
  /** How many ticks both runs record. */
  common_ticks: number;
  /** Ticks only run A records. */
  only_a: number[];
  /** Ticks only run B records. */
  only_b: number[];
  /** The first divergent tick of the two, or `null`. */
  divergence: TickDivergence | null;
}

/**
 * Compares two recorded runs tick by tick: their RunHeaders (identity, then
 * environment), the ticks each records, and, for every tick both record, the
 * TrendPack and (when both have one) the ResultsPack. Runs with the same id
 * are compared by the hashes their manifests record, reading only the first
 * divergent tick's files; runs with different ids by their contents, with the
 * run id set aside. Writes nothing.
 *
 * @param dirA Run A's artifacts directory.
 * @param runA Run A.
 * @param dirB Run B's artifacts directory.
 * @param runB Run B.
 * @returns The report; `ok` is `false` on any identity, tick or artifact difference.
 * @throws {Deno.errors.NotFound} When either run has no manifest.
 * @throws {RunReadError} When a file compared differs from its record.
 *
 * @example The tick where two runs part
 * ```ts
 * import { diffRuns, pipelineTick } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const a = await Deno.makeTempDir();
 * const b = await Deno.makeTempDir();
 * try {
 *   const make = (cost: number) => ({ tasks: [{ name: "n", lane: "forecast" as const, priority: 0, costOps: cost, fn: () => 1 }] });
 *   for (const tick of [0, 1]) {
 *     await pipelineTick({ pipeline: make(1), tick, runId: "R", mode: "m", artifactsDir: a });
 *     await pipelineTick({ pipeline: make(tick === 0 ? 1 : 2), tick, runId: "R", mode: "m", artifactsDir: b });
 *   }
 *   const report = await diffRuns(a, "R", b, "R");
 *   assert.equal(report.divergence?.tick, 1);
 *   assert.deepEqual(report.divergence?.path, ["budget", "forecast", "spent_ops"]);
 * } finally {
 *   await Deno.remove(a, { recursive: true });
 *   await Deno.remove(b, { recursive: true });
 * }
 * ```
 */
export async function diffRuns(
  dirA: string,
  runA: string,
  dirB: string,
  runB: string,
): Promise<DiffReport> {
  const [manifestA, manifestB] = await Promise.all([
    readRunManifest(dirA, runA),
    readRunManifest(dirB, runB),
  ]);
  // Each run's directories checked once, files read ahead.
  const checkedA: DirectoryChecks = new Map();
  const checkedB: DirectoryChecks = new Map();
  const [headerA, headerB] = await Promise.all([
    recordedRunHeader(dirA, manifestA, checkedA),
    recordedRunHeader(dirB, manifestB, checkedB),
  ]);
  const report: DiffReport = {
    run_a: runA,
    run_b: runB,
    ok: true,
    identity: headerDifferences("identity", headerA?.identity ?? null, headerB?.identity ?? null),
    environment: headerDifferences(
      "environment",
      headerA?.environment ?? null,
      headerB?.environment ?? null,
    ),
    common_ticks: 0,
    only_a: [],
    only_b: [],
    divergence: null,
  };
  const ticksA = new Map(tickRecords(manifestA));
  const ticksB = new Map(tickRecords(manifestB));
  report.only_a = [...ticksA.keys()].filter((t) => !ticksB.has(t));
  report.only_b = [...ticksB.keys()].filter((t) => !ticksA.has(t)).sort((x, y) => x - y);
  const sameId = runA === runB;
  // The pairs of files to compare, in order; runs with one id skip the
  // pairs whose recorded hashes are equal.
  const pairs: [number, TickDivergence["artifact"], ManifestRecord, ManifestRecord][] = [];
  for (const [tick, a] of ticksA) {
    const b = ticksB.get(tick);
    if (b === undefined) continue;
    report.common_ticks++;
    pairs.push([tick, "trendpack", a.trendpack, b.trendpack]);
    if (a.resultspack && b.resultspack) {
      pairs.push([tick, "resultspack", a.resultspack, b.resultspack]);
    }
  }
  const compared = sameId ? pairs.filter(([, , a, b]) => a.sha256 !== b.sha256) : pairs;
  await using filesA = new FilesAhead(dirA, compared.map(([, , a]) => a), checkedA);
  await using filesB = new FilesAhead(dirB, compared.map(([, , , b]) => b), checkedB);
  for (const [tick, artifact, recordA, recordB] of compared) {
    // Both files read before either is judged: A's problem, or what its
    // read threw, is reported before B's.
    const [a, b] = await Promise.allSettled([filesA.next(), filesB.next()]);
    const textA = recordedText(recordA, settled(a));
    const textB = recordedText(recordB, settled(b));
    const found = sameId
      ? divergenceOf(tick, artifact, textA, textB)
      : contentDivergence(tick, artifact, textA, runA, textB, runB);
    if (found !== undefined) {
      report.divergence = found;
      break;
    }
  }
  report.ok = report.divergence === null && report.identity.length === 0 &&
    report.only_a.length === 0 && report.only_b.length === 0;
  return report;
}

// Two artifacts of runs with different ids: the same once the run id is set aside.
function contentDivergence(
  tick: number,
  artifact: TickDivergence["artifact"],
  a: string,
  runA: string,
  b: string,
  runB: string,
): TickDivergence | undefined {
  if (differOnlyInRunId(a, runA, b, runB)) return undefined;
  const x = JSON.parse(a);
  const y = JSON.parse(b);
  if (isPlainObject(x) && isPlainObject(y)) y.run_id = x.run_id;
  const found = firstJsonDifference(x, y);
  return found === undefined
    ? undefined
    : { tick, artifact, task: found.task, path: found.path, a: found.a, b: found.b };
}

// Whether canonical JSON texts `a` and `b` are the same but for the value of
// the top-level `run_id`, `runA` in `a` and `runB` in `b`: byte for byte,
// without parsing. `false` leaves the answer to the parse and walk.
function differOnlyInRunId(a: string, runA: string, b: string, runB: string): boolean {
  const keyA = `"run_id":${jsonString(runA)}`;
  const keyB = `"run_id":${jsonString(runB)}`;
  const at = a.indexOf(keyA);
  return at >= 0 && b.startsWith(keyB, at) && a.length - keyA.length === b.length - keyB.length &&
    a.endsWith(b.slice(at + keyB.length)) && b.startsWith(a.slice(0, at)) &&
    depthAt(a, at) === 1;
}

// How many objects and arrays enclose position `end` of JSON text `text`
// (which is outside any string, or -1 when inside one).
function depthAt(text: string, end: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return inString ? -1 : depth;
}

function headerDifferences(part: string, a: unknown, b: unknown): HeaderDifference[] {
  if (a === null || b === null) {
    return a === b
      ? []
      : [{ field: part, a: a === null ? null : "(recorded)", b: b === null ? null : "(recorded)" }];
  }
  return jsonDifferences(a, b).map((d) => ({
    field: [part, ...d.path].join("."),
    a: d.a,
    b: d.b,
  }));
}
