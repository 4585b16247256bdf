// The seal chain of a run, read and checked: shared by sealing (which refuses
// to extend a broken history) and by verification. See seal.ts for the format.

import { parseJson } from "./_json.ts";
import { join } from "node:path";
import { canonicalJsonString } from "../ers/_canonical.ts";
import { sha256Hex } from "../ers/_sha256.ts";
import { isPlainObject, typeError } from "../ers/_validate.ts";
import { ManifestError, SealError } from "./errors.ts";
import { readRegularFile, UntrustedFileError } from "./_fs.ts";
import {
  type DsseEnvelope,
  fromBase64,
  type InTotoStatement,
  type InTotoSubject,
  pae,
  parseEnvelope,
  parseStatement,
} from "./_dsse.ts";
import { ManifestModel, type ManifestRecord } from "./_manifest.ts";
import { readManifestFiles } from "./_read.ts";
import { isSafeRelPath, sealRelPath } from "./_paths.ts";
import { artifactPath } from "./layout.ts";
import type { SealPublicKey } from "./seal_key.ts";
import type { VerifyIssue } from "./verify.ts";

/**
 * The in-toto `predicateType` of a run seal.
 *
 * @example Every seal's Statement names it
 * ```ts
 * import { RUN_SEAL_PREDICATE_TYPE } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * assert.equal(RUN_SEAL_PREDICATE_TYPE, "https://jsr.io/@abraxas/ers/RunSeal/v1");
 * ```
 */
export const RUN_SEAL_PREDICATE_TYPE = "https://jsr.io/@abraxas/ers/RunSeal/v1";

/**
 * The predicate of a run seal's in-toto Statement. Its fields are the byte
 * contract, hence snake_case.
 *
 * @example The predicate of a first seal
 * ```ts
 * import {
 *   abraxasTick, generateSealKey, readSealChain, readSealKey, type RunSealPredicate, sealRun,
 * } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   for (const tick of [0, 1]) {
 *     await abraxasTick({
 *       tick, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step,
 *     });
 *   }
 *   const key = await readSealKey((await generateSealKey(`${dir}/k`)).keyPath);
 *   await sealRun(dir, "R", key);
 *   const [seal] = await readSealChain(dir, "R");
 *   const predicate: RunSealPredicate = seal!.statement.predicate;
 *   assert.deepEqual(predicate, {
 *     run_id: "R", seal_index: 0, ticks: { first: 0, last: 1 }, record_count: 4,
 *     previous_seal_sha256: null, run_header_sha256: null,
 *   });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface RunSealPredicate {
  /** The run. */
  run_id: string;
  /** The seal's place in the run's chain, from 0. */
  seal_index: number;
  /** The lowest and highest tick of the sealed records. */
  ticks: { first: number; last: number };
  /** How many manifest records the seal covers (its subjects, less the manifest). */
  record_count: number;
  /** SHA-256 of the canonical JSON of the previous seal's envelope; `null` for the first. */
  previous_seal_sha256: string | null;
  /** SHA-256 of `runs/<run_id>.runheader.json` when the run has one, else `null`. */
  run_header_sha256: string | null;
}

/**
 * One seal of a run's chain, as read and checked by {@linkcode readSealChain}.
 *
 * @example The first subject is the manifest
 * ```ts
 * import { abraxasTick, generateSealKey, readSealChain, readSealKey, type RunSealEntry, sealRun } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   await abraxasTick({ tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   const key = await readSealKey((await generateSealKey(`${dir}/k`)).keyPath);
 *   const sealed = await sealRun(dir, "R", key);
 *   const [entry]: RunSealEntry[] = await readSealChain(dir, "R");
 *   assert.equal(entry!.sha256, sealed.sha256);
 *   assert.equal(entry!.envelope.payloadType, "application/vnd.in-toto+json");
 *   assert.equal(entry!.statement.subject[0]!.name, "manifests/R.manifest.json");
 *   assert.equal(entry!.envelope.signatures[0]!.keyid, key.keyid);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface RunSealEntry {
  /** The DSSE envelope as stored. */
  envelope: DsseEnvelope;
  /** The in-toto Statement the envelope carries. */
  statement: InTotoStatement<RunSealPredicate>;
  /** SHA-256 of the canonical JSON of the envelope: what the next seal chains to. */
  sha256: string;
}

