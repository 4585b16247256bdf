/**
 * Reading a run back: its manifest and the TrendPacks it records, read-only
 * and checked against the manifest as they are read, plus the pure queries
 * over them (every event across ticks, totals per task or per lane) that the
 * `ers index` and `ers show` commands print.
 *
 * @module
 */

import { join } from "node:path";
import { sha256Hex } from "../ers/_sha256.ts";
import { compareCodePoints } from "../ers/_code_point.ts";
import {
  checkNonNegativeInteger,
  isPlainObject,
  orDefault,
  rangeError,
  typeError,
} from "../ers/_validate.ts";
import type { Lane, Status } from "../ers/types.ts";
import {
  MAX_TIMELINE_EVENTS,
  MAX_TRENDPACK_BYTES,
  type TrendPack,
  type TrendPackLaneSpend,
  type TrendPackTimelineEntry,
} from "../viz/trendpack.ts";
import { ManifestError } from "./errors.ts";
import { requireAccess, withPermissionHint, withRootLock } from "./_fs.ts";
import { readManifestFiles, readRecordedFile, requireDirectory } from "./_read.ts";
import { findTickRecords } from "./_manifest_search.ts";
import { mapBounded, READ_CONCURRENCY } from "./_concurrency.ts";
export { MAX_MANIFEST_BYTES } from "./_read.ts";
import { ManifestModel, type ManifestRecord as RunManifestRecord } from "./_manifest.ts";
import { checkRunId } from "./_paths.ts";
import { ARTIFACT_LAYOUT, artifactPath } from "./layout.ts";
import { parseJson } from "./_json.ts";

/**
 * Most TrendPacks one {@linkcode readRunTicks} call loads unless `maxTicks` says otherwise.
 *
 * @example One call loads at most 100,000 TrendPacks by default
 * ```ts
 * import { MAX_RUN_TICKS } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_RUN_TICKS, 100_000);
 * ```
 */
export const MAX_RUN_TICKS = 100_000;
export { MAX_TIMELINE_EVENTS, MAX_TRENDPACK_BYTES } from "../viz/trendpack.ts";

export type { ManifestRecord as RunManifestRecord } from "./_manifest.ts";

/**
 * A run's manifest, read and checked.
 *
 * @example Records sort by tick, then kind
 * ```ts
 * import { abraxasTick, readRunManifest, type RunManifest } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   for (const tick of [1, 0]) {
 *     await abraxasTick({
 *       tick, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step,
 *     });
 *   }
 *   const manifest: RunManifest = await readRunManifest(dir, "R");
 *   assert.deepEqual(manifest.records.map((r) => `${r.tick} ${r.kind}`), [
 *     "0 runindex", "0 trendpack", "1 runindex", "1 trendpack",
 *   ]);
 *   assert.equal(manifest.bytes, (await Deno.readFile(`${dir}/${manifest.path}`)).length);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface RunManifest {
  /** The run. */
  run_id: string;
  /** The manifest's path relative to the artifacts root. */
  path: string;
  /** SHA-256 of the manifest file as read. */
  sha256: string;
  /** Length of the manifest file in bytes. */
  bytes: number;
  /** Every record, sorted by (tick, kind, schema, path). */
  records: RunManifestRecord[];
}

/**
 * One tick's TrendPack, read and checked against its manifest record.
 *
 * @example The TrendPack a tick wrote, read back
 * ```ts
 * import { abraxasTick, readRunManifest, readRunTicks, type RunTick } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   const out = await abraxasTick({
 *     tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step,
 *   });
 *   const ticks: RunTick[] = await readRunTicks(dir, await readRunManifest(dir, "R"));
 *   assert.equal(ticks.length, 1);
 *   assert.equal(ticks[0]!.sha256, out.artifacts.trendpack_sha256);
 *   assert.equal(ticks[0]!.trendpack.stats.total_events, 3);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface RunTick {
  /** The tick. */
  tick: number;
  /** The TrendPack's path relative to the artifacts root. */
  path: string;
  /** Its SHA-256, equal to what the manifest records. */
  sha256: string;
  /** The TrendPack itself. */
  trendpack: TrendPack;
}

