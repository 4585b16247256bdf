/**
 * Canonical JSON bytes: the byte contract shared with the reference Python
 * implementation.
 *
 * @module
 */

import { canonicalJsonString } from "./_canonical.ts";

const encoder = new TextEncoder();

/**
 * Returns the UTF-8 bytes that Python's
 * `json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`
 * produces for the same value.
 *
 * - Object keys are sorted by Unicode code point, with no whitespace.
 * - Strings are escaped as `JSON.stringify` escapes them; everything else,
 *   U+2028, U+2029 and DEL included, is written raw.
 * - Integers print in decimal (`-0` as `0`); other numbers in Python's float
 *   repr: shortest round-trip digits, plain from 1e-4 up, exponent form with a
 *   sign and at least two digits below (`1e-05`).
 * - Properties whose value is `undefined` are left out; `undefined` array
 *   items become `null`, as `JSON.stringify` does.
 *
 * @param value A JSON-shaped value: `null`, booleans, finite numbers, strings,
 * arrays and plain objects.
 * @returns The canonical bytes.
 * @throws {RangeError} For NaN, ±Infinity, integers beyond ±2^53, strings with
 * lone surrogates, or nesting deeper than 512 levels. The message names the
 * path of the offending value, such as `$.meta.score`.
 * @throws {TypeError} For cycles, functions, symbols, bigints, `undefined` at
 * the top level, and objects that are not plain (Date, Map, class instances).
 *
 * @example Keys sorted by code point, Python float repr
 * ```ts
 * import { canonicalJsonBytes } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const bytes = canonicalJsonBytes({ b: 1e-5, a: [true, null, "é"] });
 * assert.equal(new TextDecoder().decode(bytes), '{"a":[true,null,"é"],"b":1e-05}');
 * ```
 */
export function canonicalJsonBytes(value: unknown): Uint8Array<ArrayBuffer> {
  return encoder.encode(canonicalJsonString(value));
}
