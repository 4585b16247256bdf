// Read-side helpers shared by verification and the run reader: the manifests
// of a directory read under the shared lock, and a recorded artifact's bytes
// checked against its record.

import { join } from "node:path";
import { sha256Hex } from "../ers/_sha256.ts";
import { ManifestError } from "./errors.ts";
import { readRegularFile, readRegularFileSync, UntrustedFileError, withRootLock } from "./_fs.ts";
import { applyJournal, readJournal } from "./_journal.ts";
import type { ManifestRecord } from "./_manifest.ts";
import { ARTIFACT_LAYOUT, artifactPath, runOfPath } from "./layout.ts";

/**
 * Largest manifest read, in bytes; a larger one is refused before reading.
 *
 * @example A manifest may hold up to 512 MiB
 * ```ts
 * import { MAX_MANIFEST_BYTES } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_MANIFEST_BYTES, 512 * 2 ** 20);
 * ```
 */
export const MAX_MANIFEST_BYTES = 512 * 1024 * 1024;

/** Throws NotFound, with `message`, unless `dir` is a directory. */
export async function requireDirectory(dir: string, message: string): Promise<void> {
  if (!(await isDirectory(dir))) throw new Deno.errors.NotFound(message);
}

async function isDirectory(path: string): Promise<boolean> {
  const info = await Deno.stat(path).catch(() => undefined);
  return info?.isDirectory === true;
}

/**
 * The manifest bytes of `runId` (which must exist), or of every run when
 * `runId` is undefined, read under the shared lock so that none is read
 * mid-update. Every entry named like a manifest counts, whatever its type: a
 * FIFO, a directory, a link or a hard-linked file in its place is a
 * {@linkcode ManifestError}, found without ever blocking on it.
 */
export async function readManifestFiles(
  root: string,
  runId?: string,
): Promise<Map<string, Uint8Array | ManifestError>> {
  const dir = join(root, ARTIFACT_LAYOUT.manifest.dir);
  const found = new Map<string, Uint8Array | ManifestError>();
  const missing = () => new Deno.errors.NotFound(`No manifest for run ${runId} in ${root}`);
  if (!(await isDirectory(dir))) {
    if (runId !== undefined) throw missing();
    return found;
  }
  const runs = runId !== undefined ? [runId] : undefined;
  await withRootLock(dir, false, async () => {
    for (const run of runs ?? await listRuns(dir)) {
      const path = join(root, artifactPath("manifest", run));
      let bytes: Uint8Array;
      try {
        bytes = await readRegularFile(path, MAX_MANIFEST_BYTES);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound && runId !== undefined) throw missing();
        if (!(error instanceof UntrustedFileError)) throw error;
        found.set(run, new ManifestError(artifactPath("manifest", run), error.message));
        continue;
      }
      found.set(run, await withPendingJournal(path, run, bytes));
    }
  }, await Deno.realPath(dir));
  return found;
}

// A reader must not write: when an interrupted update left a journal, the
// manifest is read as the next writer will make it, by replaying the journal
// in memory.
async function withPendingJournal(
  path: string,
  runId: string,
  bytes: Uint8Array,
): Promise<Uint8Array | ManifestError> {
  try {
    const entry = await readJournal(path);
    return entry === undefined ? bytes : applyJournal(bytes, entry);
  } catch (error) {
    return new ManifestError(artifactPath("manifest", runId), (error as Error).message);
  }
}

async function listRuns(dir: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const { dir, suffix } = ARTIFACT_LAYOUT.manifest;
    // An entry of any type counts: a FIFO or a directory there is an error, not a lost run.
    const run = entry.name.endsWith(suffix) ? runOfPath(`${dir}/${entry.name}`) : undefined;
    if (run !== undefined) runs.push(run);
  }
  return runs.sort();
}

/** What a read of one recorded file checks against: its path, length and SHA-256. */
export type FileRecord = Pick<ManifestRecord, "path" | "bytes" | "sha256">;

/** A recorded artifact as it is on disk: its bytes and hash, or why it cannot be trusted. */
export interface RecordedFile {
  bytes?: Uint8Array;
  sha256?: string;
  problem?: string;
}

/**
 * One pass that reads many files of one run (a replay, a diff): what the
 * directories of recorded paths were found to be, by path relative to the
 * root, so that each directory is checked once in the pass rather than once
 * per file. Without it (as in verification), every directory of a path is
 * checked right before its file is opened.
 */
export type DirectoryChecks = Map<string, DirectoryFinding>;

type DirectoryFinding = { kind: "directory" } | { kind: "missing" } | { kind: "not"; what: string };

/**
 * Reads a recorded artifact and compares its length and SHA-256 with the
 * record. A link, a FIFO, a directory or a file with more than one link is
 * reported, never followed or blocked on; so is a path through a directory
 * that is not a real directory. With `checked`, the read is one of a pass
 * (see {@linkcode DirectoryChecks}).
 *
 * The checks and the read are one synchronous stretch with blocking calls
 * (see `readRegularFileSync()`: microseconds for an artifact, where each
 * async call is a thread-pool round trip), and only the digest is awaited,
 * so callers that keep several reads in flight overlap the digests.
 */
