/**
 * Provenance-sealed artifact writing: canonical JSON, SHA-256, and a per-run
 * append-only manifest.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { canonicalJsonString } from "../ers/_canonical.ts";
import { sha256Hex } from "../ers/_sha256.ts";
import {
  checkName,
  checkNonNegativeInteger,
  isPlainObject,
  orDefault,
  rangeError,
  typeError,
} from "../ers/_validate.ts";
import { DriftError, ManifestError } from "./errors.ts";
import {
  isInside,
  readIfExists,
  requireAccess,
  sameBytes,
  withPermissionHint,
  withRootLock,
  writeAt,
  writeFileAtomic,
} from "./_fs.ts";
import { ManifestModel, type ManifestRecord, recordText } from "./_manifest.ts";
import { checkRelPath, checkRunId, manifestRelPath } from "./_paths.ts";

/** What {@linkcode ArtifactWriter.prototype.writeJson} wrote and recorded. */
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

/** Options for {@linkcode ArtifactWriter.prototype.writeJson}. */
export interface WriteJsonOptions {
  /** The run: 1 to 128 letters, digits, `.`, `_`, `-`. */
  runId: string;
  /** The tick, a non-negative integer. */
  tick: number;
  /** The artifact's kind, such as `trendpack`. */
  kind: string;
  /** The artifact's schema tag, such as `TrendPack.v0`. */
  schema: string;
  /** The JSON value to write (canonical JSON, no trailing newline). */
  obj: unknown;
  /** Where to write it: a POSIX path relative to the artifacts root. */
  relPath: string;
  /** Extra fields recorded with the manifest record (left out when empty). */
  extra?: Record<string, unknown>;
}

/** Options for {@linkcode ArtifactWriter}. */
export interface ArtifactWriterOptions {
  /**
   * Sync file data to the disk before each rename and after each manifest
   * update, so that a power cut, not only a killed process, loses nothing
   * recorded.
   *
   * @default {true}
   */
  durable?: boolean;
}

interface ManifestState {
  model: ManifestModel;
  ino: number | null;
  size: number;
}

// Manifests already read, by absolute path. Checked against the file's inode
// and size under the lock before each use: records are only ever added, so a
// manifest another process grew is never mistaken for the cached one.
const MAX_CACHED_MANIFESTS = 64;
const manifestCache = new Map<string, ManifestState>();

