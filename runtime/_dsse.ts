// DSSE envelopes (https://github.com/secure-systems-lab/dsse, v1.0.0) over
// in-toto Statements v1 (https://github.com/in-toto/attestation, spec/v1):
// the pre-authentication encoding that is signed, base64, and the shape
// checks of an envelope and of the Statement a run seal carries.
//
// Parsers here throw a plain Error whose message names what is wrong and
// where; callers wrap it in a SealError naming the file.

import { parseJson } from "./_json.ts";
import { isPlainObject } from "../ers/_validate.ts";

/** The DSSE payload type of an in-toto Statement. */
export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";
/** The `_type` of an in-toto Statement v1. */
export const IN_TOTO_STATEMENT_V1 = "https://in-toto.io/Statement/v1";

const encoder = new TextEncoder();
const SHA256 = /^[0-9a-f]{64}$/;

/**
 * One signature of a DSSE envelope.
 *
 * @example Signed with the seal key
 * ```ts
 * import { abraxasTick, generateSealKey, readSealChain, readSealKey, sealRun, type DsseSignature } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   await abraxasTick({ tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   const key = await readSealKey((await generateSealKey(`${dir}/k`)).keyPath);
 *   await sealRun(dir, "R", key);
 *   const [seal] = await readSealChain(dir, "R");
 *   const signature: DsseSignature = seal!.envelope.signatures[0]!;
 *   assert.equal(signature.keyid, key.keyid);
 *   assert.equal(Uint8Array.fromBase64(signature.sig).length, 64); // Ed25519
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface DsseSignature {
  /** An unauthenticated hint naming the key: ERS uses the key's id. */
  keyid: string;
  /** Base64 of the signature over the PAE of the payload. */
  sig: string;
}

/**
 * A DSSE JSON envelope (DSSE v1.0.0): a typed payload and signatures over its pre-authentication encoding.
 *
 * @example An in-toto payload
 * ```ts
 * import { abraxasTick, generateSealKey, readSealChain, readSealKey, sealRun, type DsseEnvelope } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   await abraxasTick({ tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   const key = await readSealKey((await generateSealKey(`${dir}/k`)).keyPath);
 *   await sealRun(dir, "R", key);
 *   const [seal] = await readSealChain(dir, "R");
 *   const envelope: DsseEnvelope = seal!.envelope;
 *   assert.equal(envelope.payloadType, "application/vnd.in-toto+json");
 *   const statement = JSON.parse(new TextDecoder().decode(Uint8Array.fromBase64(envelope.payload)));
 *   assert.equal(statement._type, "https://in-toto.io/Statement/v1");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface DsseEnvelope {
  /** Base64 of the serialized body. */
  payload: string;
  /** How to interpret the payload. */
  payloadType: string;
  /** Signatures over the PAE; verifiers accept the envelope when one verifies. */
  signatures: DsseSignature[];
}

/**
 * One subject of an in-toto Statement: a ResourceDescriptor with a name and a SHA-256 digest.
 *
 * @example The manifest comes first
 * ```ts
 * import { abraxasTick, generateSealKey, readSealChain, readSealKey, sealRun, type InTotoSubject } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   await abraxasTick({ tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   const key = await readSealKey((await generateSealKey(`${dir}/k`)).keyPath);
 *   await sealRun(dir, "R", key);
 *   const [seal] = await readSealChain(dir, "R");
 *   const subject: InTotoSubject = seal!.statement.subject[0]!;
 *   assert.equal(subject.name, "manifests/R.manifest.json");
 *   assert.match(subject.digest.sha256, /^[0-9a-f]{64}$/);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface InTotoSubject {
  /** The artifact's path relative to the artifacts root. */
  name: string;
  /** Its SHA-256, lowercase hex. */
  digest: { sha256: string };
}

/**
 * An in-toto Statement v1 with a predicate of type `P`.
 *
 * @example A run seal's Statement
 * ```ts
 * import { abraxasTick, generateSealKey, readSealChain, readSealKey, sealRun, type InTotoStatement, type RunSealPredicate } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   await abraxasTick({ tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step });
 *   const key = await readSealKey((await generateSealKey(`${dir}/k`)).keyPath);
 *   await sealRun(dir, "R", key);
 *   const [seal] = await readSealChain(dir, "R");
 *   const statement: InTotoStatement<RunSealPredicate> = seal!.statement;
 *   assert.equal(statement.predicateType, "https://jsr.io/@abraxas/ers/RunSeal/v1");
 *   assert.equal(statement.subject.length, 3); // the manifest, a TrendPack, a RunIndex
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface InTotoStatement<P> {
  /** Always `"https://in-toto.io/Statement/v1"`. */
  _type: "https://in-toto.io/Statement/v1";
  /** The artifacts the Statement is about, each with its digest. */
  subject: InTotoSubject[];
  /** A URI naming the predicate's type. */
  predicateType: string;
  /** What the Statement says about its subjects. */
  predicate: P;
}

