// Unicode code point order for strings, the order Python uses for `str`.
//
// JavaScript's `<` and the default `Array.prototype.sort` compare UTF-16 code
// units. The two orders differ only when the first differing unit is a
// surrogate on one side and a unit in U+E000..U+FFFF on the other: the
// surrogate encodes a code point above U+FFFF and so must sort last.

/**
 * Compares two strings by Unicode code point; returns a negative number, zero
 * or a positive number like a sort comparator.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const length = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) return codePointRank(x) - codePointRank(y);
    return x - y;
  }
  return a.length - b.length;
}

// Maps U+E000..U+FFFF below the surrogates so that surrogate units (astral
// code points) rank above every BMP unit.
function codePointRank(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

// Units at or above U+D800: the only ones whose UTF-16 order can differ from
// code point order. No `u` flag: the class matches single code units.
const HIGH_UNITS = /[\uD800-\uFFFF]/;
const HIGH_UNITS_ALL = /[\uD800-\uFFFF]/g;

/**
 * A string whose UTF-16 order (`<`, `>`, the default sort) is the code point
 * order of `value`: `value` itself when it holds no unit at or above U+D800,
 * else `value` with those units remapped as {@linkcode compareCodePoints}
 * ranks them (same length, so prefixes still sort first). For sort keys only:
 * the result may hold lone surrogates.
 */
export function codePointSortKey(value: string): string {
  if (!HIGH_UNITS.test(value)) return value;
  return value.replace(
    HIGH_UNITS_ALL,
    (unit) => String.fromCharCode(codePointRank(unit.charCodeAt(0))),
  );
}

// `String.prototype.isWellFormed` (ES2024) where the engine has it; else a
// Unicode-mode pattern, in which a lone surrogate is a code point of category
// Cs and a surrogate pair is one astral code point.
const HAS_IS_WELL_FORMED = typeof String.prototype.isWellFormed === "function";
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Whether `value` holds no lone surrogate, so that it encodes to UTF-8 as it
 * is. Same answer as `value.isWellFormed()`, on engines without it too.
 */
export function isWellFormed(value: string): boolean {
  return HAS_IS_WELL_FORMED ? value.isWellFormed() : !LONE_SURROGATE.test(value);
}
