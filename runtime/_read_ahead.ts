// The recorded files of one pass over a run (a replay, a diff), read,
// checked and digested ahead of their use, and given in record order.
//
// A pass of many files reads them on a worker thread, so that a replay's
// reads and digests run beside its ticks instead of between them; a short
// pass, or one where the worker cannot start or fails, reads on this thread.
// Either way each file gets the same checks (`readRecordedFile()`), and a
// file's problem is reported when its turn comes, never before.

import { fileURLToPath } from "node:url";
import { workerPermissionOptions } from "./_worker_permissions.ts";
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
 * Fewest files for which a pass starts a worker. A worker costs some 40 ms
 * of CPU to start (10 ms of it on this thread) and its code starts cold: a
 * replay of 400 ticks (800 files) lost 20 to 90 ms with one, one of 2,000
 * ticks gained 3 to 11% on a busy machine and a fifth on a quieter one
 * (BENCHMARKS.md).
 */
export const WORKER_MIN_FILES = 4096;
/** How many chunks the worker is asked for ahead of the one being used. */
const WORKER_DEPTH = 4;

const WORKER_URL = new URL("./_read_ahead_worker.ts", import.meta.url);
/**
 * The folders of every module the worker loads (its own, and what it imports
 * from `ers/`): Deno loads each with the caller's read permission, and
 * reports one it may not read on stderr, however the error is handled.
 */
export const WORKER_MODULE_DIRS: readonly URL[] = [
  new URL("./", import.meta.url),
  new URL("../ers/", import.meta.url),
];

/**
 * What the worker is told: first the pass (the artifacts root, and one claim
 * per chunk, shared), then each chunk to read, by number, with its records.
 */
export type ReadAheadRequest =
  | { type: "pass"; root: string; claims: Uint8Array<SharedArrayBuffer> }
  | { type: "chunk"; id: number; records: readonly FileRecord[] };

/**
 * A chunk's answer: `read`, its files, packed into one cheap message (a
 * message of one object per file costs more than the reads): the bytes of
 * its good files one after another, where each file ends in them (a file
 * with a problem ends where the one before did), and the problems by index;
 * `skipped`, the main thread claimed the chunk first; `failed`, a read threw
 * there.
 */
export type ReadAheadReply =
  | { type: "read"; id: number; files: PackedFiles }
  | { type: "skipped" | "failed"; id: number };

/** Who a chunk's claim says reads it: nobody yet, the main thread, the worker. */
export const UNCLAIMED = 0;
export const CLAIMED_HERE = 1;
export const CLAIMED_BY_WORKER = 2;

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

// A chunk of the pass, once asked for: read here (started), or asked of the worker.
type Pending =
  & { records: readonly ManifestRecord[] }
  & (
    | { here: Promise<Read[]> }
    | { id: number; worker: Promise<PackedFiles | undefined> }
  );

