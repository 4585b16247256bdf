// The operating system's errors, in words: what a failed write is reported
// with instead of `No space left on device (os error 28): write '/abs/path'`.

// errno (Linux numbering, which macOS shares for these) -> what it means here.
const PROBLEMS: ReadonlyMap<number, string> = new Map([
  [1, "the operating system does not permit it"],
  [5, "an input/output error occurred"],
  [13, "the operating system denied access"],
  [20, "a component of its path is not a directory"],
  [21, "it is a directory"],
  [24, "too many files are open"],
  [27, "the file would be too large"],
  [28, "no space left on the device"],
  [30, "the file system is read-only"],
  [31, "too many links"],
  [36, "a name in its path is too long for the file system"],
  [63, "a name in its path is too long for the file system"], // macOS ENAMETOOLONG
  [122, "the disk quota is exhausted"],
]);

/**
 * What went wrong, in a few words without the path, when `error` is an
 * operating system error (Deno's `(os error N)` or Node's `errno`); otherwise
 * `undefined`.
 */
export function osProblem(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const errno = osErrno(error);
  if (errno === undefined) return undefined;
  const known = PROBLEMS.get(errno);
  if (known !== undefined) return known;
  // Unknown: the system's own words, such as "Device or resource busy".
  const words = (error.message.split("\n")[0] ?? "").replace(/ \(os error \d+\).*$/, "");
  return words.length > 0 ? words[0]!.toLowerCase() + words.slice(1) : `os error ${errno}`;
}

function osErrno(error: Error): number | undefined {
  const deno = /\(os error (\d+)\)/.exec(error.message);
  if (deno) return Number(deno[1]);
  const node = (error as { errno?: unknown }).errno;
  return typeof node === "number" ? Math.abs(node) : undefined;
}
