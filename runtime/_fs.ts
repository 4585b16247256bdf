// File system primitives of the artifact runtime: permission checks that name
// the missing flag, a cross-process run lock, and writes that a killed process
// cannot tear.

import { constants, type FileHandle, open } from "node:fs/promises";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { ArtifactPermissionError } from "./errors.ts";
import { tempName } from "./_paths.ts";

/** Throws {@linkcode ArtifactPermissionError} unless Deno granted `access` to `dir`. */
export function requireAccess(access: "read" | "write", dir: string): void {
  if (Deno.permissions.querySync({ name: access, path: dir }).state !== "granted") {
    throw new ArtifactPermissionError(access, dir);
  }
}

/** Runs `fn`, turning a Deno permission refusal into an error that names the flag for `dir`. */
export async function withPermissionHint<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new ArtifactPermissionError(/write access/.test(error.message) ? "write" : "read", dir);
    }
    throw error;
  }
}

const inProcess = new Map<string, Promise<void>>();

/**
 * Runs `fn` holding the lock of the artifacts root: an in-process queue plus
 * an advisory `flock` on the root's `manifests/` directory. The kernel drops
 * the flock when its process dies, so a killed writer never wedges a run, and
 * no lock file is left behind. `key` names the lock within the process (use
 * the real path, so that two spellings of one directory share a queue).
 */
export async function withRootLock<T>(
  lockDir: string,
  exclusive: boolean,
  fn: () => Promise<T>,
  key: string = lockDir,
): Promise<T> {
  const previous = inProcess.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => release = resolve);
  const queued = previous.then(() => mine);
  inProcess.set(key, queued);
  await previous;
  let handle: Deno.FsFile | undefined;
  try {
    handle = await Deno.open(lockDir, { read: true });
    await handle.lock(exclusive);
    return await fn();
  } finally {
    handle?.close(); // closing releases the flock
    release();
    if (inProcess.get(key) === queued) inProcess.delete(key);
  }
}

