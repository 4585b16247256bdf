// The recorded files of one pass over a run (a replay, a diff), read,
// checked and digested ahead of their use, and given in record order.
//
// A pass of many files reads them on a worker thread, so that a replay's
// reads and digests run beside its ticks instead of between them; a short
// pass, or one where the worker cannot start or fails, reads on this thread.
// Either way each file gets the same checks (`readRecordedFile()`), and a
// file's problem is reported when its turn comes, never before.

import { fileURLToPath } from "node:url";
import type { ManifestRecord } from "./_manifest.ts";
import {
  type DirectoryChecks,
  type FileRecord,
  readRecordedFile,
  type RecordedFile,
} from "./_read.ts";

/** Most files, and bytes, one chunk holds (one larger file is a chunk of its own). */
const CHUNK_FILES = 64;
const CHUNK_BYTES = 4 * 1024 * 1024;
/**
 * Fewest files for which a pass starts a worker: starting one costs this
 * thread about 10 ms, what reading some 400 files here costs.
 */
export const WORKER_MIN_FILES = 256;
/** How many chunks the worker is asked for ahead of the one being used. */
const WORKER_DEPTH = 4;

const WORKER_URL = new URL("./_read_ahead_worker.ts", import.meta.url);

/** A chunk for the worker to read: its number in the pass, the artifacts root, its records. */
export interface ReadAheadRequest {
  id: number;
  root: string;
  records: readonly FileRecord[];
}

/**
 * A chunk the worker read, packed into one cheap message (a message of one
 * object per file costs more than the reads): the bytes of its good files one
 * after another, where each file ends in them (a file with a problem ends
 * where the one before did), and the problems by index. No `files` when a
 * read threw there.
 */
export interface ReadAheadReply {
  id: number;
  files?: PackedFiles;
}

interface PackedFiles {
  bytes: ArrayBuffer;
  ends: number[];
  problems: Record<number, string>;
}

/**
 * A recorded file as a pass gives it: its bytes, as recorded, or why it
 * cannot be trusted (then without its bytes).
 */
export type CheckedFile = { bytes: Uint8Array; problem?: undefined } | {
  bytes?: undefined;
  problem: string;
};

/** `file` as a {@linkcode CheckedFile}. */
export function checkedFile(file: RecordedFile): CheckedFile {
  if (file.problem === undefined && file.bytes !== undefined) return { bytes: file.bytes };
  return { problem: file.problem ?? "recorded file cannot be read" };
}

/** `files` packed for a {@linkcode ReadAheadReply}; `bytes` is the buffer to transfer. */
export function packFiles(files: readonly CheckedFile[]): PackedFiles {
  let length = 0;
  for (const file of files) length += file.bytes?.length ?? 0;
  const bytes = new Uint8Array(length);
  const ends: number[] = [];
  const problems: Record<number, string> = {};
  let end = 0;
  files.forEach((file, i) => {
    if (file.bytes === undefined) problems[i] = file.problem;
    else {
      bytes.set(file.bytes, end);
      end += file.bytes.length;
    }
    ends.push(end);
  });
  return { bytes: bytes.buffer, ends, problems };
}

function unpackFiles({ bytes, ends, problems }: PackedFiles): CheckedFile[] {
  const all = new Uint8Array(bytes);
  return ends.map((end, i) => {
    const problem = problems[i];
    return problem === undefined ? { bytes: all.subarray(ends[i - 1] ?? 0, end) } : { problem };
  });
}

type Read = PromiseSettledResult<CheckedFile>;

/**
 * `readRecordedFile()` of each record under `root`, in record order, read a
 * chunk ahead of its use: a chunk's reads run back to back and their digests
 * as one burst (one read at a time between ticks finds the digest threads
 * asleep). A pass of at least {@linkcode WORKER_MIN_FILES} files reads on a
 * worker thread, {@linkcode WORKER_DEPTH} chunks ahead; on this thread, the
 * next chunk starts as the first file of this one is taken. `checked` is the
 * pass's memo of directory checks on this thread (the worker keeps its own).
 *
 * `next()` gives the files one by one; a read that threw throws when its turn
 * comes. Dispose of the pass (`await using`) when done or stopping early: it
 * ends the worker and settles the reads in flight.
 */
export class FilesAhead implements AsyncDisposable {
  readonly #root: string;
  readonly #checked: DirectoryChecks;
  readonly #chunks: ManifestRecord[][];
  readonly #worker: ReadWorker | undefined;
  readonly #ahead: Promise<Read[]>[] = [];
  #started = 0;
  #current: Read[] = [];
  #at = 0;
  #onWorker = 0;

  constructor(root: string, records: readonly ManifestRecord[], checked: DirectoryChecks) {
    this.#root = root;
    this.#checked = checked;
    this.#chunks = chunked(records);
    this.#worker = records.length >= WORKER_MIN_FILES ? ReadWorker.start(root) : undefined;
    this.#fill();
  }

  /** The next file; throws what its read threw, or a RangeError past the last one. */
  async next(): Promise<CheckedFile> {
    if (this.#at === this.#current.length) {
      const chunk = this.#ahead.shift();
      if (chunk === undefined) throw new RangeError("Cannot read past the last recorded file");
      this.#current = await chunk;
      this.#at = 0;
      this.#fill();
    }
    const read = this.#current[this.#at++] as Read;
    if (read.status === "rejected") throw read.reason;
    return read.value;
  }

  /** How many chunks the worker has read so far (0 when the pass reads on this thread). */
  get chunksReadOnWorker(): number {
    return this.#onWorker;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#worker?.close();
    await Promise.allSettled(this.#ahead);
  }

  #fill(): void {
    const depth = this.#worker === undefined ? 1 : WORKER_DEPTH;
    while (this.#ahead.length < depth && this.#started < this.#chunks.length) {
      this.#ahead.push(this.#start(this.#chunks[this.#started++] as ManifestRecord[]));
    }
  }

  #start(chunk: readonly ManifestRecord[]): Promise<Read[]> {
    if (this.#worker === undefined) return this.#readHere(chunk);
    // What the worker could not read (it failed, or could not start) is
    // read here, where an error keeps its class and message.
    return this.#worker.read(chunk).then((files) => {
      if (files === undefined) return this.#readHere(chunk);
      this.#onWorker++;
      return unpackFiles(files).map(fulfilled);
    });
  }

  #readHere(chunk: readonly ManifestRecord[]): Promise<Read[]> {
    return Promise.allSettled(
      chunk.map(async (record) =>
        checkedFile(await readRecordedFile(this.#root, record, this.#checked))
      ),
    );
  }
}

const fulfilled = (value: CheckedFile): Read => ({ status: "fulfilled", value });

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
  readonly #waiting = new Map<number, (files: PackedFiles | undefined) => void>();
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

  read(records: readonly ManifestRecord[]): Promise<PackedFiles | undefined> {
    if (this.#ended) return Promise.resolve(undefined);
    const id = this.#next++;
    // What a read checks, and no more: less to copy to the worker.
    const request: ReadAheadRequest = {
      id,
      root: this.#root,
      records: records.map(({ path, bytes, sha256 }) => ({ path, bytes, sha256 })),
    };
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
