// The ends of the manifests a process writes (ManifestTail), kept in memory
// so that recording an artifact neither rereads a manifest that grows with
// the run nor holds all of it: a record outside the kept tail is looked up on
// disk. Every use is under the root's lock and first compares the file's
// identity (device, inode, birth and change times) and size with what this
// process last saw: records are only ever added, so a manifest another
// process grew, replaced or recreated is never mistaken for the cached one.
//
// In-place updates go through the redo journal of `_journal.ts`; a journal
// left by an interrupted update is replayed before the manifest is read.

import { dirname } from "node:path";
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { ManifestError } from "./errors.ts";
import {
  lstatIfExists,
  readRegularFile,
  sameBytes,
  syncDirectory,
  untrustedEntry,
  UntrustedFileError,
  writeAt,
  writeFileAtomic,
} from "./_fs.ts";
import { applyJournal, encodeJournal, journalPath, readJournal } from "./_journal.ts";
import { ManifestModel, type ManifestRecord, ManifestTail, recordText } from "./_manifest.ts";
import { findTickRecords } from "./_manifest_search.ts";
import { artifactPath } from "./layout.ts";

/** A run's whole manifest, read now. */
export interface ManifestState {
  model: ManifestModel;
  /** The file's identity and size; `null` when it does not exist. */
  fingerprint: string | null;
}

/** The end of a run's manifest as this process last saw it. */
export interface ManifestTailState {
  /** The manifest's path (absolute). */
  readonly path: string;
  tail: ManifestTail;
  /** The file's identity and size when last seen; `null` before it exists. */
  fingerprint: string | null;
}

const MAX_CACHED_MANIFESTS = 64;
// Records kept in memory per run: several ticks' worth, so that a new
// tick's records (and a tick written again) sort among them.
const KEPT_RECORDS = 256;
const cache = new Map<string, ManifestTailState>();

function fingerprint(info: Deno.FileInfo): string {
  const ms = (date: Date | null) => date?.getTime() ?? "-";
  return `${info.dev}:${info.ino}:${info.size}:${ms(info.birthtime)}:${ms(info.ctime)}:${
    ms(info.mtime)
  }`;
}

/**
 * The whole manifest at `path` (absolute) of run `runId`, read now, after
 * replaying any journal an interrupted update left.
 */
export async function loadManifest(
  path: string,
  runId: string,
  durable: boolean,
): Promise<ManifestState> {
  await replayJournal(path, runId, durable);
  const info = await lstatIfExists(path);
  if (info === undefined) return { model: new ManifestModel(runId), fingerprint: null };
  const problem = untrustedEntry(info);
  if (problem !== undefined) throw new ManifestError(artifactPath("manifest", runId), problem);
  return {
    model: parseManifest(runId, await readManifest(path, runId)),
    fingerprint: fingerprint(info),
  };
}

/**
 * The end of the manifest at `path` (absolute) of run `runId`, from the
 * cache when the file has not changed, after replaying any journal an
 * interrupted update left. Reading it anew parses and checks the whole file
 * once, then keeps only its end.
 */
export async function loadManifestTail(
  path: string,
  runId: string,
  durable: boolean,
): Promise<ManifestTailState> {
  await replayJournal(path, runId, durable);
  const info = await lstatIfExists(path);
  if (info === undefined) {
    cache.delete(path);
    return { path, tail: new ManifestTail(runId, KEPT_RECORDS), fingerprint: null };
  }
  // The cheap check on every batch; the read below checks the open file again.
  const problem = untrustedEntry(info);
  if (problem !== undefined) throw new ManifestError(artifactPath("manifest", runId), problem);
  const cached = cache.get(path);
  if (cached !== undefined && cached.fingerprint === fingerprint(info)) {
    remember(path, cached);
    return cached;
  }
  const model = parseManifest(runId, await readManifest(path, runId));
  const state = {
    path,
    tail: ManifestTail.of(model, KEPT_RECORDS),
    fingerprint: fingerprint(info),
  };
  remember(path, state);
  return state;
}

/**
 * The recorded record of each probe's path, if any (in the probes' order):
 * from the kept tail, or else, when the path's fingerprint is recorded, from
 * disk: among the records of the probe's tick (one binary search per tick),
 * then, for a path recorded with another tick or other bytes, in the whole
 * file.
 */
export async function findRecords(
  state: ManifestTailState,
  probes: readonly ManifestRecord[],
): Promise<(ManifestRecord | undefined)[]> {
  const { tail } = state;
  const runId = tail.runId;
  const ofTick = new Map<number, ManifestRecord[] | undefined>();
  let whole: ManifestModel | undefined;
  const found: (ManifestRecord | undefined)[] = [];
  for (const probe of probes) {
    const kept = tail.findKept(probe.path);
    if (kept !== undefined || !tail.mayHold(probe.path)) {
      found.push(kept);
      continue;
    }
    if (!ofTick.has(probe.tick)) {
      ofTick.set(probe.tick, await findTickRecords(state.path, runId, probe.tick));
    }
    const hits = ofTick.get(probe.tick)?.filter((record) => record.path === probe.path) ?? [];
    // Trusted only when it is the one such record and what the probe holds: a
    // search that landed inside an `extra` may have read a record-shaped
    // object there, so a drift (or a repeat) is confirmed in the whole file.
    const hit = hits.length === 1 ? hits[0] as ManifestRecord : undefined;
    if (hit !== undefined && recordText(hit) === recordText(probe)) {
      found.push(hit);
      continue;
    }
    whole ??= parseManifest(runId, await readManifest(state.path, runId));
    found.push((whole as ManifestModel).find(probe.path));
  }
  return found;
}

