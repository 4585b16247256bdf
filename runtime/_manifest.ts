// The manifest of one run, held in memory so that recording an artifact costs
// the same at tick 10,000 as at tick 100.
//
// The file is always exactly the canonical JSON of the fully sorted manifest:
//   {"records":[r0,r1,...,rn],"run_id":"<id>","schema":"Manifest.v0"}
// Records only ever get inserted, and new ones sort at or near the end, so an
// insertion rewrites only the bytes from the insertion point to the end: the
// new records, the few records after them, and the fixed suffix. `insertAll()`
// returns that write; it is one `write` call, which a killed process either
// made or did not.

import { canonicalJsonString, jsonString } from "../ers/_canonical.ts";
import { compareCodePoints } from "../ers/_code_point.ts";
import { assert } from "../ers/_assert.ts";
import { isPlainObject } from "../ers/_validate.ts";
import { isSafeRelPath } from "./_paths.ts";
import { ARTIFACT_LAYOUT } from "./layout.ts";
import { parseJson } from "./_json.ts";

/** The manifest schema tag. */
export const MANIFEST_SCHEMA: string = ARTIFACT_LAYOUT.manifest.schema;

/**
 * One record of a run's manifest, as stored: its fields are the byte contract.
 * Exported as `RunManifestRecord`.
 *
 * @example The record of a tick's TrendPack
 * ```ts
 * import {
 *   abraxasTick,
 *   ERS_PROVENANCE_VERSION,
 *   readRunManifest,
 *   type RunManifestRecord,
 * } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const step = () => ({ ok: true });
 *   const out = await abraxasTick({
 *     tick: 0, runId: "R", mode: "demo", artifactsDir: dir, runSignal: step, runCompress: step, runOverlay: step,
 *   });
 *   const { records } = await readRunManifest(dir, "R");
 *   const record: RunManifestRecord = records.find((r) => r.kind === "trendpack")!;
 *   assert.equal(record.path, "viz/R/000000.trendpack.json");
 *   assert.equal(record.sha256, out.artifacts.trendpack_sha256);
 *   assert.equal(record.bytes, (await Deno.readFile(out.artifacts.trendpack)).length);
 *   assert.deepEqual(record.extra, { mode: "demo", ers: ERS_PROVENANCE_VERSION });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface ManifestRecord {
  /** The tick the artifact belongs to. */
  tick: number;
  /** The artifact's kind, such as `trendpack`. */
  kind: string;
  /** The artifact's schema, such as `TrendPack.v0`. */
  schema: string;
  /** POSIX path relative to the artifacts root. */
  path: string;
  /** SHA-256 of the artifact's bytes, lowercase hex. */
  sha256: string;
  /** Length of the artifact in bytes. */
  bytes: number;
  /** Extra fields recorded with it, such as the mode; absent when empty. */
  extra?: Record<string, unknown>;
}

/** A write that brings the file from the old manifest to the new one. */
export interface ManifestWrite {
  /** Byte offset to write at; 0 with `create` for a new file. */
  offset: number;
  /** The bytes to write there. */
  bytes: Uint8Array<ArrayBuffer>;
  /** Whether the file does not exist yet (write beside, then rename). */
  create: boolean;
}

interface Entry {
  record: ManifestRecord;
  text: string;
  byteLength: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const HEAD = '{"records":[';
const SHA256 = /^[0-9a-f]{64}$/;
const RECORD_FIELDS = new Set(["tick", "kind", "schema", "path", "sha256", "bytes", "extra"]);

/** Sort order of records: (tick, kind, schema, path), strings by code point. */
export function compareRecords(a: ManifestRecord, b: ManifestRecord): number {
  return a.tick - b.tick || compareCodePoints(a.kind, b.kind) ||
    compareCodePoints(a.schema, b.schema) ||
    compareCodePoints(a.path, b.path);
}

/** The canonical text of a record; `extra` is left out when absent or empty, as the reference does. */
export function recordText(record: ManifestRecord): string {
  const { extra, ...rest } = record;
  return canonicalJsonString(extra && Object.keys(extra).length > 0 ? { ...rest, extra } : rest);
}

/** The in-memory manifest of one run. */
export class ManifestModel {
  readonly runId: string;
  readonly #suffix: string;
  readonly #suffixBytes: number;
  readonly #entries: Entry[] = [];
  readonly #byPath = new Map<string, Entry>();
  #byteLength = 0;

  constructor(runId: string) {
    this.runId = runId;
    this.#suffix = `],"run_id":${jsonString(runId)},"schema":"${MANIFEST_SCHEMA}"}`;
    this.#suffixBytes = encoder.encode(this.#suffix).length;
  }

