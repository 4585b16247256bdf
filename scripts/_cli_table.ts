// Plain-text tables for people: padded columns, numbers right-aligned, and
// no control characters from the data reaching the terminal.

/** A column of a table. */
export interface Column {
  /** The header. */
  header: string;
  /** Right-align the column (numbers). */
  right?: boolean;
}

// C0 and C1 controls, and the bidirectional formatting characters, which
// reorder what a terminal shows (a name could pass for another).
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * A cell as text: control characters (which could drive the terminal) and
 * bidirectional formatting characters are shown as `\uXXXX` escapes.
 *
 * @param value A string or number.
 * @returns Printable text.
 *
 * @example An escape sequence in a task name is defused
 * ```ts
 * import { cell } from "./_cli_table.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(cell("a\u001bb"), "a\\u001bb");
 * assert.equal(cell(42), "42");
 * ```
 */
export function cell(value: string | number): string {
  return String(value).replace(
    CONTROL,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * Renders rows under headers, two spaces between columns, no trailing
 * spaces. Widths count code points.
 *
 * @param columns The headers and alignment.
 * @param rows One array of cells per row, as many as there are columns.
 * @returns The lines: the header, then one per row.
 *
 * @example Numbers line up on the right
 * ```ts
 * import { renderTable } from "./_cli_table.ts";
 * import assert from "node:assert/strict";
 *
 * const lines = renderTable([{ header: "task" }, { header: "ops", right: true }], [["a", 5], ["long", 12]]);
 * assert.deepEqual(lines, ["task  ops", "a       5", "long   12"]);
 * ```
 */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly (string | number)[])[],
): string[] {
  const text = rows.map((row) => columns.map((_, i) => cell(row[i] ?? "")));
  const widths = columns.map((column, i) =>
    text.reduce((widest, row) => Math.max(widest, length(row[i] as string)), length(column.header))
  );
  const line = (cells: readonly string[]) =>
    cells.map((value, i) => pad(value, widths[i] as number, columns[i]?.right === true))
      .join("  ").trimEnd();
  return [line(columns.map((column) => column.header)), ...text.map(line)];
}

function length(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function pad(text: string, width: number, right: boolean): string {
  const fill = " ".repeat(Math.max(0, width - length(text)));
  return right ? fill + text : text + fill;
}

/**
 * A count and its noun, plural unless the count is one.
 *
 * @param n The count.
 * @param noun The noun, singular.
 * @returns Such as `1 tick` or `24 ticks`.
 *
 * @example Counts read naturally
 * ```ts
 * import { plural } from "./_cli_table.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(plural(1, "tick"), "1 tick");
 * assert.equal(plural(0, "error"), "0 errors");
 * ```
 */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
