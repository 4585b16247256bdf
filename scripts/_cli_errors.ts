// Run-time errors of the `ers` command line and the one line each becomes.

import {
  ArtifactIoError,
  ArtifactPermissionError,
  DamagedRunError,
  DriftError,
  ManifestError,
  RunIdentityError,
  RunReadError,
  SealError,
} from "../runtime/mod.ts";
import { UsageError } from "./_cli_args.ts";

/**
 * An expected failure the CLI reports and exits 1 for: a missing
 * permission, a pipeline file that cannot be loaded, and the like. Its
 * message is one line; `detail` holds lines printed under it (a code frame,
 * a command line to copy).
 *
 * @example One line, exit 1
 * ```ts
 * import { CliError, errorLine } from "./_cli_errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new CliError("Cannot load pipeline p.ts: it has no default export");
 * assert.equal(error.name, "CliError");
 * assert.equal(errorLine(error), "Cannot load pipeline p.ts: it has no default export");
 * assert.deepEqual(new CliError("x", ["  deno run ..."]).detail, ["  deno run ..."]);
 * ```
 */
export class CliError extends Error {
  /** Always `"CliError"`. */
  override name = "CliError";
  /** Lines printed under the message, as they are (control characters escaped). */
  readonly detail: readonly string[];

  /**
   * Creates the error.
   *
   * @param message What went wrong, in one line.
   * @param detail Lines printed under it.
   */
  constructor(message: string, detail: readonly string[] = []) {
    super(message);
    this.detail = detail;
  }
}

// Errors whose message is meant for the user as it is; any other error is
// shown with its name, since it is unexpected.
const USER_FACING: readonly (abstract new (...args: never[]) => Error)[] = [
  CliError,
  UsageError,
  Deno.errors.NotFound,
  ArtifactPermissionError,
  ArtifactIoError,
  DriftError,
  ManifestError,
  RunReadError,
  DamagedRunError,
  SealError,
  RunIdentityError,
];

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
  if (!(error instanceof Error) || USER_FACING.some((type) => error instanceof type)) return first;
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

/**
 * The lines printed under an error's line: a {@linkcode CliError}'s
 * `detail`, without terminal escapes, control characters turned to `?`.
 *
 * @param error What was thrown.
 * @returns The lines; none for other errors.
 *
 * @example A code frame survives, an escape does not
 * ```ts
 * import { CliError, detailLines } from "./_cli_errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new CliError("bad", ["3 | x ]", "  |   ~ \u001b[2J"]);
 * assert.deepEqual(detailLines(error), ["3 | x ]", "  |   ~"]);
 * assert.deepEqual(detailLines(new Error("x")), []);
 * ```
 */
export function detailLines(error: unknown): string[] {
  if (!(error instanceof CliError)) return [];
  return error.detail.map((line) => line.replace(ANSI, "").replace(CONTROL, "?").trimEnd());
}
