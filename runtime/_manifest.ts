// The manifest of one run: whole in memory (ManifestModel, for readers and
// sealing), or only its end (ManifestTail, for the writer), so that recording
// an artifact costs the same time and memory at tick 10,000 as at tick 100.
//
// The file is always exactly the canonical JSON of the fully sorted manifest:
//   {"records":[r0,r1,...,rn],"run_id":"<id>","schema":"Manifest.v0"}
// Records only ever get inserted, and new ones sort at or near the end, so an
// insertion rewrites only the bytes from the insertion point to the end: the
// new records, the few records after them, and the fixed suffix. `insertAll()`
// returns that write (the same bytes from either class); it is one `write`
// call, which a killed process either made or did not.

import { isUtf8 } from "node:buffer";
import { canonicalJsonString, jsonNumber, jsonString } from "../ers/_canonical.ts";
import { compareCodePoints, isWellFormed } from "../ers/_code_point.ts";
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
// Not fatal: `isUtf8` (simdutf, several times faster than a fatal decode)
// refuses first what a fatal decoder would. A leading BOM is kept, as U+FEFF:
// the text is then not canonical (dropped, every offset would be 3 bytes short).
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const BOM = 0xfeff;
const HEAD = '{"records":[';
const COMMA = 0x2c;
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
  return (hasRecordFields(record) ? shapedRecordText(record) : undefined) ??
    referenceRecordText(record);
}

// The definition: the generic canonical JSON of the record, without `extra`
// when it is absent or empty. Throws naming the bad field (`$.kind`, ...).
function referenceRecordText(record: ManifestRecord): string {
  const { extra, ...rest } = record;
  return canonicalJsonString(extra && Object.keys(extra).length > 0 ? { ...rest, extra } : rest);
}

// Whether the own enumerable fields of `record` are the six every record
// has, and perhaps `extra`: what the generic encoder writes (it leaves out a
// field that is inherited or not enumerable), so that `shapedRecordText` may.
function hasRecordFields(record: ManifestRecord): boolean {
  let fields = 0;
  for (const key of Object.keys(record)) {
    if (!RECORD_FIELDS.has(key)) return false;
    if (key !== "extra") fields++;
  }
  return fields === RECORD_FIELDS.size - 1;
}

// The canonical text of a record of those fields, written out field by field
// in canonical key order (bytes, extra, kind, path, schema, sha256, tick),
// each read once, as the generic encoder reads it; or undefined for anything
// but the plain case (a number that is not a safe integer, a lone surrogate,
// an `extra` with a nested value...), which the generic encoder encodes or
// refuses with its own message. When it returns a text, it is the text of
// `referenceRecordText`.
function shapedRecordText(record: ManifestRecord): string | undefined {
  const { tick, bytes, kind, schema, path, sha256, extra } = record;
  if (!Number.isSafeInteger(tick) || !Number.isSafeInteger(bytes)) return undefined;
  if (
    typeof kind !== "string" || typeof schema !== "string" || typeof path !== "string" ||
    typeof sha256 !== "string"
  ) {
    return undefined;
  }
  if (!isWellFormed(kind) || !isWellFormed(schema) || !isWellFormed(path)) return undefined;
  if (!isWellFormed(sha256)) return undefined;
  let extraText = "";
  if (extra && Object.keys(extra).length > 0) {
    const text = flatObjectText(extra);
    if (text === undefined) return undefined;
    extraText = `"extra":${text},`;
  }
  // JSON.stringify of a well-formed string is `jsonString`; String() of a
  // safe integer is `jsonNumber` (-0 prints as 0 in both).
  return `{"bytes":${bytes},${extraText}"kind":${JSON.stringify(kind)},"path":${
    JSON.stringify(path)
  },"schema":${JSON.stringify(schema)},"sha256":${JSON.stringify(sha256)},"tick":${tick}}`;
}

