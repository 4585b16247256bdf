/**
 * Provenance-sealed artifact writing: canonical JSON, SHA-256, and a per-run
 * append-only manifest.
 *
 * @module
 */

import { dirname, join, resolve } from "node:path";
import { canonicalCopy, canonicalJsonString } from "../ers/_canonical.ts";
import { sha256Hex } from "../ers/_sha256.ts";
import {
  checkName,
  checkNonNegativeInteger,
  isPlainObject,
  orDefault,
  rangeError,
  typeError,
} from "../ers/_validate.ts";
import { ArtifactIoError, DriftError } from "./errors.ts";
import {
  isInside,
  lstatIfExists,
  openRegularFile,
  PathSwappedError,
  placeFileAtomic,
  readRegularFile,
  requireAccess,
  sameBytes,
  syncDirectory,
  UntrustedFileError,
  withPermissionHint,
  withRootLock,
} from "./_fs.ts";
import { type ManifestRecord, recordLookalikeIn, recordText } from "./_manifest.ts";
import { commitRecords, findRecords, loadManifestTail, retryOnStale } from "./_manifest_store.ts";
import { checkRelPath, checkRunId } from "./_paths.ts";
import { ARTIFACT_LAYOUT, artifactPath, runOfPath } from "./layout.ts";
import { osProblem } from "./_os_error.ts";
import { mapBounded } from "./_concurrency.ts";
import { MAX_TRENDPACK_BYTES } from "../viz/trendpack.ts";

/**
 * What {@linkcode ArtifactWriter.prototype.writeJson} (or
 * {@linkcode ArtifactWriter.prototype.writeAll}) wrote and recorded: a
 * manifest record and its run.
 *
 * @example The record of a three-byte artifact, as the manifest holds it
 * ```ts
 * import { type ArtifactRecord, ArtifactWriter, readRunManifest } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const writer = new ArtifactWriter(dir);
 *   const record: ArtifactRecord = await writer.writeJson({
 *     runId: "R", tick: 3, kind: "note", schema: "Note.v0", obj: [1], relPath: "notes/R/3.json",
 *   });
 *   assert.deepEqual(record, {
 *     schema: "Note.v0", path: "notes/R/3.json",
 *     sha256: "080a9ed428559ef602668b4c00f114f1a11c3f6b02a435f0bdc154578e4d7f22", bytes: 3,
 *     run_id: "R", tick: 3, kind: "note",
 *   });
 *   const { records } = await readRunManifest(dir, "R");
 *   assert.equal(records[0]?.sha256, record.sha256);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface ArtifactRecord {
  /** The artifact's schema tag, such as `TrendPack.v0`. */
  schema: string;
  /** POSIX path relative to the artifacts root, as recorded in the manifest. */
  path: string;
  /** SHA-256 of the bytes, lowercase hex. */
  sha256: string;
  /** Length of the bytes. */
  bytes: number;
  /** The run. */
  run_id: string;
  /** The tick. */
  tick: number;
  /** The artifact's kind, such as `trendpack`. */
  kind: string;
}

/**
 * Options for {@linkcode ArtifactWriter.prototype.writeJson}.
 *
 * @example Extra fields are recorded; a bad run id is refused
 * ```ts
 * import { ArtifactWriter, readRunManifest, type WriteJsonOptions } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const writer = new ArtifactWriter(dir);
 *   const options: WriteJsonOptions = {
 *     runId: "RUN-1", tick: 0, kind: "note", schema: "Note.v0", obj: { z: 1 },
 *     relPath: "notes/RUN-1/0.json", extra: { mode: "demo" },
 *   };
 *   await writer.writeJson(options);
 *   const { records } = await readRunManifest(dir, "RUN-1");
 *   assert.deepEqual(records[0]?.extra, { mode: "demo" });
 *   await assert.rejects(writer.writeJson({ ...options, runId: ".." }), RangeError);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface WriteJsonOptions {
  /** The run: 1 to 128 letters, digits, `.`, `_`, `-`, but not `.` or `..` (`.a` is fine). */
  runId: string;
  /** The tick, a non-negative integer. */
  tick: number;
  /** The artifact's kind, such as `trendpack`. */
  kind: string;
  /** The artifact's schema tag, such as `TrendPack.v0`. */
  schema: string;
  /** The JSON value to write (canonical JSON, no trailing newline). */
  obj: unknown;
  /**
   * Where to write it: a POSIX path relative to the artifacts root, in the
   * run's own place, `<kind>/<runId>/...` or `<kind>/<runId>.<ext>`, so that
   * no run can write over a file another run recorded. `manifests/` and
   * hidden (dot) names, but for a run id's own directory, are reserved. In a
   * directory the artifact layout owns (`viz/`, `runs/`, ...), only the
   * layout's shape: `viz/<runId>/...`, `runs/<runId>.runheader.json`.
   */
  relPath: string;
  /**
   * Extra fields recorded with the manifest record (left out when empty). No
   * array in it may hold a whole manifest record (an object with its fields).
   */
  extra?: Record<string, unknown>;
}

