/**
 * Errors the artifact runtime raises for callers to catch.
 *
 * @module
 */

/**
 * Raised when an artifact already recorded in a run's manifest would be
 * written with different bytes (or different metadata). Recorded artifacts are
 * append-only: they are never rewritten.
 *
 * @example Catching drift
 * ```ts
 * import { DriftError } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const error = new DriftError("viz/R/000000.trendpack.json", "aa".repeat(32), "bb".repeat(32));
 * assert.equal(error.name, "DriftError");
 * assert.match(error.message, /viz\/R\/000000\.trendpack\.json/);
 * ```
 */
export class DriftError extends Error {
  /** Always `"DriftError"`. */
  override name = "DriftError";
  /** The artifact's path relative to the artifacts root. */
  readonly path: string;
  /** The SHA-256 the manifest records for it. */
  readonly recordedSha256: string;
  /** The SHA-256 of the bytes that were refused. */
  readonly attemptedSha256: string;

  /**
   * Creates the error.
   *
   * @param path The artifact's path relative to the artifacts root.
   * @param recordedSha256 What the manifest records.
   * @param attemptedSha256 What the refused write would have recorded.
   * @param detail What differs, when it is not the bytes.
   */
  constructor(path: string, recordedSha256: string, attemptedSha256: string, detail?: string) {
    super(
      detail ??
        `Cannot rewrite recorded artifact ${path}: the manifest records sha256 ${recordedSha256}, the new bytes hash to ${attemptedSha256}`,
    );
    this.path = path;
    this.recordedSha256 = recordedSha256;
    this.attemptedSha256 = attemptedSha256;
  }
}

/**
 * Raised when Deno has not granted the access the runtime needs. The message
 * names the flag to add, such as `--allow-write=./out`.
 *
 * @example The flag is in the message
 * ```ts
 * import { ArtifactPermissionError } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const error = new ArtifactPermissionError("write", "./out");
 * assert.equal(error.flag, "--allow-write=./out");
 * assert.match(error.message, /--allow-write=\.\/out/);
 * ```
 */
export class ArtifactPermissionError extends Error {
  /** Always `"ArtifactPermissionError"`. */
  override name = "ArtifactPermissionError";
  /** The permission flag that would allow the operation. */
  readonly flag: string;

  /**
   * Creates the error.
   *
   * @param access `"read"` or `"write"`.
   * @param dir The directory the access is needed for, as the caller gave it.
   */
  constructor(access: "read" | "write", dir: string) {
    const flag = `--allow-${access}=${dir}`;
    super(
      `Deno has not granted ${access} access to the artifacts directory ${dir}: run again with ${flag}`,
    );
    this.flag = flag;
  }
}

/**
 * Raised when a manifest on disk cannot be trusted: not valid JSON, not the
 * Manifest.v0 shape, not in canonical form, not sorted, or larger than
 * `MAX_MANIFEST_BYTES` (so it is not read).
 *
 * @example The manifest and its problem are named
 * ```ts
 * import { ManifestError } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const error = new ManifestError("manifests/R.manifest.json", "it is not a JSON object");
 * assert.equal(error.name, "ManifestError");
 * assert.equal(error.path, "manifests/R.manifest.json");
 * assert.equal(error.message, "Manifest manifests/R.manifest.json is invalid: it is not a JSON object");
 * ```
 */
export class ManifestError extends Error {
  /** Always `"ManifestError"`. */
  override name = "ManifestError";
  /** The manifest's path relative to the artifacts root. */
  readonly path: string;
  /** What is wrong with it, without the path. */
  readonly problem: string;

  /**
   * Creates the error.
   *
   * @param path The manifest's path relative to the artifacts root.
   * @param problem What is wrong with it.
   */
  constructor(path: string, problem: string) {
    super(`Manifest ${path} is invalid: ${problem}`);
    this.path = path;
    this.problem = problem;
  }
}

