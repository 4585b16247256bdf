// Permissions of the `ers` command line: each command asks Deno for exactly
// what it needs, right before it needs it. In a terminal Deno prompts; when
// nobody can answer, the request is denied and the error names the flag.

import { ArtifactPermissionError } from "../runtime/mod.ts";
import { CliError } from "./_cli_errors.ts";

/**
 * Asks Deno for `access` to an artifacts directory (prompting in a
 * terminal); throws unless it is granted.
 *
 * @param access `"read"` or `"write"`.
 * @param dir The directory, as the user gave it.
 * @throws {ArtifactPermissionError} Naming the flag, such as `--allow-write=./out`.
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
  const status = await Deno.permissions.request({ name: access, path: dir });
  if (status.state !== "granted") throw new ArtifactPermissionError(access, dir);
}

/**
 * Asks Deno for read access to one file (prompting in a terminal); throws
 * unless it is granted.
 *
 * @param file The file, as the user gave it.
 * @param what What the file is, for the message, such as `pipeline file`.
 * @throws {CliError} Naming the flag, such as `--allow-read=./pipeline.ts`.
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
  const status = await Deno.permissions.request({ name: "read", path: file });
  if (status.state !== "granted") {
    throw new CliError(
      `Deno has not granted read access to the ${what} ${file}: run again with --allow-read=${file}`,
    );
  }
}
