// The manifests a process has read, kept in memory so that recording an
// artifact does not reread a manifest that grows with the run. Every use is
// under the root's lock and first compares the file's identity (device,
// inode, birth and change times) and size with what this process last saw:
// records are only ever added, so a manifest another process grew, replaced
// or recreated is never mistaken for the cached one.
//
// In-place updates go through the redo journal of `_journal.ts`; a journal
// left by an interrupted update is replayed before the manifest is read.

import { dirname } from "node:path";
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
import { ManifestModel, type ManifestRecord } from "./_manifest.ts";
import { artifactPath } from "./layout.ts";

/** A run's manifest as this process last saw it. */
export interface ManifestState {
  model: ManifestModel;
  /** The file's identity and size when last seen; `null` before it exists. */
  fingerprint: string | null;
}

const MAX_CACHED_MANIFESTS = 64;
const cache = new Map<string, ManifestState>();

function fingerprint(info: Deno.FileInfo): string {
  const ms = (date: Date | null) => date?.getTime() ?? "-";
  return `${info.dev}:${info.ino}:${info.size}:${ms(info.birthtime)}:${ms(info.ctime)}:${
    ms(info.mtime)
  }`;
}

/**
 * The manifest at `path` (absolute) of run `runId`, from the cache when the
 * file has not changed, after replaying any journal an interrupted update left.
 */
export async function loadManifest(
  path: string,
  runId: string,
  durable: boolean,
): Promise<ManifestState> {
  await replayJournal(path, runId, durable);
  const info = await lstatIfExists(path);
  if (info === undefined) {
    cache.delete(path);
    return { model: new ManifestModel(runId), fingerprint: null };
  }
  // The cheap check on every batch; the read below checks the open file again.
  const problem = untrustedEntry(info);
  if (problem !== undefined) throw new ManifestError(artifactPath("manifest", runId), problem);
  const cached = cache.get(path);
  if (cached !== undefined && cached.fingerprint === fingerprint(info)) {
    remember(path, cached);
    return cached;
  }
  const state = {
    model: parseManifest(runId, await readManifest(path, runId)),
    fingerprint: fingerprint(info),
  };
  remember(path, state);
  return state;
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
 * Records `records` in the manifest at `path` with one write: a new manifest
 * is written beside and renamed; an existing one is updated in place under
 * the redo journal.
 */
export async function commitRecords(
  path: string,
  state: ManifestState,
  records: readonly ManifestRecord[],
  durable: boolean,
): Promise<void> {
  try {
    const write = state.model.insertAll(records);
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
        throw new ManifestError(artifactPath("manifest", state.model.runId), error.message);
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

function remember(path: string, state: ManifestState): void {
  cache.delete(path); // re-insert: most recently used last
  cache.set(path, state);
  if (cache.size > MAX_CACHED_MANIFESTS) cache.delete(cache.keys().next().value as string);
}
