// One tick's records, found in a manifest without reading it whole. Records
// are sorted by tick and written as canonical JSON (`{"bytes":…,"tick":N}`),
// so a binary search over byte offsets finds a tick in O(log size) small
// positional reads: `ers show` costs the same at 50,000 ticks as at 30. What
// it finds is checked as a manifest of its own (ManifestModel.parse); any
// surprise (a pending journal, an unexpected layout) answers `undefined`, and
// the caller reads the manifest whole instead.

import type { FileHandle } from "node:fs/promises";
import { readJournal } from "./_journal.ts";
import { ManifestModel, type ManifestRecord } from "./_manifest.ts";
import { openRegularFile, sameBytes, withPermissionHint, withRootLock } from "./_fs.ts";
import { join } from "node:path";
import { requireDirectory } from "./_read.ts";
import { ARTIFACT_LAYOUT, artifactPath } from "./layout.ts";

const encoder = new TextEncoder();
/** The bytes before a manifest's first record. */
export const HEAD = encoder.encode('{"records":[');
const MARKER = encoder.encode('{"bytes":');
// First read around a probe; doubled while a record does not fit, up to the cap.
const WINDOW_BYTES = 4096;
const MAX_RECORD_BYTES = 16 * 1024 * 1024;

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const COMMA = 0x2c; // ,
const BRACKET = 0x5b; // [

interface Found {
  /** Offset of the record's `{`. */
  start: number;
  /** Offset just past its `}`. */
  end: number;
  record: ManifestRecord;
}

/**
 * The records of `tick` in the manifest at `manifestPath` (of run `runId`),
 * in manifest order; `[]` when the tick has none; `undefined` when the
 * manifest cannot be searched this way (read it whole).
 */
export async function findTickRecords(
  manifestPath: string,
  runId: string,
  tick: number,
): Promise<ManifestRecord[] | undefined> {
  if ((await readJournal(manifestPath)) !== undefined) return undefined; // read as replayed
  const { handle, size } = await openRegularFile(manifestPath);
  try {
    const tail = manifestTail(runId);
    const search = new Search(handle, runId, tail);
    const end = size - tail.length;
    if (end < HEAD.length) return undefined;
    if (!sameBytes(await search.read(0, HEAD.length), HEAD)) return undefined;
    if (!sameBytes(await search.read(end, tail.length), tail)) return undefined;
    if (end === HEAD.length) return [];
    let lo = HEAD.length;
    let hi = end;
    while (hi - lo > WINDOW_BYTES) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const found = await search.nextRecord(mid, end);
      if (found === null) return undefined;
      if (found === undefined || found.record.tick >= tick) hi = mid;
      else lo = found.end;
    }
    const records: ManifestRecord[] = [];
    for (let at = lo; at < end;) {
      const found = await search.nextRecord(at, end);
      if (found === null) return undefined;
      if (found === undefined || found.record.tick > tick) break;
      if (found.record.tick === tick) records.push(found.record);
      at = found.end;
    }
    return records;
  } finally {
    await handle.close();
  }
}

class Search {
  readonly #handle: FileHandle;
  readonly #runId: string;
  readonly #tail: Uint8Array;

  constructor(handle: FileHandle, runId: string, tail: Uint8Array) {
    this.#handle = handle;
    this.#runId = runId;
    this.#tail = tail;
  }

  read(position: number, length: number): Promise<Uint8Array> {
    return readAt(this.#handle, position, length);
  }

  // The first record that starts at or after `from` and before `end`;
  // undefined when there is none, null when what is there does not parse.
  async nextRecord(from: number, end: number): Promise<Found | undefined | null> {
    for (let window = WINDOW_BYTES; window <= MAX_RECORD_BYTES; window *= 2) {
      const at = from - 1; // the byte before a record's `{` is `[` or `,`
      const bytes = await this.read(at, Math.min(window, end - at));
      const start = markerAt(bytes);
      if (start === undefined) {
        if (at + bytes.length >= end) return undefined;
        continue; // no record starts in this window: look further
      }
      const close = matchingClose(bytes, start);
      if (close === undefined) {
        if (at + bytes.length >= end) return null;
        continue; // the record runs past the window: read more
      }
      const record = this.#parse(bytes.subarray(start, close + 1));
      if (record === undefined) return null;
      return { start: at + start, end: at + close + 1, record };
    }
    return null;
  }

  // One record's bytes, checked as the only record of a manifest.
  #parse(bytes: Uint8Array): ManifestRecord | undefined {
    try {
      return ManifestModel.parse(this.#runId, asManifest(bytes, this.#tail)).records()[0];
    } catch {
      return undefined;
    }
  }
}

/** The bytes after the last record of run `runId`'s manifest. */
export function manifestTail(runId: string): Uint8Array {
  return encoder.encode(`],"run_id":${JSON.stringify(runId)},"schema":"Manifest.v0"}`);
}

/** Whole records (`{…}` separated by commas) wrapped as a manifest of their own. */
export function asManifest(records: Uint8Array, tail: Uint8Array): Uint8Array {
  const whole = new Uint8Array(HEAD.length + records.length + tail.length);
  whole.set(HEAD);
  whole.set(records, HEAD.length);
  whole.set(tail, HEAD.length + records.length);
  return whole;
}

/** Up to `length` bytes of `handle` from `position` (fewer only at the end of the file). */
export async function readAt(
  handle: FileHandle,
  position: number,
  length: number,
): Promise<Uint8Array> {
  const buffer = new Uint8Array(Math.max(0, length));
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(
      buffer,
      filled,
      buffer.length - filled,
      position + filled,
    );
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

// Index of the first `{"bytes":` preceded by `[` (the first record) or by
// `},` (a later one).
function markerAt(bytes: Uint8Array): number | undefined {
  for (let i = 1; i + MARKER.length <= bytes.length; i++) {
    if (bytes[i] !== OPEN || !sameBytes(bytes.subarray(i, i + MARKER.length), MARKER)) continue;
    const before = bytes[i - 1];
    if (before === BRACKET || (before === COMMA && i >= 2 && bytes[i - 2] === CLOSE)) return i;
  }
  return undefined;
}

// Index of the `}` that closes the object opening at `start` (JSON strings
// skipped, escapes honoured), or undefined when it is past the end.
export function matchingClose(bytes: Uint8Array, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = start; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN) {
      depth++;
    } else if (byte === CLOSE && --depth === 0) {
      return i;
    }
  }
  return undefined;
}

// The records of one tick: found by binary search when the manifest allows,
// else from the manifest read whole (readWhole, the reader's readRunManifest).
// The caller checked its arguments and read access.
export async function readTickRecords(
  artifactsDir: string,
  runId: string,
  tick: number,
  readWhole: (artifactsDir: string, runId: string) => Promise<{ records: ManifestRecord[] }>,
): Promise<ManifestRecord[]> {
  return await withPermissionHint(artifactsDir, async () => {
    await requireDirectory(
      artifactsDir,
      `Cannot read run ${runId} as ${artifactsDir} is not a directory`,
    );
    const lockDir = join(artifactsDir, ARTIFACT_LAYOUT.manifest.dir);
    const manifestPath = join(artifactsDir, artifactPath("manifest", runId));
    const found = await Deno.lstat(manifestPath).then(
      () =>
        withRootLock(lockDir, false, async () => {
          try {
            return await findTickRecords(manifestPath, runId, tick);
          } catch {
            return undefined; // not searchable as it is: read it whole below
          }
        }, Deno.realPathSync(lockDir)),
      () => undefined,
    );
    return found ?? (await readWhole(artifactsDir, runId)).records
      .filter((record) => record.tick === tick);
  });
}