/**
 * `readRecordedFile()` of each record under `root`, in record order, read
 * ahead of its use a chunk at a time: a chunk's reads run back to back and
 * their digests as one burst (one read at a time between ticks finds the
 * digest threads asleep). On this thread, the next chunk starts as the first
 * file of this one is taken. A pass of at least {@linkcode WORKER_MIN_FILES}
 * files also asks a worker thread for the {@linkcode WORKER_DEPTH} chunks
 * ahead; whichever thread claims a chunk first reads it, so this thread
 * never waits on a chunk the worker has not begun: it reads the first ones
 * itself while the worker starts, and any the worker falls behind on.
 * `checked` is the pass's memo of directory checks on this thread (the worker
 * keeps its own). `threads` overrides the choice: `"worker"` starts a worker
 * whatever the pass's length and leaves every chunk to it (this thread waits,
 * and reads only what the worker could not); `"here"` starts none.
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
  readonly #claimHere: boolean;
  readonly #ahead: Pending[] = [];
  #asked = 0;
  #current: Read[] = [];
  #at = 0;
  #onWorker = 0;

  constructor(
    root: string,
    records: readonly ManifestRecord[],
    checked: DirectoryChecks,
    options: { threads?: "auto" | "worker" | "here" } = {},
  ) {
    const threads = options.threads ?? "auto";
    this.#root = root;
    this.#checked = checked;
    this.#claimHere = threads === "auto";
    this.#chunks = chunked(records);
    const worker = threads === "worker" ||
      (threads === "auto" && records.length >= WORKER_MIN_FILES);
    this.#worker = worker ? ReadWorker.start(root, this.#chunks.length) : undefined;
    this.#fill();
  }

  /** The next file; throws what its read threw, or a RangeError past the last one. */
  async next(): Promise<CheckedFile> {
    if (this.#at === this.#current.length) {
      const pending = this.#ahead.shift();
      if (pending === undefined) throw new RangeError("Cannot read past the last recorded file");
      this.#fill();
      this.#current = await this.#take(pending);
      this.#at = 0;
    }
    return settled(this.#current[this.#at++] as Read);
  }

  /** How many chunks the worker has read so far (0 when the pass reads on this thread). */
  get chunksReadOnWorker(): number {
    return this.#onWorker;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#worker?.close();
    await Promise.allSettled(this.#ahead.map((pending) => "here" in pending && pending.here));
  }

  #fill(): void {
    const depth = this.#worker === undefined ? 1 : WORKER_DEPTH;
    while (this.#ahead.length < depth && this.#asked < this.#chunks.length) {
      const id = this.#asked++;
      const records = this.#chunks[id] as ManifestRecord[];
      this.#ahead.push(
        this.#worker === undefined
          ? { records, here: this.#readHere(records) }
          : { records, id, worker: this.#worker.read(id, records) },
      );
    }
  }

  async #take(pending: Pending): Promise<Read[]> {
    if ("here" in pending) return await pending.here;
    const worker = this.#worker as ReadWorker;
    // Not begun by the worker: read here (the worker will skip it).
    if (this.#claimHere && worker.claim(pending.id)) return await this.#readHere(pending.records);
    const files = await pending.worker;
    // The worker failed or ended: read here, where an error keeps its class and message.
    if (files === undefined) return await this.#readHere(pending.records);
    this.#onWorker++;
    return unpackFiles(files).map(fulfilled);
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

/** The value of `result`, or what it threw. */
export function settled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === "rejected") throw result.reason;
  return result.value;
}

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
// `read()` gives `undefined` for a chunk the worker skipped (claimed here
// first) or could not read, and once it has failed or ended; a read that
// threw ends it, and the rest of the pass is read here.
class ReadWorker {
  readonly #worker: Worker;
  readonly #claims: Uint8Array<SharedArrayBuffer>;
  readonly #waiting = new Map<number, (files: PackedFiles | undefined) => void>();
  #ended = false;

  // A worker for a pass of `chunks` chunks under `root`, or `undefined` when
  // its modules may not be read.
  static start(root: string, chunks: number): ReadWorker | undefined {
    if (!WORKER_MODULE_DIRS.every(mayLoad)) return undefined;
    try {
      return new ReadWorker(root, chunks, new Worker(WORKER_URL, readWorkerOptions()));
    } catch {
      return undefined;
    }
  }

  private constructor(root: string, chunks: number, worker: Worker) {
    this.#worker = worker;
    this.#claims = new Uint8Array(new SharedArrayBuffer(chunks));
    worker.onmessage = ({ data: reply }: MessageEvent<ReadAheadReply>) => {
      const resolve = this.#waiting.get(reply.id);
      this.#waiting.delete(reply.id);
      if (reply.type === "failed") this.close();
      resolve?.(reply.type === "read" ? reply.files : undefined);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.close();
    };
    worker.onmessageerror = () => this.close();
    this.#post({ type: "pass", root, claims: this.#claims });
  }

  // Whether this thread got chunk `id` to read (the worker had not begun it).
  claim(id: number): boolean {
    return Atomics.compareExchange(this.#claims, id, UNCLAIMED, CLAIMED_HERE) === UNCLAIMED;
  }

  read(id: number, records: readonly ManifestRecord[]): Promise<PackedFiles | undefined> {
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      // What a read checks, and no more: less to copy to the worker.
      this.#post({
        type: "chunk",
        id,
        records: records.map(({ path, bytes, sha256 }) => ({ path, bytes, sha256 })),
      });
    });
  }

  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#worker.terminate();
    for (const resolve of this.#waiting.values()) resolve(undefined);
    this.#waiting.clear();
  }

  #post(request: ReadAheadRequest): void {
    this.#worker.postMessage(request);
  }
}

/**
 * How the worker is started: where Deno accepts per-worker permissions
 * (`--unstable-worker-options`, see `workerPermissionOptions()`), with the
 * caller's read access (and its module imports) and nothing else: it only
 * ever reads. Otherwise it inherits the caller's permissions.
 */
export function readWorkerOptions(permissionOptions = workerPermissionOptions()): WorkerOptions {
  if (!permissionOptions) return { type: "module" };
  const permissions: Deno.PermissionOptionsObject = {
    read: "inherit",
    import: "inherit",
    env: false,
    ffi: false,
    net: false,
    run: false,
    sys: false,
    write: false,
  };
  return { type: "module", deno: { permissions } };
}

// Whether Deno lets a worker load the modules at `url`: local ones need read
// access to them (asked, never prompted for); remote ones were fetched already.
function mayLoad(url: URL): boolean {
  if (url.protocol !== "file:") return true;
  try {
    const path = fileURLToPath(url);
    return Deno.permissions.querySync({ name: "read", path }).state === "granted";
  } catch {
    return false;
  }
}
