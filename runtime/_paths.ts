// Path rules that keep every write inside the artifacts root.

import { rangeError, typeError } from "../ers/_validate.ts";

/** Longest run id accepted. */
export const MAX_RUN_ID_LENGTH = 128;
/** Longest run mode accepted (UTF-16 units), recorded in provenance. */
export const MAX_MODE_LENGTH = 128;
/** Longest relative artifact path accepted. */
export const MAX_REL_PATH_LENGTH = 1024;
/** Longest name (path segment) accepted, in UTF-8 bytes: 255, what common file systems allow, less room for the temporary `.<name>.tmp`. */
export const MAX_NAME_BYTES = 250;

/** A run id's pattern and the rule it states, shared with the command line. */
export const RUN_ID_PATTERN: { readonly regexp: RegExp; readonly rule: string } = Object.freeze({
  regexp: new RegExp(`^(?!\\.\\.?$)[A-Za-z0-9._-]{1,${MAX_RUN_ID_LENGTH}}$`),
  rule: `1 to ${MAX_RUN_ID_LENGTH} letters, digits, '.', '_' or '-', and not '.' or '..'`,
});

/** A run id: 1 to 128 letters, digits, `.`, `_`, `-`; never `.` or `..`. */
export function checkRunId(action: string, runId: unknown): string {
  const { regexp, rule } = RUN_ID_PATTERN;
  if (typeof runId !== "string") typeError(action, "runId", rule, runId);
  if (!regexp.test(runId)) rangeError(action, "runId", rule, runId);
  return runId;
}

/**
 * A POSIX path relative to the artifacts root that cannot leave it: no
 * leading `/`, no backslash, no drive, no empty, `.` or `..` segment, no
 * control characters.
 */
export function checkRelPath(action: string, relPath: unknown): string {
  const rule =
    `a relative POSIX path inside the artifacts directory, each name at most ${MAX_NAME_BYTES} bytes`;
  if (typeof relPath !== "string") typeError(action, "relPath", rule, relPath);
  if (!isSafeRelPath(relPath)) rangeError(action, "relPath", rule, relPath);
  return relPath;
}

/** Whether `path` is a relative POSIX path that stays inside the root (see {@linkcode checkRelPath}). */
export function isSafeRelPath(path: string): boolean {
  return path.length > 0 && path.length <= MAX_REL_PATH_LENGTH && path.isWellFormed() &&
    // deno-lint-ignore no-control-regex
    !/[\\\u0000-\u001f\u007f]/.test(path) && !/^[A-Za-z]:/.test(path) &&
    !EMPTY_OR_DOT_SEGMENT.test(path) &&
    // Only a name of more than MAX_NAME_BYTES / 3 units can pass MAX_NAME_BYTES bytes.
    (path.length <= MAX_NAME_BYTES / 3 ||
      !path.split("/").some((segment) =>
        segment.length > MAX_NAME_BYTES / 3 && utf8.encode(segment).length > MAX_NAME_BYTES
      ));
}

// An empty, `.` or `..` segment: one pattern test instead of a split.
const EMPTY_OR_DOT_SEGMENT = /(?:^|\/)\.{0,2}(?:\/|$)/;

const utf8 = new TextEncoder();

/** The name of the temporary file written beside `name` before it is renamed into place. */
export function tempName(name: string): string {
  return `.${name}.tmp`;
}

/** The seal chain of a run, relative to the artifacts root. */
export function sealRelPath(runId: string): string {
  return `manifests/${runId}.seal.json`;
}
