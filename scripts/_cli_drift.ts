// `ers replay` and `ers diff`: drift forensics over recorded runs. Both write
// nothing; they exit 0 when identical, 1 on drift.

import {
  diffRuns,
  pipelineDigest,
  readRunHeader,
  replayRun,
  type TickDivergence,
} from "../runtime/mod.ts";
import { preparePipeline } from "../ers/mod.ts";
import { formatJsonPath } from "../viz/mod.ts";
import { resolve } from "node:path";
import {
  type Command,
  type CommandSpec,
  defineCommand,
  type ParsedArgs,
  RUN_ID_PATTERN,
  runIdFlag,
  UsageError,
} from "./_cli_args.ts";
import { requestDirAccess, requestFileRead } from "./_cli_access.ts";
import { CliError } from "./_cli_errors.ts";
import { DEMO_PIPELINE, loadPipeline } from "./_cli_pipeline.ts";
import { sideBySide } from "./_report.ts";
import { cell, plural } from "./_cli_table.ts";
import demoPipeline from "./_demo_pipeline.ts";

const replaySpec = {
  name: "replay",
  summary: "Re-run a recorded run in memory and compare it with what was recorded",
  description: [
    "Re-executes the recorded ticks of run ID in memory against the current code",
    "and compares each tick's TrendPack and ResultsPack with the recorded bytes.",
    "Uses the pipeline file the RunHeader names unless --pipeline is given; a",
    "pipeline whose digest differs from the recorded one is said in one line and",
    "replayed all the same. Writes nothing. Exits 0 when every tick is identical,",
    "1 at the first divergence (tick, artifact, task, field and both values).",
  ],
  positionals: [{ name: "DIR", help: "The artifacts directory" }],
  flags: {
    run: runIdFlag("The run to replay", true),
    pipeline: {
      kind: "string",
      value: "FILE",
      help: "Replay with this pipeline module (default: the one the RunHeader names)",
    },
    from: {
      kind: "integer",
      value: "T",
      help: "The first tick",
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
    },
    to: {
      kind: "integer",
      value: "T",
      help: "The last tick",
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
    },
    json: { kind: "boolean", help: "Print the report as JSON" },
  },
  permissions: "read DIR and the pipeline file (and the local modules it imports).",
} as const satisfies CommandSpec;

/**
 * The `replay` command.
 *
 * @example Its help says it writes nothing
 * ```ts
 * import { replayCommand } from "./_cli_drift.ts";
 * import { helpText } from "./_cli_args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(helpText(replayCommand.spec), /Writes nothing/);
 * ```
 */
export const replayCommand: Command = defineCommand(replaySpec, replayMain);

async function replayMain(args: ParsedArgs<typeof replaySpec.flags>): Promise<number> {
  const dir = args.positionals[0] as string;
  const runId = args.flags.run;
  const { from, to } = args.flags;
  if (from !== undefined && to !== undefined && to < from) {
    throw new UsageError(`--to ${to} is before --from ${from}`, "replay");
  }
  await requestDirAccess("read", dir);
  const file = args.flags.pipeline ?? await recordedPipelineFile(dir, runId);
  let pipeline;
  let sha256: string | undefined;
  if (file === DEMO_PIPELINE) {
    pipeline = preparePipeline(demoPipeline);
  } else {
    await requestFileRead(file, "pipeline file");
    pipeline = await loadPipeline(file);
    sha256 = (await pipelineDigest(file)).sha256;
  }
  const report = await replayRun(dir, runId, { pipeline, pipelineSha256: sha256, from, to });
  if (args.flags.json) {
    console.log(JSON.stringify(report, null, 2));
    return report.ok ? 0 : 1;
  }
  if (report.pipeline_changed) {
    console.log(
      `pipeline changed: recorded sha256 ${report.recorded_pipeline_sha256}, now ${report.pipeline_sha256}`,
    );
  }
  if (report.ticks === 0) throw new CliError(`Run ${runId} records no tick in that range`);
  if (report.ok) {
    console.log(
      `replay ${runId}: ticks ${report.from}..${report.to} identical (${
        plural(report.ticks, "tick")
      }, ${plural(report.results_packs, "ResultsPack")} compared)`,
    );
    return 0;
  }
  for (
    const line of divergenceLines(`replay ${runId}`, report.divergence!, "recorded", "replayed")
  ) {
    console.log(line);
  }
  return 1;
}

