/**
 * The tick orchestrator: runs one tick of a pipeline through the ERS
 * scheduler, then emits the tick's TrendPack and RunIndex with SHA-256
 * provenance, at the places the artifact layout (layout.ts) names.
 *
 * @module
 */

import type { Pipeline, PreparedPipeline } from "../ers/pipeline.ts";
import { preparePipeline } from "../ers/pipeline.ts";
import { isOpenedPipeline, type OpenedPipeline } from "./open_pipeline.ts";
import type { PromotionDecision } from "../ers/promotion.ts";
import type { TaskContext, TaskResult } from "../ers/types.ts";
import type { TickOutput } from "../ers/scheduler.ts";
import { relative, resolve, sep } from "node:path";
import {
  checkName,
  checkNonNegativeInteger,
  isPlainObject,
  orDefault,
  rangeError,
  typeError,
} from "../ers/_validate.ts";
import { buildResultsPack } from "../viz/results_pack.ts";
import { ersTraceToTrendpack } from "../viz/trendpack.ts";
import { type ArtifactRecord, ArtifactWriter, type PreparedArtifact } from "./artifact_writer.ts";
import { ARTIFACT_LAYOUT, artifactPath, buildRunIndex, ERS_PROVENANCE_VERSION } from "./layout.ts";
import { type PipelineDigest, pipelineDigest } from "./pipeline_digest.ts";
import { buildRunHeader, type RunExecution } from "./run_header.ts";
import { checkRunId, MAX_MODE_LENGTH } from "./_paths.ts";
import { buildPromotionRecord, openTickPromotion } from "./_promotion_book.ts";
import { runHeaderFor, settleRunHeader } from "./_run_headers.ts";
import { writerFor } from "./_writer_cache.ts";

/**
 * A tick that ran and was recorded: what it did and what it wrote.
 *
 * @example The artifacts' paths and hashes
 * ```ts
 * import { abraxasTick, type RecordedTick } from "@abraxas/ers/runtime";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   const result: RecordedTick = await abraxasTick({
 *     tick: 3, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step,
 *   });
 *   assert.deepEqual([result.tick, result.run_id, result.mode], [3, "R", "demo"]);
 *   assert.equal(result.artifacts.trendpack, join(dir, "viz", "R", "000003.trendpack.json"));
 *   const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(result.artifacts.trendpack));
 *   const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
 *   assert.equal(hex, result.artifacts.trendpack_sha256);
 *   const runindex = JSON.parse(await Deno.readTextFile(result.artifacts.runindex));
 *   assert.equal(runindex.hashes.trendpack_sha256, result.artifacts.trendpack_sha256);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface RecordedTick {
  /** The tick. */
  tick: number;
  /** The run. */
  run_id: string;
  /** The mode. */
  mode: string;
  /** One result per task, by name. */
  results: Record<string, TaskResult>;
  /** What is left of each lane's budget. */
  remaining: {
    forecast: { ops: number; entropy: number };
    shadow: { ops: number; entropy: number };
  };
  /**
   * The TrendPack's and the RunIndex's paths (`artifactsDir` joined with the
   * path the manifest records), with their SHA-256.
   */
  artifacts: {
    trendpack: string;
    trendpack_sha256: string;
    runindex: string;
    runindex_sha256: string;
    /** The ResultsPack's path (extended provenance only). */
    results_pack?: string;
    /** Its SHA-256 (extended provenance only). */
    results_pack_sha256?: string;
    /** The run's RunHeader's path (extended provenance only). */
    run_header?: string;
    /** Its SHA-256 (extended provenance only). */
    run_header_sha256?: string;
  };
}

/**
 * The former name of {@linkcode RecordedTick}.
 *
 * @deprecated Use {@linkcode RecordedTick}, which names what it is.
 *
 * @example The same type
 * ```ts
 * import type { AbraxasTickResult, RecordedTick } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const same = (tick: RecordedTick): AbraxasTickResult => tick;
 * assert.equal(typeof same, "function");
 * ```
 */
export type AbraxasTickResult = RecordedTick;

const ACTION = "run tick";

