// A progress line on stderr for long commands: a bar, the count, the rate and
// the time left. Display only: the wall clock it reads never reaches an
// artifact, and callers draw it only on a terminal (never with --json or
// when stderr is piped).

/** A progress line: `update` redraws it, `clear` erases it. */
export interface ProgressLine {
  /** Redraws the line for `done` of the total (about a hundred times per run at most). */
  update(done: number): void;
  /** Erases the line. */
  clear(): void;
}

/**
 * A progress line for `total` units of work, such as ticks, written to stderr.
 *
 * @param total How many units the work has.
 * @param unit Their name, plural, such as `ticks`.
 * @returns The line.
 *
 * @example Drawn only on a terminal
 * ```ts
 * import { progressLine } from "./_cli_progress.ts";
 * import assert from "node:assert/strict";
 *
 * const line = Deno.stderr.isTerminal() ? progressLine(10, "ticks") : undefined;
 * line?.update(5);
 * line?.clear();
 * assert.equal(typeof progressLine, "function");
 * ```
 */
export function progressLine(total: number, unit: string): ProgressLine {
  const encoder = new TextEncoder();
  const write = (text: string) => Deno.stderr.writeSync(encoder.encode(text));
  const started = performance.now();
  const step = Math.max(1, Math.floor(total / 100));
  return {
    update(done: number) {
      if (done % step !== 0 && done !== total) return;
      write(`\r${progressText(done, total, unit, performance.now() - started)}\u001b[K`);
    },
    clear() {
      write("\r\u001b[2K");
    },
  };
}

/**
 * The text of a progress line: bar, count, rate and time left.
 *
 * @param done Units done.
 * @param total Units in all.
 * @param unit Their name, plural.
 * @param elapsedMs Milliseconds since the work began.
 * @returns One line.
 *
 * @example A quarter done in one second
 * ```ts
 * import { progressText } from "./_cli_progress.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   progressText(1000, 4000, "ticks", 1000),
 *   "[#######.......................] 1000/4000 ticks  1000 ticks/s  ETA 0:03",
 * );
 * ```
 */
export function progressText(done: number, total: number, unit: string, elapsedMs: number): string {
  const width = 30;
  const filled = Math.floor((done * width) / total);
  const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} ${unit}`;
  if (done === 0 || elapsedMs <= 0) return bar;
  const rate = (done * 1000) / elapsedMs;
  const left = Math.ceil((total - done) / rate);
  const eta = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  return `${bar}  ${rate >= 10 ? Math.round(rate) : rate.toFixed(1)} ${unit}/s  ETA ${eta}`;
}