/**
 * Raised when a run cannot be sealed, or a seal key file cannot be used: the
 * message names the file and what is wrong with it.
 *
 * @example The file is named
 * ```ts
 * import { SealError } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const error = new SealError("keys/ci.key", "Cannot use seal key file keys/ci.key: it does not exist");
 * assert.equal(error.name, "SealError");
 * assert.equal(error.path, "keys/ci.key");
 * assert.match(error.message, /keys\/ci\.key/);
 * ```
 */
export class SealError extends Error {
  /** Always `"SealError"`. */
  override name = "SealError";
  /** The file concerned: a key file, a seal file, or an artifact. */
  readonly path: string;

  /**
   * Creates the error.
   *
   * @param path The file concerned.
   * @param message The whole message, naming `path`.
   */
  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

/**
 * The operating system refused an artifact write: the directory is a file,
 * the disk is full, a directory stands where the file would go, and the like.
 * The message is one line naming the path and saying that nothing was
 * recorded; `cause` holds the system's own error.
 *
 * @example A file where the artifacts directory should be
 * ```ts
 * import { ArtifactIoError, ArtifactWriter } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/out`, "");
 *   const writer = new ArtifactWriter(`${dir}/out`);
 *   await assert.rejects(
 *     writer.writeJson({ runId: "R", tick: 0, kind: "note", schema: "Note.v0", obj: 1, relPath: "notes/R/0.json" }),
 *     (error: unknown) => error instanceof ArtifactIoError && /out is not a directory/.test(error.message),
 *   );
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export class ArtifactIoError extends Error {
  /** Always `"ArtifactIoError"`. */
  override name = "ArtifactIoError";
  /** The artifact's path relative to the artifacts root, or the root itself. */
  readonly path: string;

  /**
   * Creates the error.
   *
   * @param path The artifact's path relative to the artifacts root, or the root.
   * @param problem What the system said, in words, without the path.
   * @param cause The system's own error.
   */
  constructor(path: string, problem: string, cause?: unknown) {
    super(`Cannot write artifact ${path}: ${problem}; nothing was recorded`, { cause });
    this.path = path;
  }
}

/**
 * Raised when a run is resumed with another identity than its RunHeader
 * records: another pipeline digest, budgets, mode, ERS version, sandbox or
 * isolation. Nothing is written. Replaying the run (which writes nothing)
 * is how to compare the two.
 *
 * @example Both pipeline digests are named
 * ```ts
 * import { RunIdentityError } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const error = new RunIdentityError("R", "aa".repeat(32), "bb".repeat(32), ["identity.pipeline_sha256"]);
 * assert.equal(error.name, "RunIdentityError");
 * assert.match(error.message, /recorded with pipeline sha256 a{64}, this pipeline is b{64}/);
 * assert.match(error.message, /new run id \(--run-id\)/);
 * ```
 */
export class RunIdentityError extends Error {
  /** Always `"RunIdentityError"`. */
  override name = "RunIdentityError";
  /** The run. */
  readonly runId: string;
  /** The pipeline digest the run's header records. */
  readonly recordedPipelineSha256: string;
  /** The digest of the pipeline that was refused. */
  readonly attemptedPipelineSha256: string;
  /** The identity fields that differ, such as `identity.budgets.shadow.ops`. */
  readonly fields: readonly string[];

  /**
   * Creates the error.
   *
   * @param runId The run.
   * @param recordedPipelineSha256 The pipeline digest its header records.
   * @param attemptedPipelineSha256 The digest of the refused pipeline.
   * @param fields The identity fields that differ.
   */
  constructor(
    runId: string,
    recordedPipelineSha256: string,
    attemptedPipelineSha256: string,
    fields: readonly string[],
  ) {
    super(
      `Cannot resume run ${runId} with another identity (${fields.join(", ")} differ${
        fields.length === 1 ? "s" : ""
      }): it was recorded with pipeline sha256 ${recordedPipelineSha256}, this pipeline is ${attemptedPipelineSha256}; nothing was written. Start a new run id (--run-id), or compare the two with ers replay`,
    );
    this.runId = runId;
    this.recordedPipelineSha256 = recordedPipelineSha256;
    this.attemptedPipelineSha256 = attemptedPipelineSha256;
    this.fields = Object.freeze([...fields]);
  }
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
