// `ers report` and `ers export`: a run as one HTML page, or as Chrome Trace
// Event JSON for Perfetto.

import { dirname } from "node:path";
import { type RunViewWritten, writeRunChromeTrace, writeRunReport } from "../runtime/mod.ts";
import {
  type Command,
  type FlagSpec,
  type ParsedArgs,
  RUN_ID_PATTERN,
  UsageError,
} from "./_cli_args.ts";
import { requestDirAccess } from "./_cli_access.ts";
import { cell, plural } from "./_cli_table.ts";

const RANGE_FLAGS: Readonly<Record<string, FlagSpec>> = {
  run: { kind: "string", value: "ID", help: "The run", required: true, pattern: RUN_ID_PATTERN },
  from: {
    kind: "integer",
    value: "T",
    help: "First tick shown (default: the run's first)",
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
  },
  to: {
    kind: "integer",
    value: "T",
    help: "Last tick shown (default: the run's last)",
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
  },
};

const PERMISSIONS =
  "read DIR; write the directory of FILE (FILE is written beside and renamed in).";

/**
 * The `report` command: one self-contained HTML page of a run.
 *
 * @example The run and the output file are required
 * ```ts
 * import { reportCommand } from "./_cli_report.ts";
 * import { parseArgs } from "./_cli_args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseArgs(reportCommand.spec, ["out", "--run", "R"]), /missing --out FILE/);
 * ```
 */
export const reportCommand: Command = {
  spec: {
    name: "report",
    summary: "Write a run as one self-contained HTML page",
    usage: "report DIR --run ID --out FILE.html [--from T] [--to T]",
    description: [
      "Verifies the run (a damaged run is refused), reads its TrendPacks through the",
      "checked reader and writes one HTML page with no script and no network: the",
      "verdict, the lane timeline, the budget heat map, error clusters, cost per task",
      "and the stats. More than 1,000 ticks are binned. Same run, same bytes.",
    ],
    positionals: [{ name: "DIR", help: "The artifacts directory" }],
    flags: {
      ...RANGE_FLAGS,
      out: { kind: "string", value: "FILE", help: "The HTML file to write", required: true },
    },
    permissions: PERMISSIONS,
  },
  main: (args) => write(args, "report", writeRunReport),
};

/**
 * The `export` command: a run as Chrome Trace Event JSON.
 *
 * @example The only format is chrome-trace
 * ```ts
 * import { exportCommand } from "./_cli_report.ts";
 * import { parseArgs } from "./_cli_args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => parseArgs(exportCommand.spec, ["out", "--run", "R", "--format", "csv", "--out", "t.json"]),
 *   /'--format' must be one of chrome-trace/,
 * );
 * ```
 */
export const exportCommand: Command = {
  spec: {
    name: "export",
    summary: "Export a run as Chrome Trace Event JSON (Perfetto)",
    usage: "export DIR --run ID --format chrome-trace --out FILE.json [--from T] [--to T]",
    description: [
      "Verifies the run (a damaged run is refused) and writes it as Trace Event JSON",
      "that opens in ui.perfetto.dev and chrome://tracing: one track per lane, a slice",
      "per executed task, an instant per skipped one, a counter per lane's spend. Time",
      "is logical (tick and execution order), so the same run gives the same bytes.",
    ],
    positionals: [{ name: "DIR", help: "The artifacts directory" }],
    flags: {
      ...RANGE_FLAGS,
      format: {
        kind: "string",
        value: "FORMAT",
        help: "The format",
        required: true,
        choices: ["chrome-trace"],
      },
      out: { kind: "string", value: "FILE", help: "The JSON file to write", required: true },
    },
    permissions: PERMISSIONS,
  },
  main: (args) => write(args, "export", writeRunChromeTrace),
};

async function write(
  args: ParsedArgs,
  command: string,
  writer: typeof writeRunReport,
): Promise<number> {
  const dir = args.positionals[0] as string;
  const runId = args.flags.run as string;
  const out = args.flags.out as string;
  const fromTick = args.flags.from as number | undefined;
  const toTick = args.flags.to as number | undefined;
  if (fromTick !== undefined && toTick !== undefined && toTick < fromTick) {
    throw new UsageError(`--to ${toTick} is before --from ${fromTick}`, command);
  }
  await requestDirAccess("read", dir);
  await requestDirAccess("write", dirname(out));
  const written = await writer(dir, runId, out, { fromTick, toTick });
  console.log(summary(runId, written));
  return 0;
}

function summary(runId: string, written: RunViewWritten): string {
  return cell(
    `wrote ${written.path}: run ${runId}, ${
      plural(written.ticks, "tick")
    } (${written.fromTick}..${written.toTick}), ${plural(written.bytes, "byte")}; verify OK`,
  );
}