/** The entry at `path` itself (a link is not followed), or `undefined` when there is none. */
export async function lstatIfExists(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * An entry ERS reads or updates is not a file it could have made: a symbolic
 * link, a FIFO, a directory, a device, or a file with more than one hard link
 * (which would let an update reach a file outside the root). The message says
 * which, without the path.
 */
export class UntrustedFileError extends Error {
  override name = "UntrustedFileError";
}

// Never waits for a FIFO's writer; O_NOFOLLOW refuses a final symbolic link
// where Deno passes the path on as given (with -A; under scoped permissions
// Deno resolves links itself, so the identity check below is what counts).
const OPEN_FLAGS = constants.O_NONBLOCK | constants.O_NOFOLLOW;

/**
 * Why the entry `info` (from `lstat`) is not a file ERS could have made, or
 * `undefined` when it is a regular file with one link.
 */
export function untrustedEntry(info: Deno.FileInfo): string | undefined {
  if (info.isSymlink) return "it is a symbolic link, not a regular file (ERS never links it)";
  if (!info.isFile) {
    const kind = info.isDirectory
      ? "a directory"
      : info.isFifo
      ? "a FIFO"
      : info.isSocket
      ? "a socket"
      : "a device";
    return `it is not a regular file (${kind})`;
  }
  if ((info.nlink ?? 1) > 1) return `it has ${info.nlink} hard links; ERS never links its files`;
  return undefined;
}

/**
 * Opens the regular file at `path` for reading (or reading and writing when
 * `update`). The entry is checked with `lstat` first (type, link count), then
 * the open handle is checked to be that same file (device and inode), so that
 * a link, FIFO or other file swapped in between is refused, not used. A FIFO,
 * a directory, a symbolic link or a file with more than one link throws
 * {@linkcode UntrustedFileError} at once, never blocking; a missing file
 * throws `Deno.errors.NotFound`.
 */
export async function openRegularFile(
  path: string,
  update = false,
): Promise<{ handle: FileHandle; size: number }> {
  const entry = await Deno.lstat(path); // NotFound passes through
  const problem = untrustedEntry(entry);
  if (problem !== undefined) throw new UntrustedFileError(problem);
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_FLAGS | (update ? constants.O_RDWR : constants.O_RDONLY));
  } catch (error) {
    throw openError(error, path);
  }
  try {
    const info = await handle.stat();
    checkOpened(entry, info);
    return { handle, size: info.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

// The error to throw for a failed open of a checked entry.
function openError(error: unknown, path: string): unknown {
  const code = (error as { code?: unknown }).code;
  if (code === "ENOENT") return new Deno.errors.NotFound(`No such file: ${path}`);
  if (code === "ELOOP" || code === "EISDIR") {
    return new UntrustedFileError("it was replaced while being opened");
  }
  return error;
}

// Throws unless the opened file (`info`) is the entry `lstat` saw, and still
// a regular file with one link.
function checkOpened(
  entry: Deno.FileInfo,
  info: { dev: number; ino: number; nlink: number; isFile(): boolean },
): void {
  if (info.dev !== entry.dev || info.ino !== entry.ino) {
    throw new UntrustedFileError("it was replaced while being opened");
  }
  if (!info.isFile()) throw new UntrustedFileError("it is not a regular file");
  if (info.nlink > 1) {
    throw new UntrustedFileError(`it has ${info.nlink} hard links; ERS never links its files`);
  }
}

/**
 * The bytes of the regular file at `path` (see {@linkcode openRegularFile}),
 * or an {@linkcode UntrustedFileError} when it holds more than `maxBytes`.
 */
export async function readRegularFile(path: string, maxBytes = Infinity): Promise<Uint8Array> {
  const { handle, size } = await openRegularFile(path);
  try {
    if (size > maxBytes) {
      throw new UntrustedFileError(`it holds ${size} bytes, more than ${maxBytes}`);
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/**
 * {@linkcode readRegularFile} with blocking calls: the same checks, without
 * a thread hop per call. For reads of many small files (verification, a
 * replay, a diff), where the hops cost more than the reads.
 */
export function readRegularFileSync(path: string, maxBytes = Infinity): Uint8Array {
  const entry = Deno.lstatSync(path); // NotFound passes through
  const problem = untrustedEntry(entry);
  if (problem !== undefined) throw new UntrustedFileError(problem);
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS | constants.O_RDONLY);
  } catch (error) {
    throw openError(error, path);
  }
  try {
    const info = fstatSync(fd);
    checkOpened(entry, info);
    if (info.size > maxBytes) {
      throw new UntrustedFileError(`it holds ${info.size} bytes, more than ${maxBytes}`);
    }
    // To the end of the file, as readFile reads, should it have grown. A read
    // of a regular file that stops short is at its end, so the size `fstat`
    // gave usually takes one read (a spare byte shows whether it grew).
    let bytes = new Uint8Array(info.size + 1);
    let length = 0;
    for (;;) {
      if (length === bytes.length) {
        if (length > maxBytes) {
          throw new UntrustedFileError(`it holds more than ${maxBytes} bytes`);
        }
        const grown = new Uint8Array(bytes.length * 2);
        grown.set(bytes);
        bytes = grown;
      }
      const read = readSync(fd, bytes, length, bytes.length - length, null);
      length += read;
      if (read === 0 || (length >= info.size && length < bytes.length)) {
        return bytes.subarray(0, length);
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Whether two byte arrays are equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

/**
 * Writes `bytes` to `path` so that the file appears whole or not at all: into
 * a temporary file beside it (created exclusively, never through a symlink),
 * synced when `durable`, then renamed over `path`. A temporary file left by a
 * killed writer is replaced on the next write of the same path.
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
  durable: boolean,
): Promise<void> {
  const temp = join(dirname(path), tempName(path.slice(dirname(path).length + 1)));
  await Deno.remove(temp).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o644 });
  try {
    try {
      await writeAll(file, bytes);
      if (durable) await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } catch (error) {
    // Disk full, a directory at `path`: leave no temporary file behind.
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/**
 * A directory of an artifact's path was swapped for a symbolic link (or the
 * like) while the artifact was being written. The message says what was seen
 * and what was undone, without the path.
 */
export class PathSwappedError extends Error {
  override name = "PathSwappedError";
}

/**
 * {@linkcode writeFileAtomic} for an artifact at `relPath` (POSIX, checked)
 * under the root `io` (as given) whose real path is `realRoot`, closing the
 * window in which a directory of the path could be swapped for a symbolic
 * link as far as Deno allows (it has no `openat`/`renameat`):
 *
 * - the temporary file is made in the root itself, never through a
 *   directory of the path, so it cannot be created outside;
 * - every directory of the path is `lstat`ed right before the rename and must
 *   be a directory, not a link;
 * - right after the rename, the target must be the file written (same inode)
 *   and its directory's real path the expected one.
 *
 * On any surprise the file is removed from wherever it was found to have
 * landed and {@linkcode PathSwappedError} is thrown.
 */
export async function placeFileAtomic(
  io: string,
  realRoot: string,
  relPath: string,
  bytes: Uint8Array,
  durable: boolean,
): Promise<void> {
  const segments = relPath.split("/");
  const name = segments.pop() as string;
  const dir = join(io, ...segments);
  const temp = join(io, rootTempName(relPath));
  await Deno.remove(temp).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o644 });
  let ino: number | null;
  try {
    try {
      // The temporary file sits in the root, which no swap below it can move.
      // (Not `file.stat()`: under scoped permissions Deno checks that against
      // the resolved path, which a link-to-root grant does not cover.)
      ino = Deno.lstatSync(temp).ino;
      await writeAll(file, bytes);
      if (durable) await file.syncData();
    } finally {
      file.close();
    }
    // Check, rename and check again in one synchronous stretch: nothing else
    // runs in between, and the window for a swap is a few system calls wide.
    checkDirectories(io, segments);
    Deno.renameSync(temp, join(dir, name));
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
  checkLanded(dir, join(realRoot, ...segments), name, ino);
}

/**
 * The name, in the root, of the temporary file of the artifact at `relPath`:
 * hidden, ending in `.tmp`, and the same for the same path, so that a write
 * replaces what a killed writer of that path left.
 */
function rootTempName(relPath: string): string {
  // FNV-1a, 64 bits as two 32-bit halves: short, stable, no Web Crypto round trip.
  let high = 0xcbf29ce4, low = 0x84222325;
  for (let i = 0; i < relPath.length; i++) {
    low ^= relPath.charCodeAt(i);
    const lowProduct = Math.imul(low, 0x1b3) >>> 0;
    const carry = Math.floor((low * 0x1b3) / 0x100000000);
    high = (Math.imul(high, 0x1b3) + Math.imul(low, 0x100) + carry) >>> 0;
    low = lowProduct;
  }
  return `.ers-${high.toString(16).padStart(8, "0")}${low.toString(16).padStart(8, "0")}.tmp`;
}

// The checks around the rename, and the rename, are synchronous: a metadata
// lookup takes microseconds, an async one a thread-pool round trip, and
// nothing else runs between the checks and the rename.

// Throws unless every directory of the path, below the root, is a directory
// and not a link right now.
function checkDirectories(io: string, segments: readonly string[]): void {
  let path = io;
  for (const segment of segments) {
    path = join(path, segment);
    const info = Deno.lstatSync(path);
    if (!info.isDirectory) {
      throw new PathSwappedError(
        `${segment} became ${
          info.isSymlink ? "a symbolic link" : "something other than a directory"
        } before the rename`,
      );
    }
  }
}

// Right after the rename: the file at the target must be the one written, in
// the expected directory. Otherwise remove it from where it landed.
function checkLanded(dir: string, realDir: string, name: string, ino: number | null): void {
  const here = attempt(() => Deno.lstatSync(join(dir, name)));
  const dirNow = attempt(() => Deno.realPathSync(dir));
  if (here?.ino === ino && dirNow === realDir) return;
  if (dirNow !== undefined) removeIfOurs(join(dirNow, name), ino);
  throw new PathSwappedError(
    "a directory of its path was swapped for a symbolic link during the rename; the file was removed",
  );
}

function removeIfOurs(path: string, ino: number | null): void {
  const info = attempt(() => Deno.lstatSync(path));
  if (info !== undefined && info.isFile && info.ino === ino) attempt(() => Deno.removeSync(path));
}

function attempt<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    return undefined;
  }
}

/**
 * Writes `bytes` at `offset` of an existing regular file with one link
 * (see {@linkcode openRegularFile}; looping only if the kernel writes less),
 * and syncs when `durable`.
 */
export async function writeAt(
  path: string,
  offset: number,
  bytes: Uint8Array,
  durable: boolean,
): Promise<void> {
  const { handle } = await openRegularFile(path, true);
  try {
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await handle.write(
        bytes,
        written,
        bytes.length - written,
        offset + written,
      );
      written += bytesWritten;
    }
    if (durable) await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** Flushes a directory's entries (such as a rename into it) to the disk. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.syncData();
  } finally {
    handle.close();
  }
}

/** Whether `path` is `root` or inside it (both real, absolute paths). */
export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}