export const CHAIN_SCHEMA = "SealChain.v0";
export const ED25519 = { name: "Ed25519" } as const;
export const encoder = new TextEncoder();
// A seal of a 10,000-tick run is about 4 MB; a chain file is refused beyond this.
export const MAX_SEAL_FILE_BYTES = 512 * 1024 * 1024;
export const MAX_SEALS = 10_000;
const SHA256 = /^[0-9a-f]{64}$/;
const PREDICATE_FIELDS = new Set([
  "run_id",
  "seal_index",
  "ticks",
  "record_count",
  "previous_seal_sha256",
  "run_header_sha256",
]);

/** The RunHeader of a run, relative to the artifacts root, whose digest a seal names. */
export function runHeaderRelPath(runId: string): string {
  return artifactPath("runheader", runId);
}

// Whether one of the envelope's signatures verifies with `key` (key ids are
// hints only: every signature is tried).
export async function signedBy(entry: RunSealEntry, key: SealPublicKey): Promise<boolean> {
  return await signedByAny(entry, [key]);
}

async function signedByAny(
  entry: RunSealEntry,
  keys: readonly SealPublicKey[],
): Promise<boolean> {
  const payload = fromBase64(entry.envelope.payload);
  if (payload === undefined) return false;
  const message = pae(entry.envelope.payloadType, payload);
  for (const { sig } of entry.envelope.signatures) {
    const signature = fromBase64(sig);
    if (signature === undefined) continue;
    for (const key of keys) {
      if (await crypto.subtle.verify(ED25519, key.publicKey, signature, message)) return true;
    }
  }
  return false;
}

export interface Chain {
  /** The envelopes as stored (extra fields kept), for rewriting them byte for byte. */
  raw: unknown[];
  entries: RunSealEntry[];
}

export async function readChainOrThrow(root: string, runId: string): Promise<Chain> {
  const chain = await readChain(root, runId);
  if (typeof chain === "string") {
    throw new SealError(
      sealRelPath(runId),
      `Seal file ${sealRelPath(runId)} of run ${runId} is invalid: ${chain}`,
    );
  }
  return chain;
}

// The chain, or a message saying why it cannot be trusted.
export async function readChain(root: string, runId: string): Promise<Chain | string> {
  const path = join(root, sealRelPath(runId));
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(path, MAX_SEAL_FILE_BYTES);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { raw: [], entries: [] };
    if (error instanceof UntrustedFileError) return error.message;
    throw error;
  }
  let text: string;
  let value: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    value = parseJson(text);
  } catch {
    return "it is not valid UTF-8 JSON (truncated or edited)";
  }
  if (!isPlainObject(value)) return "it is not a JSON object";
  if (value.schema !== CHAIN_SCHEMA) return `its 'schema' is not "${CHAIN_SCHEMA}"`;
  if (value.run_id !== runId) return `its 'run_id' is not ${JSON.stringify(runId)}`;
  const raw = value.envelopes;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_SEALS) {
    return `its 'envelopes' is not an array of 1 to ${MAX_SEALS} seals`;
  }
  if (canonicalJsonString(value) !== text) return "it is not in canonical form (edited)";
  const entries: RunSealEntry[] = [];
  try {
    for (const [index, item] of raw.entries()) {
      const entry = await parseEntry(runId, item, index);
      const previous = entries.at(-1)?.sha256 ?? null;
      const { predicate } = entry.statement;
      if (predicate.seal_index !== index) {
        throw new Error(
          `envelopes[${index}] is seal ${predicate.seal_index}: the chain was cut or reordered`,
        );
      }
      if (predicate.previous_seal_sha256 !== previous) {
        throw new Error(
          `envelopes[${index}] chains to ${predicate.previous_seal_sha256}, but the seal before it hashes to ${previous}`,
        );
      }
      entries.push(entry);
    }
  } catch (error) {
    return (error as Error).message;
  }
  return { raw, entries };
}

