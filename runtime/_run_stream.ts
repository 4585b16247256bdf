// A run read in one pass with memory flat in its length: its manifest a
// window at a time, and each tick's TrendPack a bounded number of reads ahead.
//
// The manifest is canonical JSON with its records sorted
// (`{"records":[r0,r1,...],"run_id":…,"schema":"Manifest.v0"}`), so it can
// be read from the front in windows. Each window is read under the shared
// lock, so it never sees an update half made, and its whole records are
// checked together as a manifest of their own (ManifestModel.parse: fields,
// order, canonical form); the first record of each window must sort after the
// last of the one before. Between windows a writer may append (records that
// sort after those read, which are then read too); a writer that inserted
// before the point reached shifts the bytes already read, which the next
// window sees (the last record read is no longer where it was) and refuses.
//
// What a window cannot check is a path repeated in records of different
// windows (that needs every path in memory); each TrendPack read is checked
// against its record, tick included, so one file cannot stand for two ticks.

import { join } from "node:path";
import { checkTrendPack, MAX_TRENDPACK_BYTES, TrendPackError } from "../viz/trendpack.ts";
import type { RunTick } from "../viz/run_events.ts";
import { ArtifactPermissionError, ManifestError, RunReadError } from "./errors.ts";
import { openRegularFile, sameBytes, UntrustedFileError, withRootLock } from "./_fs.ts";
import { readJournal } from "./_journal.ts";
import { compareRecords, ManifestModel, type ManifestRecord } from "./_manifest.ts";
import { asManifest, HEAD, manifestTail, matchingClose, readAt } from "./_manifest_search.ts";
import { readRecordedFile, requireDirectory } from "./_read.ts";
import { mapAhead } from "./_concurrency.ts";
import { ARTIFACT_LAYOUT, artifactPath } from "./layout.ts";
import { parseJson } from "./_json.ts";

const UTF8 = new TextDecoder("utf-8", { fatal: true });
/** Bytes read per window; doubled while one record does not fit. */
const WINDOW_BYTES = 1024 * 1024;
/** Largest record read (a record is a path, a hash and a few small fields). */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;

const OPEN = 0x7b; // {
const COMMA = 0x2c; // ,

/** One window: bytes from `offset`, and where the records end in the file now. */
interface Window {
  bytes: Uint8Array;
  offset: number;
  end: number;
}

/** The last record read: where it starts and its bytes, to find it again. */
interface Last {
  start: number;
  bytes: Uint8Array;
  record: ManifestRecord;
}

/**
 * Every record of run `runId`'s manifest, in manifest order, read a window at
 * a time (see the module comment). A manifest that is absent or not a regular
 * file throws as `readRunManifest()` does; one left with a pending journal
 * (an interrupted update), or not laid out as ERS writes it, is read whole by
 * `readWhole` instead, which checks it and throws its errors. Windows start
 * at `firstWindowBytes` (tests make them small).
 */
export async function* streamManifestRecords(
  artifactsDir: string,
  runId: string,
  readWhole: (artifactsDir: string, runId: string) => Promise<{ records: ManifestRecord[] }>,
  firstWindowBytes: number = WINDOW_BYTES,
): AsyncGenerator<ManifestRecord, void, undefined> {
  await requireDirectory(
    artifactsDir,
    `Cannot read run ${runId} as ${artifactsDir} is not a directory`,
  );
  const relPath = artifactPath("manifest", runId);
  const path = join(artifactsDir, relPath);
  const lockDir = join(artifactsDir, ARTIFACT_LAYOUT.manifest.dir);
  const tail = manifestTail(runId);
  const changed = (what: string) =>
    new ManifestError(relPath, `it changed while being read (${what}); read it again`);
  let last: Last | undefined;
  let offset = HEAD.length; // where the next record starts
  let count = 0; // records read so far
  let windowBytes = firstWindowBytes;
  for (;;) {
    const first = last === undefined && count === 0;
    const window = await readWindow(lockDir, path, relPath, tail, last, offset, windowBytes)
      .catch((error) => {
        if (error instanceof Deno.errors.NotFound && first) {
          throw new Deno.errors.NotFound(`No manifest for run ${runId} in ${artifactsDir}`);
        }
        throw error;
      });
    if (window === undefined) {
      if (!first) throw changed("a journal or another layout appeared");
      for (const record of (await readWhole(artifactsDir, runId)).records) yield record;
      return;
    }
    if (window.offset >= window.end) return; // every record read
    const split = wholeRecords(window.bytes, window.offset + window.bytes.length >= window.end);
    let records: ManifestRecord[] | undefined;
    if (split !== undefined && split !== "malformed") {
      records = parseRecords(window.bytes.subarray(0, split.end), runId, tail);
    }
    if (first && (split === "malformed" || (split !== undefined && records === undefined))) {
      // Read whole, it is refused with the message a whole read gives.
      for (const record of (await readWhole(artifactsDir, runId)).records) yield record;
      return;
    }
    if (split === "malformed") {
      throw new ManifestError(relPath, "it is not valid UTF-8 JSON (torn or edited)");
    }
    if (split === undefined) {
      if (windowBytes >= MAX_RECORD_BYTES) {
        throw new ManifestError(
          relPath,
          `records[${count}] is longer than ${MAX_RECORD_BYTES} bytes`,
        );
      }
      windowBytes *= 2; // one record does not fit: read a larger window
      continue;
    }
    if (records === undefined) {
      throw new ManifestError(relPath, parseProblem(window.bytes, split.end, runId, tail, count));
    }
    windowBytes = firstWindowBytes;
    const head = records[0] as ManifestRecord;
    if (last !== undefined && compareRecords(last.record, head) >= 0) {
      throw new ManifestError(relPath, `records[${count}] is out of order`);
    }
    const lastStart = split.lastStart;
    last = {
      start: window.offset + lastStart,
      bytes: window.bytes.slice(lastStart, split.end),
      record: records[records.length - 1] as ManifestRecord,
    };
    count += records.length;
    offset = window.offset + split.end + 1; // past the comma, or past the end
    for (const record of records) yield record;
  }
}

