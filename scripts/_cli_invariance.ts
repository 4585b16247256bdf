// `ers invariance`: the N-run invariance gate on the seed scenario or on
// tick 0 of a pipeline file.

import { dozenRunInvarianceGate, MAX_INVARIANCE_RUNS, type TraceEvent } from "../ers/mod.ts";
import { type Command, type CommandSpec, defineCommand, type ParsedArgs } from "./_cli_args.ts";
import { ISOLATION_FLAG, laneModuleAccess, openCliPipeline } from "./_cli_pipeline.ts";
import { requireAccess } from "./_cli_access.ts";
import type { OpenedPipeline } from "../runtime/mod.ts";
import { invarianceReport } from "./_report.ts";
import { seedTraceMaker } from "./_seed.ts";

const spec = {
  name: "invariance",
  summary: "Run the N-run invariance gate on the seed scenario or a pipeline",
  description: [
    "Runs the same tick N times, each from a fresh scheduler, hashes every trace",
    "(canonical SHA-256) and passes when all hashes match. Without --pipeline it",
    "runs the reference's seed scenario; with it, tick 0 of that pipeline, its",
    "lanes in sandboxed Web Workers unless --isolation inline.",
    "Exits 0 on PASS, 1 on FAIL.",
  ],
  positionals: [],
  flags: {
    runs: {
      kind: "integer",
      value: "N",
      help: "How many runs",
      min: 1,
      max: MAX_INVARIANCE_RUNS,
      default: 12,
    },
    pipeline: {
      kind: "string",
      value: "FILE",
      help: "A module whose default export is a Pipeline",
    },
    isolation: ISOLATION_FLAG,
    json: { kind: "boolean", help: "Print the verdict as JSON" },
  },
  permissions: "none; with --pipeline, read FILE (and the local modules it imports).",
} as const satisfies CommandSpec;

/**
 * The `invariance` command: prints PASS and the hash, or FAIL with the run,
 * the event index and both events side by side; exits 0 or 1.
 *
 * @example Its help names the default run count
 * ```ts
 * import { invarianceCommand } from "./_cli_invariance.ts";
 * import { helpText } from "./_cli_args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(helpText(invarianceCommand.spec), /--runs N +How many runs \(default 12\)/);
 * ```
 */
export const invarianceCommand: Command = defineCommand(spec, main);

async function main(args: ParsedArgs<typeof spec.flags>): Promise<number> {
  const file = args.flags.pipeline;
  if (file !== undefined) await requireAccess(laneModuleAccess(args.flags.isolation));
  await using pipeline = file === undefined
    ? undefined
    : await openCliPipeline(file, args.flags.isolation);
  const makeTrace = pipeline === undefined ? seedTraceMaker() : pipelineTraceMaker(pipeline);
  const result = await dozenRunInvarianceGate({
    makeTrace,
    runs: args.flags.runs,
  });
  if (args.flags.json) console.log(JSON.stringify(result, null, 2));
  else for (const line of invarianceReport(result)) console.log(line);
  return result.ok ? 0 : 1;
}

// Tick 0 of the pipeline, each run with a fresh context, in the same lanes
// (the same workers, or the same realm inline), so that a task that keeps
// state between calls shows as drift.
function pipelineTraceMaker(pipeline: OpenedPipeline): () => Promise<TraceEvent[]> {
  return async () => (await pipeline.runTick(0)).trace;
}