// The manifest's bytes, from a regular file with one link, never blocking.
async function readManifest(path: string, runId: string): Promise<Uint8Array> {
  try {
    return await readRegularFile(path);
  } catch (error) {
    if (!(error instanceof UntrustedFileError)) throw error;
    throw new ManifestError(artifactPath("manifest", runId), error.message);
  }
}

function parseManifest(runId: string, bytes: Uint8Array): ManifestModel {
  try {
    return ManifestModel.parse(runId, bytes);
  } catch (error) {
    throw new ManifestError(artifactPath("manifest", runId), (error as Error).message);
  }
}

// Completes an update a killed or failed writer may have torn. The replayed
// manifest is checked whole before anything is written; a journal that does
// not fit the manifest is refused and both files are left as they are. A
// journal whose manifest was deleted belongs to nothing: it is removed.
async function replayJournal(path: string, runId: string, durable: boolean): Promise<void> {
  let entry;
  try {
    entry = await readJournal(path);
  } catch (error) {
    throw new ManifestError(artifactPath("manifest", runId), (error as Error).message);
  }
  if (entry === undefined) return;
  cache.delete(path);
  const info = await lstatIfExists(path);
  if (info !== undefined) {
    const manifest = await readManifest(path, runId);
    let replayed: Uint8Array;
    try {
      replayed = applyJournal(manifest, entry);
    } catch (error) {
      throw new ManifestError(artifactPath("manifest", runId), (error as Error).message);
    }
    parseManifest(runId, replayed);
    if (!sameBytes(replayed, manifest)) await writeAt(path, entry.offset, entry.bytes, durable);
  }
  await Deno.remove(journalPath(path));
}

/**
 * Records `records` (none recorded yet) in the manifest with one write: a
 * new manifest is written beside and renamed; an existing one is updated in
 * place under the redo journal. Records that sort before the kept tail (a
 * run written out of order) make it read the whole manifest first.
 */
export async function commitRecords(
  state: ManifestTailState,
  records: readonly ManifestRecord[],
  durable: boolean,
): Promise<void> {
  const path = state.path;
  try {
    if (!state.tail.covers(records)) {
      const model = parseManifest(state.tail.runId, await readManifest(path, state.tail.runId));
      state.tail = ManifestTail.of(model, KEPT_RECORDS, model.length);
    }
    if (state.tail.length > 0) checkReplaced(state, records);
    const write = state.tail.insertAll(records);
    if (write.create) {
      await writeFileAtomic(path, write.bytes, durable);
      if (durable) await syncDirectory(dirname(path));
      state.fingerprint = fingerprint(await Deno.stat(path));
    } else {
      const journal = journalPath(path);
      await writeFileAtomic(journal, encodeJournal(write), durable);
      if (durable) await syncDirectory(dirname(path)); // the journal exists before the write begins
      try {
        await writeAt(path, write.offset, write.bytes, durable);
      } catch (error) {
        if (!(error instanceof UntrustedFileError)) throw error;
        throw new ManifestError(artifactPath("manifest", state.tail.runId), error.message);
      }
      await Deno.remove(journal);
      state.fingerprint = fingerprint(await Deno.stat(path));
    }
    remember(path, state);
  } catch (error) {
    cache.delete(path); // the model may be ahead of the file: reread it next time
    throw error;
  }
}

/**
 * Thrown by {@linkcode commitRecords}, which wrote nothing, when the bytes it
 * would overwrite are not what this process last saw: another tool edited
 * the manifest in place and kept its size and time stamps (Deno reports the
 * change time in whole seconds). Load the manifest again and retry once.
 */
export class StaleManifestError extends ManifestError {}

/** `fn()`, run once more when it throws {@linkcode StaleManifestError}. */
export async function retryOnStale<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (!(error instanceof StaleManifestError)) throw error;
    return await fn();
  }
}

// Throws StaleManifestError unless the manifest ends, from where inserting
// `records` writes, with exactly the bytes the cached tail expects. Blocking
// calls (a few hundred bytes, read once a commit) spare the thread hops; a
// link or a FIFO now at the path only fails the comparison, and the retry's
// load refuses it.
function checkReplaced(state: ManifestTailState, records: readonly ManifestRecord[]): void {
  const { offset, bytes } = state.tail.replaced(records);
  if (!holdsAt(state.path, offset, bytes)) {
    throw new StaleManifestError(
      artifactPath("manifest", state.tail.runId),
      "it changed on disk since this process read it, though its size and time stamps did not (is a tool other than ERS editing it?); nothing was recorded",
    );
  }
}

// Whether the file at `path` ends with `bytes` at `offset`.
function holdsAt(path: string, offset: number, bytes: Uint8Array): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    // Gone, or a link now: not the file last seen. Anything else is reported.
    const code = (error as { code?: unknown }).code;
    if (code === "ENOENT" || code === "ELOOP") return false;
    throw error;
  }
  try {
    if (fstatSync(fd).size !== offset + bytes.length) return false;
    const found = new Uint8Array(bytes.length);
    let filled = 0;
    while (filled < bytes.length) {
      const read = readSync(fd, found, filled, bytes.length - filled, offset + filled);
      if (read === 0) return false;
      filled += read;
    }
    return sameBytes(found, bytes);
  } finally {
    closeSync(fd);
  }
}

function remember(path: string, state: ManifestTailState): void {
  cache.delete(path); // re-insert: most recently used last
  cache.set(path, state);
  if (cache.size > MAX_CACHED_MANIFESTS) cache.delete(cache.keys().next().value as string);
}