// One window of the manifest, read under the shared lock; `undefined` when
// the file is not searchable this way (a pending journal, another layout).
async function readWindow(
  lockDir: string,
  path: string,
  relPath: string,
  tail: Uint8Array,
  last: Last | undefined,
  offset: number,
  windowBytes: number,
): Promise<Window | undefined> {
  return await withRootLock(lockDir, false, async () => {
    if ((await readJournal(path).catch(() => null)) !== undefined) return undefined;
    let opened;
    try {
      opened = await openRegularFile(path);
    } catch (error) {
      if (error instanceof UntrustedFileError) throw new ManifestError(relPath, error.message);
      throw error;
    }
    const { handle, size } = opened;
    try {
      const read = (position: number, length: number) => readAt(handle, position, length);
      const end = size - tail.length;
      if (end < HEAD.length) return undefined;
      if (!sameBytes(await read(0, HEAD.length), HEAD)) return undefined;
      if (!sameBytes(await read(end, tail.length), tail)) return undefined;
      if (last !== undefined) {
        // The last record read must still be where it was, followed by `,` or `]`.
        const again = await read(last.start, last.bytes.length + 1);
        const after = again[last.bytes.length];
        if (
          !sameBytes(again.subarray(0, last.bytes.length), last.bytes) ||
          (after !== COMMA && last.start + last.bytes.length !== end)
        ) {
          throw new ManifestError(
            relPath,
            `it changed while being read (a record was inserted before ${last.record.path}); read it again`,
          );
        }
      }
      return { bytes: await read(offset, Math.min(windowBytes, end - offset)), offset, end };
    } finally {
      await handle.close();
    }
  }, await Deno.realPath(lockDir));
}

// The whole records at the front of `bytes` (each `{…}`, separated by
// commas): where the last one starts and where it ends; `undefined` when not
// even one is whole; "malformed" when the bytes are not records. When
// `atEnd`, the bytes reach the end of the records, so the last record must
// end exactly there.
function wholeRecords(
  bytes: Uint8Array,
  atEnd: boolean,
): { lastStart: number; end: number } | undefined | "malformed" {
  let found: { lastStart: number; end: number } | undefined;
  for (let start = 0; start < bytes.length;) {
    if (bytes[start] !== OPEN) return "malformed";
    const close = matchingClose(bytes, start);
    if (close === undefined) break;
    found = { lastStart: start, end: close + 1 };
    if (close + 1 === bytes.length) break;
    if (bytes[close + 1] !== COMMA) return "malformed";
    start = close + 2;
  }
  if (atEnd && found?.end !== bytes.length) return "malformed";
  return found;
}

// Records from `bytes` (whole records separated by commas), checked as a
// manifest of their own, or `undefined` when they are not valid.
function parseRecords(
  bytes: Uint8Array,
  runId: string,
  tail: Uint8Array,
): ManifestRecord[] | undefined {
  try {
    return ManifestModel.parse(runId, asManifest(bytes, tail)).records() as ManifestRecord[];
  } catch {
    return undefined;
  }
}

