// The worker of `recordedFilesAhead()` (runtime/_read_ahead.ts): reads,
// checks and digests the chunks of recorded files it is asked for, with the
// same checks as a read on the main thread, and sends each file's bytes back
// without a copy. A read that throws (a permission, an I/O error) answers the
// chunk with no files, and the main thread reads it again itself, where the
// error keeps its class.

import type { ReadAheadReply, ReadAheadRequest } from "./_read_ahead.ts";
import { type DirectoryChecks, readRecordedFile } from "./_read.ts";

// The worker's global scope, as this worker uses it.
interface WorkerScope {
  postMessage(message: ReadAheadReply, transfer: ArrayBuffer[]): void;
  onmessage: ((event: MessageEvent<ReadAheadRequest>) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
// One pass per worker: each directory is checked once in it.
const checked: DirectoryChecks = new Map();

scope.onmessage = async ({ data: { id, root, records } }) => {
  try {
    const files = await Promise.all(
      records.map((record) => readRecordedFile(root, record, checked)),
    );
    const buffers = files.flatMap((file) => file.bytes === undefined ? [] : [file.bytes.buffer]);
    scope.postMessage({ id, files }, buffers as ArrayBuffer[]);
  } catch {
    scope.postMessage({ id }, []);
  }
};
