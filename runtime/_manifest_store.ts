// The manifests a process has read, kept in memory so that recording an
// artifact does not reread a manifest that grows with the run. Every use is
// under the root's lock and first checks the file's inode and size: records
// are only ever added, so a manifest another process grew (or replaced) is
// never mistaken for the cached one.

import { ManifestError } from "./errors.ts";
import { writeAt, writeFileAtomic } from "./_fs.ts";
import { ManifestModel, type ManifestRecord } from "./_manifest.ts";
import { manifestRelPath } from "./_paths.ts";

/** A run's manifest as this process last saw it. */
export interface ManifestState {
  model: ManifestModel;
  ino: number | null;
  size: number;
}

const MAX_CACHED_MANIFESTS = 64;
const cache = new Map<string, ManifestState>();

/** The manifest at `path` (absolute), from the cache when the file has not changed. */
export async function loadManifest(path: string, runId: string): Promise<ManifestState> {
  let info: Deno.FileInfo | undefined;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const cached = cache.get(path);
  if (info === undefined) {
    cache.delete(path);
    return { model: new ManifestModel(runId), ino: null, size: 0 };
  }
  if (cached && cached.ino === info.ino && cached.size === info.size) {
    remember(path, cached);
    return cached;
  }
  const bytes = await Deno.readFile(path);
  let model: ManifestModel;
  try {
    model = ManifestModel.parse(runId, bytes);
  } catch (error) {
    throw new ManifestError(manifestRelPath(runId), (error as Error).message);
  }
  const state = { model, ino: info.ino, size: bytes.length };
  remember(path, state);
  return state;
}

/** Records `records` in the manifest at `path` with one write (created whole, else updated in place). */
export async function commitRecords(
  path: string,
  state: ManifestState,
  records: readonly ManifestRecord[],
  durable: boolean,
): Promise<void> {
  const write = state.model.insertAll(records);
  try {
    if (write.create) {
      await writeFileAtomic(path, write.bytes, durable);
      state.ino = (await Deno.stat(path)).ino;
    } else {
      await writeAt(path, write.offset, write.bytes, durable);
    }
    state.size = state.model.byteLength;
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