// Why the records in `bytes` (up to `end`) are not valid, naming a record by
// its index in the file (`count` records come before them).
function parseProblem(
  bytes: Uint8Array,
  end: number,
  runId: string,
  tail: Uint8Array,
  count: number,
): string {
  try {
    ManifestModel.parse(runId, asManifest(bytes.subarray(0, end), tail));
    return "it is not valid";
  } catch (error) {
    return (error as Error).message.replace(
      /^records\[(\d+)\]/,
      (_, i: string) => `records[${count + Number(i)}]`,
    );
  }
}

/** One TrendPack of a run, checked, with every record of its tick. */
export interface StreamedTick {
  tick: RunTick;
  records: ManifestRecord[];
}

/**
 * The run's TrendPacks in manifest order, each checked against its record and
 * as a TrendPack of its run and tick, with the records of its tick (such as
 * its ResultsPack), reading the manifest a window at a time and
 * `readAhead` TrendPacks ahead: memory is flat in the run's length.
 */
export async function* streamRunTickRecords(
  artifactsDir: string,
  runId: string,
  readWhole: (artifactsDir: string, runId: string) => Promise<{ records: ManifestRecord[] }>,
  readAhead: number,
): AsyncGenerator<StreamedTick, void, undefined> {
  const read = async (record: ManifestRecord, records: ManifestRecord[]) => ({
    tick: await readRecordedTick(artifactsDir, record, runId),
    records,
  });
  const ticks = mapAhead(
    trendPacksWithTicks(streamManifestRecords(artifactsDir, runId, readWhole)),
    readAhead,
    ([record, records]) => read(record, records),
  );
  try {
    yield* ticks;
  } catch (error) {
    // A Deno permission refusal names the flag, as the other readers do.
    if (error instanceof Deno.errors.NotCapable) {
      throw new ArtifactPermissionError("read", artifactsDir);
    }
    throw error;
  }
}

const TRENDPACK_SCHEMA = ARTIFACT_LAYOUT.trendpack.schema;

// Each TrendPack record with every record of its tick; records sort by tick
// first, so a tick's records are read together.
async function* trendPacksWithTicks(
  records: AsyncIterable<ManifestRecord>,
): AsyncGenerator<[ManifestRecord, ManifestRecord[]], void, undefined> {
  let group: ManifestRecord[] = [];
  const flush = function* (): Generator<[ManifestRecord, ManifestRecord[]]> {
    for (const record of group) {
      if (record.schema === TRENDPACK_SCHEMA) yield [record, group];
    }
  };
  for await (const record of records) {
    if (group.length > 0 && (group[0] as ManifestRecord).tick !== record.tick) {
      yield* flush();
      group = [];
    }
    group.push(record);
  }
  yield* flush();
}

// The artifact's bytes, parsed as JSON, once they match the record exactly.
async function readRecordedJson(root: string, record: ManifestRecord): Promise<unknown> {
  checkRecordedSize(record); // before reading
  const file = await readRecordedFile(root, record);
  if (file.problem !== undefined) throw new RunReadError(record.path, file.problem);
  return recordedJson(record, file.bytes as Uint8Array);
}

/**
 * Bytes already found to match `record` (by a verify pass), parsed as JSON
 * with the checks of `readRecordedJson()`; a problem names the file.
 */
export function recordedJson(record: ManifestRecord, bytes: Uint8Array): unknown {
  checkRecordedSize(record);
  try {
    return parseJson(UTF8.decode(bytes));
  } catch {
    throw new RunReadError(record.path, "it is not valid UTF-8 JSON");
  }
}

function checkRecordedSize(record: ManifestRecord): void {
  if (record.bytes > MAX_TRENDPACK_BYTES) {
    throw new RunReadError(
      record.path,
      `the manifest records ${record.bytes} bytes, more than the ${MAX_TRENDPACK_BYTES} a TrendPack may hold`,
    );
  }
}

/** The TrendPack of `record` read and checked as {@linkcode recordedTick} does. */
export async function readRecordedTick(
  root: string,
  record: ManifestRecord,
  runId: string,
): Promise<RunTick> {
  return recordedTick(record, runId, await readRecordedJson(root, record));
}

/** The tick of `record`, its parsed TrendPack `value` checked as one of run `runId`'s tick. */
export function recordedTick(record: ManifestRecord, runId: string, value: unknown): RunTick {
  return {
    tick: record.tick,
    path: record.path,
    sha256: record.sha256,
    trendpack: checkedTrendPack(value, record, runId),
  };
}

// The parsed TrendPack of `record`, checked; a problem names the file.
function checkedTrendPack(value: unknown, record: ManifestRecord, runId: string) {
  try {
    return checkTrendPack(value, { runId, tick: record.tick });
  } catch (error) {
    if (error instanceof TrendPackError) throw new RunReadError(record.path, error.problem);
    throw error;
  }
}