/**
 * Options for {@linkcode ArtifactWriter}.
 *
 * @example A scratch writer that skips syncing to the disk
 * ```ts
 * import { ArtifactWriter, type ArtifactWriterOptions, verifyArtifacts } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const options: ArtifactWriterOptions = { durable: false };
 *   const writer = new ArtifactWriter(dir, options);
 *   await writer.writeJson({
 *     runId: "R", tick: 0, kind: "note", schema: "Note.v0", obj: {}, relPath: "notes/R/0.json",
 *   });
 *   assert.equal((await verifyArtifacts(dir)).records, 1);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface ArtifactWriterOptions {
  /**
   * Sync file data and directory entries to the disk before recording, so
   * that a power cut, not only a killed process, loses nothing recorded.
   *
   * @default {true}
   */
  durable?: boolean;
  /**
   * Group commit (durable writers only): `writeAll()` places each file
   * (written beside, then renamed) without syncing it and holds its record;
   * {@linkcode ArtifactWriter.prototype.flush} syncs the held files and their
   * directories, then records them all with one journaled manifest update.
   * No record ever points at unsynced data; a crash between flushes leaves
   * placed but unrecorded files, which writing those ticks again replaces or
   * keeps, as after a crash in the default mode. Call `flush()` before the
   * process ends, or nothing since the last flush is recorded.
   *
   * @default {false}
   */
  groupCommit?: boolean;
}

/**
 * An artifact encoded and hashed but not yet written, from
 * {@linkcode ArtifactWriter.prototype.prepareJson}: its record is known, so
 * other artifacts can refer to its path and hash before it is written.
 *
 * @example An index that names the hash of the data it points at
 * ```ts
 * import { ArtifactWriter, type PreparedArtifact } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const writer = new ArtifactWriter(dir);
 *   const run = { runId: "R", tick: 0 };
 *   const data: PreparedArtifact = await writer.prepareJson({
 *     ...run, kind: "data", schema: "Data.v0", obj: { n: 1 }, relPath: "data/R/0.json",
 *   });
 *   const index = await writer.prepareJson({
 *     ...run, kind: "index", schema: "Index.v0", relPath: "index/R/0.json",
 *     obj: { ref: data.record.path, sha256: data.record.sha256 },
 *   });
 *   const records = await writer.writeAll([data, index]);
 *   assert.deepEqual(records, [data.record, index.record]);
 *   const written = JSON.parse(await Deno.readTextFile(writer.resolve(index.record.path)));
 *   assert.equal(written.sha256, data.record.sha256);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface PreparedArtifact {
  /** The record the artifact will have once written. */
  readonly record: Readonly<ArtifactRecord>;
}

interface Pending {
  readonly manifest: ManifestRecord;
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly runId: string;
}

// What a group-commit writer has placed but not yet synced and recorded, per
// run: the records to commit, and the files (recorded ones it restored too)
// and directories to sync first.
interface Held {
  readonly records: Map<string, ManifestRecord>;
  readonly files: Map<string, ManifestRecord>;
  readonly dirs: Set<string>;
}

// Prepared artifacts are opaque: their bytes live here, out of callers' reach.
const pending = new WeakMap<PreparedArtifact, Pending>();

const ACTION = "write artifact";
// Files and directories a group commit syncs at once.
const SYNC_CONCURRENCY = 16;
const MAX_TAG_LENGTH = 128;
/**
 * Most artifacts one {@linkcode ArtifactWriter.prototype.writeAll} call writes.
 *
 * @example A batch of 1 to 1024 artifacts
 * ```ts
 * import { ArtifactWriter, MAX_ARTIFACTS_PER_WRITE } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const writer = new ArtifactWriter(dir);
 *   const note = await writer.prepareJson({
 *     runId: "R", tick: 0, kind: "note", schema: "Note.v0", obj: 1, relPath: "notes/R/0.json",
 *   });
 *   assert.equal(MAX_ARTIFACTS_PER_WRITE, 1024);
 *   const tooMany = new Array(MAX_ARTIFACTS_PER_WRITE + 1).fill(note);
 *   await assert.rejects(writer.writeAll(tooMany), RangeError);
 *   await assert.rejects(writer.writeAll([]), RangeError);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export const MAX_ARTIFACTS_PER_WRITE = 1024;

/**
 * Most records a group-commit writer holds between flushes; a
 * {@linkcode ArtifactWriter.prototype.writeAll} that would hold more
 * flushes first.
 *
 * @example A bound far above a flush every 10,000 ticks of the demo
 * ```ts
 * import { MAX_HELD_RECORDS } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_HELD_RECORDS, 65_536);
 * ```
 */
export const MAX_HELD_RECORDS = 65_536;

