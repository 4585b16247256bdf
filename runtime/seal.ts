/**
 * Sealing a run: a signed, chained in-toto attestation of everything the run
 * recorded, so that any later loss or change of its history is detectable.
 *
 * A seal is a DSSE envelope (payload type `application/vnd.in-toto+json`,
 * Ed25519 signature over the DSSE pre-authentication encoding) of an in-toto
 * Statement v1. The Statement's subjects are the run's manifest and every
 * artifact it records, each with its SHA-256; its predicate
 * ({@linkcode RunSealPredicate}) names the run, the tick range, the record
 * count, the previous seal's digest and the RunHeader's digest.
 *
 * The seals of a run form a chain stored in one file,
 * `manifests/<run_id>.seal.json`: the canonical JSON
 * `{"envelopes":[e0,e1,...],"run_id":...,"schema":"SealChain.v0"}`. Sealing
 * again appends an envelope; the earlier ones stay byte for byte, and each
 * names the SHA-256 of the canonical JSON of the one before it.
 *
 * @module
 */

import { join } from "node:path";
import { canonicalJsonString } from "../ers/_canonical.ts";
import { sha256Hex } from "../ers/_sha256.ts";
import { isPlainObject, orDefault, typeError } from "../ers/_validate.ts";
import { SealError } from "./errors.ts";
import {
  lstatIfExists,
  readRegularFile,
  requireAccess,
  syncDirectory,
  UntrustedFileError,
  withPermissionHint,
  withRootLock,
  writeFileAtomic,
} from "./_fs.ts";
import {
  type DsseEnvelope,
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_V1,
  type InTotoStatement,
  pae,
  toBase64,
} from "./_dsse.ts";
import type { ManifestModel, ManifestRecord } from "./_manifest.ts";
import { loadManifest } from "./_manifest_store.ts";
import { readRecordedFile, requireDirectory } from "./_read.ts";
import { checkRunId, sealRelPath } from "./_paths.ts";
import { artifactPath } from "./layout.ts";
import { mapBounded } from "./_concurrency.ts";
import {
  CHAIN_SCHEMA,
  checkPublicKeys,
  checkRunSeal,
  checkSubjects,
  ED25519,
  encoder,
  isEd25519Key,
  MAX_SEAL_FILE_BYTES,
  MAX_SEALS,
  readChain,
  readChainOrThrow,
  readModel,
  RUN_SEAL_PREDICATE_TYPE,
  runHeaderRelPath,
  type RunSealEntry,
  type RunSealPredicate,
  signedBy,
} from "./_seal_chain.ts";
import type { SealPublicKey, SealSigningKey } from "./seal_key.ts";
import type { VerifyIssue } from "./verify.ts";

export type { DsseEnvelope, DsseSignature, InTotoStatement, InTotoSubject } from "./_dsse.ts";
export {
  RUN_SEAL_PREDICATE_TYPE,
  type RunSealEntry,
  type RunSealPredicate,
} from "./_seal_chain.ts";

/**
 * What {@linkcode sealRun} did.
 *
 * @example Sealing twice without new ticks appends nothing
 * ```ts
 * import { abraxasTick, generateSealKey, readSealKey, type RunSeal, sealRun } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   await abraxasTick({ tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   const key = await readSealKey((await generateSealKey(`${dir}/k`)).keyPath);
 *   const first: RunSeal = await sealRun(dir, "R", key);
 *   assert.equal(first.appended, true);
 *   const again = await sealRun(dir, "R", key);
 *   assert.deepEqual(again, { ...first, appended: false });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface RunSeal {
  /** The seal file, relative to the artifacts root: `manifests/<run_id>.seal.json`. */
  path: string;
  /** The seal's index in the chain. */
  index: number;
  /** SHA-256 of the canonical JSON of the seal's envelope; keep it to detect a cut chain. */
  sha256: string;
  /** `false` when the newest seal already covered the manifest, so nothing was written. */
  appended: boolean;
  /** The key ids of the seal's signatures. */
  keyids: string[];
  /** How many records the seal covers. */
  records: number;
  /** The lowest and highest tick sealed. */
  ticks: { first: number; last: number };
}

/**
 * Options for {@linkcode sealRun}.
 *
 * @example A scratch seal that skips syncing to the disk
 * ```ts
 * import { abraxasTick, generateSealKey, readSealKey, sealRun, type SealRunOptions } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   await abraxasTick({ tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   const key = await readSealKey((await generateSealKey(`${dir}/k`)).keyPath);
 *   const options: SealRunOptions = { durable: false };
 *   assert.equal((await sealRun(dir, "R", key, options)).index, 0);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface SealRunOptions {
  /**
   * Sync the seal file and its directory to the disk.
   *
   * @default {true}
   */
  durable?: boolean;
}