/**
 * One trace event of a run, as its tick's TrendPack records it.
 *
 * @example An event knows its tick and its place in it
 * ```ts
 * import { ersTraceToTrendpack } from "@abraxas/ers/viz";
 * import { type RunEvent, runEvents } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const trendpack = ersTraceToTrendpack({
 *   runId: "R", tick: 9, trace: [
 *     { tick: 9, task: "a", lane: "forecast", status: "ok", cost_ops: 1, cost_entropy: 0, meta: { tags: [] } },
 *     { tick: 9, task: "b", lane: "forecast", status: "error", cost_ops: 2, cost_entropy: 0, meta: { tags: [] } },
 *   ],
 * });
 * const events: RunEvent[] = runEvents([{ tick: 9, path: "viz/R/000009.trendpack.json", sha256: "", trendpack }]);
 * assert.deepEqual(events[1], {
 *   tick: 9, order: 1, task: "b", lane: "forecast", status: "error", cost_ops: 2, cost_entropy: 0,
 * });
 * ```
 */
export interface RunEvent {
  /** The tick. */
  tick: number;
  /** Position in the tick's execution order, from 0. */
  order: number;
  /** The task. */
  task: string;
  /** The task's lane. */
  lane: Lane;
  /** What happened. */
  status: Status;
  /** Declared ops cost. */
  cost_ops: number;
  /** Declared entropy cost. */
  cost_entropy: number;
}

/**
 * Which events {@linkcode runEvents} keeps; an unset field keeps all. An event
 * must match every field that is set.
 *
 * @example The shadow lane's successes
 * ```ts
 * import { ersTraceToTrendpack } from "@abraxas/ers/viz";
 * import { type RunEventFilter, runEvents } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const trendpack = ersTraceToTrendpack({
 *   runId: "R", tick: 0, trace: [
 *     { tick: 0, task: "f", lane: "forecast", status: "ok", cost_ops: 1, cost_entropy: 0, meta: { tags: [] } },
 *     { tick: 0, task: "s1", lane: "shadow", status: "ok", cost_ops: 1, cost_entropy: 0, meta: { tags: [] } },
 *     { tick: 0, task: "s2", lane: "shadow", status: "error", cost_ops: 1, cost_entropy: 0, meta: { tags: [] } },
 *   ],
 * });
 * const filter: RunEventFilter = { lane: "shadow", status: "ok" };
 * const events = runEvents([{ tick: 0, path: "viz/R/000000.trendpack.json", sha256: "", trendpack }], filter);
 * assert.deepEqual(events.map((e) => e.task), ["s1"]);
 * ```
 */
export interface RunEventFilter {
  /** Only this lane. */
  lane?: Lane;
  /** Only this status. */
  status?: Status;
  /** Only the task of exactly this name. */
  task?: string;
}

/**
 * Totals over a group of events: one task, or one lane.
 *
 * @example The same events totalled per lane and per task
 * ```ts
 * import { type EventTotals, laneTotals, type RunEvent, taskTotals } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const events: RunEvent[] = [
 *   { tick: 0, order: 0, task: "a", lane: "shadow", status: "ok", cost_ops: 2, cost_entropy: 0 },
 *   { tick: 0, order: 1, task: "b", lane: "shadow", status: "ok", cost_ops: 3, cost_entropy: 0 },
 * ];
 * const byLane: EventTotals[] = laneTotals(events);
 * const byTask: EventTotals[] = taskTotals(events);
 * assert.deepEqual(byLane.map((t) => [t.task, t.runs, t.spent_ops]), [[null, 2, 5]]);
 * assert.deepEqual(byTask.map((t) => [t.task, t.runs, t.spent_ops]), [["a", 1, 2], ["b", 1, 3]]);
 * ```
 */
export interface EventTotals {
  /** The task, or `null` for a lane's totals. */
  task: string | null;
  /** The lane. */
  lane: Lane;
  /** Events in the group: times the task (or the lane's tasks) was scheduled. */
  runs: number;
  /** Events with status `ok`. */
  ok: number;
  /** Events with status `error`. */
  errors: number;
  /** Events with status `skipped_budget`. */
  skipped: number;
  /** Ops spent: the cost of every event that was not skipped. */
  spent_ops: number;
  /** Entropy spent: the cost of every event that was not skipped. */
  spent_entropy: number;
}

