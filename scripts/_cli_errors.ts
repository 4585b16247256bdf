// Run-time errors of the `ers` command line and the one line each becomes.

/**
 * An expected failure the CLI reports in one line and exits 1 for: a missing
 * permission, a pipeline file that cannot be loaded, and the like.
 *
 * @example One line, exit 1
 * ```ts
 * import { CliError, errorLine } from "./_cli_errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new CliError("Cannot load pipeline p.ts: it has no default export");
 * assert.equal(error.name, "CliError");
 * assert.equal(errorLine(error), "Cannot load pipeline p.ts: it has no default export");
 * ```
 */
export class CliError extends Error {
  /** Always `"CliError"`. */
  override name = "CliError";
}

// Errors whose message is meant for the user as it is; any other error is
// shown with its name, since it is unexpected.
const USER_FACING = new Set([
  "CliError",
  "UsageError",
  "NotFound",
  "ArtifactPermissionError",
  "ArtifactIoError",
  "DriftError",
  "ManifestError",
  "RunReadError",
  "DamagedRunError",
  "SealError",
]);

// deno-lint-ignore no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * The one line printed for an error: its message's first line, without
 * terminal escapes or control characters, and prefixed with the error's name
 * when the error is unexpected. Never a stack trace.
 *
 * @param error What was thrown.
 * @returns One line of text.
 *
 * @example An unexpected error keeps its name
 * ```ts
 * import { errorLine } from "./_cli_errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(errorLine(new TypeError("bad\n    at x.ts:1:1")), "TypeError: bad");
 * assert.equal(errorLine(new Deno.errors.NotFound("No manifest for run R in out")), "No manifest for run R in out");
 * assert.equal(errorLine("\u001b[31mred\u001b[0m"), "red");
 * ```
 */
export function errorLine(error: unknown): string {
  const first = messageLine(error);
  if (!(error instanceof Error) || USER_FACING.has(error.name)) return first;
  return `${error.name}: ${first}`;
}

/**
 * The first line of an error's message, without terminal escapes or control
 * characters, and without the error's name.
 *
 * @param error What was thrown.
 * @returns One line of text.
 *
 * @example A validation message as it is
 * ```ts
 * import { messageLine } from "./_cli_errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(messageLine(new RangeError("Cannot bind task as 'costOps' must be ...")), "Cannot bind task as 'costOps' must be ...");
 * ```
 */
export function messageLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.replace(ANSI, "").split("\n")[0] ?? "").replace(CONTROL, "?").trim();
}