  /** Parses and checks manifest bytes; throws a message naming what is wrong. */
  static parse(runId: string, bytes: Uint8Array): ManifestModel {
    let text: string;
    let value: unknown;
    try {
      text = decoder.decode(bytes);
      value = parseJson(text);
    } catch {
      throw new Error("it is not valid UTF-8 JSON (torn or edited)");
    }
    if (!isPlainObject(value)) throw new Error("it is not a JSON object");
    if (value.schema !== MANIFEST_SCHEMA) throw new Error(`'schema' is not "${MANIFEST_SCHEMA}"`);
    if (value.run_id !== runId) throw new Error(`'run_id' is not ${JSON.stringify(runId)}`);
    if (!Array.isArray(value.records)) throw new Error("'records' is not an array");
    const model = new ManifestModel(runId);
    value.records.forEach((record: unknown, i: number) => {
      const checked = checkRecord(record, i);
      const last = model.#entries.at(-1);
      if (last && compareRecords(last.record, checked) >= 0) {
        throw new Error(`records[${i}] is out of order`);
      }
      if (model.#byPath.has(checked.path)) {
        throw new Error(`records[${i}] repeats path ${checked.path}`);
      }
      model.#append(checked);
    });
    if (model.toText() !== text) throw new Error("it is not in canonical form");
    return model;
  }

  /** The manifest's size in bytes. */
  get byteLength(): number {
    return this.#byteLength;
  }

  /** How many records it holds. */
  get length(): number {
    return this.#entries.length;
  }

  /** Every record, sorted. */
  records(): readonly ManifestRecord[] {
    return this.#entries.map((entry) => entry.record);
  }

  /** The record for `path`, if any. */
  find(path: string): ManifestRecord | undefined {
    return this.#byPath.get(path)?.record;
  }

  /** The whole manifest text. */
  toText(): string {
    return `${HEAD}${this.#entries.map((entry) => entry.text).join(",")}${this.#suffix}`;
  }

  /**
   * Inserts records (paths not yet recorded, none repeated) and returns the
   * one write that brings the file from the old manifest to the new one: the
   * bytes from the first insertion point to the end.
   */
  insertAll(records: readonly ManifestRecord[]): ManifestWrite {
    const entries = this.#entries;
    const oldCount = entries.length;
    const oldLength = this.#byteLength;
    assert(records.length > 0, "insertAll() of no records");
    let first = oldCount;
    for (const record of records) first = Math.min(first, this.#insertionIndex(record));
    let oldTail = this.#suffixBytes; // old bytes from record `first` (with its comma) to the end
    for (let i = first; i < oldCount; i++) oldTail += (entries[i] as Entry).byteLength + 1;
    for (const record of records) {
      assert(!this.#byPath.has(record.path), `insertAll() of recorded path ${record.path}`);
      if (entries.length === 0) {
        this.#append(record);
        continue;
      }
      const entry = makeEntry(record);
      entries.splice(this.#insertionIndex(record), 0, entry);
      this.#byPath.set(record.path, entry);
      this.#byteLength += entry.byteLength + 1;
    }
    if (oldCount === 0) return { offset: 0, bytes: encoder.encode(this.toText()), create: true };
    // Appending rewrites the suffix after a new comma; inserting before an old
    // record rewrites from that record's first byte.
    const appended = first === oldCount;
    const offset = oldLength - oldTail + (appended ? 0 : 1);
    const texts = entries.slice(first).map((entry) => entry.text).join(",");
    const bytes = encoder.encode(`${appended ? "," : ""}${texts}${this.#suffix}`);
    assert(
      offset + bytes.length === this.#byteLength,
      "manifest write ends at the new end of file",
    );
    return { offset, bytes, create: false };
  }

  #append(record: ManifestRecord): void {
    const entry = makeEntry(record);
    this.#byteLength = this.#entries.length === 0
      ? encoder.encode(HEAD).length + entry.byteLength + this.#suffixBytes
      : this.#byteLength + entry.byteLength + 1;
    this.#entries.push(entry);
    this.#byPath.set(record.path, entry);
  }

  #insertionIndex(record: ManifestRecord): number {
    const entries = this.#entries;
    let low = 0;
    let high = entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareRecords((entries[mid] as Entry).record, record) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

function makeEntry(record: ManifestRecord): Entry {
  const text = recordText(record);
  return { record, text, byteLength: encoder.encode(text).length };
}

function checkRecord(value: unknown, i: number): ManifestRecord {
  const at = `records[${i}]`;
  if (!isPlainObject(value)) throw new Error(`${at} is not an object`);
  for (const key of Object.keys(value)) {
    if (!RECORD_FIELDS.has(key)) throw new Error(`${at} has unknown field '${key}'`);
  }
  const { tick, kind, schema, path, sha256, bytes, extra } = value;
  if (!Number.isSafeInteger(tick) || (tick as number) < 0) {
    throw new Error(`${at}.tick is not a non-negative integer`);
  }
  if (typeof kind !== "string") throw new Error(`${at}.kind is not a string`);
  if (typeof schema !== "string") throw new Error(`${at}.schema is not a string`);
  if (typeof path !== "string" || !isSafeRelPath(path)) {
    throw new Error(`${at}.path is not a relative path inside the artifacts directory`);
  }
  if (typeof sha256 !== "string" || !SHA256.test(sha256)) {
    throw new Error(`${at}.sha256 is not 64 hex digits`);
  }
  if (!Number.isSafeInteger(bytes) || (bytes as number) < 0) {
    throw new Error(`${at}.bytes is not a non-negative integer`);
  }
  if (extra !== undefined && !isPlainObject(extra)) throw new Error(`${at}.extra is not an object`);
  const record: ManifestRecord = {
    tick: tick as number,
    kind,
    schema,
    path,
    sha256,
    bytes: bytes as number,
  };
  if (extra !== undefined) record.extra = extra;
  return record;
}