/**
 * Options for {@linkcode readRunTicks}.
 *
 * @example One tick, and a limit the run exceeds
 * ```ts
 * import {
 *   abraxasTick,
 *   readRunManifest,
 *   readRunTicks,
 *   type ReadRunTicksOptions,
 * } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   for (const tick of [0, 1, 2]) {
 *     await abraxasTick({
 *       tick, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step,
 *     });
 *   }
 *   const manifest = await readRunManifest(dir, "R");
 *   const options: ReadRunTicksOptions = { tick: 1 };
 *   assert.deepEqual((await readRunTicks(dir, manifest, options)).map((t) => t.tick), [1]);
 *   await assert.rejects(readRunTicks(dir, manifest, { maxTicks: 2 }), RangeError);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface ReadRunTicksOptions {
  /** Read only this tick's TrendPack (it must be recorded). */
  tick?: number;
  /**
   * Most TrendPacks to load; a call that would load more is refused.
   *
   * @default {100000}
   */
  maxTicks?: number;
}

/**
 * Raised when an artifact a manifest records cannot be read back as
 * recorded: missing, of another length or hash, or not the shape its schema
 * promises. The message names the file.
 *
 * @example The path is in the message
 * ```ts
 * import { RunReadError } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const error = new RunReadError("viz/R/000000.trendpack.json", "recorded file is missing");
 * assert.equal(error.name, "RunReadError");
 * assert.equal(error.path, "viz/R/000000.trendpack.json");
 * assert.match(error.message, /viz\/R\/000000\.trendpack\.json: recorded file is missing/);
 * ```
 */
export class RunReadError extends Error {
  /** Always `"RunReadError"`. */
  override name = "RunReadError";
  /** The artifact's path relative to the artifacts root. */
  readonly path: string;

  /**
   * Creates the error.
   *
   * @param path The artifact's path relative to the artifacts root.
   * @param problem What is wrong with it.
   */
  constructor(path: string, problem: string) {
    super(`Cannot read recorded artifact ${path}: ${problem}`);
    this.path = path;
  }
}

const TRENDPACK_SCHEMA = ARTIFACT_LAYOUT.trendpack.schema;
const LANES: readonly string[] = ["forecast", "shadow"];
const STATUSES: readonly string[] = ["ok", "error", "skipped_budget"];