/**
 * Options for {@linkcode pipelineTick}.
 *
 * @example The context defaults to the pipeline's
 * ```ts
 * import { preparePipeline } from "@abraxas/ers";
 * import { pipelineTick, type PipelineTickOptions } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const pipeline = preparePipeline({
 *     tasks: [{ name: "echo", lane: "forecast", priority: 0, costOps: 1, fn: (ctx) => ctx.n }],
 *     context: (tick) => ({ n: tick }),
 *   });
 *   const options: PipelineTickOptions = {
 *     pipeline, tick: 4, runId: "P", mode: "test", artifactsDir: dir,
 *   };
 *   assert.equal((await pipelineTick(options)).results.echo?.value, 4);
 *   const given = await pipelineTick({ ...options, tick: 5, context: { n: "given" } });
 *   assert.equal(given.results.echo?.value, "given");
 *   await assert.rejects(pipelineTick({ ...options, runId: "." }), RangeError);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface PipelineTickOptions {
  /**
   * The pipeline to run: prepared or not, or opened by `openPipeline()`
   * (its lanes then run where it placed them).
   */
  pipeline: Pipeline | PreparedPipeline | OpenedPipeline;
  /** The tick number, a non-negative integer. */
  tick: number;
  /** The run: 1 to 128 letters, digits, `.`, `_`, `-`, but not `.` or `..`. */
  runId: string;
  /** The run mode recorded in provenance. */
  mode: string;
  /** Where artifacts are written (and nowhere else). */
  artifactsDir: string;
  /**
   * The tick's context.
   *
   * Defaults to `pipeline.context(tick)`.
   */
  context?: TaskContext;
  /**
   * Sync each file and the manifest to the disk before recording (see
   * `ArtifactWriterOptions.durable`); `false` for a backfill whose disk's
   * fsync cost dominates and that can be rerun after a power cut.
   *
   * @default {true}
   */
  durable?: boolean;
  /**
   * The writer to record with, made for `artifactsDir` (its `root`, or the
   * same directory), such as a group-commit writer whose `flush()` the
   * caller makes; its own durability applies, so `durable` must be left out.
   * Defaults to a writer this module shares per directory.
   */
  writer?: ArtifactWriter;
  /**
   * `reference`: the reference implementation's TrendPack, RunIndex and
   * manifest, byte for byte. `extended`: also the run's RunHeader (written
   * with its first tick, checked on every later one) and the tick's
   * ResultsPack, with the RunIndex pointing at both.
   *
   * @default {"reference"}
   */
  provenance?: Provenance;
  /**
   * Extended provenance: the pipeline module, recorded in the RunHeader (as
   * a POSIX path relative to `artifactsDir`, so that the bytes do not depend
   * on where the two live) for replay, and digested unless `pipelineDigest` is
   * given. A name of the form `ers:<name>` stands for a tool's built-in
   * pipeline: it is recorded as is and the tasks are digested.
   */
  pipelineFile?: string;
  /**
   * Extended provenance: the pipeline module's digest, from
   * {@linkcode pipelineDigest}, computed once for many ticks. Without it or
   * `pipelineFile`, the identity digests the tasks themselves.
   */
  pipelineDigest?: PipelineDigest;
  /**
   * Extended provenance: how the tasks run, recorded in the identity.
   *
   * @default {DEFAULT_EXECUTION}
   */
  execution?: RunExecution;
}

/**
 * Which artifacts a tick writes: the reference's (`reference`) or those plus
 * a RunHeader and a ResultsPack (`extended`).
 *
 * @example The two choices
 * ```ts
 * import type { Provenance } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const choices: Provenance[] = ["reference", "extended"];
 * assert.equal(choices.length, 2);
 * ```
 */
export type Provenance = "reference" | "extended";

