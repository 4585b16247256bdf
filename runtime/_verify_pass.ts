/**
 * The verification pass behind `verifyArtifacts()`: every recorded file read
 * once, checked and hashed; a caller that needs the files' contents too (the
 * run report) takes each one's bytes from the pass as it is verified, instead
 * of reading the run a second time.
 *
 * @module
 */

import { join, relative, sep } from "node:path";
import { isPlainObject, typeError } from "../ers/_validate.ts";
import { READ_CONCURRENCY } from "./_concurrency.ts";
import { ManifestError } from "./errors.ts";
import { requireAccess, withPermissionHint } from "./_fs.ts";
import {
  readManifestFiles,
  readRecordedFiles,
  type RecordedFile,
  requireDirectory,
} from "./_read.ts";
import { ManifestModel, type ManifestRecord } from "./_manifest.ts";
import { checkRunId, RUN_ID_PATTERN, sealRelPath } from "./_paths.ts";
import { ARTIFACT_LAYOUT, artifactPath, runOfPath } from "./layout.ts";
import { parseJson } from "./_json.ts";
import { type Chain, checkPublicKeys, checkRunSeal, readChain } from "./_seal_chain.ts";
import type { SealPublicKey } from "./seal_key.ts";
import type { VerifyIssue, VerifyOptions, VerifyReport } from "./verify.ts";

/**
 * What a caller of {@linkcode verifyPass} is handed as the pass goes. Each is
 * called synchronously, in the pass's order, and must not keep `bytes` past
 * the call unless it needs them (the pass keeps no file's bytes).
 */
export interface VerifiedBytes {
  /** A run's manifest, as read (journal applied) and parsed: its records in manifest order. */
  manifest?(runId: string, bytes: Uint8Array, records: readonly ManifestRecord[]): void;
  /** A recorded file whose length and SHA-256 are as its record says, in record order. */
  file?(record: ManifestRecord, bytes: Uint8Array): void;
}

/**
 * `verifyArtifacts()`, handing each verified manifest and file to `visit`.
 * Files that are missing or differ are errors of the report, never handed on.
 */
export async function verifyPass(
  artifactsDir: string,
  options: VerifyOptions,
  visit: VerifiedBytes = {},
): Promise<VerifyReport> {
  if (!isPlainObject(options)) typeError("verify artifacts", "options", "an object", options);
  requireAccess("read", artifactsDir);
  return await withPermissionHint(artifactsDir, async () => {
    await requireDirectory(
      artifactsDir,
      `Cannot verify artifacts as ${artifactsDir} is not a directory`,
    );
    const runId = options.runId === undefined
      ? undefined
      : checkRunId("verify artifacts", options.runId);
    const publicKeys = checkPublicKeys("verify artifacts", options.publicKey);
    const onProgress = options.onProgress;
    if (onProgress !== undefined && typeof onProgress !== "function") {
      typeError("verify artifacts", "options.onProgress", "a function", onProgress);
    }
    const progress = { done: 0, total: 0, onProgress: onProgress as VerifyOptions["onProgress"] };
    const chains = await readSealChains(artifactsDir, runId); // before the manifests
    const manifests = await readManifestFilesOfSealed(artifactsDir, runId, chains);
    const report: VerifyReport = {
      ok: true,
      runs: [...new Set([...manifests.keys(), ...chains.keys()])].sort(),
      records: 0,
      seals: 0,
      errors: [],
      warnings: [],
    };
    const models = new Map<string, ManifestModel | null>();
    const hashes = new Map<string, string | undefined>();
    const recorded = new Set<string>();
    for (const [run, bytes] of manifests) {
      const manifestPath = artifactPath("manifest", run);
      recorded.add(manifestPath);
      try {
        if (bytes instanceof ManifestError) throw bytes;
        const model = ManifestModel.parse(run, bytes);
        models.set(run, model);
        visit.manifest?.(run, bytes, model.records());
      } catch (error) {
        const problem = error instanceof ManifestError ? error.problem : (error as Error).message;
        report.errors.push({ path: manifestPath, message: `invalid manifest: ${problem}` });
        models.set(run, null);
      }
    }
    for (const model of models.values()) progress.total += model?.records().length ?? 0;
    for (const model of models.values()) {
      if (model === null) continue;
      await checkRecords(artifactsDir, model.records(), report, hashes, progress, visit);
      for (const record of model.records()) recorded.add(record.path);
    }
    await checkSeals(artifactsDir, report, { chains, models, hashes, publicKeys, recorded });
    findUnrecorded(artifactsDir, runId, recorded, models, report);
    report.errors.sort(byPath);
    report.warnings.sort(byPath);
    report.ok = report.errors.length === 0;
    return report;
  });
}

