// `ers invariance`: the N-run invariance gate on the seed scenario or on
// tick 0 of a pipeline file.

import {
  dozenRunInvarianceGate,
  MAX_INVARIANCE_RUNS,
  type PreparedPipeline,
  type TraceEvent,
} from "../ers/mod.ts";
import { type Command, type CommandSpec, defineCommand, type ParsedArgs } from "./_cli_args.ts";
import { loadPipeline } from "./_cli_pipeline.ts";
import { invarianceReport } from "./_report.ts";
import { seedTraceMaker } from "./_seed.ts";

const spec = {
  name: "invariance",
  summary: "Run the N-run invariance gate on the seed scenario or a pipeline",
  description: [
    "Runs the same tick N times, each from a fresh scheduler, hashes every trace",
    "(canonical SHA-256) and passes when all hashes match. Without --pipeline it",
    "runs the reference's seed scenario; with it, tick 0 of that pipeline.",
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
  const makeTrace = file === undefined
    ? seedTraceMaker()
    : pipelineTraceMaker(await loadPipeline(file));
  const result = await dozenRunInvarianceGate({
    makeTrace,
    runs: args.flags.runs,
  });
  if (args.flags.json) console.log(JSON.stringify(result, null, 2));
  else for (const line of invarianceReport(result)) console.log(line);
  return result.ok ? 0 : 1;
}

// Tick 0 of the pipeline, each run from a fresh scheduler and a fresh context.
function pipelineTraceMaker(pipeline: PreparedPipeline): () => Promise<TraceEvent[]> {
  return async () =>
    (await pipeline.scheduler().runTick({
      tick: 0,
      budgetForecast: pipeline.budgets.forecast,
      budgetShadow: pipeline.budgets.shadow,
      context: pipeline.context(0),
    })).trace;
}
