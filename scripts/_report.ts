// Human-readable reports of an invariance verdict, shared by the invariance
// script and the `ers invariance` command.

import type { InvarianceResult } from "../ers/mod.ts";

/** The lines printed for a verdict: PASS and the hash, or FAIL and the drift. */
export function invarianceReport(result: InvarianceResult): string[] {
  if (result.ok) return ["ERS INVARIANCE: PASS", `hash: ${result.expected_hash}`];
  const run = result.first_mismatch_index;
  const lines = [
    "ERS INVARIANCE: FAIL",
    `expected: ${result.expected_hash}`,
    `run ${run} hashed: ${run === null ? "?" : result.hashes[run]}`,
    `first mismatch run: ${run}`,
  ];
  const divergence = result.divergence;
  if (divergence) {
    lines.push(`event index: ${divergence.event_index}`);
    lines.push(...sideBySide(divergence.diff.a, divergence.diff.b, "run 0", `run ${run}`));
  }
  return lines;
}

/** Two events field by field, with `!` marking the fields that differ. */
export function sideBySide(a: unknown, b: unknown, left: string, right: string): string[] {
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
  const rows = keys.map((
    key,
  ) => [key, JSON.stringify(x[key]) ?? "-", JSON.stringify(y[key]) ?? "-"]);
  const width0 = Math.max(5, ...rows.map((r) => r[0]!.length));
  const width1 = Math.max(left.length, ...rows.map((r) => r[1]!.length));
  const line = (mark: string, k: string, l: string, r: string) =>
    `${mark} ${k.padEnd(width0)}  ${l.padEnd(width1)}  ${r}`;
  return [
    line(" ", "field", left, right),
    ...rows.map(([k, l, r]) => line(l === r ? " " : "!", k!, l!, r!)),
  ];
}