export async function readRecordedFile(
  root: string,
  record: FileRecord,
  checked?: DirectoryChecks,
): Promise<RecordedFile> {
  const read = readRecordedBytes(root, record.path, checked);
  if (!(read instanceof Uint8Array)) return read;
  return compared(record, read, await sha256Hex(read as Uint8Array<ArrayBuffer>), true);
}

/**
 * {@linkcode readRecordedFile} of every record, for a pass over a whole run
 * (verification): `batch` files at a time are checked and read in one
 * synchronous stretch, then their digests run together while the next batch
 * is read. Fewer awaits per file than one `readRecordedFile` call each.
 * Results are in record order; `keepBytes` says whose bytes to keep (the
 * others are dropped once hashed); `onRead` is called once per file, when
 * its digest is done, after `onVerified` with the bytes of a file whose
 * length and SHA-256 are as recorded (so a caller can use the very bytes that
 * were checked, in record order, without a second read or keeping them all).
 */
export async function readRecordedFiles(
  root: string,
  records: readonly ManifestRecord[],
  options: {
    batch: number;
    keepBytes: (record: ManifestRecord) => boolean;
    onRead?: () => void;
    onVerified?: (record: ManifestRecord, bytes: Uint8Array) => void;
  },
): Promise<RecordedFile[]> {
  const results = new Array<RecordedFile>(records.length);
  let digesting: Promise<void> | undefined;
  try {
    for (let start = 0; start < records.length; start += options.batch) {
      const batch = records.slice(start, start + options.batch);
      const reads = batch.map((record) => readRecordedBytes(root, record.path, undefined));
      // Taken after the batch before (whose digests may finish later), so
      // that `onVerified` and `onRead` see the files in record order.
      const digested = Promise.all([
        digesting,
        Promise.all(
          reads.map((read) =>
            read instanceof Uint8Array ? sha256Hex(read as Uint8Array<ArrayBuffer>) : undefined
          ),
        ),
      ]).then(([, hashes]) => {
        batch.forEach((record, i) => {
          const read = reads[i] as Uint8Array | { problem: string };
          const file = read instanceof Uint8Array
            ? compared(record, read, hashes[i] as string, options.keepBytes(record))
            : read;
          results[start + i] = file;
          if (read instanceof Uint8Array && file.problem === undefined) {
            options.onVerified?.(record, read);
          }
          options.onRead?.();
        });
      });
      digested.catch(() => {}); // awaited below, after the next batch is read
      await digesting;
      digesting = digested;
    }
    await digesting;
  } finally {
    await digesting?.catch(() => {}); // no digest left running after a throw
  }
  return results;
}

// The file read for `record` (its bytes kept when `keep`), its length and
// SHA-256 compared with the record's.
function compared(
  record: FileRecord,
  bytes: Uint8Array,
  sha256: string,
  keep: boolean,
): RecordedFile {
  const problem = bytes.length !== record.bytes
    ? `length is ${bytes.length} bytes, the manifest records ${record.bytes}`
    : sha256 !== record.sha256
    ? `sha256 is ${sha256}, the manifest records ${record.sha256}`
    : undefined;
  return {
    ...(keep ? { bytes } : {}),
    sha256,
    ...(problem === undefined ? {} : { problem }),
  };
}

// The bytes at `relPath` under `root`, or why they cannot be trusted.
function readRecordedBytes(
  root: string,
  relPath: string,
  checked: DirectoryChecks | undefined,
): Uint8Array | { problem: string } {
  // Each directory of the path must be a real directory, not a link that
  // leads out of the root (the writer refuses to write through one too).
  const linked = linkedDirectory(root, relPath, checked);
  if (linked !== undefined) {
    return { problem: `recorded path goes through ${linked}, which is not a real directory` };
  }
  try {
    return readRegularFileSync(join(root, relPath));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { problem: "recorded file is missing" };
    if (error instanceof Deno.errors.NotCapable) throw error;
    if (error instanceof UntrustedFileError) {
      return {
        problem: /symbolic link/.test(error.message)
          ? "recorded path is a symbolic link, not the recorded file"
          : `recorded path: ${error.message}`,
      };
    }
    return { problem: `recorded file cannot be read: ${(error as Error).message}` };
  }
}

// The first directory of `relPath` (under `root`) that is not a real
// directory, or `undefined`; a missing one is left to the read to report.
function linkedDirectory(
  root: string,
  relPath: string,
  checked: DirectoryChecks | undefined,
): string | undefined {
  for (let end = relPath.indexOf("/"); end !== -1; end = relPath.indexOf("/", end + 1)) {
    const dir = relPath.slice(0, end);
    let found = checked?.get(dir);
    if (found === undefined) {
      found = directoryFinding(root, dir);
      checked?.set(dir, found);
    }
    if (found.kind === "missing") return undefined;
    if (found.kind === "not") return found.what;
  }
  return undefined;
}

function directoryFinding(root: string, dir: string): DirectoryFinding {
  try {
    const info = Deno.lstatSync(join(root, dir));
    if (info.isSymlink) return { kind: "not", what: `${dir} (a symbolic link)` };
    return info.isDirectory ? { kind: "directory" } : { kind: "not", what: dir };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { kind: "missing" };
    throw error;
  }
}