async function parseEntry(runId: string, item: unknown, index: number): Promise<RunSealEntry> {
  const at = `envelopes[${index}]`;
  const envelope = parseEnvelope(item, at);
  const { statement } = parseStatement(envelope, RUN_SEAL_PREDICATE_TYPE, at);
  const predicate = checkPredicate(statement.predicate, `${at}.payload.predicate`, runId);
  const subject = statement.subject;
  const names = new Set<string>();
  subject.forEach(({ name }, i) => {
    const ok = i === 0 ? name === artifactPath("manifest", runId) : isSafeRelPath(name);
    if (!ok || names.has(name)) {
      throw new Error(
        i === 0
          ? `${at}.payload.subject[0] is not the manifest ${artifactPath("manifest", runId)}`
          : `${at}.payload.subject[${i}].name is not a fresh path inside the artifacts directory`,
      );
    }
    names.add(name);
  });
  if (subject.length !== predicate.record_count + 1) {
    throw new Error(
      `${at} names ${
        subject.length - 1
      } artifacts, but its predicate counts ${predicate.record_count}`,
    );
  }
  return {
    envelope,
    statement: { ...statement, predicate },
    sha256: await sha256Hex(encoder.encode(canonicalJsonString(item))),
  };
}

function checkPredicate(value: Record<string, unknown>, at: string, runId: string) {
  for (const key of Object.keys(value)) {
    if (!PREDICATE_FIELDS.has(key)) throw new Error(`${at} has unknown field '${key}'`);
  }
  const count = (field: string, min: number) => {
    const n = value[field];
    if (!Number.isSafeInteger(n) || (n as number) < min) {
      throw new Error(`${at}.${field} is not an integer of at least ${min}`);
    }
    return n as number;
  };
  const digest = (field: string) => {
    const d = value[field];
    if (d !== null && (typeof d !== "string" || !SHA256.test(d))) {
      throw new Error(`${at}.${field} is neither null nor 64 lowercase hex digits`);
    }
    return d as string | null;
  };
  if (value.run_id !== runId) throw new Error(`${at}.run_id is not ${JSON.stringify(runId)}`);
  const ticks = value.ticks;
  const first = isPlainObject(ticks) ? ticks.first : undefined;
  const last = isPlainObject(ticks) ? ticks.last : undefined;
  if (
    !Number.isSafeInteger(first) || !Number.isSafeInteger(last) || (first as number) < 0 ||
    (first as number) > (last as number)
  ) {
    throw new Error(`${at}.ticks is not { first, last } with 0 <= first <= last`);
  }
  const predicate: RunSealPredicate = {
    run_id: runId,
    seal_index: count("seal_index", 0),
    ticks: { first: first as number, last: last as number },
    record_count: count("record_count", 1),
    previous_seal_sha256: digest("previous_seal_sha256"),
    run_header_sha256: digest("run_header_sha256"),
  };
  return predicate;
}

// ---------------------------------------------------------------------------
// Verifying

/** What the subject checks of one run need. */
export interface SubjectContext {
  root: string;
  runId: string;
  model: ManifestModel;
  /** SHA-256 of each file as it is now (`undefined`: missing or not a file); filled lazily. */
  hashes: Map<string, string | undefined>;
  issues: VerifyIssue[];
  /** Paths already reported, so that a path broken for several seals is named once. */
  reported: Set<string>;
}

// Checks one seal's subjects against the manifest and the files: each
// artifact it names is still recorded with the same SHA-256 and still hashes
// to it, and the records it names, as the manifest holds them now, still make
// the manifest it sealed (so their metadata was not rewritten either).
export async function checkSubjects(
  context: SubjectContext,
  entry: RunSealEntry,
  index: number,
): Promise<void> {
  const seal = `run ${context.runId}: seal ${index}`;
  const [manifest, ...artifacts] = entry.statement.subject;
  const { named, unrecorded, rerecorded } = await checkArtifacts(context, seal, artifacts);
  const manifestPath = artifactPath("manifest", context.runId);
  if (unrecorded.length > 0) {
    report(
      context,
      manifestPath,
      () =>
        `${seal} names ${unrecorded.length} artifacts (of ${artifacts.length}) that the manifest no longer records: it was emptied, cut or replaced; such as ${
          unrecorded[0]
        }`,
    );
    return;
  }
  // A record whose SHA-256 differs is reported already; the manifest cannot match then.
  if (!rerecorded && manifest !== undefined) {
    const sealed = new ManifestModel(context.runId);
    if (named.length > 0) sealed.insertAll(named);
    const rebuilt = await sha256Hex(encoder.encode(sealed.toText()));
    if (rebuilt !== manifest.digest.sha256) {
      report(
        context,
        manifestPath,
        () =>
          `${seal} names manifest sha256 ${manifest.digest.sha256}, but the records it names now make ${rebuilt}: a record was rewritten`,
      );
    }
  }
  const header = entry.statement.predicate.run_header_sha256;
  const headerPath = runHeaderRelPath(context.runId);
  if (header !== null && !context.reported.has(headerPath)) {
    const actual = await fileSha256(context, headerPath);
    if (actual !== header) {
      report(
        context,
        headerPath,
        () =>
          `${seal} names RunHeader sha256 ${header}, the file ${
            actual === undefined ? "is missing" : `hashes to ${actual}`
          }`,
      );
    }
  }
}

