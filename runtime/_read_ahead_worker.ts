// The worker of a `FilesAhead` pass (runtime/_read_ahead.ts): reads, checks
// and digests the chunks of recorded files it is asked for, with the same
// checks as a read on the main thread, and sends them back packed into one
// buffer, transferred, not copied. A chunk the main thread claimed first is
// skipped. A read that throws (a permission, an I/O error) answers the chunk
// with no files, and the main thread reads it again itself, where the error
// keeps its class.

import {
  checkedFile,
  CLAIMED_BY_WORKER,
  packFiles,
  type ReadAheadReply,
  type ReadAheadRequest,
  UNCLAIMED,
} from "./_read_ahead.ts";
import { type DirectoryChecks, type FileRecord, readRecordedFile } from "./_read.ts";

// The worker's global scope, as this worker uses it.
interface WorkerScope {
  postMessage(message: ReadAheadReply, transfer: ArrayBuffer[]): void;
  onmessage: ((event: MessageEvent<ReadAheadRequest>) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
// One pass per worker: each directory is checked once in it.
const checked: DirectoryChecks = new Map();
let root = "";
let claims = new Uint8Array(new SharedArrayBuffer(0));

// The chunks asked for, read one at a time, so that the worker claims a
// chunk only as it begins it: the main thread waits on at most one.
const queue: { id: number; records: readonly FileRecord[] }[] = [];
let reading = false;

scope.onmessage = ({ data: request }) => {
  if (request.type === "pass") {
    ({ root, claims } = request);
    return;
  }
  queue.push(request);
  if (!reading) void readQueue();
};

async function readQueue(): Promise<void> {
  reading = true;
  for (let chunk = queue.shift(); chunk !== undefined; chunk = queue.shift()) {
    scope.postMessage(...await readChunk(chunk.id, chunk.records));
  }
  reading = false;
}

async function readChunk(
  id: number,
  records: readonly FileRecord[],
): Promise<[ReadAheadReply, ArrayBuffer[]]> {
  if (Atomics.compareExchange(claims, id, UNCLAIMED, CLAIMED_BY_WORKER) !== UNCLAIMED) {
    return [{ type: "skipped", id }, []];
  }
  try {
    const files = packFiles(
      await Promise.all(
        records.map(async (record) => checkedFile(await readRecordedFile(root, record, checked))),
      ),
    );
    return [{ type: "read", id, files }, [files.bytes]];
  } catch {
    return [{ type: "failed", id }, []];
  }
}