const ACTION = "write artifact";
const MAX_TAG_LENGTH = 128;

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
  #realRoot: string | undefined;
  readonly #checkedDirs = new Set<string>();

  /**
   * Creates a writer; nothing is touched until the first write.
   *
   * @param artifactsDir The directory to write under; created when missing.
   * @param options Durability.
   * @throws {TypeError} When `artifactsDir` is not a non-empty string.
   */
  constructor(artifactsDir: string, options: ArtifactWriterOptions = {}) {
    if (typeof artifactsDir !== "string" || artifactsDir.length === 0) {
      typeError("create artifact writer", "artifactsDir", "a non-empty path string", artifactsDir);
    }
    this.root = artifactsDir;
    this.#durable = orDefault(options.durable, true);
  }

  /**
   * The path of an artifact under this writer's directory, for opening it.
   *
   * @param relPath A path relative to the artifacts root, as records hold.
   * @returns `artifactsDir` joined with `relPath`.
   */
  resolve(relPath: string): string {
    return join(this.root, checkRelPath("resolve artifact path", relPath));
  }

  /**
   * Checks that Deno granted read and write access to the artifacts directory.
   *
   * @throws {ArtifactPermissionError} Naming the flag to add, such as
   * `--allow-write=./out`.
   */
  checkAccess(): void {
    requireAccess("write", this.root);
    requireAccess("read", this.root);
  }

  /**
   * Writes `obj` as canonical JSON at `relPath` and records it in the run's
   * manifest. Every argument is checked before anything is written.
   *
   * @param options What to write, where, and how to record it.
   * @returns The record, with the path relative to the artifacts root.
   * @throws {RangeError} For a bad `runId`, `tick`, `kind`, `schema` or a
   * `relPath` that would leave the directory; nothing is written.
   * @throws {TypeError | RangeError} When `obj` or `extra` is not canonical
   * JSON (the message names the path inside it); nothing is written.
   * @throws {DriftError} When `relPath` is recorded with other bytes or metadata.
   * @throws {ArtifactPermissionError} When Deno lacks read or write access to
   * the directory; the message names the flag to add.
   * @throws {ManifestError} When the run's manifest on disk is corrupt.
   */
  async writeJson(options: WriteJsonOptions): Promise<ArtifactRecord> {
    const record = prepareRecord(options);
    const runId = checkRunId(ACTION, options.runId);
    const bytes = new TextEncoder().encode(canonicalJsonString(options.obj, "obj"));
    record.sha256 = await sha256Hex(bytes);
    record.bytes = bytes.length;
    const root = await this.#openRoot();
    await withPermissionHint(
      this.root,
      () =>
        withRootLock(join(root, "manifests"), true, async () => {
          const manifestPath = join(root, manifestRelPath(runId));
          const state = await loadManifest(manifestPath, runId);
          const recorded = state.model.find(record.path);
          if (recorded !== undefined) {
            checkSameAsRecorded(recorded, record);
            if (await readIfExists(join(root, record.path)) === undefined) {
              await this.#writeArtifact(root, record.path, bytes); // restore a deleted file
            }
            return;
          }
          await this.#writeArtifact(root, record.path, bytes);
          await commitRecord(manifestPath, state, record, this.#durable);
        }),
    );
    const { path, sha256, schema, tick, kind } = record;
    return { schema, path, sha256, bytes: bytes.length, run_id: runId, tick, kind };
  }

  async #openRoot(): Promise<string> {
    if (this.#realRoot !== undefined) return this.#realRoot;
    this.checkAccess();
    this.#realRoot = await withPermissionHint(this.root, async () => {
      await Deno.mkdir(join(this.root, "manifests"), { recursive: true });
      return await Deno.realPath(this.root);
    });
    return this.#realRoot;
  }

  async #writeArtifact(root: string, relPath: string, bytes: Uint8Array): Promise<void> {
    const target = join(root, relPath);
    const existing = await readIfExists(target);
    if (existing !== undefined && sameBytes(existing, bytes)) return;
    await this.#ensureDir(root, dirname(relPath));
    await writeFileAtomic(target, bytes, this.#durable);
  }

  // Creates the directory, after checking that its deepest existing ancestor
  // really lies inside the root (no symbolic link leads out of it).
  async #ensureDir(root: string, relDir: string): Promise<void> {
    if (this.#checkedDirs.has(relDir)) return;
    let existing = join(root, relDir);
    while (existing !== root && !(await exists(existing))) existing = dirname(existing);
    if (!isInside(root, await Deno.realPath(existing))) {
      rangeError(
        ACTION,
        "relPath",
        "inside the artifacts directory (a symbolic link leads out of it)",
        relDir,
      );
    }
    await Deno.mkdir(join(root, relDir), { recursive: true });
    this.#checkedDirs.add(relDir);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

// Checks every field before any I/O. sha256 and bytes are filled in later.
function prepareRecord(options: WriteJsonOptions): ManifestRecord {
  if (!isPlainObject(options)) typeError(ACTION, "options", "an object", options);
  checkRunId(ACTION, options.runId);
  const relPath = checkRelPath(ACTION, options.relPath);
  if (relPath.startsWith("manifests/") || relPath.split("/").some((s) => s.startsWith("."))) {
    rangeError(
      ACTION,
      "relPath",
      "outside manifests/ and free of hidden (dot) names, which ERS reserves",
      relPath,
    );
  }
  const extra = options.extra;
  if (extra !== undefined) {
    if (!isPlainObject(extra)) typeError(ACTION, "extra", "a plain object", extra);
    canonicalJsonString(extra, "extra");
  }
  const record: ManifestRecord = {
    tick: checkNonNegativeInteger(ACTION, "tick", options.tick),
    kind: checkName(ACTION, "kind", options.kind, MAX_TAG_LENGTH),
    schema: checkName(ACTION, "schema", options.schema, MAX_TAG_LENGTH),
    path: relPath,
    sha256: "",
    bytes: 0,
  };
  if (extra !== undefined && Object.keys(extra).length > 0) record.extra = extra;
  return record;
}

function checkSameAsRecorded(recorded: ManifestRecord, record: ManifestRecord): void {
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
}

async function loadManifest(path: string, runId: string): Promise<ManifestState> {
  let info: Deno.FileInfo | undefined;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const cached = manifestCache.get(path);
  if (info === undefined) {
    const fresh = { model: new ManifestModel(runId), ino: null, size: 0 };
    manifestCache.delete(path);
    return fresh;
  }
  if (cached && cached.ino === info.ino && cached.size === info.size) {
    manifestCache.delete(path); // re-insert: most recently used last
    manifestCache.set(path, cached);
    return cached;
  }
  const bytes = await Deno.readFile(path);
  let model: ManifestModel;
  try {
    model = ManifestModel.parse(runId, bytes);
  } catch (error) {
    throw new ManifestError(manifestRelPath(runId), (error as Error).message);
  }
  const state = { model, ino: info.ino, size: bytes.length };
  remember(path, state);
  return state;
}

async function commitRecord(
  path: string,
  state: ManifestState,
  record: ManifestRecord,
  durable: boolean,
): Promise<void> {
  const write = state.model.insert(record);
  try {
    if (write.create) {
      await writeFileAtomic(path, write.bytes, durable);
      state.ino = (await Deno.stat(path)).ino;
    } else {
      await writeAt(path, write.offset, write.bytes, durable);
    }
    state.size = state.model.byteLength;
    remember(path, state);
  } catch (error) {
    manifestCache.delete(path); // the model may be ahead of the file: reread next time
    throw error;
  }
}

function remember(path: string, state: ManifestState): void {
  manifestCache.delete(path);
  manifestCache.set(path, state);
  if (manifestCache.size > MAX_CACHED_MANIFESTS) {
    manifestCache.delete(manifestCache.keys().next().value as string);
  }
}
