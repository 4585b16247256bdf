// The recorded files of one pass over a run (a replay, a diff), read,
// checked and digested ahead of their use and yielded in record order.
//
// A pass of many files reads them on a worker thread, so that a replay's
// reads and digests run beside its ticks instead of between them; a short
// pass, or one where the worker cannot start or fails, reads on this thread.
// Either way each file gets the same checks (`readRecordedFile()`), and a
// file's problem is reported when its turn comes, never before.

import { fileURLToPath } from "node:url";
import type { ManifestRecord } from "./_manifest.ts";
import { type DirectoryChecks, readRecordedFile, type RecordedFile } from "./_read.ts";

/** Most files, and bytes, one chunk holds (one larger file is a chunk of its own). */
const CHUNK_FILES = 64;
const CHUNK_BYTES = 4 * 1024 * 1024;
/** Fewest files for which a pass starts a worker (starting one takes 10 to 20 ms). */
export const WORKER_MIN_FILES = 256;
/** How many chunks the worker is asked for ahead of the one being used. */
const WORKER_DEPTH = 4;

const WORKER_URL = new URL("./_read_ahead_worker.ts", import.meta.url);

/** A chunk for the worker to read: its number in the pass, the artifacts root, its records. */
export interface ReadAheadRequest {
  id: number;
  root: string;
  records: readonly ManifestRecord[];
}

/** A chunk the worker read: its files in record order, or none when a read threw. */
export interface ReadAheadReply {
  id: number;
  files?: RecordedFile[];
}

/**
 * `readRecordedFile()` of each record under `root`, yielded in record order, a
 * chunk at a time: a chunk's reads run back to back and their digests as one
 * burst (one read at a time between ticks finds the digest threads asleep).
 * A pass of at least {@linkcode WORKER_MIN_FILES} files reads on a worker
 * thread, {@linkcode WORKER_DEPTH} chunks ahead; on this thread, the next
 * chunk starts as the first file of this one is taken. `checked` is the
 * pass's memo of directory checks on this thread (the worker keeps its own).
 * A read that throws throws when its turn comes; reads in flight when the
 * consumer stops are settled (or the worker ended) before this returns.
 */
export async function* recordedFilesAhead(
  root: string,
  records: readonly ManifestRecord[],
  checked: DirectoryChecks = new Map(),
): AsyncGenerator<RecordedFile, void, undefined> {
  const chunks = chunked(records);
  const reader = records.length >= WORKER_MIN_FILES ? ReadWorker.start(root) : undefined;
  const readInline = (chunk: readonly ManifestRecord[]) =>
    Promise.allSettled(chunk.map((record) => readRecordedFile(root, record, checked)));
  const start = (i: number) => {
    const chunk = chunks[i];
    if (chunk === undefined) return undefined;
    if (reader === undefined) return readInline(chunk);
    // What the worker could not read (it failed, or could not start) is
    // read here, where an error keeps its class and message.
    return reader.read(chunk).then((files) =>
      files === undefined ? readInline(chunk) : files.map(fulfilled)
    );
  };
  const depth = reader === undefined ? 1 : WORKER_DEPTH;
  const ahead: Promise<PromiseSettledResult<RecordedFile>[]>[] = [];
  let started = 0;
  const fill = () => {
    while (ahead.length < depth && started < chunks.length) {
      ahead.push(start(started++) as Promise<PromiseSettledResult<RecordedFile>[]>);
    }
  };
  try {
    fill();
    while (ahead.length > 0) {
      const results = await (ahead.shift() as Promise<PromiseSettledResult<RecordedFile>[]>);
      fill();
      for (const result of results) {
        if (result.status === "rejected") throw result.reason;
        yield result.value;
      }
    }
  } finally {
    reader?.close();
    await Promise.allSettled(ahead);
  }
}

const fulfilled = (value: RecordedFile): PromiseFulfilledResult<RecordedFile> => ({
  status: "fulfilled",
  value,
});

// `records` cut into chunks of at most CHUNK_FILES records and CHUNK_BYTES
// recorded bytes.
function chunked(records: readonly ManifestRecord[]): ManifestRecord[][] {
  const chunks: ManifestRecord[][] = [];
  let chunk: ManifestRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    if (chunk.length > 0 && (chunk.length === CHUNK_FILES || bytes + record.bytes > CHUNK_BYTES)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(record);
    bytes += record.bytes;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

// The worker of one pass: chunks asked for by number, answered in any order.
// `read()` gives `undefined` once the worker has failed or ended, and for a
// chunk it could not read; the caller then reads that chunk itself.
class ReadWorker {
  readonly #worker: Worker;
  readonly #root: string;
  readonly #waiting = new Map<number, (files: RecordedFile[] | undefined) => void>();
  #next = 0;
  #ended = false;

  // A worker for `root`, or `undefined` when its module may not be read
  // (Deno would report that on stderr however the error is handled).
  static start(root: string): ReadWorker | undefined {
    if (!mayLoad(WORKER_URL)) return undefined;
    try {
      return new ReadWorker(root, new Worker(WORKER_URL, { type: "module" }));
    } catch {
      return undefined;
    }
  }

  private constructor(root: string, worker: Worker) {
    this.#root = root;
    this.#worker = worker;
    worker.onmessage = (event: MessageEvent<ReadAheadReply>) => {
      const { id, files } = event.data;
      const resolve = this.#waiting.get(id);
      this.#waiting.delete(id);
      if (files === undefined) this.close(); // a read threw there: the rest is read here
      resolve?.(files);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.close();
    };
    worker.onmessageerror = () => this.close();
  }

  read(records: readonly ManifestRecord[]): Promise<RecordedFile[] | undefined> {
    if (this.#ended) return Promise.resolve(undefined);
    const id = this.#next++;
    const request: ReadAheadRequest = { id, root: this.#root, records };
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.#worker.postMessage(request);
    });
  }

  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#worker.terminate();
    for (const resolve of this.#waiting.values()) resolve(undefined);
    this.#waiting.clear();
  }
}

// Whether Deno lets a worker load `url`: a local module needs read access
// to its file (asked, never prompted for); a remote one was fetched already.
function mayLoad(url: URL): boolean {
  if (url.protocol !== "file:") return true;
  try {
    const path = fileURLToPath(url);
    return Deno.permissions.querySync({ name: "read", path }).state === "granted";
  } catch {
    return false;
  }
}
