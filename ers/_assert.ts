// Internal invariants. A failure here is a bug in ERS, never bad user input:
// user input is checked in `_validate.ts` and reported as TypeError/RangeError.

/** Raised when an ERS internal invariant does not hold. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** Throws an {@linkcode AssertionError} when `condition` is false. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(`ERS invariant violated: ${message}`);
}
