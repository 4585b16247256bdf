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
import { type DirectoryChecks, readRecordedFile } from "./_read.ts";

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

scope.onmessage = async ({ data }) => {
  if ("root" in data) {
    ({ root, claims } = data);
    return;
  }
  const { id, records } = data;
  if (Atomics.compareExchange(claims, id, UNCLAIMED, CLAIMED_BY_WORKER) !== UNCLAIMED) {
    scope.postMessage({ id, skipped: true }, []);
    return;
  }
  try {
    const files = packFiles(
      await Promise.all(
        records.map(async (record) => checkedFile(await readRecordedFile(root, record, checked))),
      ),
    );
    scope.postMessage({ id, files }, [files.bytes]);
  } catch {
    scope.postMessage({ id }, []);
  }
};