// Each artifact subject against its record and its file; returns the records
// named, the names no longer recorded, and whether a record's hash changed.
async function checkArtifacts(
  context: SubjectContext,
  seal: string,
  artifacts: readonly InTotoSubject[],
): Promise<{ named: ManifestRecord[]; unrecorded: string[]; rerecorded: boolean }> {
  const named: ManifestRecord[] = [];
  const unrecorded: string[] = [];
  let rerecorded = false;
  for (const { name, digest } of artifacts) {
    const record = context.model.find(name);
    if (record === undefined) {
      unrecorded.push(name);
      continue;
    }
    named.push(record);
    if (record.sha256 !== digest.sha256) rerecorded = true;
    if (context.reported.has(name)) continue;
    const actual = await fileSha256(context, name);
    const problem = record.sha256 !== digest.sha256
      ? `${seal} names sha256 ${digest.sha256}, the manifest records ${record.sha256}`
      : actual === undefined
      ? `${seal} names it, but the file is missing or not a regular file`
      : actual !== digest.sha256
      ? `${seal} names sha256 ${digest.sha256}, the file hashes to ${actual}`
      : undefined;
    if (problem !== undefined) report(context, name, () => problem);
  }
  return { named, unrecorded, rerecorded };
}

// Reports a problem of `path` once, however many seals share it.
function report(context: SubjectContext, path: string, message: () => string): void {
  if (context.reported.has(path)) return;
  context.reported.add(path);
  context.issues.push({ path, message: message() });
}

async function fileSha256(context: SubjectContext, path: string): Promise<string | undefined> {
  if (context.hashes.has(path)) return context.hashes.get(path);
  const full = join(context.root, path);
  const sha256 = await regularFileSha256(full);
  context.hashes.set(path, sha256);
  return sha256;
}

/** What {@linkcode checkRunSeal} needs from a caller that has read the run already. */
export interface RunSealInput {
  root: string;
  runId: string;
  /** The chain read before the manifest (a seal never names more than the manifest it saw). */
  chain: Chain | string;
  /** The run's manifest; `undefined` when it is missing, `null` when it is invalid. */
  model: ManifestModel | null | undefined;
  /** SHA-256 of recorded files already hashed (`undefined`: missing). */
  hashes: Map<string, string | undefined>;
  /** The keys a seal may be signed by (one of them); `undefined`: signatures not checked. */
  publicKeys: readonly SealPublicKey[] | undefined;
}

// Every seal signed by one of `publicKeys`, or a warning that none was checked.
async function checkSignatures(
  runId: string,
  entries: readonly RunSealEntry[],
  publicKeys: readonly SealPublicKey[] | undefined,
  errors: VerifyIssue[],
  warnings: VerifyIssue[],
): Promise<void> {
  const sealPath = sealRelPath(runId);
  if (publicKeys !== undefined) {
    const trusted = publicKeys.length === 1
      ? `key ${publicKeys[0]?.keyid}`
      : `any of keys ${publicKeys.map((key) => key.keyid).join(", ")}`;
    for (const [index, entry] of entries.entries()) {
      if (await signedByAny(entry, publicKeys)) continue;
      const names = entry.envelope.signatures.map((s) => s.keyid || "(none)").join(", ");
      errors.push({
        path: sealPath,
        message:
          `run ${runId}: seal ${index} is not signed by ${trusted} (its signatures name key ${names})`,
      });
    }
  } else {
    warnings.push({
      path: sealPath,
      message: `run ${runId}: signatures of ${entries.length} seal${
        entries.length === 1 ? "" : "s"
      } not checked (no public key given)`,
    });
  }
}

/**
 * The seal checks of one run (for `verifyArtifacts` and
 * {@linkcode verifySeal}): chain, signatures, subjects, RunHeader, and
 * records not sealed yet. Returns the number of seals.
 */