/**
 * Reads a run's manifest holding the artifacts directory's lock in shared
 * mode, so that it is never read mid-update, and checks it: canonical
 * Manifest.v0 of this run, sorted, every path inside the artifacts directory.
 * Needs only read access.
 *
 * @param artifactsDir The artifacts directory.
 * @param runId The run.
 * @returns The manifest, with its SHA-256.
 * @throws {TypeError | RangeError} When `runId` is not a valid run id.
 * @throws {Deno.errors.NotFound} When the directory, or the run's manifest, does not exist.
 * @throws {ManifestError} When the manifest is not valid, or larger than
 * {@linkcode MAX_MANIFEST_BYTES}, naming it.
 * @throws {ArtifactPermissionError} When read access is missing, naming the flag.
 *
 * @example Read the manifest of a one-tick run
 * ```ts
 * import { abraxasTick, readRunManifest } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   await abraxasTick({ tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   const manifest = await readRunManifest(dir, "R");
 *   assert.equal(manifest.path, "manifests/R.manifest.json");
 *   assert.deepEqual(manifest.records.map((r) => r.schema), ["RunIndex.v0", "TrendPack.v0"]);
 *   assert.equal(manifest.sha256.length, 64);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function readRunManifest(artifactsDir: string, runId: string): Promise<RunManifest> {
  checkRunId("read run manifest", runId);
  requireAccess("read", artifactsDir);
  return await withPermissionHint(artifactsDir, async () => {
    await requireDirectory(
      artifactsDir,
      `Cannot read run ${runId} as ${artifactsDir} is not a directory`,
    );
    const path = artifactPath("manifest", runId);
    const bytes = (await readManifestFiles(artifactsDir, runId)).get(runId);
    if (bytes instanceof ManifestError) throw bytes;
    if (bytes === undefined) throw new Deno.errors.NotFound(`No manifest for run ${runId}`);
    let model: ManifestModel;
    try {
      model = ManifestModel.parse(runId, bytes);
    } catch (error) {
      throw new ManifestError(path, (error as Error).message);
    }
    const records = model.records().map((record) => structuredClone(record));
    const sha256 = await sha256Hex(bytes as Uint8Array<ArrayBuffer>);
    return { run_id: runId, path, sha256, bytes: bytes.length, records };
  });
}

/**
 * Reads the TrendPacks a manifest records (`TrendPack.v0` records), in tick
 * order, checking each right after reading it: length and SHA-256 as
 * recorded, then the TrendPack shape, run and tick. Needs only read access.
 *
 * @param artifactsDir The artifacts directory the manifest was read from.
 * @param manifest The run's manifest, from {@linkcode readRunManifest}.
 * @param options One tick only, and the most TrendPacks to load.
 * @returns One entry per TrendPack, sorted by tick then path.
 * @throws {Deno.errors.NotFound} When `options.tick` is given and no TrendPack is recorded for it.
 * @throws {TypeError} When `tick` or `maxTicks` is not a number.
 * @throws {RangeError} When `tick` or `maxTicks` is not a non-negative
 * integer, or more than `maxTicks` TrendPacks would be loaded.
 * @throws {RunReadError} When a recorded TrendPack is missing, differs from
 * its record, or is not a valid TrendPack; the message names the file.
 * @throws {ArtifactPermissionError} When read access is missing, naming the flag.
 *
 * @example Every event of a run, across ticks
 * ```ts
 * import { abraxasTick, readRunManifest, readRunTicks, runEvents } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   for (const tick of [0, 1]) {
 *     await abraxasTick({ tick, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   }
 *   const ticks = await readRunTicks(dir, await readRunManifest(dir, "R"));
 *   assert.deepEqual(ticks.map((t) => t.tick), [0, 1]);
 *   assert.equal(runEvents(ticks, { task: "oracle:overlay" }).length, 2);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function readRunTicks(
  artifactsDir: string,
  manifest: RunManifest,
  options: ReadRunTicksOptions = {},
): Promise<RunTick[]> {
  const action = "read run ticks";
  if (!isPlainObject(manifest) || !Array.isArray(manifest.records)) {
    typeError(action, "manifest", "a RunManifest from readRunManifest()", manifest);
  }
  if (!isPlainObject(options)) typeError(action, "options", "an object", options);
  const tick = options.tick === undefined
    ? undefined
    : checkNonNegativeInteger(action, "tick", options.tick);
  const maxTicks = checkNonNegativeInteger(
    action,
    "maxTicks",
    orDefault(options.maxTicks, MAX_RUN_TICKS),
  );
  const records = manifest.records.filter((record) =>
    record.schema === TRENDPACK_SCHEMA && (tick === undefined || record.tick === tick)
  );
  if (tick !== undefined && records.length === 0) {
    throw new Deno.errors.NotFound(`Run ${manifest.run_id} records no TrendPack for tick ${tick}`);
  }
  if (records.length > maxTicks) {
    rangeError(
      action,
      "maxTicks",
      `at least the ${records.length} TrendPacks the run records`,
      maxTicks,
    );
  }
  requireAccess("read", artifactsDir);
  return await withPermissionHint(artifactsDir, async () => {
    const ticks: RunTick[] = [];
    for (const record of records) {
      const trendpack = checkTrendPack(
        await readRecorded(artifactsDir, record),
        record,
        manifest.run_id,
      );
      ticks.push({ tick: record.tick, path: record.path, sha256: record.sha256, trendpack });
    }
    return ticks;
  });
}

/**
 * A recorded artifact that is not on disk as its manifest records it.
 *
 * @example A deleted file
 * ```ts
 * import type { DamagedArtifact } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const damaged: DamagedArtifact = { path: "viz/R/000000.trendpack.json", problem: "recorded file is missing" };
 * assert.match(damaged.path, /^viz\//);
 * ```
 */
export interface DamagedArtifact {
  /** Its path relative to the artifacts root. */
  path: string;
  /** What is wrong: missing, another length or SHA-256, not a file. */
  problem: string;
}