/**
 * Options for {@linkcode verifySeal}.
 *
 * @example Check the signatures too
 * ```ts
 * import { abraxasTick, generateSealKey, readSealKey, readSealPublicKey, sealRun, verifySeal, type VerifySealOptions } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   await abraxasTick({ tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   const files = await generateSealKey(`${dir}/k`);
 *   await sealRun(dir, "R", await readSealKey(files.keyPath));
 *   const options: VerifySealOptions = { publicKey: await readSealPublicKey(files.pubPath) };
 *   assert.equal((await verifySeal(dir, "R", options)).signatures_checked, true);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface VerifySealOptions {
  /**
   * The key every seal must be signed by, or several (each seal by one of
   * them, as after a key change); without it, signatures are not checked.
   */
  publicKey?: SealPublicKey | readonly SealPublicKey[];
}

/**
 * What {@linkcode verifySeal} found.
 *
 * @example A clean seal
 * ```ts
 * import { abraxasTick, generateSealKey, readSealKey, sealRun, verifySeal, type SealReport } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   await abraxasTick({ tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   const key = await readSealKey((await generateSealKey(`${dir}/k`)).keyPath);
 *   await sealRun(dir, "R", key);
 *   const report: SealReport = await verifySeal(dir, "R", { publicKey: key });
 *   assert.deepEqual(report, {
 *     ok: true, run_id: "R", seals: 1, signatures_checked: true, errors: [], warnings: [],
 *   });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface SealReport {
  /** `true` when nothing is wrong (warnings allowed). */
  ok: boolean;
  /** The run. */
  run_id: string;
  /** How many seals its chain holds. */
  seals: number;
  /** Whether signatures were checked (a public key was given). */
  signatures_checked: boolean;
  /** What broke, each naming its file and the run. */
  errors: VerifyIssue[];
  /** Records not sealed yet; signatures not checked. */
  warnings: VerifyIssue[];
}

const ACTION = "seal run";