// The canonical text of a plain object whose values are all strings, finite
// numbers within ±2^53, booleans or null; undefined for any other value.
function flatObjectText(value: unknown): string | undefined {
  if (!isPlainObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length > 1) keys.sort(compareCodePoints);
  let text = "{";
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const item = value[key];
    let itemText: string;
    if (typeof item === "string") {
      if (!isWellFormed(item)) return undefined;
      itemText = JSON.stringify(item);
    } else if (typeof item === "number") {
      if (!Number.isFinite(item) || Math.abs(item) > 2 ** 53) return undefined;
      itemText = jsonNumber(item);
    } else if (typeof item === "boolean" || item === null) {
      itemText = String(item);
    } else {
      return undefined;
    }
    if (!isWellFormed(key)) return undefined;
    text += `${i === 0 ? "" : ","}${JSON.stringify(key)}:${itemText}`;
  }
  return `${text}}`;
}

// The UTF-8 length of `text`, as `TextEncoder` encodes it (a lone surrogate
// as U+FFFD, 3 bytes), without encoding it.
function utf8Length(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      length += 1;
    } else if (unit >= 0xd800 && unit < 0xdc00 && isLowSurrogate(text.charCodeAt(i + 1))) {
      length += 2; // a pair: 2 units, 4 bytes
      i++;
    } else {
      length += 2;
    }
  }
  return length;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit < 0xe000;
}

// One record in the common canonical form, at `lastIndex`: strings without
// escapes (JSON.stringify writes such a string as it is, between quotes),
// `bytes` and `tick` of at most 16 digits without leading zeros, 64 hex
// digits, and an `extra`, if any, of one or more fields whose values are
// such strings, integers of at most 15 digits, booleans or null. The keys are
// the record's, in canonical order, each once. Anything else (an escape, a
// nested `extra`, a fraction) is left to `escapedRecordAt`.
const PLAIN = String.raw`[^"\\\x00-\x1f]*`;
const FLAT_FIELD = `"${PLAIN}":(?:"${PLAIN}"|0|-?[1-9][0-9]{0,14}|true|false|null)`;
const COUNT = "(0|[1-9][0-9]{0,15})";
const CANONICAL_RECORD = new RegExp(
  `\\{"bytes":${COUNT},(?:"extra":(\\{${FLAT_FIELD}(?:,${FLAT_FIELD})*\\}),)?` +
    `"kind":"(${PLAIN})","path":"(${PLAIN})","schema":"(${PLAIN})",` +
    `"sha256":"([0-9a-f]{64})","tick":${COUNT}\\}`,
  "y",
);

// The record a CANONICAL_RECORD match holds, if it passes `checkRecord` and
// its `extra` is in canonical form (keys sorted, each once, numbers as
// printed); `extras` holds the extras already read, by text, each record
// getting its own copy, as JSON.parse would give.
function canonicalRecord(
  match: RegExpExecArray,
  extras: Map<string, Record<string, unknown>>,
): ManifestRecord | undefined {
  const tick = Number(match[7]);
  const bytes = Number(match[1]);
  const path = match[4] as string;
  if (!Number.isSafeInteger(tick) || !Number.isSafeInteger(bytes) || !isSafeRelPath(path)) {
    return undefined;
  }
  const record: ManifestRecord = {
    tick,
    kind: match[3] as string,
    schema: match[5] as string,
    path,
    sha256: match[6] as string,
    bytes,
  };
  const extraText = match[2];
  if (extraText === undefined) return record;
  let extra = extras.get(extraText);
  if (extra === undefined) {
    // No backslash in the text, so the engine's JSON.parse is right (see _json.ts).
    extra = JSON.parse(extraText) as Record<string, unknown>;
    if (flatObjectText(extra) !== extraText) return undefined;
    extras.set(extraText, extra);
  }
  record.extra = { ...extra };
  return record;
}