/**
 * Runs one tick of any pipeline and emits its TrendPack, RunIndex and
 * manifest records exactly as {@linkcode abraxasTick} does. Every argument is
 * checked, and access to the directory too, before any task runs.
 *
 * @param options The pipeline, tick, run, mode and directory.
 * @returns Results, remaining budgets and the artifacts' paths and hashes.
 * @throws {TypeError | RangeError} For a bad argument, naming it; nothing runs.
 * @throws {DriftError} When this tick was already recorded with other bytes.
 * @throws {ArtifactPermissionError} When access is missing, naming the flag.
 * @throws {ManifestError} When the run's manifest on disk is corrupt.
 *
 * @example A custom pipeline
 * ```ts
 * import { pipelineTick } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const pipeline = { tasks: [{ name: "count", lane: "forecast" as const, priority: 0, costOps: 1, fn: () => 1 }] };
 *   const out = await pipelineTick({ pipeline, tick: 7, runId: "P", mode: "test", artifactsDir: dir });
 *   assert.equal(out.results.count?.status, "ok");
 *   assert.match(out.artifacts.runindex, /000007\.runindex\.json$/);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function pipelineTick(options: PipelineTickOptions): Promise<RecordedTick> {
  if (!isPlainObject(options)) typeError(ACTION, "options", "an object", options);
  const tick = checkNonNegativeInteger(ACTION, "tick", options.tick);
  const runId = checkRunId(ACTION, options.runId);
  const mode = checkName(ACTION, "mode", options.mode, MAX_MODE_LENGTH);
  const provenance = orDefault(options.provenance, "reference");
  if (provenance !== "reference" && provenance !== "extended") {
    rangeError(ACTION, "provenance", '"reference" or "extended"', provenance);
  }
  const pipeline = isOpenedPipeline(options.pipeline)
    ? options.pipeline
    : preparePipeline(options.pipeline as Pipeline);
  const writer = tickWriter(options);
  writer.checkAccess();
  // Extended: a resumed run's identity is checked before anything runs.
  const header = provenance === "extended"
    ? await checkedRunHeader(writer, pipeline, { ...options, tick, runId, mode })
    : undefined;
  const promotion = await openTickPromotion(
    resolve(options.artifactsDir),
    options.artifactsDir,
    runId,
    tick,
    pipeline.tasks,
    header?.pipelineSha256,
  );
  const out = await pipeline.runTick(tick, options.context, { lanes: promotion.lanes });
  const judged = promotion.judge(out.trace);
  const records = await emitArtifacts(writer, out, { tick, runId, mode }, judged.decisions, header);
  await judged.remember();
  if (header !== undefined) settleRunHeader(writer, runId);
  return {
    tick,
    run_id: runId,
    mode,
    results: out.results,
    remaining: {
      forecast: { ops: out.remaining.forecast.ops, entropy: out.remaining.forecast.entropy },
      shadow: { ops: out.remaining.shadow.ops, entropy: out.remaining.shadow.entropy },
    },
    artifacts: {
      trendpack: writer.resolve(records.trendpack.path),
      trendpack_sha256: records.trendpack.sha256,
      runindex: writer.resolve(records.runindex.path),
      runindex_sha256: records.runindex.sha256,
      ...(records.resultsPack === undefined || header === undefined ? {} : {
        results_pack: writer.resolve(records.resultsPack.path),
        results_pack_sha256: records.resultsPack.sha256,
        run_header: writer.resolve(header.path),
        run_header_sha256: header.sha256,
      }),
    },
  };
}

// The writer given (checked to write under artifactsDir), or the shared one.
function tickWriter(options: PipelineTickOptions): ArtifactWriter {
  const durable: unknown = orDefault(options.durable, true);
  if (typeof durable !== "boolean") typeError(ACTION, "durable", "a boolean", durable);
  const given: unknown = options.writer;
  if (given === undefined) return writerFor(options.artifactsDir, durable);
  if (!(given instanceof ArtifactWriter)) typeError(ACTION, "writer", "an ArtifactWriter", given);
  if (options.durable !== undefined) {
    rangeError(ACTION, "durable", "left out when 'writer' is given", options.durable);
  }
  if (
    typeof options.artifactsDir !== "string" ||
    resolve(given.root) !== resolve(options.artifactsDir)
  ) {
    rangeError(ACTION, "writer", `a writer of artifactsDir (${options.artifactsDir})`, given.root);
  }
  return given;
}

type RunHeaderRef = Awaited<ReturnType<typeof runHeaderFor>>;

// The run's header: the recorded one after checking that this pipeline has
// its identity (else RunIdentityError, before anything runs or is written),
// or a new one to write with this tick. Built (and its module digested) once
// per pipeline object and settings of a run.
async function checkedRunHeader(
  writer: ArtifactWriter,
  pipeline: PreparedPipeline | OpenedPipeline,
  options: PipelineTickOptions,
): Promise<RunHeaderRef> {
  const { tick, runId, mode, pipelineFile } = options;
  const modulePath = pipelineFile !== undefined && !pipelineFile.startsWith("ers:")
    ? resolve(pipelineFile)
    : undefined;
  const file = modulePath === undefined
    ? pipelineFile
    : relative(resolve(options.artifactsDir), modulePath).split(sep).join("/");
  // An opened pipeline knows where its lanes run and in which sandbox.
  const execution = options.execution ??
    (isOpenedPipeline(pipeline)
      ? { isolation: pipeline.isolation, sandbox: { ...pipeline.sandbox } }
      : undefined);
  const given = options.pipelineDigest;
  const { forecast, shadow } = pipeline.budgets;
  const settings = {
    mode,
    budgets: [forecast.ops, forecast.entropy, shadow.ops, shadow.entropy],
    digest: given === undefined ? null : { sha256: given.sha256, modules: given.modules },
    module: modulePath ?? null,
    file: file ?? null,
    execution: execution === undefined
      ? null
      : { isolation: execution.isolation, sandbox: execution.sandbox },
  };
  return await runHeaderFor(
    writer,
    runId,
    { pipeline, settings },
    async () =>
      await buildRunHeader({
        runId,
        firstTick: tick,
        mode,
        pipeline,
        pipelineDigest: given ??
          (modulePath === undefined ? undefined : await pipelineDigest(modulePath)),
        pipelineFile: file,
        execution,
      }),
  );
}

interface EmittedRecords {
  trendpack: ArtifactRecord;
  runindex: ArtifactRecord;
  resultsPack?: ArtifactRecord;
}

// The TrendPack and the RunIndex that points at it, written together (one
// lock, one manifest update), with the tick's promotion decisions; with a
// run header (extended provenance), also the ResultsPack and, when new, the
// header, both named by the RunIndex. Paths are relative to the artifacts
// root, so hashes do not depend on where the directory lives.
async function emitArtifacts(
  writer: ArtifactWriter,
  out: TickOutput,
  at: { tick: number; runId: string; mode: string },
  decisions: PromotionDecision[],
  header: RunHeaderRef | undefined,
): Promise<EmittedRecords> {
  const { tick, runId, mode } = at;
  const trendpack = await writer.prepareJson({
    runId,
    tick,
    kind: "trendpack",
    schema: ARTIFACT_LAYOUT.trendpack.schema,
    obj: ersTraceToTrendpack({
      trace: out.trace,
      runId,
      tick,
      provenance: { engine: "abraxas", mode, ers: ERS_PROVENANCE_VERSION },
    }),
    relPath: artifactPath("trendpack", runId, tick),
    extra: { mode, ers: ERS_PROVENANCE_VERSION },
  });
  const resultsPack = header === undefined ? undefined : await writer.prepareJson({
    runId,
    tick,
    kind: "resultspack",
    schema: ARTIFACT_LAYOUT.resultspack.schema,
    obj: buildResultsPack({ runId, tick, results: out.results }),
    relPath: artifactPath("resultspack", runId, tick),
    extra: { mode },
  });
  const runindex = await writer.prepareJson({
    runId,
    tick,
    kind: "runindex",
    schema: ARTIFACT_LAYOUT.runindex.schema,
    obj: buildRunIndex({
      runId,
      tick,
      mode,
      trendpack: trendpack.record,
      resultsPack: resultsPack?.record,
      runHeader: header,
    }),
    relPath: artifactPath("runindex", runId, tick),
    extra: { mode },
  });
  const batch: PreparedArtifact[] = [trendpack, runindex];
  if (decisions.length > 0) {
    batch.push(
      await writer.prepareJson({
        runId,
        tick,
        kind: "promotion",
        schema: ARTIFACT_LAYOUT.promotion.schema,
        obj: buildPromotionRecord(runId, tick, decisions),
        relPath: artifactPath("promotion", runId, tick),
      }),
    );
  }
  if (resultsPack !== undefined) batch.push(resultsPack);
  if (header?.artifact !== undefined) batch.push(header.artifact);
  const records = await writer.writeAll(batch);
  return {
    trendpack: records[0] as ArtifactRecord,
    runindex: records[1] as ArtifactRecord,
    resultsPack: resultsPack === undefined ? undefined : resultsPack.record as ArtifactRecord,
  };
}
