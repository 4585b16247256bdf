// `ers report` and `ers export`: a run as one HTML page, or as Chrome Trace
// Event JSON for Perfetto.

import { dirname } from "node:path";
import { type RunViewWritten, writeRunChromeTrace, writeRunReport } from "../runtime/mod.ts";
import {
  type Command,
  type CommandSpec,
  defineCommand,
  type ParsedArgs,
  runIdFlag,
  UsageError,
} from "./_cli_args.ts";
import { requireAccess } from "./_cli_access.ts";
import { cell, plural } from "./_cli_table.ts";

const tickFlag = (help: string) =>
  ({ kind: "integer", value: "T", help, min: 0, max: Number.MAX_SAFE_INTEGER }) as const;

const PERMISSIONS =
  "read DIR; write the directory of FILE (FILE is written beside and renamed in).";

const reportSpec = {
  name: "report",
  summary: "Write a run as one self-contained HTML page",
  description: [
    "Verifies the run (a damaged run is refused), reads its TrendPacks through the",
    "checked reader and writes one HTML page with no script and no network: the",
    "verdict, the lane timeline, the budget heat map, error clusters, cost per task",
    "and the stats. More than 1,000 ticks are binned. Same run, same bytes.",
  ],
  positionals: [{ name: "DIR", help: "The artifacts directory" }],
  flags: {
    run: runIdFlag("The run", true),
    out: { kind: "string", value: "FILE.html", help: "The HTML file to write", required: true },
    from: tickFlag("First tick shown (default: the run's first)"),
    to: tickFlag("Last tick shown (default: the run's last)"),
  },
  permissions: PERMISSIONS,
} as const satisfies CommandSpec;

const exportSpec = {
  name: "export",
  summary: "Export a run as Chrome Trace Event JSON (Perfetto)",
  description: [
    "Verifies the run (a damaged run is refused) and writes it as Trace Event JSON",
    "that opens in ui.perfetto.dev and chrome://tracing: one track per lane, a slice",
    "per executed task, an instant per skipped one, a counter per lane's spend. Time",
    "is logical (tick and execution order), so the same run gives the same bytes.",
  ],
  positionals: [{ name: "DIR", help: "The artifacts directory" }],
  flags: {
    run: runIdFlag("The run", true),
    format: {
      kind: "string",
      value: "FORMAT",
      help: "The format",
      required: true,
      choices: ["chrome-trace"],
    },
    out: { kind: "string", value: "FILE.json", help: "The JSON file to write", required: true },
    from: tickFlag("First tick shown (default: the run's first)"),
    to: tickFlag("Last tick shown (default: the run's last)"),
  },
  permissions: PERMISSIONS,
} as const satisfies CommandSpec;

/**
 * The `report` command: one self-contained HTML page of a run.
 *
 * @example The run and the output file are required
 * ```ts
 * import { reportCommand } from "./_cli_report.ts";
 * import { parseArgs } from "./_cli_args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseArgs(reportCommand.spec, ["out", "--run", "R"]), /missing --out FILE.html/);
 * ```
 */
export const reportCommand: Command = defineCommand(
  reportSpec,
  (args: ParsedArgs<typeof reportSpec.flags>) => write(args, "report", writeRunReport),
);

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
 *   /chrome-trace/,
 * );
 * ```
 */
export const exportCommand: Command = defineCommand(
  exportSpec,
  (args: ParsedArgs<typeof exportSpec.flags>) => write(args, "export", writeRunChromeTrace),
);

async function write(
  args: ParsedArgs<typeof reportSpec.flags>,
  command: string,
  writer: typeof writeRunReport,
): Promise<number> {
  const dir = args.positionals[0] as string;
  const { run: runId, out, from: fromTick, to: toTick } = args.flags;
  if (fromTick !== undefined && toTick !== undefined && toTick < fromTick) {
    throw new UsageError(`--to ${toTick} is before --from ${fromTick}`, command);
  }
  await requireAccess([
    { access: "read", path: dir, what: "artifacts directory" },
    { access: "write", path: dirname(out), what: "output directory" },
  ]);
  const written = await writer(dir, runId, out, { fromTick, toTick });
  console.log(summary(runId, written));
  return 0;
}

function summary(runId: string, written: RunViewWritten): string {
  return cell(
    `wrote ${written.path}: run ${runId}, ${
      plural(written.ticks, "tick")
    } (${written.fromTick}..${written.toTick}), ${sizeText(written.bytes)}; verify OK`,
  );
}

// A size for people: bytes under 10 KiB, else whole KiB or MiB with one decimal.
function sizeText(bytes: number): string {
  if (bytes < 10 * 1024) return plural(bytes, "byte");
  if (bytes < 10 * 1024 * 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