// Any other record in canonical form, at `at`: its strings may hold escapes,
// its `extra` any JSON (nested at most MAX_EXTRA_DEPTH deep, far inside the
// parser's limit); each is parsed and compared with its canonical text. The
// record and where it ends, if it passes `checkRecord`; `canonicalExtras`
// holds the texts of the extras already found canonical.
function escapedRecordAt(
  text: string,
  at: number,
  canonicalExtras: Set<string>,
): { record: ManifestRecord; end: number } | undefined {
  const start = matchAt(RECORD_START, text, at);
  if (start === null) return undefined;
  let rest = RECORD_START.lastIndex;
  let extra: Record<string, unknown> | undefined;
  if (start[2] !== undefined) {
    const end = objectEnd(text, rest);
    if (end < 0 || text.charCodeAt(end) !== COMMA) return undefined;
    extra = canonicalExtra(text.slice(rest, end), canonicalExtras);
    if (extra === undefined) return undefined;
    rest = end + 1;
  }
  const match = matchAt(RECORD_REST, text, rest);
  if (match === null) return undefined;
  const kind = canonicalString(match[1] as string);
  const path = canonicalString(match[2] as string);
  const schema = canonicalString(match[3] as string);
  const tick = Number(match[5]);
  const bytes = Number(start[1]);
  if (
    kind === undefined || path === undefined || schema === undefined ||
    !Number.isSafeInteger(tick) || !Number.isSafeInteger(bytes) || !isSafeRelPath(path)
  ) {
    return undefined;
  }
  const record: ManifestRecord = { tick, kind, schema, path, sha256: match[4] as string, bytes };
  if (extra !== undefined) record.extra = extra;
  return { record, end: RECORD_REST.lastIndex };
}

// The match of sticky `pattern` at `at`, or null, also when the engine runs
// out of backtracking stack (a string of millions of units with an escape, an
// extra of millions of fields): such a record is left to the checked parse.
function matchAt(pattern: RegExp, text: string, at: number): RegExpExecArray | null {
  pattern.lastIndex = at;
  try {
    return pattern.exec(text);
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
}

const MAX_EXTRA_DEPTH = 64;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const RECORD_START = /\{"bytes":(0|[1-9][0-9]{0,15}),("extra":)?/y;
const LITERAL = String.raw`"(?:[^"\\\x00-\x1f]|\\.)*"`;
const RECORD_REST = new RegExp(
  `"kind":(${LITERAL}),"path":(${LITERAL}),"schema":(${LITERAL}),` +
    `"sha256":"([0-9a-f]{64})","tick":(0|[1-9][0-9]{0,15})\\}`,
  "y",
);

// Just past the object that opens at `start`, found by its brackets outside
// strings; -1 when none opens there, it does not close, or it nests deeper
// than MAX_EXTRA_DEPTH. Whether it is JSON is the parser's to say.
function objectEnd(text: string, start: number): number {
  if (text[start] !== "{") return -1;
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit === QUOTE) {
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) {
        if (text.charCodeAt(i) === BACKSLASH) i++;
      }
    } else if (unit === 0x7b || unit === 0x5b) {
      if (++depth > MAX_EXTRA_DEPTH) return -1;
    } else if ((unit === 0x7d || unit === 0x5d) && --depth === 0) {
      return i + 1;
    }
  }
  return -1;
}

// The value of a JSON string literal (quotes included) written canonically,
// well-formed; else undefined.
function canonicalString(literal: string): string | undefined {
  if (!literal.includes("\\")) return literal.slice(1, -1);
  let value: unknown;
  try {
    value = parseJson(literal);
  } catch {
    return undefined;
  }
  return typeof value === "string" && isWellFormed(value) && JSON.stringify(value) === literal
    ? value
    : undefined;
}

// The non-empty object `extraText` holds, parsed afresh, when it is its
// canonical JSON; else undefined. `canonical` holds the texts found so.
function canonicalExtra(
  extraText: string,
  canonical: Set<string>,
): Record<string, unknown> | undefined {
  try {
    const extra = parseJson(extraText);
    if (canonical.has(extraText)) return extra as Record<string, unknown>;
    if (
      !isPlainObject(extra) || Object.keys(extra).length === 0 ||
      canonicalJsonString(extra) !== extraText
    ) {
      return undefined;
    }
    canonical.add(extraText);
    return extra;
  } catch {
    return undefined;
  }
}

/** The in-memory manifest of one run. */
export class ManifestModel {
  readonly runId: string;
  readonly #suffix: string;
  readonly #suffixBytes: number;
  readonly #entries: Entry[] = [];
  // Every entry by path, made on first use: a reader that only lists the
  // records never needs it.
  #byPathIndex: Map<string, Entry> | undefined;
  #byteLength = 0;