function byPath(a: VerifyIssue, b: VerifyIssue): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

async function checkRecords(
  root: string,
  records: readonly ManifestRecord[],
  report: VerifyReport,
  hashes: Map<string, string | undefined>,
  progress: { done: number; total: number; onProgress?: (done: number, total: number) => void },
  visit: VerifiedBytes,
): Promise<void> {
  const actual = new Map<string, string>(); // path -> sha256 of the file as it is
  const indexes = new Map<string, Uint8Array>(); // RunIndex path -> its bytes, as hashed
  // Read and hashed a batch at a time; the results are taken in record
  // order, so the report does not depend on which digest finished first.
  // Only RunIndex bytes are kept, for the cross-check below.
  const files = await readRecordedFiles(root, records, {
    batch: READ_CONCURRENCY,
    keepBytes: (record) => record.schema === ARTIFACT_LAYOUT.runindex.schema,
    onRead: () => progress.onProgress?.(++progress.done, progress.total),
    ...(visit.file === undefined ? {} : {
      onVerified: (record: ManifestRecord, bytes: Uint8Array) => visit.file?.(record, bytes),
    }),
  });
  for (const [i, record] of records.entries()) {
    report.records++;
    const file = files[i] as RecordedFile;
    if (file.sha256 !== undefined) actual.set(record.path, file.sha256);
    hashes.set(record.path, file.sha256);
    if (file.bytes !== undefined && record.schema === ARTIFACT_LAYOUT.runindex.schema) {
      indexes.set(record.path, file.bytes);
    }
    if (file.problem !== undefined) {
      report.errors.push({ path: record.path, message: file.problem });
    }
  }
  const byPath = new Map(records.map((record) => [record.path, record]));
  for (const record of records) {
    const bytes = indexes.get(record.path);
    if (bytes === undefined) continue;
    const problem = runIndexProblem(bytes, byPath, actual);
    if (problem) report.errors.push({ path: record.path, message: problem });
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

// Checks the RunIndex bytes that were hashed, never a second read that could differ.
function runIndexProblem(
  bytes: Uint8Array,
  byPath: Map<string, ManifestRecord>,
  actual: Map<string, string>,
): string | undefined {
  let index: unknown;
  try {
    index = parseJson(UTF8.decode(bytes));
  } catch {
    return "RunIndex is not valid JSON";
  }
  const refs = isPlainObject(index) && isPlainObject(index.refs) ? index.refs : undefined;
  const hashes = isPlainObject(index) && isPlainObject(index.hashes) ? index.hashes : undefined;
  const provenance = isPlainObject(index) && isPlainObject(index.provenance)
    ? index.provenance
    : undefined;
  if (typeof refs?.trendpack !== "string") return "RunIndex has no refs.trendpack";
  // Each ref, and where the RunIndex states the hash of what it refers to.
  const claims = [
    ["trendpack", "hashes.trendpack_sha256", hashes?.trendpack_sha256],
    ["results_pack", "hashes.results_pack_sha256", hashes?.results_pack_sha256],
    ["run_header", "provenance.run_header_sha256", provenance?.run_header_sha256],
  ] as const;
  for (const [key, field, claimed] of claims) {
    const ref = refs[key];
    if (ref === undefined) continue;
    if (typeof ref !== "string") return `RunIndex refs.${key} is not a path`;
    const target = byPath.get(ref);
    if (target === undefined) {
      return `RunIndex refers to ${ref}, which the manifest does not record`;
    }
    if (claimed !== target.sha256) {
      return `RunIndex ${field} is ${claimed}, the manifest records ${target.sha256} for ${ref}`;
    }
    const onDisk = actual.get(ref);
    if (onDisk !== undefined && onDisk !== claimed) {
      return `RunIndex ${field} is ${claimed}, but ${ref} hashes to ${onDisk}`;
    }
  }
  return undefined;
}

// Walks the whole root, or for one run the directories its records live in,
// and warns of every file no record names (a write interrupted between
// renaming a file into place and recording it leaves one). Files in the place
// of a run (`<kind>/<run>/...`, `<kind>/<run>.<ext>`) that has no manifest, or
// whose manifest records nothing, are also one error for the run: ERS creates
// a manifest with its first records, so that is lost history.
function findUnrecorded(
  root: string,
  runId: string | undefined,
  recorded: Set<string>,
  models: Map<string, ManifestModel | null>, // null: the run's manifest is invalid
  report: VerifyReport,
): void {
  const dirs = new Set<string>();
  if (runId === undefined) {
    dirs.add("");
  } else {
    for (const path of recorded) dirs.add(path.slice(0, Math.max(0, path.lastIndexOf("/"))));
    for (const place of Object.values(ARTIFACT_LAYOUT)) {
      if (place.perTick) dirs.add(`${place.dir}/${runId}`);
    }
    dirs.add(ARTIFACT_LAYOUT.runheader.dir);
  }
  const walked = new Set<string>();
  const orphans = new Map<string, string[]>(); // run with no records -> files in its place
  const unrecorded = (path: string, entry: Deno.DirEntry): void => {
    const issue = { path: toPosix(root, path), message: unrecordedMessage(entry) };
    report.warnings.push(issue);
    const run = leftByCrash(entry) ? undefined : runOfPath(issue.path);
    // A run with records, or with an invalid manifest (an error of its own), is left out.
    if (run === undefined || models.get(run) === null) return;
    if ((models.get(run)?.records().length ?? 0) > 0) return;
    orphans.set(run, [...orphans.get(run) ?? [], issue.path]);
  };
  for (const dir of dirs) {
    walk(root, dir, runId === undefined, recorded, walked, unrecorded, runId);
  }
  for (const [run, paths] of orphans) {
    const path = artifactPath("manifest", run);
    if (report.errors.some((error) => error.path === path)) continue; // already failing, by seal
    const what = models.has(run)
      ? `run ${run}'s manifest records nothing`
      : `run ${run} has no manifest`;
    const more = paths.length > 1 ? ` and ${paths.length - 1} more` : "";
    report.errors.push({
      path,
      message: `${what}, but files lie in its place: ${paths.sort()[0]}${more}`,
    });
  }
}

// Whether a name in manifests/ is run `runId`'s: its manifest or seal, or the
// temporary file or journal of one (`.<name>.tmp`, `.<name>.journal`). Exact,
// so that run ".a" does not claim "..a.manifest.json", run "..a"'s manifest.
function isRunsManifestEntry(name: string, runId: string): boolean {
  const left = /^\.(.+)\.(?:tmp|journal)$/.exec(name)?.[1] ?? name;
  return left === `${runId}${ARTIFACT_LAYOUT.manifest.suffix}` ||
    `${ARTIFACT_LAYOUT.manifest.dir}/${left}` === sealRelPath(runId);
}

// A temporary file or a journal that an interrupted write leaves behind.
function leftByCrash(entry: Deno.DirEntry): boolean {
  return entry.isFile && entry.name.startsWith(".") &&
    (entry.name.endsWith(".tmp") || entry.name.endsWith(".journal"));
}

// Synchronous: listing a directory is one blocking call, where the async
// iterator makes a thread-pool round trip per batch of entries.
function walk(
  root: string,
  dir: string,
  recursive: boolean,
  recorded: Set<string>,
  walked: Set<string>,
  unrecorded: (path: string, entry: Deno.DirEntry) => void,
  runId: string | undefined,
): void {
  if (walked.has(dir)) return;
  walked.add(dir);
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(join(root, dir))];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  for (const entry of entries) {
    const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory) {
      if (recursive) walk(root, path, recursive, recorded, walked, unrecorded, runId);
    } else if (!recorded.has(path)) {
      if (
        runId !== undefined && dir === ARTIFACT_LAYOUT.manifest.dir &&
        !isRunsManifestEntry(entry.name, runId)
      ) continue;
      if (
        runId !== undefined && dir === ARTIFACT_LAYOUT.runheader.dir && runOfPath(path) !== runId
      ) continue;
      unrecorded(path, entry);
    }
  }
}

