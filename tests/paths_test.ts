import assert from "node:assert/strict";
import { isSafeRelPath, MAX_NAME_BYTES, MAX_REL_PATH_LENGTH } from "../runtime/_paths.ts";

// The rule as stated, name by name.
function segmentRule(path: string): boolean {
  return path.length > 0 && path.length <= MAX_REL_PATH_LENGTH && path.isWellFormed() &&
    // deno-lint-ignore no-control-regex
    !/[\\\u0000-\u001f\u007f]/.test(path) && !/^[A-Za-z]:/.test(path) &&
    !path.split("/").some((segment) =>
      segment === "" || segment === "." || segment === ".." ||
      new TextEncoder().encode(segment).length > MAX_NAME_BYTES
    );
}

const PIECES = [
  "a",
  "b.json",
  ".",
  "..",
  "...",
  "/",
  "//",
  "\\",
  ":",
  "C:",
  " ",
  "é",
  "😀",
  "\ud800",
  "\u0000",
  "\u007f",
  "x".repeat(83),
  "x".repeat(84),
  "é".repeat(125),
  "é".repeat(126),
  "😀".repeat(62),
  "😀".repeat(63),
  "y".repeat(600),
];

Deno.test("isSafeRelPath() agrees with the name-by-name rule on generated paths", () => {
  // A fixed-seed linear congruential generator: the same paths on every run.
  let state = 5;
  const rand = (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 2 ** 32) * n);
  };
  const outcomes = { safe: 0, unsafe: 0 };
  for (let i = 0; i < 4000; i++) {
    const path = Array.from({ length: 1 + rand(6) }, () => PIECES[rand(PIECES.length)]).join("");
    const expected = segmentRule(path);
    assert.equal(isSafeRelPath(path), expected, JSON.stringify(path));
    outcomes[expected ? "safe" : "unsafe"]++;
  }
  assert.ok(outcomes.safe > 500 && outcomes.unsafe > 500, JSON.stringify(outcomes));
});
