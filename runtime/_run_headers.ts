// The RunHeader of each run a writer records in extended provenance, read
// once per process: a resumed run is checked against it before its next tick
// runs, and a new run gets one with its first tick. A header is built (its
// identity digested) once per pipeline and settings of a run: later ticks with
// the same pipeline object and settings have the identity already checked.

import { canonicalJsonString } from "../ers/_canonical.ts";
import { readRegularFile, UntrustedFileError } from "./_fs.ts";
import { parseJson } from "./_json.ts";
import { jsonDifferences } from "../viz/drift.ts";
import type { ArtifactWriter, PreparedArtifact } from "./artifact_writer.ts";
import { RunIdentityError } from "./errors.ts";
import { ARTIFACT_LAYOUT, artifactPath } from "./layout.ts";
import { identitySha256, isRunHeader, type RunHeader } from "./run_header.ts";
import { RunReadError } from "./errors.ts";

interface KnownHeader {
  header: RunHeader;
  sha256: string;
  // Whether the header has been written (or found recorded) by this process.
  settled: boolean;
  // The inputs whose identity was last checked against the header.
  checked?: { pipeline: WeakRef<object>; settings: string };
}

/**
 * What a tick's RunHeader is built from: the pipeline object (its tasks and
 * budgets) and every other setting that reaches the identity, as JSON. The
 * same inputs build the same identity.
 */
export interface RunHeaderInputs {
  /** The prepared or opened pipeline. */
  pipeline: object;
  /** The mode, digest, pipeline file and execution settings. */
  settings: unknown;
}

const known = new WeakMap<ArtifactWriter, Map<string, KnownHeader>>();
const MAX_KNOWN_RUNS = 256;
// A RunHeader is a few kilobytes; anything far larger was not written by ERS.
const MAX_RUN_HEADER_BYTES = 16 * 1024 * 1024;

/**
 * The run's header to refer to: the one on disk if there is one (after
 * checking that the header `build` makes from `inputs` has its identity),
 * else that header. `artifact` is set when the header must be part of this
 * tick's batch. Once the header is settled, a tick with the inputs last
 * checked neither builds a header nor digests an identity.
 *
 * @throws {RunIdentityError} When the recorded identity differs.
 * @throws {RunReadError} When the recorded header is not a valid RunHeader.
 */
export async function runHeaderFor(
  writer: ArtifactWriter,
  runId: string,
  inputs: RunHeaderInputs,
  build: () => Promise<RunHeader>,
): Promise<{ sha256: string; path: string; pipelineSha256: string; artifact?: PreparedArtifact }> {
  let runs = known.get(writer);
  if (runs === undefined) known.set(writer, runs = new Map());
  const path = artifactPath("runheader", runId);
  let entry = runs.get(runId);
  const settings = settingsText(inputs.settings);
  if (
    entry?.settled === true && settings !== undefined &&
    entry.checked?.settings === settings && entry.checked.pipeline.deref() === inputs.pipeline
  ) {
    return { sha256: entry.sha256, path, pipelineSha256: entry.header.identity.pipeline_sha256 };
  }
  const candidate = await build();
  if (entry === undefined) {
    const onDisk = await readHeader(writer, path, runId);
    entry = { header: onDisk ?? candidate, sha256: "", settled: false };
  }
  if (entry.header.identity_sha256 !== candidate.identity_sha256) {
    const fields = jsonDifferences(entry.header.identity, candidate.identity, 20)
      .map((d) => ["identity", ...d.path].join("."));
    throw new RunIdentityError(
      runId,
      entry.header.identity.pipeline_sha256,
      candidate.identity.pipeline_sha256,
      fields,
    );
  }
  entry.checked = settings === undefined
    ? undefined
    : { pipeline: new WeakRef(inputs.pipeline), settings };
  const pipelineSha256 = entry.header.identity.pipeline_sha256;
  if (entry.settled) return { sha256: entry.sha256, path, pipelineSha256 };
  const artifact = await writer.prepareJson({
    runId,
    tick: entry.header.first_tick,
    kind: "runheader",
    schema: ARTIFACT_LAYOUT.runheader.schema,
    obj: entry.header,
    relPath: path,
  });
  entry.sha256 = artifact.record.sha256;
  if (runs.size >= MAX_KNOWN_RUNS) runs.delete(runs.keys().next().value as string);
  runs.set(runId, entry);
  return { sha256: entry.sha256, path, pipelineSha256, artifact };
}

// The settings as canonical JSON, or undefined (never cached) when they are not JSON.
function settingsText(settings: unknown): string | undefined {
  try {
    return canonicalJsonString(settings);
  } catch {
    return undefined;
  }
}

/** Marks the run's header as written, so later ticks only compare with it. */
export function settleRunHeader(writer: ArtifactWriter, runId: string): void {
  const entry = known.get(writer)?.get(runId);
  if (entry !== undefined) entry.settled = true;
}

async function readHeader(
  writer: ArtifactWriter,
  path: string,
  runId: string,
): Promise<RunHeader | undefined> {
  let bytes: Uint8Array;
  try {
    // Never blocks on a FIFO, never follows a link, refuses a directory.
    bytes = await readRegularFile(writer.resolve(path), MAX_RUN_HEADER_BYTES);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    if (error instanceof UntrustedFileError) {
      throw new RunReadError(path, `recorded RunHeader: ${error.message}`);
    }
    throw error;
  }
  let text: string;
  let header: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    header = parseJson(text);
  } catch {
    throw new RunReadError(path, "recorded RunHeader is not valid UTF-8 JSON");
  }
  if (!isRunHeader(header) || header.run_id !== runId) {
    throw new RunReadError(path, `not a RunHeader.v0 of run ${runId}`);
  }
  if (await identitySha256(header.identity) !== header.identity_sha256) {
    throw new RunReadError(path, "identity_sha256 does not match the identity it records");
  }
  // Written canonical; anything else was edited.
  const canonical = canonicalJsonString(header);
  if (canonical !== text) throw new RunReadError(path, "recorded RunHeader is not canonical JSON");
  return header;
}
