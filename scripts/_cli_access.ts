// Permissions of the `ers` command line: each command asks Deno for exactly
// what it needs, all of it before it starts. In a terminal Deno prompts; when
// nobody can answer, every refused request is named in one message, with the
// whole command line to copy that grants them up front.

import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { CliError } from "./_cli_errors.ts";

/** One thing a command needs Deno to grant. */
export interface AccessNeed {
  /** `"read"` or `"write"`. */
  access: "read" | "write";
  /** The path, as the user gave it. */
  path: string;
  /** What it is, for the message, such as `artifacts directory`. */
  what: string;
}

/**
 * Asks Deno for everything a command needs (prompting in a terminal, one
 * request at a time); when any is refused, throws one error naming every
 * refused one, with the `deno run` line and the `deno task` form that grant
 * them all up front.
 *
 * @param needs What the command needs, in the order to ask.
 * @throws {CliError} Naming each refused access; `detail` holds the lines to copy.
 *
 * @example Granted access passes
 * ```ts
 * import { requireAccess } from "./_cli_access.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   await requireAccess([{ access: "read", path: dir, what: "artifacts directory" }]);
 *   assert.equal((await Deno.permissions.query({ name: "read", path: dir })).state, "granted");
 * } finally {
 *   await Deno.remove(dir);
 * }
 * ```
 */
export async function requireAccess(needs: readonly AccessNeed[]): Promise<void> {
  const refused: AccessNeed[] = [];
  for (const need of needs) {
    const status = await Deno.permissions.request({ name: need.access, path: need.path });
    if (status.state !== "granted") refused.push(need);
  }
  if (refused.length === 0) return;
  const byPath = new Map<string, AccessNeed[]>();
  for (const need of refused) byPath.set(need.path, [...(byPath.get(need.path) ?? []), need]);
  const named = [...byPath].map(([path, needs]) =>
    `${needs.map((n) => n.access).join(" and ")} access to the ${needs[0]?.what} ${path}`
  );
  const flags = grantFlags(refused);
  const args = Deno.args.map(shellQuote).join(" ");
  throw new CliError(
    `Deno has not granted ${named.join(", nor ")}; grant ${
      refused.length > 1 ? "them" : "it"
    } up front:`,
    [
      `  deno run ${flags.join(" ")} ${shellQuote(scriptPath())} ${args}`,
      `  ERS_DENO_FLAGS='${flags.join(" ").replaceAll("'", "'\\''")}' deno task ers ${args}`,
    ],
  );
}

/**
 * The `--allow-read=…` and `--allow-write=…` flags that grant `needs`, one
 * flag per kind of access, paths joined with commas.
 *
 * @param needs What to grant.
 * @returns The flags, read first.
 *
 * @example Read and write of one directory, read of a file
 * ```ts
 * import { grantFlags } from "./_cli_access.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(grantFlags([
 *   { access: "write", path: "./out", what: "" },
 *   { access: "read", path: "./out", what: "" },
 *   { access: "read", path: "p.ts", what: "" },
 * ]), ["--allow-read=./out,p.ts", "--allow-write=./out"]);
 * ```
 */
export function grantFlags(needs: readonly AccessNeed[]): string[] {
  return (["read", "write"] as const).flatMap((access) => {
    const paths = [...new Set(needs.filter((n) => n.access === access).map((n) => n.path))];
    return paths.length === 0 ? [] : [`--allow-${access}=${paths.join(",")}`];
  });
}

// The CLI's entry module, relative to the working directory when it lies below it.
function scriptPath(): string {
  const path = fileURLToPath(Deno.mainModule);
  const rel = relative(Deno.cwd(), path);
  return rel.startsWith("..") ? path : rel;
}

/**
 * An argument as a POSIX shell reads it back: as it is when it holds only
 * safe characters, else in single quotes.
 *
 * @param arg The argument.
 * @returns It, quoted when needed.
 *
 * @example Quotes only what needs it
 * ```ts
 * import { shellQuote } from "./_cli_access.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(shellQuote("./out"), "./out");
 * assert.equal(shellQuote("a b"), "'a b'");
 * assert.equal(shellQuote("it's"), "'it'\\''s'");
 * ```
 */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_\-.\/:=,@%+]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/**
 * Asks Deno for `access` to an artifacts directory; see {@linkcode requireAccess}.
 *
 * @param access `"read"` or `"write"`.
 * @param dir The directory, as the user gave it.
 * @throws {CliError} Naming the flag and the line to copy.
 *
 * @example Granted access passes
 * ```ts
 * import { requestDirAccess } from "./_cli_access.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   await requestDirAccess("read", dir); // the doc tests run with --allow-read
 *   assert.equal((await Deno.permissions.query({ name: "read", path: dir })).state, "granted");
 * } finally {
 *   await Deno.remove(dir);
 * }
 * ```
 */
export async function requestDirAccess(access: "read" | "write", dir: string): Promise<void> {
  await requireAccess([{ access, path: dir, what: "artifacts directory" }]);
}

/**
 * Asks Deno for read access to one file; see {@linkcode requireAccess}.
 *
 * @param file The file, as the user gave it.
 * @param what What the file is, for the message, such as `pipeline file`.
 * @throws {CliError} Naming the flag and the line to copy.
 *
 * @example Granted access passes
 * ```ts
 * import { requestFileRead } from "./_cli_access.ts";
 * import assert from "node:assert/strict";
 *
 * const file = await Deno.makeTempFile();
 * try {
 *   await requestFileRead(file, "pipeline file");
 *   assert.equal((await Deno.permissions.query({ name: "read", path: file })).state, "granted");
 * } finally {
 *   await Deno.remove(file);
 * }
 * ```
 */
export async function requestFileRead(file: string, what: string): Promise<void> {
  await requireAccess([{ access: "read", path: file, what }]);
}