/**
 * Seals a run: checks every artifact its manifest records against its record,
 * and the run's existing seals against the manifest, then signs a new seal
 * naming them all and appends it to `manifests/<run_id>.seal.json` (written
 * beside and renamed, under the run lock that writers take). When the newest
 * seal already covers the manifest as it is, nothing is written.
 *
 * @param artifactsDir The artifacts directory.
 * @param runId The run to seal; its manifest must exist and record something.
 * @param key The signing key, from {@linkcode readSealKey}.
 * @param options Durability.
 * @returns The seal: its index, digest and what it covers.
 * @throws {TypeError | RangeError} For a bad `artifactsDir`, `runId`, `key` or `options`.
 * @throws {Deno.errors.NotFound} When the directory or the run's manifest does not exist.
 * @throws {SealError} When a recorded artifact does not match its record,
 * the seal file is invalid, or the manifest no longer holds what an earlier
 * seal names; nothing is written.
 * @throws {ManifestError} When the run's manifest is invalid.
 * @throws {ArtifactPermissionError} When read or write access is missing.
 *
 * @example Seal, write another tick, seal again: a chain of two
 * ```ts
 * import { abraxasTick, generateSealKey, readSealKey, sealRun } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const key = await readSealKey((await generateSealKey(`${dir}/k`)).keyPath);
 *   const step = () => ({ ok: true });
 *   const tick = (tick: number) =>
 *     abraxasTick({ tick, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   await tick(0);
 *   const first = await sealRun(dir, "R", key);
 *   await tick(1);
 *   const second = await sealRun(dir, "R", key);
 *   assert.deepEqual([first.index, second.index], [0, 1]);
 *   assert.deepEqual(second.ticks, { first: 0, last: 1 });
 *   assert.equal(second.records, 4);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function sealRun(
  artifactsDir: string,
  runId: string,
  key: SealSigningKey,
  options: SealRunOptions = {},
): Promise<RunSeal> {
  if (typeof artifactsDir !== "string" || artifactsDir.length === 0) {
    typeError(ACTION, "artifactsDir", "a non-empty path string", artifactsDir);
  }
  checkRunId(ACTION, runId);
  checkSigningKey(key);
  if (!isPlainObject(options as unknown)) typeError(ACTION, "options", "an object", options);
  const durable = orDefault(options.durable, true);
  if (typeof durable !== "boolean") typeError(ACTION, "options.durable", "a boolean", durable);
  requireAccess("write", artifactsDir);
  requireAccess("read", artifactsDir);
  return await withPermissionHint(artifactsDir, async () => {
    const manifests = join(artifactsDir, "manifests");
    const info = await lstatIfExists(manifests);
    if (!info?.isDirectory) {
      throw new Deno.errors.NotFound(`No manifest for run ${runId} in ${artifactsDir}`);
    }
    return await withRootLock(
      manifests,
      true,
      () => sealLocked(artifactsDir, runId, key, durable),
      await Deno.realPath(manifests),
    );
  });
}

async function sealLocked(
  root: string,
  runId: string,
  key: SealSigningKey,
  durable: boolean,
): Promise<RunSeal> {
  const state = await loadManifest(join(root, artifactPath("manifest", runId)), runId, durable);
  if (state.fingerprint === null) {
    throw new Deno.errors.NotFound(`No manifest for run ${runId} in ${root}`);
  }
  const records = state.model.records();
  if (records.length === 0) {
    throw new SealError(
      artifactPath("manifest", runId),
      `Cannot seal run ${runId} as its manifest ${artifactPath("manifest", runId)} records nothing`,
    );
  }
  const hashes = await checkRecordedFiles(root, runId, records);
  const manifestText = state.model.toText();
  const manifestSha256 = await sha256Hex(encoder.encode(manifestText));
  const sealPath = sealRelPath(runId);
  const chain = await readChainOrThrow(root, runId);
  const last = chain.entries.at(-1);
  if (last !== undefined) {
    await checkHistory(root, runId, chain.entries, state.model, hashes, key);
    if (last.statement.subject[0]?.digest.sha256 === manifestSha256) {
      return sealResult(sealPath, last, false);
    }
  }
  if (chain.entries.length >= MAX_SEALS) {
    throw new SealError(
      sealPath,
      `Cannot seal run ${runId} as its chain holds ${MAX_SEALS} seals, the most one run may have`,
    );
  }
  const statement = runStatement(runId, records, manifestSha256, {
    seal_index: chain.entries.length,
    previous_seal_sha256: last?.sha256 ?? null,
    run_header_sha256: await runHeaderSha256(root, runId),
  });
  const envelope = await signStatement(statement, key);
  await writeChain(root, runId, [...chain.raw, envelope], durable);
  const entry: RunSealEntry = {
    envelope,
    statement,
    sha256: await sha256Hex(encoder.encode(canonicalJsonString(envelope))),
  };
  return sealResult(sealPath, entry, true);
}

// The SHA-256 of every recorded file, each checked against its record.
async function checkRecordedFiles(
  root: string,
  runId: string,
  records: readonly ManifestRecord[],
): Promise<Map<string, string | undefined>> {
  const hashes = new Map<string, string | undefined>();
  const files = await mapBounded(
    records,
    CONCURRENT_READS,
    (record) => readRecordedFile(root, record),
  );
  for (const [i, record] of records.entries()) {
    const file = files[i]!;
    if (file.problem !== undefined) {
      throw new SealError(
        record.path,
        `Cannot seal run ${runId} as ${record.path}: ${file.problem}`,
      );
    }
    hashes.set(record.path, file.sha256);
  }
  return hashes;
}

// Writes the chain file whole, beside its place and renamed in.
async function writeChain(
  root: string,
  runId: string,
  envelopes: readonly unknown[],
  durable: boolean,
): Promise<void> {
  const sealPath = sealRelPath(runId);
  const bytes = encoder.encode(
    canonicalJsonString({ envelopes, run_id: runId, schema: CHAIN_SCHEMA }),
  );
  if (bytes.length > MAX_SEAL_FILE_BYTES) {
    throw new SealError(
      sealPath,
      `Cannot seal run ${runId} as ${sealPath} would hold ${bytes.length} bytes, more than ${MAX_SEAL_FILE_BYTES}`,
    );
  }
  // Right before the rename: `manifests/` is still a directory, not a link swapped in.
  if (!(await lstatIfExists(join(root, "manifests")))?.isDirectory) {
    throw new SealError(
      sealPath,
      `Cannot seal run ${runId} as manifests/ in ${root} is no longer a directory`,
    );
  }
  await writeFileAtomic(join(root, sealPath), bytes, durable);
  if (durable) await syncDirectory(join(root, "manifests"));
}

function sealResult(path: string, entry: RunSealEntry, appended: boolean): RunSeal {
  const { predicate } = entry.statement;
  return {
    path,
    index: predicate.seal_index,
    sha256: entry.sha256,
    appended,
    keyids: entry.envelope.signatures.map((signature) => signature.keyid),
    records: predicate.record_count,
    ticks: { ...predicate.ticks },
  };
}

// Refuses to extend a chain whose history the manifest no longer holds, or
// whose seals made with this key do not verify.
async function checkHistory(
  root: string,
  runId: string,
  entries: readonly RunSealEntry[],
  model: ManifestModel,
  hashes: Map<string, string | undefined>,
  key: SealSigningKey,
): Promise<void> {
  const issues: VerifyIssue[] = [];
  const context = { root, runId, model, hashes, issues, reported: new Set<string>() };
  for (const [index, entry] of entries.entries()) {
    await checkSubjects(context, entry, index);
    const own = entry.envelope.signatures.some((signature) => signature.keyid === key.keyid);
    if (own && !(await signedBy(entry, key))) {
      issues.push({
        path: sealRelPath(runId),
        message: `seal ${index} names key ${key.keyid} but its signature does not verify`,
      });
    }
  }
  const first = issues[0];
  if (first !== undefined) {
    throw new SealError(
      first.path,
      `Cannot seal run ${runId} as its sealed history is broken (${issues.length} problem${
        issues.length === 1 ? "" : "s"
      }; run ers verify): ${first.path}: ${first.message}`,
    );
  }
}

function runStatement(
  runId: string,
  records: readonly ManifestRecord[],
  manifestSha256: string,
  chain: Pick<RunSealPredicate, "seal_index" | "previous_seal_sha256" | "run_header_sha256">,
): InTotoStatement<RunSealPredicate> {
  let first = Infinity;
  let last = -Infinity;
  for (const record of records) {
    first = Math.min(first, record.tick);
    last = Math.max(last, record.tick);
  }
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [
      { name: artifactPath("manifest", runId), digest: { sha256: manifestSha256 } },
      ...records.map((record) => ({ name: record.path, digest: { sha256: record.sha256 } })),
    ],
    predicateType: RUN_SEAL_PREDICATE_TYPE,
    predicate: {
      run_id: runId,
      seal_index: chain.seal_index,
      ticks: { first, last },
      record_count: records.length,
      previous_seal_sha256: chain.previous_seal_sha256,
      run_header_sha256: chain.run_header_sha256,
    },
  };
}

async function signStatement(
  statement: InTotoStatement<RunSealPredicate>,
  key: SealSigningKey,
): Promise<DsseEnvelope> {
  const payload = encoder.encode(canonicalJsonString(statement));
  const signature = await crypto.subtle.sign(
    ED25519,
    key.privateKey,
    pae(IN_TOTO_PAYLOAD_TYPE, payload),
  );
  return {
    payload: toBase64(payload),
    payloadType: IN_TOTO_PAYLOAD_TYPE,
    signatures: [{ keyid: key.keyid, sig: toBase64(new Uint8Array(signature)) }],
  };
}

async function runHeaderSha256(root: string, runId: string): Promise<string | null> {
  const path = join(root, runHeaderRelPath(runId));
  try {
    return await sha256Hex(await readRegularFile(path) as Uint8Array<ArrayBuffer>);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    if (error instanceof UntrustedFileError) {
      throw new SealError(
        runHeaderRelPath(runId),
        `Cannot seal run ${runId} as ${runHeaderRelPath(runId)}: ${error.message}`,
      );
    }
    throw error;
  }
}

function checkSigningKey(key: SealSigningKey): void {
  const value = key as unknown as Record<string, unknown> | null;
  if (
    typeof value !== "object" || value === null || typeof value.keyid !== "string" ||
    !isEd25519Key(value.privateKey, "private") || !isEd25519Key(value.publicKey, "public")
  ) {
    typeError(ACTION, "key", "a signing key from readSealKey()", key);
  }
}

/**
 * Reads and checks the seal chain of a run: the file's shape and canonical
 * form, each envelope's Statement and predicate, and the links between them
 * (each seal's index, and the digest of the seal before it). Signatures and
 * subjects are not checked here; {@linkcode verifySeal} does that.
 *
 * @param artifactsDir The artifacts directory.
 * @param runId The run.
 * @returns The seals, oldest first; empty when the run has no seal file.
 * @throws {TypeError | RangeError} When `runId` is not a valid run id.
 * @throws {SealError} When the seal file is not a regular file, too large,
 * not the SealChain.v0 shape, or its chain is broken; naming what and where.
 *
 * @example A chain cut at its start is refused
 * ```ts
 * import { abraxasTick, generateSealKey, readSealChain, readSealKey, SealError, sealRun } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const key = await readSealKey((await generateSealKey(`${dir}/k`)).keyPath);
 *   const step = () => ({ ok: true });
 *   for (const tick of [0, 1]) {
 *     await abraxasTick({ tick, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *     await sealRun(dir, "R", key);
 *   }
 *   assert.equal((await readSealChain(dir, "R")).length, 2);
 *   const path = `${dir}/manifests/R.seal.json`;
 *   const chain = JSON.parse(await Deno.readTextFile(path));
 *   chain.envelopes.shift();
 *   await Deno.writeTextFile(path, JSON.stringify(chain));
 *   await assert.rejects(readSealChain(dir, "R"), SealError);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function readSealChain(artifactsDir: string, runId: string): Promise<RunSealEntry[]> {
  checkRunId("read seal chain", runId);
  return (await readChainOrThrow(artifactsDir, runId)).entries;
}

/**
 * Checks a run's seals: the chain (each seal's index and the digest of the
 * seal before it), each seal's signature when a public key is given, that
 * every artifact a seal names is still recorded with its SHA-256 and still
 * hashes to it, that the manifest still holds every record a seal names
 * unchanged, and the RunHeader's digest. Records written after the newest
 * seal are a warning. Needs only read access.
 *
 * `verifyArtifacts()` runs the same checks for every sealed run, on top of
 * re-hashing every record.
 *
 * @param artifactsDir The artifacts directory.
 * @param runId The run.
 * @param options The public key to check signatures with.
 * @returns Errors and warnings, each naming its file and the run.
 * @throws {TypeError | RangeError} When `runId` is not a valid run id.
 * @throws {Deno.errors.NotFound} When the directory does not exist.
 * @throws {ArtifactPermissionError} When read access is missing.
 *
 * @example A tampered artifact breaks the seal, and the wrong key is named
 * ```ts
 * import { abraxasTick, generateSealKey, readSealKey, readSealPublicKey, sealRun, verifySeal } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   const out = await abraxasTick({ tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   const key = await readSealKey((await generateSealKey(`${dir}/k`)).keyPath);
 *   await sealRun(dir, "R", key);
 *   const other = await readSealPublicKey((await generateSealKey(`${dir}/other`)).pubPath);
 *   const wrongKey = await verifySeal(dir, "R", { publicKey: other });
 *   assert.match(wrongKey.errors[0]!.message, /^run R: seal 0 is not signed by key/);
 *   await Deno.writeTextFile(out.artifacts.trendpack, "{}");
 *   const tampered = await verifySeal(dir, "R", { publicKey: key });
 *   assert.equal(tampered.ok, false);
 *   assert.deepEqual(tampered.errors.map((e) => e.path), ["viz/R/000000.trendpack.json"]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function verifySeal(
  artifactsDir: string,
  runId: string,
  options: VerifySealOptions = {},
): Promise<SealReport> {
  checkRunId("verify seal", runId);
  if (!isPlainObject(options as unknown)) {
    typeError("verify seal", "options", "an object", options);
  }
  const publicKeys = checkPublicKeys("verify seal", options.publicKey);
  requireAccess("read", artifactsDir);
  return await withPermissionHint(artifactsDir, async () => {
    await requireDirectory(
      artifactsDir,
      `Cannot verify seal as ${artifactsDir} is not a directory`,
    );
    const chain = await readChain(artifactsDir, runId); // before the manifest: see RunSealInput
    const report: SealReport = {
      ok: true,
      run_id: runId,
      seals: 0,
      signatures_checked: publicKeys !== undefined,
      errors: [],
      warnings: [],
    };
    const model = await readModel(artifactsDir, runId, report.errors);
    const hashes = new Map<string, string | undefined>();
    if (model) {
      const files = await mapBounded(
        model.records(),
        CONCURRENT_READS,
        (record) => readRecordedFile(artifactsDir, record),
      );
      model.records().forEach((record, i) => hashes.set(record.path, files[i]!.sha256));
    }
    report.seals = await checkRunSeal(
      { root: artifactsDir, runId, chain, model, hashes, publicKeys },
      report.errors,
      report.warnings,
    );
    report.ok = report.errors.length === 0;
    return report;
  });
}

// Reading and hashing files one after another leaves a core idle while each
// read waits on the disk; a few in flight keep both busy.
const CONCURRENT_READS = 8;
