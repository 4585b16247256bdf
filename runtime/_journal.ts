// The redo journal of an in-place manifest update.
//
// Updating the manifest in place keeps the cost of a tick flat, but a write
// cut short (a kill between pages, a full disk, a file size limit) would tear
// it. So before the in-place write, its offset and bytes go to a journal
// beside the manifest (written beside and renamed, so it is whole or absent);
// after the write, the journal is removed. A journal found later means an
// update may be torn: replaying it (writing the same bytes at the same offset
// and cutting the file there) completes the update. Replay is idempotent, so
// a journal left after a completed update does no harm.
//
// Format: `ERSJ1 <offset> <length>\n` then exactly `length` bytes.

import { readRegularFile, UntrustedFileError } from "./_fs.ts";

const MAGIC = "ERSJ1";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An in-place write: these bytes at this offset, and the file ends after them. */
export interface JournalEntry {
  offset: number;
  bytes: Uint8Array;
}

/** The journal file of the manifest at `manifestPath`. */
export function journalPath(manifestPath: string): string {
  const slash = manifestPath.lastIndexOf("/");
  return `${manifestPath.slice(0, slash + 1)}.${manifestPath.slice(slash + 1)}.journal`;
}

/** The journal's bytes for a write. */
export function encodeJournal(entry: JournalEntry): Uint8Array<ArrayBuffer> {
  const header = encoder.encode(`${MAGIC} ${entry.offset} ${entry.bytes.length}\n`);
  const out = new Uint8Array(header.length + entry.bytes.length);
  out.set(header);
  out.set(entry.bytes, header.length);
  return out;
}

/** Parses journal bytes; throws a message naming what is wrong. */
export function decodeJournal(bytes: Uint8Array): JournalEntry {
  const newline = bytes.indexOf(0x0a);
  const header = newline === -1 ? "" : decoder.decode(bytes.subarray(0, Math.min(newline, 64)));
  const match = /^ERSJ1 (\d{1,16}) (\d{1,16})$/.exec(header);
  if (!match) throw new Error("its journal has no valid header");
  const offset = Number(match[1]);
  const length = Number(match[2]);
  if (bytes.length - newline - 1 !== length) throw new Error("its journal is not whole");
  return { offset, bytes: bytes.subarray(newline + 1) };
}

/**
 * `manifest` with the journaled write applied. Throws a message when the
 * journal cannot belong to this manifest: the file only grows, so an update
 * cut short leaves it between the write's offset and its end.
 */
export function applyJournal(manifest: Uint8Array, entry: JournalEntry): Uint8Array {
  const end = entry.offset + entry.bytes.length;
  if (manifest.length < entry.offset || manifest.length > end) {
    throw new Error(
      `its journal (bytes ${entry.offset} to ${end}) does not fit a manifest of ${manifest.length} bytes; if the manifest was replaced on purpose, remove the journal`,
    );
  }
  const out = new Uint8Array(end);
  out.set(manifest.subarray(0, entry.offset));
  out.set(entry.bytes, entry.offset);
  return out;
}

/**
 * The journal of the manifest at `manifestPath`, or `undefined` when there is
 * none. A journal that is a symbolic link is refused: ERS never makes one.
 */
export async function readJournal(manifestPath: string): Promise<JournalEntry | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(journalPath(manifestPath));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    if (error instanceof UntrustedFileError) throw new Error(`its journal: ${error.message}`);
    throw error;
  }
  return decodeJournal(bytes);
}