/**
 * Writes JSON artifacts under one artifacts directory, and nowhere else:
 * canonical bytes, written atomically (beside, then renamed), hashed with
 * SHA-256 and recorded in the run's manifest at `manifests/<runId>.manifest.json`.
 *
 * Recorded artifacts are append-only: writing the same bytes again is a no-op,
 * writing different bytes throws {@linkcode DriftError}. Writers in several
 * processes may share a directory; they serialize on an advisory lock that the
 * kernel releases if a process dies.
 *
 * @example Write and record an artifact
 * ```ts
 * import { ArtifactWriter } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const writer = new ArtifactWriter(dir);
 *   const record = await writer.writeJson({
 *     runId: "RUN-001", tick: 0, kind: "note", schema: "Note.v0", obj: { b: 1, a: 2 },
 *     relPath: "notes/RUN-001/000000.json",
 *   });
 *   assert.equal(record.bytes, 13);
 *   assert.equal(await Deno.readTextFile(writer.resolve(record.path)), '{"a":2,"b":1}');
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export class ArtifactWriter {
  /** The artifacts directory, as given. */
  readonly root: string;
  readonly #durable: boolean;
  readonly #groupCommit: boolean;
  // Group commit: what is placed but not yet synced and recorded, by run.
  readonly #held = new Map<string, Held>();
  #heldCount = 0;
  readonly #ioRoot: string;
  #realRoot: string | undefined;
  readonly #madeDirs = new Set<string>();

  /**
   * Creates a writer; nothing is touched until the first write.
   *
   * @param artifactsDir The directory to write under; created when missing.
   * @param options Durability and group commit.
   * @throws {TypeError} When `artifactsDir` is not a non-empty string,
   * `options` is not a plain object or `durable` or `groupCommit` is not a
   * boolean.
   * @throws {RangeError} When `groupCommit` is asked of a writer that is not
   * durable (it would sync nothing).
   */
  constructor(artifactsDir: string, options: ArtifactWriterOptions = {}) {
    const action = "create artifact writer";
    if (typeof artifactsDir !== "string" || artifactsDir.length === 0) {
      typeError(action, "artifactsDir", "a non-empty path string", artifactsDir);
    }
    if (!isPlainObject(options)) typeError(action, "options", "an object", options);
    const durable: unknown = orDefault(options.durable, true);
    if (typeof durable !== "boolean") typeError(action, "durable", "a boolean", durable);
    const groupCommit: unknown = orDefault(options.groupCommit, false);
    if (typeof groupCommit !== "boolean") {
      typeError(action, "groupCommit", "a boolean", groupCommit);
    }
    if (groupCommit && !durable) {
      rangeError(action, "groupCommit", "false when 'durable' is false", groupCommit);
    }
    this.root = artifactsDir;
    this.#ioRoot = resolve(artifactsDir);
    this.#durable = durable;
    this.#groupCommit = groupCommit;
  }

  /**
   * The path of an artifact under this writer's directory, for opening it.
   *
   * @param relPath A path relative to the artifacts root, as records hold.
   * @returns `artifactsDir` joined with `relPath`.
   * @throws {TypeError | RangeError} When `relPath` is not a relative POSIX
   * path inside the artifacts directory.
   *
   * @example Paths resolve under the directory, and never outside it
   * ```ts
   * import { ArtifactWriter } from "@abraxas/ers/runtime";
   * import { join } from "node:path";
   * import assert from "node:assert/strict";
   *
   * const writer = new ArtifactWriter("out"); // nothing is touched
   * assert.equal(writer.resolve("viz/R/0.json"), join("out", "viz", "R", "0.json"));
   * assert.throws(() => writer.resolve("../elsewhere.json"), RangeError);
   * ```
   */
  resolve(relPath: string): string {
    return join(this.root, checkRelPath("resolve artifact path", relPath));
  }

  /**
   * Checks that Deno granted read and write access to the artifacts directory.
   *
   * @throws {ArtifactPermissionError} Naming the flag to add, such as
   * `--allow-write=./out`.
   *
   * @example Checking access touches nothing
   * ```ts
   * import { ArtifactWriter } from "@abraxas/ers/runtime";
   * import assert from "node:assert/strict";
   *
   * const parent = await Deno.makeTempDir();
   * try {
   *   const writer = new ArtifactWriter(`${parent}/out`);
   *   // This example runs with --allow-read and --allow-write; without them,
   *   // checkAccess() throws an ArtifactPermissionError naming the flag.
   *   assert.equal(Deno.permissions.querySync({ name: "write", path: writer.root }).state, "granted");
   *   writer.checkAccess();
   *   await assert.rejects(Deno.stat(writer.root), Deno.errors.NotFound);
   * } finally {
   *   await Deno.remove(parent, { recursive: true });
   * }
   * ```
   */
  checkAccess(): void {
    requireAccess("write", this.root);
    requireAccess("read", this.root);
  }

  /**
   * Writes `obj` as canonical JSON at `relPath` and records it in the run's
   * manifest: `prepareJson()` then `writeAll()` of that one artifact. Every
   * argument is checked before anything is written.
   *
   * @param options What to write, where, and how to record it.
   * @returns The record, with the path relative to the artifacts root.
   * @throws {TypeError | RangeError} For a bad `runId`, `tick`, `kind` or
   * `schema`, or a `relPath` that would leave the directory, lies outside
   * the run's own place (`<kind>/<runId>/...`, `<kind>/<runId>.<ext>`), lies
   * under `manifests/` or has a hidden (dot) name; nothing is written.
   * @throws {TypeError | RangeError} When `obj` or `extra` is not canonical
   * JSON, or an array in `extra` holds a whole manifest record (the message
   * names the path inside it); nothing is written.
   * @throws {DriftError} When `relPath` is recorded with other bytes or metadata.
   * @throws {ArtifactPermissionError} When Deno lacks read or write access to
   * the directory; the message names the flag to add.
   * @throws {ManifestError} When the run's manifest on disk is corrupt.
   *
   * @example Writing the same bytes again is a no-op; other bytes are refused
   * ```ts
   * import { ArtifactWriter, DriftError } from "@abraxas/ers/runtime";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * try {
   *   const writer = new ArtifactWriter(dir);
   *   const options = {
   *     runId: "R", tick: 0, kind: "note", schema: "Note.v0", obj: { n: 1 }, relPath: "notes/R/0.json",
   *   };
   *   const first = await writer.writeJson(options);
   *   assert.deepEqual(await writer.writeJson(options), first);
   *   await assert.rejects(writer.writeJson({ ...options, obj: { n: 2 } }), DriftError);
   *   assert.equal(await Deno.readTextFile(writer.resolve(first.path)), '{"n":1}');
   * } finally {
   *   await Deno.remove(dir, { recursive: true });
   * }
   * ```
   */
  async writeJson(options: WriteJsonOptions): Promise<ArtifactRecord> {
    const [record] = await this.writeAll([await this.prepareJson(options)]);
    return record as ArtifactRecord;
  }

  /**
   * Encodes and hashes an artifact without writing anything, checking every
   * argument. Its record (path, SHA-256, length) is known at once, so that
   * another artifact can refer to it; write both with {@linkcode writeAll}.
   *
   * @param options What to write, where, and how to record it.
   * @returns The prepared artifact.
   * @throws {TypeError | RangeError} As {@linkcode writeJson}, naming the field.
   *
   * @example The record is known before anything is written
   * ```ts
   * import { ArtifactWriter } from "@abraxas/ers/runtime";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * try {
   *   const writer = new ArtifactWriter(dir);
   *   const options = {
   *     runId: "R", tick: 0, kind: "note", schema: "Note.v0", obj: { b: 1, a: 2 },
   *     relPath: "notes/R/0.json",
   *   };
   *   const prepared = await writer.prepareJson(options);
   *   assert.equal(prepared.record.bytes, 13);
   *   assert.match(prepared.record.sha256, /^[0-9a-f]{64}$/);
   *   await assert.rejects(Deno.stat(writer.resolve(prepared.record.path)), Deno.errors.NotFound);
   *   await assert.rejects(writer.prepareJson({ ...options, relPath: "../notes/0.json" }), RangeError);
   * } finally {
   *   await Deno.remove(dir, { recursive: true });
   * }
   * ```
   */
  async prepareJson(options: WriteJsonOptions): Promise<PreparedArtifact> {
    const manifest = prepareRecord(options);
    const runId = checkRunId(ACTION, options.runId);
    const bytes = new TextEncoder().encode(canonicalJsonString(options.obj, "obj"));
    if (
      manifest.schema === ARTIFACT_LAYOUT.trendpack.schema && bytes.length > MAX_TRENDPACK_BYTES
    ) {
      // One limit for writing and reading: never write what readers refuse.
      throw new RangeError(
        `Cannot ${ACTION} as the TrendPack ${manifest.path} holds ${bytes.length} bytes, more than the ${MAX_TRENDPACK_BYTES} a reader accepts; nothing was written`,
      );
    }
    manifest.sha256 = await sha256Hex(bytes);
    manifest.bytes = bytes.length;
    const { path, sha256, schema, tick, kind } = manifest;
    const prepared: PreparedArtifact = Object.freeze({
      record: Object.freeze({
        schema,
        path,
        sha256,
        bytes: bytes.length,
        run_id: runId,
        tick,
        kind,
      }),
    });
    pending.set(prepared, { manifest, bytes, runId });
    return prepared;
  }

  /**
   * Writes prepared artifacts of one run and records them, all under one
   * lock and with one manifest update. Every artifact is checked against the
   * manifest first, so a drift refuses the whole batch before anything is
   * written; each file is then renamed into place (and synced when durable)
   * before the manifest records it. With `groupCommit`, the files are placed
   * unsynced and the records held until {@linkcode flush} (which this call
   * makes first when the writer already holds
   * {@linkcode MAX_HELD_RECORDS} records).
   *
   * @param artifacts Artifacts from {@linkcode prepareJson}, all of one run,
   * at distinct paths.
   * @returns Their records, in the order given.
   * @throws {TypeError} When `artifacts` is not an array, or an item was not
   * made by `prepareJson()`.
   * @throws {RangeError} When the batch is empty or too large, mixes runs or
   * repeats a path, or when a symbolic link leads a path out of the directory.
   * @throws {DriftError} When an artifact's path is recorded with other bytes or metadata.
   * @throws {ArtifactPermissionError} When access is missing, naming the flag.
   * @throws {ManifestError} When the run's manifest on disk is corrupt.
   *
   * @example A drift refuses the whole batch
   * ```ts
   * import { ArtifactWriter, DriftError } from "@abraxas/ers/runtime";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * try {
   *   const writer = new ArtifactWriter(dir);
   *   const note = { runId: "R", tick: 0, kind: "note", schema: "Note.v0" };
   *   await writer.writeJson({ ...note, obj: 1, relPath: "notes/R/a.json" });
   *   const changed = await writer.prepareJson({ ...note, obj: 2, relPath: "notes/R/a.json" });
   *   const fresh = await writer.prepareJson({ ...note, obj: 3, relPath: "notes/R/b.json" });
   *   await assert.rejects(writer.writeAll([fresh, changed]), DriftError);
   *   await assert.rejects(Deno.stat(writer.resolve("notes/R/b.json")), Deno.errors.NotFound);
   *   const [record] = await writer.writeAll([fresh]);
   *   assert.equal(record?.path, "notes/R/b.json");
   * } finally {
   *   await Deno.remove(dir, { recursive: true });
   * }
   * ```
   */
  async writeAll(artifacts: readonly PreparedArtifact[]): Promise<ArtifactRecord[]> {
    const batch = checkBatch(artifacts);
    if (this.#heldCount + batch.length > MAX_HELD_RECORDS) await this.flush();
    try {
      try {
        await this.#writeBatch(batch);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
        // A directory this writer had made is gone: check and make it again,
        // once. Safe to repeat: drift is checked anew under the lock.
        this.#realRoot = undefined;
        this.#madeDirs.clear();
        await this.#writeBatch(batch);
      }
    } catch (error) {
      throw await this.#explain(error, (batch[0] as Pending).manifest.path);
    }
    return artifacts.map((artifact) => ({ ...artifact.record }));
  }

  // An operating system error as one line naming the path; other errors as they are.
  async #explain(error: unknown, relPath: string): Promise<unknown> {
    const problem = osProblem(error);
    if (problem === undefined || error instanceof ArtifactIoError) return error;
    const root = await lstatIfExists(this.#ioRoot).catch(() => undefined);
    if (root !== undefined && !root.isDirectory) {
      return new ArtifactIoError(
        relPath,
        `the artifacts directory ${this.root} is not a directory`,
        error,
      );
    }
    return new ArtifactIoError(relPath, problem, error);
  }

  async #writeBatch(batch: readonly Pending[]): Promise<void> {
    const realRoot = await this.#openRoot();
    const runId = (batch[0] as Pending).runId;
    await this.#locked(realRoot, () => this.#writeLocked(realRoot, runId, batch));
  }

  // Runs `fn` holding the manifests directory's lock, again when it finds a
  // manifest gone stale, with a permission error naming the flag to add.
  #locked<T>(realRoot: string, fn: () => Promise<T>): Promise<T> {
    return withPermissionHint(
      this.root,
      () =>
        withRootLock(
          join(this.#ioRoot, "manifests"),
          true,
          () => retryOnStale(fn),
          join(realRoot, "manifests"),
        ),
    );
  }

  // Holding the lock: refuse any drift, write what is new or was deleted,
  // then record the new artifacts with one manifest update.
  async #writeLocked(realRoot: string, runId: string, batch: readonly Pending[]): Promise<void> {
    await this.#checkInside(realRoot, ARTIFACT_LAYOUT.manifest.dir); // not swapped for a link since the last batch
    const io = this.#ioRoot;
    const manifestPath = join(io, artifactPath("manifest", runId));
    const state = await loadManifestTail(manifestPath, runId, this.#durable);
    const held = this.#groupCommit ? this.#held.get(runId) : undefined;
    const fresh: Pending[] = []; // not recorded yet
    const missing: Pending[] = []; // recorded, but the file was deleted: restore it
    const again: Pending[] = []; // held by this group-commit writer: place again unless intact
    const recordedAll = await findRecords(state, batch.map((item) => item.manifest));
    for (const [i, item] of batch.entries()) {
      const path = item.manifest.path;
      const recorded = recordedAll[i];
      const heldRecord = held?.records.get(path);
      if (recorded !== undefined) {
        if (checkSameAsRecorded(recorded, item.manifest)) missing.push(item);
      } else if (heldRecord === undefined) fresh.push(item);
      else if (checkSameAsRecorded(heldRecord, item.manifest)) again.push(item);
    }
    for (let i = missing.length - 1; i >= 0; i--) {
      const info = await lstatIfExists(join(io, (missing[i] as Pending).manifest.path));
      if (info?.isFile) missing.splice(i, 1);
    }
    const placed = [...fresh, ...missing, ...again];
    const { dirs, made } = await this.#writeFiles(realRoot, placed);
    if (this.#groupCommit) {
      this.#hold(runId, fresh, placed, dirs);
    } else if (this.#durable) {
      await mapBounded([...dirs], SYNC_CONCURRENCY, syncDirectory);
    }
    // Only now are the entries above them synced (or held to be): a batch
    // that failed before leaves them to the next batch.
    for (const relDir of made) this.#madeDirs.add(relDir);
    if (this.#groupCommit) return;
    if (fresh.length > 0) {
      await commitRecords(state, fresh.map((item) => item.manifest), this.#durable);
    }
  }

  // Group commit: remembers the new records, and the files and directories
  // to sync before they are recorded.
  #hold(runId: string, fresh: readonly Pending[], placed: readonly Pending[], dirs: Set<string>) {
    let held = this.#held.get(runId);
    if (held === undefined) {
      held = { records: new Map(), files: new Map(), dirs: new Set() };
      this.#held.set(runId, held);
    }
    for (const { manifest } of fresh) held.records.set(manifest.path, manifest);
    for (const { manifest } of placed) held.files.set(manifest.path, manifest);
    for (const dir of dirs) held.dirs.add(dir);
    this.#heldCount += fresh.length;
  }

  /**
   * Group commit: syncs the files placed since the last flush and their
   * directories to the disk, then records them all in each run's manifest
   * with one journaled update, under the directory's lock. Each file is
   * read back and checked against its record before it is synced. A writer
   * without `groupCommit` holds nothing: its flush does nothing.
   *
   * @returns How many records it added to the manifests.
   * @throws {DriftError} When another writer recorded a held path with other
   * bytes since it was placed; nothing of that run is recorded.
   * @throws {ArtifactIoError} When a placed file was removed or changed
   * before the flush; nothing of that run is recorded, and the next flush
   * tries again.
   * @throws {ManifestError} When the run's manifest on disk is corrupt.
   *
   * @example Nothing is recorded before the flush
   * ```ts
   * import { ArtifactWriter, readRunManifest } from "@abraxas/ers/runtime";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * try {
   *   const writer = new ArtifactWriter(dir, { groupCommit: true });
   *   for (const tick of [0, 1, 2]) {
   *     await writer.writeJson({
   *       runId: "R", tick, kind: "note", schema: "Note.v0", obj: { tick }, relPath: `notes/R/${tick}.json`,
   *     });
   *   }
   *   assert.equal(await Deno.readTextFile(writer.resolve("notes/R/2.json")), '{"tick":2}');
   *   await assert.rejects(readRunManifest(dir, "R"), Deno.errors.NotFound);
   *   assert.equal(await writer.flush(), 3);
   *   assert.equal((await readRunManifest(dir, "R")).records.length, 3);
   *   assert.equal(await writer.flush(), 0);
   * } finally {
   *   await Deno.remove(dir, { recursive: true });
   * }
   * ```
   */
  async flush(): Promise<number> {
    let count = 0;
    for (const [runId, held] of this.#held) {
      const first = held.files.keys().next().value ?? artifactPath("manifest", runId);
      try {
        const realRoot = await this.#openRoot();
        count += await this.#locked(realRoot, () => this.#flushLocked(realRoot, runId, held));
      } catch (error) {
        throw await this.#explain(error, first);
      }
      this.#held.delete(runId);
      this.#heldCount -= held.records.size;
    }
    return count;
  }

  // Holding the lock: checks the held records against the manifest (another
  // writer may have recorded a path since), syncs every held file (read back
  // first) and directory, then records what is new with one update.
  async #flushLocked(realRoot: string, runId: string, held: Held): Promise<number> {
    await this.#checkInside(realRoot, ARTIFACT_LAYOUT.manifest.dir);
    const manifestPath = join(this.#ioRoot, artifactPath("manifest", runId));
    const state = await loadManifestTail(manifestPath, runId, true);
    const records = [...held.records.values()];
    const recorded = await findRecords(state, records);
    const fresh = records.filter((record, i) => {
      const found = recorded[i];
      return found === undefined || !checkSameAsRecorded(found, record);
    });
    // No directory of a held file was swapped for a link out of the root
    // since it was placed, maybe many ticks ago.
    for (const relDir of new Set([...held.files.keys()].map(dirname))) {
      await this.#checkInside(realRoot, relDir);
    }
    // Many syncs in flight at once: the file system commits them together.
    await mapBounded([...held.files.values()], SYNC_CONCURRENCY, (r) => this.#syncPlaced(r));
    await mapBounded([...held.dirs], SYNC_CONCURRENCY, syncDirectory);
    if (fresh.length > 0) await commitRecords(state, fresh, true);
    return fresh.length;
  }

  // Reads a placed file back, checks it against its record, and syncs it.
  async #syncPlaced(record: ManifestRecord): Promise<void> {
    let opened;
    try {
      opened = await openRegularFile(join(this.#ioRoot, record.path));
    } catch (error) {
      if (!(error instanceof UntrustedFileError)) throw error;
      throw new ArtifactIoError(record.path, error.message);
    }
    const { handle, size } = opened;
    try {
      const bytes = size === record.bytes ? new Uint8Array(await handle.readFile()) : undefined;
      if (bytes === undefined || await sha256Hex(bytes) !== record.sha256) {
        throw new ArtifactIoError(
          record.path,
          "it changed between being placed and being recorded (is another process writing this run?)",
        );
      }
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }

  // Checks access, makes `manifests/`, and resolves the root, refusing a
  // `manifests/` that a symbolic link leads out of it. Paths used for I/O stay
  // as given (made absolute), which is what Deno's permissions were granted for.
  async #openRoot(): Promise<string> {
    if (this.#realRoot !== undefined) return this.#realRoot;
    this.checkAccess();
    this.#realRoot = await withPermissionHint(this.root, async () => {
      await Deno.mkdir(join(this.#ioRoot, ARTIFACT_LAYOUT.manifest.dir), { recursive: true });
      const realRoot = await Deno.realPath(this.#ioRoot);
      await this.#checkInside(realRoot, ARTIFACT_LAYOUT.manifest.dir);
      if (this.#durable) await syncDirectory(this.#ioRoot); // its entry `manifests`
      return realRoot;
    });
    return this.#realRoot;
  }

  // Renames each file into place (skipping identical ones, but syncing them
  // when durable: a killed --no-fsync run may have left them unsynced), and
  // returns the directories that gained an entry (a file, or a directory this
  // writer made), to sync before recording, and the directories it made. A
  // group-commit writer syncs nothing here: its flush() does.
  async #writeFiles(
    realRoot: string,
    items: readonly Pending[],
  ): Promise<{ dirs: Set<string>; made: Set<string> }> {
    const dirs = new Set<string>();
    const made = new Set<string>();
    // Every directory is checked before the first file is written, so a
    // refused path refuses the whole batch with nothing written.
    for (const relDir of new Set(items.map((item) => dirname(item.manifest.path)))) {
      await this.#ensureDir(realRoot, relDir, dirs, made);
    }
    const found: (Deno.FileInfo | undefined)[] = [];
    for (const { manifest } of items) {
      const info = await lstatIfExists(join(this.#ioRoot, manifest.path));
      if (info?.isDirectory) throw new ArtifactIoError(manifest.path, "it is a directory");
      found.push(info);
    }
    // The files are placed (and synced) several at a time: the file system
    // commits their syncs together. All settle before a failure is thrown.
    const place = async ({ manifest, bytes }: Pending, i: number): Promise<void> => {
      const target = join(this.#ioRoot, manifest.path);
      // A symbolic link at the target is never followed: the rename replaces
      // it, as it replaces a FIFO or a file with other links.
      const info = found[i];
      if (info?.isFile && info.size === bytes.length && await holds(target, bytes)) {
        if (this.#durable) {
          if (!this.#groupCommit) await syncFile(target);
          // Its entry may be a killed run's, never synced: sync it too.
          dirs.add(dirname(target));
        }
        return;
      }
      try {
        await placeFileAtomic(
          this.#ioRoot,
          realRoot,
          manifest.path,
          bytes,
          this.#durable && !this.#groupCommit,
        );
      } catch (error) {
        if (error instanceof PathSwappedError) {
          rangeError(
            ACTION,
            "relPath",
            `inside the artifacts directory (${error.message})`,
            manifest.path,
          );
        }
        throw await this.#explain(error, manifest.path);
      }
      dirs.add(dirname(target));
    };
    const failures = await mapBounded(
      items,
      SYNC_CONCURRENCY,
      (item, i) => place(item, i).then(() => undefined, (error: unknown) => ({ error })),
    );
    const failed = failures.find((failure) => failure !== undefined);
    if (failed !== undefined) throw failed.error;
    return { dirs, made };
  }

  // Throws unless `relDir` (under the root as given, which is what Deno's
  // permissions cover) really lies inside `realRoot`.
  async #checkInside(realRoot: string, relDir: string): Promise<void> {
    if (!isInside(realRoot, await Deno.realPath(join(this.#ioRoot, relDir)))) {
      rangeError(
        ACTION,
        "relPath",
        "inside the artifacts directory (a symbolic link leads out of it)",
        relDir,
      );
    }
  }

  // Makes the directory (once per writer: the caller adds `made` to
  // #madeDirs once their entries are synced or held) after checking that its
  // deepest existing ancestor lies inside the root, then checks, on every
  // batch, that no symbolic link now leads it out of the root. When durable,
  // adds to `parents` every directory above it up to the root, whose entries
  // (made now, or by a run that never synced them) must reach the disk before
  // a record names a file below them.
  async #ensureDir(
    realRoot: string,
    relDir: string,
    parents: Set<string>,
    made: Set<string>,
  ): Promise<void> {
    if (!this.#madeDirs.has(relDir)) {
      let existing = relDir;
      while (existing !== "." && !(await lstatIfExists(join(this.#ioRoot, existing)))) {
        existing = dirname(existing);
      }
      await this.#checkInside(realRoot, existing);
      await Deno.mkdir(join(this.#ioRoot, relDir), { recursive: true });
      made.add(relDir);
      for (let dir = relDir; this.#durable && dir !== "."; dir = dirname(dir)) {
        parents.add(join(this.#ioRoot, dirname(dir)));
      }
    }
    await this.#checkInside(realRoot, relDir);
  }
}

// Syncs the regular, singly linked file at `path` to the disk.
async function syncFile(path: string): Promise<void> {
  const { handle } = await openRegularFile(path);
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

// Whether the regular, singly linked file at `path` holds exactly `bytes`.
async function holds(path: string, bytes: Uint8Array): Promise<boolean> {
  try {
    return sameBytes(await readRegularFile(path, bytes.length), bytes);
  } catch (error) {
    if (error instanceof UntrustedFileError) return false;
    throw error;
  }
}

function checkBatch(artifacts: readonly PreparedArtifact[]): Pending[] {
  const action = "write artifacts";
  if (!Array.isArray(artifacts)) {
    typeError(action, "artifacts", "an array of prepared artifacts", artifacts);
  }
  if (artifacts.length === 0 || artifacts.length > MAX_ARTIFACTS_PER_WRITE) {
    rangeError(
      action,
      "artifacts",
      `1 to ${MAX_ARTIFACTS_PER_WRITE} prepared artifacts`,
      artifacts,
    );
  }
  const paths = new Set<string>();
  return artifacts.map((artifact, i) => {
    const item = pending.get(artifact);
    if (item === undefined) {
      typeError(
        action,
        `artifacts[${i}]`,
        "an artifact from ArtifactWriter.prepareJson()",
        artifact,
      );
    }
    if (i > 0 && item.runId !== artifacts[0]?.record.run_id) {
      rangeError(action, `artifacts[${i}].record.run_id`, "the run of artifacts[0]", item.runId);
    }
    if (paths.has(item.manifest.path)) {
      rangeError(
        action,
        `artifacts[${i}].record.path`,
        "a path no other artifact of the batch has",
        item.manifest.path,
      );
    }
    paths.add(item.manifest.path);
    return item;
  });
}

// The artifact layout's places by top-level directory (manifests/ is reserved apart).
const LAYOUT_PLACES: ReadonlyMap<string, (typeof ARTIFACT_LAYOUT)[keyof typeof ARTIFACT_LAYOUT]> =
  new Map(Object.values(ARTIFACT_LAYOUT).map((place) => [place.dir, place]));

// Checks every field before any I/O. sha256 and bytes are filled in later.
function prepareRecord(options: WriteJsonOptions): ManifestRecord {
  if (!isPlainObject(options)) typeError(ACTION, "options", "an object", options);
  const runId = checkRunId(ACTION, options.runId);
  const relPath = checkRelPath(ACTION, options.relPath);
  const segments = relPath.split("/");
  const manifests = ARTIFACT_LAYOUT.manifest.dir;
  if (
    segments[0]?.toLowerCase() === manifests ||
    // A hidden name is reserved for temporary files and journals, but for the
    // run's own directory or per-run file: a run id may start with '.', as in
    // the reference.
    segments.some((s, i) => s.startsWith(".") && !isRunsOwnName(s, i, segments.length, runId))
  ) {
    rangeError(
      ACTION,
      "relPath",
      `outside ${manifests}/ and free of hidden (dot) names, which ERS reserves`,
      relPath,
    );
  }
  // Confined to the run's own place: a path belongs to the run its layout
  // names, so no run can write over a file another run recorded.
  if (runOfPath(relPath) !== runId) {
    rangeError(
      ACTION,
      "relPath",
      `in run ${runId}'s place, <kind>/${runId}/... or <kind>/${runId}.<ext>`,
      relPath,
    );
  }
  // In a directory the layout owns, only the layout's shape: a per-run file
  // `<dir>/<run><suffix>` or a per-tick directory `<dir>/<run>/...`. Else
  // run `a.runheader.json` could make `runs/a.runheader.json` a directory and
  // take run `a`'s RunHeader place (or run `x` make `viz/x.json` a file and
  // take run `x.json`'s directory).
  const place = LAYOUT_PLACES.get(segments[0] as string);
  if (
    place !== undefined &&
    (place.perTick ? segments.length < 3 : relPath !== `${place.dir}/${runId}${place.suffix}`)
  ) {
    rangeError(
      ACTION,
      "relPath",
      place.perTick
        ? `in ${place.dir}/, a path in run ${runId}'s directory, as the artifact layout places it: ${place.dir}/${runId}/...`
        : `in ${place.dir}/, run ${runId}'s own file, as the artifact layout places it: ${place.dir}/${runId}${place.suffix}`,
      relPath,
    );
  }
  const extra = options.extra;
  if (extra !== undefined && !isPlainObject(extra)) {
    typeError(ACTION, "extra", "a plain object", extra);
  }
  // The canonical copy, built without a text round trip (V8's JSON.parse can
  // misread escaped keys): properties holding undefined are left out, so an
  // extra of only those counts as empty (and is left out), as it reads back.
  const canonicalExtra = extra === undefined
    ? {}
    : canonicalCopy(extra, "extra") as Record<string, unknown>;
  const record: ManifestRecord = {
    tick: checkNonNegativeInteger(ACTION, "tick", options.tick),
    kind: checkName(ACTION, "kind", options.kind, MAX_TAG_LENGTH),
    schema: checkName(ACTION, "schema", options.schema, MAX_TAG_LENGTH),
    path: relPath,
    sha256: "",
    bytes: 0,
  };
  const lookalike = recordLookalikeIn(canonicalExtra, "extra");
  if (lookalike !== undefined) {
    rangeError(
      ACTION,
      lookalike.at,
      "something other than a whole manifest record (a search of the manifest would take it for one)",
      lookalike.value,
    );
  }
  if (Object.keys(canonicalExtra).length > 0) record.extra = canonicalExtra;
  return record;
}

// Whether segment `s` at `index` of a path of `length` segments is the run's
// own directory (`<kind>/<run>/...`) or per-run file (`<kind>/<run>.<ext>`),
// and not a name temporary files and journals use.
function isRunsOwnName(s: string, index: number, length: number, runId: string): boolean {
  if (index !== 1 || s.endsWith(".tmp") || s.endsWith(".journal")) return false;
  return length > 2 ? s === runId : s.startsWith(`${runId}.`);
}

// Throws DriftError unless `record` is exactly what the manifest holds.
function checkSameAsRecorded(recorded: ManifestRecord, record: ManifestRecord): true {
  if (recorded.sha256 !== record.sha256) {
    throw new DriftError(record.path, recorded.sha256, record.sha256);
  }
  if (recordText(recorded) !== recordText(record)) {
    throw new DriftError(
      record.path,
      recorded.sha256,
      record.sha256,
      `Cannot re-record artifact ${record.path} with other metadata: the manifest holds ${
        recordText(recorded)
      }, the new record is ${recordText(record)}`,
    );
  }
  return true;
}