  constructor(runId: string) {
    this.runId = runId;
    this.#suffix = suffixOf(runId);
    this.#suffixBytes = encoder.encode(this.#suffix).length;
  }

  /**
   * Parses and checks manifest bytes; throws a message naming what is wrong.
   * The records' strings may be slices of the manifest's text, and keep it
   * in memory while any of them is held.
   */
  static parse(runId: string, bytes: Uint8Array): ManifestModel {
    let text: string;
    try {
      if (!isUtf8(bytes)) throw new TypeError("not UTF-8");
      text = decoder.decode(bytes);
    } catch {
      throw new Error("it is not valid UTF-8 JSON (torn or edited)");
    }
    // Equal lengths mean ASCII only: a record's bytes are then its length.
    const ascii = bytes.length === text.length;
    return ManifestModel.#readCanonical(runId, text, ascii) ??
      ManifestModel.#readChecked(runId, text, ascii);
  }

  // The model of `text` when it is, record by record, a canonical manifest
  // that `#readChecked` accepts, read straight from the text: each record by
  // CANONICAL_RECORD (the common form, fast) or else `escapedRecordAt`. Both
  // admit only the canonical spelling of a record and make the checks of
  // `checkRecord`; order and repeats are checked here. Undefined for anything
  // else (an `extra` nested deeper than MAX_EXTRA_DEPTH, or any text they
  // refuse), which `#readChecked` then accepts or refuses with its message.
  static #readCanonical(runId: string, text: string, ascii: boolean): ManifestModel | undefined {
    if (!isWellFormed(runId)) return undefined; // the constructor would throw
    const model = new ManifestModel(runId);
    const end = text.length - model.#suffix.length;
    if (end < HEAD.length || !text.startsWith(HEAD) || !text.endsWith(model.#suffix)) {
      return undefined;
    }
    const extras = new Map<string, Record<string, unknown>>();
    const canonicalExtras = new Set<string>();
    const paths = new PathFingerprints();
    for (let at = HEAD.length; at < end;) {
      if (at > HEAD.length && text.charCodeAt(at++) !== COMMA) return undefined;
      const match = matchAt(CANONICAL_RECORD, text, at);
      let record: ManifestRecord | undefined;
      let recordText: string;
      if (match !== null) {
        record = canonicalRecord(match, extras);
        recordText = match[0];
      } else {
        const read = escapedRecordAt(text, at, canonicalExtras);
        if (read === undefined) return undefined;
        record = read.record;
        recordText = text.slice(at, read.end);
      }
      const last = model.#entries[model.#entries.length - 1];
      if (
        record === undefined || (last && compareRecords(last.record, record) >= 0) ||
        model.#repeats(paths, record.path)
      ) {
        return undefined;
      }
      model.#push({
        record,
        text: recordText,
        byteLength: ascii ? recordText.length : utf8Length(recordText),
      });
      at += recordText.length;
      if (at > end) return undefined;
    }
    return model;
  }

  // The parse of any text: JSON.parse, every check in turn, then the text
  // compared with the canonical text of what was read.
  static #readChecked(runId: string, text: string, ascii: boolean): ManifestModel {
    let value: unknown;
    try {
      // A leading BOM is read past here, to be refused below as not canonical.
      value = parseJson(text.charCodeAt(0) === BOM ? text.slice(1) : text);
    } catch {
      throw new Error("it is not valid UTF-8 JSON (torn or edited)");
    }
    if (!isPlainObject(value)) throw new Error("it is not a JSON object");
    if (value.schema !== MANIFEST_SCHEMA) throw new Error(`'schema' is not "${MANIFEST_SCHEMA}"`);
    if (value.run_id !== runId) throw new Error(`'run_id' is not ${JSON.stringify(runId)}`);
    if (!Array.isArray(value.records)) throw new Error("'records' is not an array");
    const model = new ManifestModel(runId);
    const records: unknown[] = value.records;
    // The text is canonical when it is exactly HEAD, the records' texts
    // joined by commas, and the suffix: each piece is compared in place as
    // it is made. A mismatch is reported after every record is checked, as
    // a comparison of the whole text would be.
    let canonical = text.startsWith(HEAD);
    let at = HEAD.length;
    const paths = new PathFingerprints();
    for (let i = 0; i < records.length; i++) {
      const checked = checkRecord(records[i], i);
      const last = model.#entries[model.#entries.length - 1];
      if (last && compareRecords(last.record, checked) >= 0) {
        throw new Error(`records[${i}] is out of order`);
      }
      if (model.#repeats(paths, checked.path)) {
        throw new Error(`records[${i}] repeats path ${checked.path}`);
      }
      const made = shapedRecordText(checked) ?? referenceRecordText(checked);
      if (canonical && i > 0) canonical = text.charCodeAt(at++) === COMMA;
      canonical &&= text.startsWith(made, at);
      at += made.length;
      model.#push({
        record: checked,
        text: made,
        byteLength: ascii ? made.length : utf8Length(made),
      });
    }
    if (!canonical || text.length !== at + model.#suffix.length || !text.endsWith(model.#suffix)) {
      throw new Error("it is not in canonical form");
    }
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
    return manifestText(this.#entries, this.#suffix);
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
    const oldTail = tailBytes(entries, first, this.#suffixBytes);
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
    const write = rewriteFrom(
      entries,
      first,
      first === oldCount,
      oldLength - oldTail,
      this.#suffix,
    );
    assert(
      write.offset + write.bytes.length === this.#byteLength,
      "manifest write ends at the new end of file",
    );
    return write;
  }

  #append(record: ManifestRecord): void {
    this.#push(makeEntry(record));
  }

  #push(entry: Entry): void {
    this.#byteLength = this.#entries.length === 0
      ? encoder.encode(HEAD).length + entry.byteLength + this.#suffixBytes
      : this.#byteLength + entry.byteLength + 1;
    this.#entries.push(entry);
    this.#byPathIndex?.set(entry.record.path, entry);
  }

  #insertionIndex(record: ManifestRecord): number {
    return insertionIndex(this.#entries, record);
  }

  get #byPath(): Map<string, Entry> {
    return this.#byPathIndex ??= new Map(this.#entries.map((entry) => [entry.record.path, entry]));
  }

  // Whether `path` is already recorded, while parsing: `paths` holds the
  // fingerprints of every path pushed. The first time one matches, the index
  // by path is made and answers from then on, so that crafted collisions
  // cost one index, not a search each.
  #repeats(paths: PathFingerprints, path: string): boolean {
    if (this.#byPathIndex === undefined && paths.add(path)) return false;
    return this.#byPath.has(path);
  }
}

