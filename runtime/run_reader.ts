/**
 * Reading a run back: its manifest and the TrendPacks it records, read-only
 * and checked against the manifest as they are read. The pure queries over
 * them (every event across ticks, totals per task or per lane) are in
 * `viz/run_events.ts`; the TrendPack check is next to the TrendPack, in
 * `viz/trendpack.ts`.
 *
 * @module
 */

import { sha256Hex } from "../ers/_sha256.ts";
import {
  checkNonNegativeInteger,
  isPlainObject,
  orDefault,
  rangeError,
  typeError,
} from "../ers/_validate.ts";
import type { RunTick } from "../viz/run_events.ts";
import { ManifestError } from "./errors.ts";
import { requireAccess, withPermissionHint } from "./_fs.ts";
import { readManifestFiles, readRecordedFile, requireDirectory } from "./_read.ts";
import { readTickRecords } from "./_manifest_search.ts";
import { readRecordedTick } from "./_run_stream.ts";
import { mapAhead, mapBounded, READ_CONCURRENCY } from "./_concurrency.ts";
export { MAX_MANIFEST_BYTES } from "./_read.ts";
import { ManifestModel, type ManifestRecord as RunManifestRecord } from "./_manifest.ts";
import { checkRunId } from "./_paths.ts";
import { ARTIFACT_LAYOUT, artifactPath } from "./layout.ts";

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

const TRENDPACK_SCHEMA = ARTIFACT_LAYOUT.trendpack.schema;

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
    const records = [...model.records()]; // fresh from this parse: no copy needed
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
 * import { abraxasTick, readRunManifest, readRunTicks, runEvents } from "@abraxas/ers";
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
      ticks.push(await readRecordedTick(artifactsDir, record, manifest.run_id));
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
 * import { abraxasTick, readRunManifest, runEvents, streamRunTicks } from "@abraxas/ers";
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
    withPermissionHint(artifactsDir, () => readRecordedTick(artifactsDir, record, manifest.run_id));
  yield* mapAhead(records, READ_CONCURRENCY, read);
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
  const records = await readTickRecords(artifactsDir, runId, tick, readRunManifest);
  const record = records.find((r) => r.schema === TRENDPACK_SCHEMA);
  if (record === undefined) {
    throw new Deno.errors.NotFound(`Run ${runId} records no TrendPack for tick ${tick}`);
  }
  return await withPermissionHint(
    artifactsDir,
    () => readRecordedTick(artifactsDir, record, runId),
  );
}