/**
 * Reads the given recorded artifacts back and compares each with its record
 * (length and SHA-256), a bounded number of files at a time. Needs only read
 * access.
 *
 * @param artifactsDir The artifacts directory the records come from.
 * @param records Records of a manifest, from {@linkcode readRunManifest}.
 * @returns The damaged ones, in the order of `records`; empty when all match.
 * @throws {ArtifactPermissionError} When read access is missing, naming the flag.
 *
 * @example A changed TrendPack is named
 * ```ts
 * import { abraxasTick, checkRecordedArtifacts, readRunManifest } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   await abraxasTick({ tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   const { records } = await readRunManifest(dir, "R");
 *   assert.deepEqual(await checkRecordedArtifacts(dir, records), []);
 *   await Deno.writeTextFile(`${dir}/viz/R/000000.trendpack.json`, " ", { append: true });
 *   const [damaged] = await checkRecordedArtifacts(dir, records);
 *   assert.equal(damaged?.path, "viz/R/000000.trendpack.json");
 *   assert.match(damaged?.problem ?? "", /^length is \d+ bytes, the manifest records \d+$/);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function checkRecordedArtifacts(
  artifactsDir: string,
  records: readonly RunManifestRecord[],
): Promise<DamagedArtifact[]> {
  if (records.length === 0) return [];
  requireAccess("read", artifactsDir);
  return await withPermissionHint(artifactsDir, async () => {
    const problems = await mapBounded(records, READ_CONCURRENCY, async (record) => {
      const { problem } = await readRecordedFile(artifactsDir, record);
      return problem === undefined ? undefined : { path: record.path, problem };
    });
    return problems.filter((p): p is DamagedArtifact => p !== undefined);
  });
}

/**
 * Reads the TrendPacks a manifest records one after another, in tick order,
 * each checked as {@linkcode readRunTicks} checks it, with a bounded number
 * of reads in flight. Unlike `readRunTicks` it holds only those few in
 * memory, so it reads a run of any length.
 *
 * @param artifactsDir The artifacts directory the manifest was read from.
 * @param manifest The run's manifest, from {@linkcode readRunManifest}.
 * @returns The ticks, one at a time.
 * @throws {RunReadError} When a recorded TrendPack is missing, differs from
 * its record, or is not a valid TrendPack; the message names the file.
 * @throws {ArtifactPermissionError} When read access is missing, naming the flag.
 *
 * @example Totals without holding the run
 * ```ts
 * import { abraxasTick, readRunManifest, runEvents, streamRunTicks } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   for (const tick of [0, 1, 2]) {
 *     await abraxasTick({ tick, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   }
 *   let events = 0;
 *   for await (const tick of streamRunTicks(dir, await readRunManifest(dir, "R"))) {
 *     events += runEvents([tick]).length;
 *   }
 *   assert.equal(events, 9);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function* streamRunTicks(
  artifactsDir: string,
  manifest: RunManifest,
): AsyncGenerator<RunTick, void, undefined> {
  const records = manifest.records.filter((record) => record.schema === TRENDPACK_SCHEMA);
  requireAccess("read", artifactsDir);
  const read = (record: RunManifestRecord) =>
    withPermissionHint(artifactsDir, async (): Promise<RunTick> => ({
      tick: record.tick,
      path: record.path,
      sha256: record.sha256,
      trendpack: checkTrendPack(
        await readRecorded(artifactsDir, record),
        record,
        manifest.run_id,
      ),
    }));
  // A window of reads in flight, taken in order; a failed read is awaited
  // (and thrown) when its turn comes, and the others are still settled.
  const inFlight: Promise<RunTick>[] = [];
  let next = 0;
  try {
    while (next < records.length || inFlight.length > 0) {
      while (next < records.length && inFlight.length < READ_CONCURRENCY) {
        const pending = read(records[next++] as RunManifestRecord);
        pending.catch(() => {}); // handled when awaited below
        inFlight.push(pending);
      }
      yield await (inFlight.shift() as Promise<RunTick>);
    }
  } finally {
    await Promise.allSettled(inFlight);
  }
}

/**
 * Reads one tick of a run: finds the tick's TrendPack record in the run's
 * manifest without reading the manifest whole (a binary search over its
 * sorted records, under the shared lock), then reads the TrendPack and checks
 * it as {@linkcode readRunTicks} does. Its cost does not grow with the run.
 *
 * @param artifactsDir The artifacts directory.
 * @param runId The run.
 * @param tick The tick.
 * @returns The tick's TrendPack, checked against its record.
 * @throws {TypeError | RangeError} When `runId` or `tick` is not valid.
 * @throws {Deno.errors.NotFound} When the directory or the run's manifest
 * does not exist, or the run records no TrendPack for the tick.
 * @throws {RunReadError} When the TrendPack is missing, differs from its
 * record, or is not a valid TrendPack; the message names the file.
 * @throws {ManifestError} When the manifest is not valid.
 * @throws {ArtifactPermissionError} When read access is missing, naming the flag.
 *
 * @example One tick of a two-tick run
 * ```ts
 * import { abraxasTick, readRunTick } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   for (const tick of [0, 1]) {
 *     await abraxasTick({ tick, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   }
 *   const one = await readRunTick(dir, "R", 1);
 *   assert.equal(one.path, "viz/R/000001.trendpack.json");
 *   assert.equal(one.trendpack.tick, 1);
 *   await assert.rejects(readRunTick(dir, "R", 2), Deno.errors.NotFound);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function readRunTick(
  artifactsDir: string,
  runId: string,
  tick: number,
): Promise<RunTick> {
  const action = "read run tick";
  checkRunId(action, runId);
  checkNonNegativeInteger(action, "tick", tick);
  requireAccess("read", artifactsDir);
  const records = await withPermissionHint(artifactsDir, async () => {
    await requireDirectory(
      artifactsDir,
      `Cannot read run ${runId} as ${artifactsDir} is not a directory`,
    );
    const lockDir = join(artifactsDir, ARTIFACT_LAYOUT.manifest.dir);
    const manifestPath = join(artifactsDir, artifactPath("manifest", runId));
    const found = await Deno.lstat(manifestPath).then(
      () =>
        withRootLock(lockDir, false, async () => {
          try {
            return await findTickRecords(manifestPath, runId, tick);
          } catch {
            return undefined; // not searchable as it is: read it whole below
          }
        }, Deno.realPathSync(lockDir)),
      () => undefined,
    );
    return found ?? (await readRunManifest(artifactsDir, runId)).records
      .filter((record) => record.tick === tick);
  });
  const record = records.find((r) => r.schema === TRENDPACK_SCHEMA);
  if (record === undefined) {
    throw new Deno.errors.NotFound(`Run ${runId} records no TrendPack for tick ${tick}`);
  }
  return await withPermissionHint(artifactsDir, async () => {
    const trendpack = checkTrendPack(await readRecorded(artifactsDir, record), record, runId);
    return { tick, path: record.path, sha256: record.sha256, trendpack };
  });
}

// The artifact's bytes, parsed as JSON, once they match the record exactly.
async function readRecorded(root: string, record: RunManifestRecord): Promise<unknown> {
  if (record.bytes > MAX_TRENDPACK_BYTES) {
    throw new RunReadError(
      record.path,
      `the manifest records ${record.bytes} bytes, more than the ${MAX_TRENDPACK_BYTES} a TrendPack may hold`,
    );
  }
  const file = await readRecordedFile(root, record);
  if (file.problem !== undefined) throw new RunReadError(record.path, file.problem);
  try {
    return parseJson(new TextDecoder("utf-8", { fatal: true }).decode(file.bytes));
  } catch {
    throw new RunReadError(record.path, "it is not valid UTF-8 JSON");
  }
}

// Checks what the CLI relies on: the version, run, tick, every timeline
// entry, the lanes' spend and the summary counts.
function checkTrendPack(value: unknown, record: RunManifestRecord, runId: string): TrendPack {
  const bad = (problem: string): never => {
    throw new RunReadError(record.path, problem);
  };
  if (!isPlainObject(value)) return bad("it is not a JSON object");
  if (value.version !== "0.1") bad(`'version' is not "0.1"`);
  if (value.run_id !== runId) bad(`'run_id' is not ${JSON.stringify(runId)}`);
  if (value.tick !== record.tick) bad(`'tick' is not ${record.tick}, the tick its record holds`);
  if (!isPlainObject(value.provenance)) bad("'provenance' is not an object");
  const timeline = value.timeline;
  if (!Array.isArray(timeline)) return bad("'timeline' is not an array");
  if (timeline.length > MAX_TIMELINE_EVENTS) {
    bad(`'timeline' holds ${timeline.length} events, more than ${MAX_TIMELINE_EVENTS}`);
  }
  timeline.forEach((entry, i) => {
    const problem = timelineEntryProblem(entry);
    if (problem) bad(`timeline[${i}]${problem}`);
  });
  const budget = value.budget;
  if (!isPlainObject(budget)) return bad("'budget' is not an object");
  for (const lane of LANES) {
    const spend = budget[lane];
    if (!isLaneSpend(spend)) return bad(`budget.${lane} is not { spent_ops, spent_entropy }`);
    const spent = laneSpend(timeline as TrendPackTimelineEntry[], lane);
    if (spend.spent_ops !== spent.spent_ops || spend.spent_entropy !== spent.spent_entropy) {
      bad(`budget.${lane} does not add up to its timeline's costs`);
    }
  }
  const stats = value.stats;
  if (!isPlainObject(stats) || stats.total_events !== timeline.length) {
    bad("stats.total_events does not count the timeline");
  }
  if (!Array.isArray(value.errors) || !Array.isArray(value.skipped)) {
    bad("'errors' and 'skipped' are not both arrays");
  }
  return value as unknown as TrendPack;
}

function timelineEntryProblem(entry: unknown): string | undefined {
  if (!isPlainObject(entry)) return " is not an object";
  if (typeof entry.task !== "string") return ".task is not a string";
  if (!LANES.includes(entry.lane as string)) return ".lane is not forecast or shadow";
  if (!STATUSES.includes(entry.status as string)) {
    return ".status is not ok, error or skipped_budget";
  }
  if (!isCount(entry.cost_ops)) return ".cost_ops is not a non-negative integer";
  if (!isCount(entry.cost_entropy)) return ".cost_entropy is not a non-negative integer";
  return undefined;
}

// What a lane spent: the costs of its events that were not skipped.
function laneSpend(timeline: readonly TrendPackTimelineEntry[], lane: string): TrendPackLaneSpend {
  const spend = { spent_ops: 0, spent_entropy: 0 };
  for (const entry of timeline) {
    if (entry.lane !== lane || entry.status === "skipped_budget") continue;
    spend.spent_ops += entry.cost_ops;
    spend.spent_entropy += entry.cost_entropy;
  }
  return spend;
}

function isLaneSpend(value: unknown): value is TrendPackLaneSpend {
  return isPlainObject(value) && isCount(value.spent_ops) && isCount(value.spent_entropy);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/**
 * Every event of the given ticks that passes the filter, in tick order and,
 * within a tick, in execution order. Pure.
 *
 * @param ticks TrendPacks from {@linkcode readRunTicks}.
 * @param filter Lane, status and task to keep; unset keeps all.
 * @returns One row per matching event.
 *
 * @example Only the skipped events
 * ```ts
 * import { ersTraceToTrendpack } from "@abraxas/ers/viz";
 * import { runEvents } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const trendpack = ersTraceToTrendpack({
 *   runId: "R", tick: 4, trace: [
 *     { tick: 4, task: "a", lane: "forecast", status: "ok", cost_ops: 3, cost_entropy: 0, meta: { tags: [] } },
 *     { tick: 4, task: "b", lane: "shadow", status: "skipped_budget", cost_ops: 9, cost_entropy: 0, meta: { reason: "budget" } },
 *   ],
 * });
 * const events = runEvents([{ tick: 4, path: "viz/R/000004.trendpack.json", sha256: "", trendpack }], {
 *   status: "skipped_budget",
 * });
 * assert.deepEqual(events, [
 *   { tick: 4, order: 1, task: "b", lane: "shadow", status: "skipped_budget", cost_ops: 9, cost_entropy: 0 },
 * ]);
 * ```
 */