function unrecordedMessage(entry: Deno.DirEntry): string {
  if (entry.isSymlink) return "symbolic link that no record names (not followed)";
  if (entry.name.startsWith(".") && entry.name.endsWith(".tmp")) {
    return "temporary file left by an interrupted write; no record names it";
  }
  if (
    entry.name.startsWith(".") && entry.name.endsWith(`${ARTIFACT_LAYOUT.manifest.suffix}.journal`)
  ) {
    return "journal of an interrupted manifest update; the next write replays it";
  }
  return "no manifest record names this file";
}

function toPosix(root: string, path: string): string {
  return relative(root, join(root, path)).split(sep).join("/");
}

// ---------------------------------------------------------------------------
// Seals (see seal.ts): read before the manifests, so that a seal never names
// more than the manifest read after it (a manifest only grows).

const SEAL_FILE = /^(.+)\.seal\.json$/;

// The seal chain of `runId`, or of every run with a seal file; a chain that
// cannot be read is its message. An absent seal of `runId` is an empty chain.
async function readSealChains(
  root: string,
  runId: string | undefined,
): Promise<Map<string, Chain | string>> {
  const chains = new Map<string, Chain | string>();
  const runs: string[] = [];
  if (runId !== undefined) {
    runs.push(runId);
  } else {
    try {
      for await (const entry of Deno.readDir(join(root, "manifests"))) {
        const run = SEAL_FILE.exec(entry.name)?.[1];
        if (run !== undefined && RUN_ID_PATTERN.regexp.test(run)) runs.push(run);
      }
    } catch (error) {
      const absent = error instanceof Deno.errors.NotFound ||
        error instanceof Deno.errors.NotADirectory;
      if (!absent) throw error; // no manifests/ directory: no seals
    }
  }
  for (const run of runs.sort()) {
    const chain = await readChain(root, run);
    if (typeof chain === "string" || chain.entries.length > 0) chains.set(run, chain);
  }
  return chains;
}

// The manifests as `readManifestFiles()` reads them, except that a sealed
// run asked for by id whose manifest is gone is a finding, not a NotFound.
async function readManifestFilesOfSealed(
  root: string,
  runId: string | undefined,
  chains: Map<string, Chain | string>,
): Promise<Map<string, Uint8Array | ManifestError>> {
  try {
    return await readManifestFiles(root, runId);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound && runId !== undefined && chains.has(runId)) {
      return new Map();
    }
    throw error;
  }
}

async function checkSeals(
  root: string,
  report: VerifyReport,
  read: {
    chains: Map<string, Chain | string>;
    models: Map<string, ManifestModel | null>;
    hashes: Map<string, string | undefined>;
    publicKeys: readonly SealPublicKey[] | undefined;
    recorded: Set<string>;
  },
): Promise<void> {
  for (const runId of report.runs) {
    const chain = read.chains.get(runId) ?? { raw: [], entries: [] };
    if (read.chains.has(runId)) read.recorded.add(sealRelPath(runId));
    report.seals += await checkRunSeal(
      {
        root,
        runId,
        chain,
        model: read.models.get(runId),
        hashes: read.hashes,
        publicKeys: read.publicKeys,
      },
      report.errors,
      report.warnings,
    );
  }
}