// The end of a run's manifest text, after its last record.
function suffixOf(runId: string): string {
  return `],"run_id":${jsonString(runId)},"schema":"${MANIFEST_SCHEMA}"}`;
}

function manifestText(entries: readonly Entry[], suffix: string): string {
  return `${HEAD}${entries.map((entry) => entry.text).join(",")}${suffix}`;
}

// The old bytes from entry `first` (with its comma) to the end, before an
// insertion.
function tailBytes(entries: readonly Entry[], first: number, suffixBytes: number): number {
  let bytes = suffixBytes;
  for (let i = first; i < entries.length; i++) bytes += (entries[i] as Entry).byteLength + 1;
  return bytes;
}

// The write after an insertion whose first new entry is at `first`, where the
// old tail began at byte `oldTailStart`: appending rewrites the suffix after
// a new comma; inserting before an old entry rewrites from its first byte.
function rewriteFrom(
  entries: readonly Entry[],
  first: number,
  appended: boolean,
  oldTailStart: number,
  suffix: string,
): ManifestWrite {
  const texts = entries.slice(first).map((entry) => entry.text).join(",");
  return {
    offset: oldTailStart + (appended ? 0 : 1),
    bytes: encoder.encode(`${appended ? "," : ""}${texts}${suffix}`),
    create: false,
  };
}

function makeEntry(record: ManifestRecord): Entry {
  const text = recordText(record);
  return { record, text, byteLength: utf8Length(text) };
}