export function runEvents(ticks: readonly RunTick[], filter: RunEventFilter = {}): RunEvent[] {
  if (!Array.isArray(ticks)) typeError("list run events", "ticks", "an array of RunTicks", ticks);
  if (!isPlainObject(filter)) typeError("list run events", "filter", "an object", filter);
  const events: RunEvent[] = [];
  for (const { tick, trendpack } of ticks) {
    trendpack.timeline.forEach((entry: TrendPackTimelineEntry, order: number) => {
      if (filter.lane !== undefined && entry.lane !== filter.lane) return;
      if (filter.status !== undefined && entry.status !== filter.status) return;
      if (filter.task !== undefined && entry.task !== filter.task) return;
      const { task, lane, status, cost_ops, cost_entropy } = entry;
      events.push({ tick, order, task, lane, status, cost_ops, cost_entropy });
    });
  }
  return events;
}

/**
 * Totals per task: how often each task was scheduled, how often it ended
 * `ok`, `error` or `skipped_budget`, and what it spent. Sorted by lane
 * (forecast first), then task name by code point. Pure.
 *
 * @param events Events from {@linkcode runEvents}.
 * @returns One row per (lane, task).
 *
 * @example A task that ran twice and was skipped once
 * ```ts
 * import { taskTotals } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const event = { order: 0, task: "a", lane: "forecast" as const, cost_ops: 5, cost_entropy: 1 };
 * const totals = taskTotals([
 *   { ...event, tick: 0, status: "ok" },
 *   { ...event, tick: 1, status: "error" },
 *   { ...event, tick: 2, status: "skipped_budget" },
 * ]);
 * assert.deepEqual(totals, [
 *   { task: "a", lane: "forecast", runs: 3, ok: 1, errors: 1, skipped: 1, spent_ops: 10, spent_entropy: 2 },
 * ]);
 * ```
 */