export async function checkRunSeal(
  input: RunSealInput,
  errors: VerifyIssue[],
  warnings: VerifyIssue[],
): Promise<number> {
  const { root, runId, chain, model, publicKeys } = input;
  const sealPath = sealRelPath(runId);
  const manifestPath = artifactPath("manifest", runId);
  if (typeof chain === "string") {
    errors.push({ path: sealPath, message: `run ${runId}: invalid seal file: ${chain}` });
    return 0;
  }
  const entries = chain.entries;
  const last = entries.at(-1);
  if (last === undefined) {
    if (publicKeys !== undefined) {
      errors.push({
        path: sealPath,
        message: `run ${runId} has no seal, and a public key was given to check one`,
      });
    }
    return 0;
  }
  await checkSignatures(runId, entries, publicKeys, errors, warnings);
  if (model === null) return entries.length; // the manifest's own error is reported
  if (model === undefined) {
    errors.push({
      path: manifestPath,
      message: `run ${runId} is sealed (seal ${
        entries.length - 1
      } names ${last.statement.predicate.record_count} records) but its manifest is missing`,
    });
    return entries.length;
  }
  const context = {
    root,
    runId,
    model,
    hashes: input.hashes,
    issues: errors,
    reported: new Set<string>(),
  };
  for (let index = entries.length - 1; index >= 0; index--) {
    await checkSubjects(context, entries[index] as RunSealEntry, index);
  }
  const unsealed = model.length - last.statement.predicate.record_count;
  if (unsealed > 0) {
    warnings.push({
      path: manifestPath,
      message: `run ${runId}: ${unsealed} record${unsealed === 1 ? "" : "s"} written after seal ${
        entries.length - 1
      } ${unsealed === 1 ? "is" : "are"} not sealed yet`,
    });
  }
  return entries.length;
}

export async function readModel(
  root: string,
  runId: string,
  errors: VerifyIssue[],
): Promise<ManifestModel | null | undefined> {
  let bytes: Uint8Array | ManifestError | undefined;
  try {
    bytes = (await readManifestFiles(root, runId)).get(runId);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    if (bytes === undefined) return undefined;
    if (bytes instanceof ManifestError) throw bytes;
    return ManifestModel.parse(runId, bytes);
  } catch (error) {
    const problem = error instanceof ManifestError ? error.problem : (error as Error).message;
    errors.push({ path: artifactPath("manifest", runId), message: `invalid manifest: ${problem}` });
    return null;
  }
}

/** Whether `value` is an Ed25519 Web Crypto key of `type`. */
export function isEd25519Key(value: unknown, type: KeyType): boolean {
  return value instanceof CryptoKey && value.type === type && value.algorithm.name === "Ed25519";
}

/** Most keys one verification trusts. */
const MAX_TRUSTED_KEYS = 64;

/**
 * The trusted keys of `publicKey`, one key or a non-empty array of them (from
 * `readSealPublicKey()` or `readSealKey()`); `undefined` when it is undefined.
 */
export function checkPublicKeys(
  action: string,
  publicKey: unknown,
): readonly SealPublicKey[] | undefined {
  if (publicKey === undefined) return undefined;
  const keys = Array.isArray(publicKey) ? publicKey : [publicKey];
  const rule = `a public key from readSealPublicKey(), or an array of 1 to ${MAX_TRUSTED_KEYS}`;
  if (keys.length === 0 || keys.length > MAX_TRUSTED_KEYS) {
    throw new RangeError(
      `Cannot ${action} as 'publicKey' must be ${rule}: current value is an array of length ${keys.length}`,
    );
  }
  for (const key of keys) {
    const value = key as Record<string, unknown> | null;
    if (
      typeof value !== "object" || value === null || typeof value.keyid !== "string" ||
      !isEd25519Key(value.publicKey, "public")
    ) {
      typeError(action, "publicKey", rule, publicKey);
    }
  }
  return Object.freeze([...keys] as SealPublicKey[]);
}

/**
 * SHA-256 of the regular file at `path`, or `undefined` when it is missing or
 * not a regular file with one link (never blocking on a FIFO).
 */
export async function regularFileSha256(path: string): Promise<string | undefined> {
  try {
    return await sha256Hex(await readRegularFile(path) as Uint8Array<ArrayBuffer>);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof UntrustedFileError) {
      return undefined;
    }
    throw error;
  }
}