/**
 * DSSE's pre-authentication encoding, what is signed:
 * `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, each LEN the byte
 * length in ASCII decimal without leading zeros.
 */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const type = encoder.encode(payloadType);
  const head = encoder.encode(`DSSEv1 ${type.length} `);
  const middle = encoder.encode(` ${payload.length} `);
  const out = new Uint8Array(head.length + type.length + middle.length + payload.length);
  out.set(head);
  out.set(type, head.length);
  out.set(middle, head.length + type.length);
  out.set(payload, head.length + type.length + middle.length);
  return out;
}

/** Standard base64 with padding, as ERS writes it. */
export function toBase64(bytes: Uint8Array): string {
  return bytes.toBase64();
}

/**
 * Bytes of a base64 string in the standard or the URL-safe alphabet (DSSE
 * allows either), or `undefined` when it is not base64.
 */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  for (const alphabet of ["base64", "base64url"] as const) {
    try {
      return Uint8Array.fromBase64(text, { alphabet, lastChunkHandling: "strict" });
    } catch {
      // try the other alphabet
    }
  }
  return undefined;
}

/** Checks the shape of a DSSE envelope (extra fields are ignored, as DSSE asks). */
export function parseEnvelope(value: unknown, at: string): DsseEnvelope {
  if (!isPlainObject(value)) throw new Error(`${at} is not a JSON object`);
  const { payload, payloadType, signatures } = value;
  if (typeof payload !== "string") throw new Error(`${at}.payload is not a string`);
  if (typeof payloadType !== "string") throw new Error(`${at}.payloadType is not a string`);
  if (!Array.isArray(signatures) || signatures.length === 0) {
    throw new Error(`${at}.signatures is not a non-empty array`);
  }
  const checked = signatures.map((signature: unknown, i: number): DsseSignature => {
    const where = `${at}.signatures[${i}]`;
    if (!isPlainObject(signature)) throw new Error(`${where} is not a JSON object`);
    const { keyid, sig } = signature;
    if (keyid !== undefined && typeof keyid !== "string") {
      throw new Error(`${where}.keyid is not a string`);
    }
    if (typeof sig !== "string") throw new Error(`${where}.sig is not a string`);
    return { keyid: keyid ?? "", sig };
  });
  return { payload, payloadType, signatures: checked };
}

/**
 * Decodes and checks the Statement an envelope carries: an in-toto
 * Statement v1 of `predicateType`, every subject named and with a SHA-256.
 */
export function parseStatement(
  envelope: DsseEnvelope,
  predicateType: string,
  at: string,
): { statement: InTotoStatement<Record<string, unknown>>; payload: Uint8Array<ArrayBuffer> } {
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new Error(`${at}.payloadType is not "${IN_TOTO_PAYLOAD_TYPE}"`);
  }
  const payload = fromBase64(envelope.payload);
  if (payload === undefined) throw new Error(`${at}.payload is not base64`);
  let value: unknown;
  try {
    value = parseJson(new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch {
    throw new Error(`${at}.payload is not UTF-8 JSON`);
  }
  const where = `${at}.payload`;
  if (!isPlainObject(value)) throw new Error(`${where} is not a JSON object`);
  if (value._type !== IN_TOTO_STATEMENT_V1) {
    throw new Error(`${where}._type is not "${IN_TOTO_STATEMENT_V1}"`);
  }
  if (value.predicateType !== predicateType) {
    throw new Error(`${where}.predicateType is not "${predicateType}"`);
  }
  if (!isPlainObject(value.predicate)) throw new Error(`${where}.predicate is not an object`);
  if (!Array.isArray(value.subject)) throw new Error(`${where}.subject is not an array`);
  const subject = value.subject.map((item: unknown, i: number): InTotoSubject => {
    const digest = isPlainObject(item) && isPlainObject(item.digest) ? item.digest : undefined;
    const name = isPlainObject(item) ? item.name : undefined;
    if (typeof name !== "string" || typeof digest?.sha256 !== "string") {
      throw new Error(`${where}.subject[${i}] has no name and digest.sha256`);
    }
    if (!SHA256.test(digest.sha256)) {
      throw new Error(`${where}.subject[${i}].digest.sha256 is not 64 lowercase hex digits`);
    }
    return { name, digest: { sha256: digest.sha256 } };
  });
  const statement: InTotoStatement<Record<string, unknown>> = {
    _type: IN_TOTO_STATEMENT_V1,
    subject,
    predicateType,
    predicate: value.predicate,
  };
  return { statement, payload };
}