// The pipeline file a run's RunHeader names, resolved against the artifacts directory.
async function recordedPipelineFile(dir: string, runId: string): Promise<string> {
  const header = await readRunHeader(dir, runId);
  if (header === undefined) {
    throw new CliError(
      `Run ${runId} has no RunHeader (recorded with --compat v0.2?): name its pipeline with --pipeline FILE`,
    );
  }
  const file = header.pipeline_file;
  if (typeof file !== "string") {
    throw new CliError(`Run ${runId}'s RunHeader names no pipeline file: pass --pipeline FILE`);
  }
  return file.startsWith("ers:") ? file : resolve(dir, file);
}

/** The lines of a divergence: where, then both values in the field table. */
function divergenceLines(
  title: string,
  d: TickDivergence,
  left: string,
  right: string,
): string[] {
  return [
    `${title}: first divergence at tick ${d.tick}`,
    `artifact: ${d.artifact}`,
    `task: ${d.task === null ? "-" : cell(d.task)}`,
    `path: ${cell(formatJsonPath(d.path))}`,
    ...sideBySide({ value: d.a }, { value: d.b }, left, right),
  ];
}

const diffSpec = {
  name: "diff",
  summary: "Compare two recorded runs tick by tick",
  description: [
    "Compares run ID in DIR_A with run ID (or --run-b ID2) in DIR_B: what differs",
    "in their RunHeaders (identity first, then environment), the ticks recorded",
    "on one side only, and the first tick whose TrendPack or ResultsPack differs,",
    "with the task, field and both values. Writes nothing. Exits 0 when the runs",
    "are identical, 1 otherwise.",
  ],
  positionals: [
    { name: "DIR_A", help: "Run A's artifacts directory" },
    { name: "DIR_B", help: "Run B's artifacts directory" },
  ],
  flags: {
    run: runIdFlag("Run A (and run B unless --run-b)", true),
    "run-b": {
      kind: "string",
      value: "ID2",
      help: "Run B, when its id differs",
      pattern: RUN_ID_PATTERN,
    },
    json: { kind: "boolean", help: "Print the report as JSON" },
  },
  permissions: "read DIR_A and DIR_B.",
} as const satisfies CommandSpec;

/**
 * The `diff` command.
 *
 * @example Two directories
 * ```ts
 * import { diffCommand } from "./_cli_drift.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(diffCommand.spec.positionals.map((p) => p.name), ["DIR_A", "DIR_B"]);
 * ```
 */
export const diffCommand: Command = defineCommand(diffSpec, diffMain);

async function diffMain(args: ParsedArgs<typeof diffSpec.flags>): Promise<number> {
  const [dirA, dirB] = args.positionals as [string, string];
  const runA = args.flags.run;
  const runB = args.flags["run-b"] ?? runA;
  await requestDirAccess("read", dirA);
  await requestDirAccess("read", dirB);
  const report = await diffRuns(dirA, runA, dirB, runB);
  if (args.flags.json) {
    console.log(JSON.stringify(report, null, 2));
    return report.ok ? 0 : 1;
  }
  const title = `diff ${runA}${runB === runA ? "" : ` ${runB}`}`;
  for (const d of report.identity) {
    console.log(`identity differs: ${d.field}: ${JSON.stringify(d.a)} vs ${JSON.stringify(d.b)}`);
  }
  for (const d of report.environment) {
    console.log(
      `environment differs: ${d.field}: ${JSON.stringify(d.a)} vs ${JSON.stringify(d.b)}`,
    );
  }
  if (report.only_a.length > 0) console.log(`ticks only in A: ${ranges(report.only_a)}`);
  if (report.only_b.length > 0) console.log(`ticks only in B: ${ranges(report.only_b)}`);
  if (report.divergence !== null) {
    for (const line of divergenceLines(title, report.divergence, "A", "B")) console.log(line);
  } else {
    console.log(
      `${title}: ${plural(report.common_ticks, "common tick")} identical${
        report.ok ? "" : " (but the runs differ as listed)"
      }`,
    );
  }
  return report.ok ? 0 : 1;
}

function ranges(ticks: readonly number[]): string {
  const parts: string[] = [];
  let start = ticks[0] as number;
  let prev = start;
  for (const tick of [...ticks.slice(1), NaN]) {
    if (tick === prev + 1) {
      prev = tick;
      continue;
    }
    parts.push(start === prev ? `${start}` : `${start}..${prev}`);
    start = prev = tick;
  }
  return parts.join(", ");
}