export function taskTotals(events: readonly RunEvent[]): EventTotals[] {
  return totalsBy(events, (event) => event.task);
}

/**
 * Totals per lane, as {@linkcode taskTotals} makes per task (`task` is
 * `null`). Forecast first. Pure.
 *
 * @param events Events from {@linkcode runEvents}.
 * @returns One row per lane that has events.
 *
 * @example Spend per lane
 * ```ts
 * import { laneTotals } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const totals = laneTotals([
 *   { tick: 0, order: 0, task: "a", lane: "forecast", status: "ok", cost_ops: 5, cost_entropy: 0 },
 *   { tick: 0, order: 1, task: "b", lane: "forecast", status: "ok", cost_ops: 7, cost_entropy: 0 },
 *   { tick: 0, order: 2, task: "s", lane: "shadow", status: "skipped_budget", cost_ops: 9, cost_entropy: 0 },
 * ]);
 * assert.deepEqual(totals.map((t) => [t.lane, t.runs, t.spent_ops, t.skipped]), [
 *   ["forecast", 2, 12, 0],
 *   ["shadow", 1, 0, 1],
 * ]);
 * ```
 */
export function laneTotals(events: readonly RunEvent[]): EventTotals[] {
  return totalsBy(events, () => null);
}

/**
 * Two lists of totals as one: rows of the same lane and task added up, in
 * the order {@linkcode taskTotals} and {@linkcode laneTotals} give. Totals
 * of a run, tick by tick, without holding its events. Pure.
 *
 * @param a Totals, such as those of the ticks so far.
 * @param b More totals of the same kind (per task, or per lane).
 * @returns The sums, one row per lane and task.
 *
 * @example Two ticks' totals
 * ```ts
 * import { mergeTotals, taskTotals } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const event = { tick: 0, order: 0, task: "a", lane: "forecast" as const, status: "ok" as const, cost_ops: 5, cost_entropy: 1 };
 * const merged = mergeTotals(taskTotals([event]), taskTotals([{ ...event, tick: 1 }]));
 * assert.deepEqual(merged.map((t) => [t.task, t.runs, t.spent_ops]), [["a", 2, 10]]);
 * assert.deepEqual(merged, taskTotals([event, { ...event, tick: 1 }]));
 * ```
 */