/**
 * Where in `value` (a JSON value, named `at`) an array holds a whole manifest
 * record, and that record, if anywhere: inside a record's `extra`, a search
 * of the manifest by its bytes (`_manifest_search.ts`) would take it for one.
 */
export function recordLookalikeIn(
  value: unknown,
  at: string,
): { at: string; value: unknown } | undefined {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = isRecord(item)
        ? { at: `${at}[${i}]`, value: item }
        : recordLookalikeIn(item, `${at}[${i}]`);
      if (found !== undefined) return found;
    }
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const found = recordLookalikeIn(item, `${at}.${key}`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function isRecord(value: unknown): boolean {
  try {
    checkRecord(value, 0);
    return true;
  } catch {
    return false;
  }
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

/**
 * The end of a run's manifest, all a writer needs to record new artifacts
 * in memory that stays flat as the run grows: the last `keep` records (new
 * ones sort at or near the end), the manifest's length, how many records lie
 * before the kept ones, and a fingerprint of every recorded path (16 to 32
 * bytes a record), so that a path not recorded is known without reading the file.
 * A path the fingerprints may hold, outside the kept records, is looked up
 * on disk by the caller.
 *
 * `insertAll()` returns the same write as {@linkcode ManifestModel} does for
 * the same manifest: the bytes are the contract.
 */
export class ManifestTail {
  readonly runId: string;
  readonly #keep: number;
  readonly #suffix: string;
  readonly #suffixBytes: number;
  #entries: Entry[] = [];
  readonly #byPath = new Map<string, Entry>();
  readonly #paths = new PathFingerprints();
  #before = 0;
  #byteLength = 0;

  /** An empty manifest (no file yet), keeping the last `keep` records. */
  constructor(runId: string, keep: number) {
    assert(Number.isSafeInteger(keep) && keep >= 1, "a tail keeps at least one record");
    this.runId = runId;
    this.#keep = keep;
    this.#suffix = suffixOf(runId);
    this.#suffixBytes = encoder.encode(this.#suffix).length;
  }

  /**
   * The tail of a whole manifest, with every path's fingerprint: its last
   * `held` records (default `keep`) until the next insertion trims them to
   * `keep`.
   */
  static of(model: ManifestModel, keep: number, held: number = keep): ManifestTail {
    const tail = new ManifestTail(model.runId, keep);
    const records = model.records();
    for (const record of records) tail.#paths.add(record.path);
    tail.#before = Math.max(0, records.length - held);
    // Copies: a parsed record's strings are slices of the whole manifest's
    // text, which a tail, kept for the life of a writer, must not hold.
    tail.#entries = records.slice(tail.#before).map((record) => makeEntry(structuredClone(record)));
    for (const entry of tail.#entries) tail.#byPath.set(entry.record.path, entry);
    tail.#byteLength = model.byteLength;
    return tail;
  }

  /** The manifest's size in bytes (0 before the file exists). */
  get byteLength(): number {
    return this.#byteLength;
  }

  /** How many records the manifest holds. */
  get length(): number {
    return this.#before + this.#entries.length;
  }

  /** How many records are kept in memory. */
  get kept(): number {
    return this.#entries.length;
  }

  /** The kept record for `path`, if any. */
  findKept(path: string): ManifestRecord | undefined {
    return this.#byPath.get(path)?.record;
  }

  /** Whether `path` may be recorded: `false` is certain, `true` is to check on disk. */
  mayHold(path: string): boolean {
    return this.#paths.has(path);
  }

  /** Whether every one of `records` sorts after the records not kept. */
  covers(records: readonly ManifestRecord[]): boolean {
    const first = this.#entries[0];
    return this.#before === 0 ||
      (first !== undefined && records.every((r) => compareRecords(first.record, r) < 0));
  }

  /**
   * Where the write of `insertAll(records)` would begin, and the bytes the
   * manifest holds from there to its end, which it would overwrite (the
   * manifest must exist).
   */
  replaced(records: readonly ManifestRecord[]): { offset: number; bytes: Uint8Array } {
    const entries = this.#entries;
    let first = entries.length;
    for (const record of records) first = Math.min(first, insertionIndex(entries, record));
    const texts = entries.slice(first).map((entry) => entry.text);
    const bytes = encoder.encode(`${texts.join(",")}${this.#suffix}`);
    return { offset: this.#byteLength - bytes.length, bytes };
  }

  /**
   * Inserts records (paths not yet recorded, none repeated, all sorting
   * after the records not kept) and returns the one write that brings the
   * file from the old manifest to the new one; then keeps only the last
   * `keep` records.
   */
  insertAll(records: readonly ManifestRecord[]): ManifestWrite {
    assert(records.length > 0, "insertAll() of no records");
    assert(this.covers(records), "insertAll() before the kept records");
    const entries = this.#entries;
    const created = this.length === 0;
    const oldLength = this.#byteLength;
    const oldCount = entries.length;
    let first = oldCount;
    for (const record of records) first = Math.min(first, insertionIndex(entries, record));
    const oldTail = tailBytes(entries, first, this.#suffixBytes);
    for (const record of records) {
      assert(!this.#byPath.has(record.path), `insertAll() of recorded path ${record.path}`);
      const entry = makeEntry(record);
      entries.splice(insertionIndex(entries, record), 0, entry);
      this.#byPath.set(record.path, entry);
      this.#paths.add(record.path);
    }
    let write: ManifestWrite;
    if (created) {
      write = {
        offset: 0,
        bytes: encoder.encode(manifestText(entries, this.#suffix)),
        create: true,
      };
      this.#byteLength = write.bytes.length;
    } else {
      // The records not kept all come before `first`, with their commas.
      write = rewriteFrom(entries, first, first === oldCount, oldLength - oldTail, this.#suffix);
      this.#byteLength = write.offset + write.bytes.length;
    }
    this.#trim();
    return write;
  }

  #trim(): void {
    const excess = this.#entries.length - this.#keep;
    if (excess <= 0) return;
    for (const entry of this.#entries.splice(0, excess)) this.#byPath.delete(entry.record.path);
    this.#before += excess;
  }
}

// A set of 53-bit fingerprints of paths in an open-addressing table of
// doubles, at most half full (16 to 32 bytes a path); no string is kept.
class PathFingerprints {
  #slots = new Float64Array(1024);
  #size = 0;

  /** Adds the fingerprint of `path`; whether it was not held yet. */
  add(path: string): boolean {
    if ((this.#size + 1) * 2 > this.#slots.length) this.#grow();
    const added = insertFingerprint(this.#slots, fingerprintOf(path));
    if (added) this.#size++;
    return added;
  }

  has(path: string): boolean {
    const slots = this.#slots;
    const mask = slots.length - 1;
    const print = fingerprintOf(path);
    for (let i = print % (mask + 1); slots[i] !== 0; i = (i + 1) & mask) {
      if (slots[i] === print) return true;
    }
    return false;
  }

  #grow(): void {
    const old = this.#slots;
    this.#slots = new Float64Array(old.length * 2);
    for (const print of old) if (print !== 0) insertFingerprint(this.#slots, print);
  }
}

// Inserts a fingerprint into a table with a free slot; whether it was new.
function insertFingerprint(slots: Float64Array, print: number): boolean {
  const mask = slots.length - 1;
  let i = print % (mask + 1);
  for (; slots[i] !== 0; i = (i + 1) & mask) if (slots[i] === print) return false;
  slots[i] = print;
  return true;
}

// Two 32-bit FNV-1a hashes of the UTF-16 code units (other offset bases),
// as one integer of 53 bits, never 0.
function fingerprintOf(path: string): number {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < path.length; i++) {
    const unit = path.charCodeAt(i);
    a = Math.imul(a ^ unit, 0x01000193);
    b = Math.imul(b ^ unit, 0x01000193) ^ (b >>> 15);
  }
  return ((a >>> 0) % 0x200000) * 0x100000000 + (b >>> 0) + 1;
}

function insertionIndex(entries: readonly Entry[], record: ManifestRecord): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareRecords((entries[mid] as Entry).record, record) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}