export function mergeTotals(a: readonly EventTotals[], b: readonly EventTotals[]): EventTotals[] {
  const groups = new Map<string, EventTotals>();
  for (const row of [...a, ...b]) {
    const key = `${row.lane}\u0000${row.task ?? ""}`;
    const sum = groups.get(key);
    if (sum === undefined) {
      groups.set(key, { ...row });
      continue;
    }
    sum.runs += row.runs;
    sum.ok += row.ok;
    sum.errors += row.errors;
    sum.skipped += row.skipped;
    sum.spent_ops += row.spent_ops;
    sum.spent_entropy += row.spent_entropy;
  }
  return [...groups.values()].sort(byLaneThenTask);
}

function byLaneThenTask(a: EventTotals, b: EventTotals): number {
  return LANES.indexOf(a.lane) - LANES.indexOf(b.lane) ||
    compareCodePoints(a.task ?? "", b.task ?? "");
}

function totalsBy(
  events: readonly RunEvent[],
  taskOf: (event: RunEvent) => string | null,
): EventTotals[] {
  if (!Array.isArray(events)) {
    typeError("total run events", "events", "an array of RunEvents", events);
  }
  const groups = new Map<string, EventTotals>();
  for (const event of events) {
    const task = taskOf(event);
    const key = `${event.lane}\u0000${task ?? ""}`;
    let totals = groups.get(key);
    if (totals === undefined) {
      totals = {
        task,
        lane: event.lane,
        runs: 0,
        ok: 0,
        errors: 0,
        skipped: 0,
        spent_ops: 0,
        spent_entropy: 0,
      };
      groups.set(key, totals);
    }
    addEvent(totals, event);
  }
  return [...groups.values()].sort(byLaneThenTask);
}

function addEvent(totals: EventTotals, event: RunEvent): void {
  totals.runs++;
  if (event.status === "ok") totals.ok++;
  if (event.status === "error") totals.errors++;
  if (event.status === "skipped_budget") {
    totals.skipped++;
    return;
  }
  totals.spent_ops += event.cost_ops;
  totals.spent_entropy += event.cost_entropy;
}
