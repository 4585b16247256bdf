// `ers invariance`: the N-run invariance gate on the seed scenario or on
// tick 0 of a pipeline file.

import {
  advancePromotions,
  type CandidateDefinition,
  dozenRunInvarianceGate,
  MAX_INVARIANCE_RUNS,
  type PreparedPipeline,
  preparePipeline,
  promotionCandidates,
  promotionLanes,
  type PromotionState,
  type TraceEvent,
} from "../ers/mod.ts";
import { type OpenedPipeline, openPipeline } from "../runtime/mod.ts";
import { formatJsonPath, stabilizationGate, type StabilizationResult } from "../viz/mod.ts";
import {
  type Command,
  type CommandSpec,
  defineCommand,
  type ParsedArgs,
  UsageError,
} from "./_cli_args.ts";
import {
  ISOLATION_FLAG,
  laneModuleAccess,
  loadPipeline,
  openCliPipeline,
} from "./_cli_pipeline.ts";
import { requireAccess } from "./_cli_access.ts";
import { cell } from "./_cli_table.ts";
import { invarianceReport, sideBySide } from "./_report.ts";
import { seedTraceMaker } from "./_seed.ts";

const spec = {
  name: "invariance",
  summary: "Run the N-run invariance gate on the seed scenario or a pipeline",
  description: [
    "Runs the same tick N times, each from a fresh scheduler, hashes every trace",
    "(canonical SHA-256) and passes when all hashes match. Without --pipeline it",
    "runs the reference's seed scenario; with it, tick 0 of that pipeline, its",
    "lanes in sandboxed Web Workers unless --isolation inline.",
    "runs the reference's seed scenario; with it, tick 0 of that pipeline.",
    "With --ticks N (and --pipeline), runs ticks 0..N-1 of the pipeline --runs",
    "times, each run on a freshly prepared pipeline, and compares every tick's",
    "trace and results with run 0's; --vary order,budgets,isolation permutes the",
    "task order, varies the shadow budget (then only the forecast lane must stay",
    "the same) or alternates worker and inline lanes, run by run.",
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
    ticks: {
      kind: "integer",
      value: "N",
      help: "Run ticks 0..N-1 per run (needs --pipeline)",
      min: 1,
      max: 100_000,
    },
    vary: {
      kind: "string",
      value: "LIST",
      help: "With --ticks: vary order, budgets and/or isolation, run by run",
      pattern: {
        regexp: /^(order|budgets|isolation)(,(order|budgets|isolation))*$/,
        rule: "a comma-separated list of order, budgets, isolation",
      },
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
  if (args.flags.ticks === undefined) {
    if (args.flags.vary !== undefined) throw new UsageError("--vary needs --ticks N", "invariance");
  } else {
    if (file === undefined) throw new UsageError("--ticks needs --pipeline FILE", "invariance");
    if (args.flags.runs < 2) throw new UsageError("--ticks needs --runs 2 or more", "invariance");
    const vary = new Set((args.flags.vary ?? "").split(",").filter((v) => v !== ""));
    if (vary.has("isolation")) await requireAccess(laneModuleAccess("worker"));
    const result = await multiTickGate(file, args.flags.ticks, args.flags.runs, vary);
    if (args.flags.json) console.log(JSON.stringify(result, null, 2));
    else for (const line of stabilizationReport(result)) console.log(line);
    return result.ok ? 0 : 1;
  }
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

// Ticks 0..ticks-1, `runs` times, each run on a fresh pipeline with its variation.
async function multiTickGate(
  file: string,
  ticks: number,
  runs: number,
  vary: ReadonlySet<string>,
): Promise<StabilizationResult> {
  const base = await loadPipeline(file);
  let opened: OpenedPipeline | undefined;
  let current: { run: number; pipeline: PreparedPipeline | OpenedPipeline } | undefined;
  let promotion: {
    run: number;
    states: ReadonlyMap<string, PromotionState>;
    candidates: ReadonlyMap<string, CandidateDefinition>;
  } | undefined;
  const pipelineOf = async (run: number) => {
    if (current?.run === run) return current.pipeline;
    await opened?.close();
    opened = undefined;
    if (vary.has("isolation") && run % 2 === 1) {
      opened = await openPipeline(file, { isolation: "worker" });
      current = { run, pipeline: opened };
    } else {
      current = { run, pipeline: variedPipeline(base, run, vary) };
    }
    return current.pipeline;
  };
  try {
    return await stabilizationGate({
      ticks,
      runs,
      forecastOnly: vary.has("budgets"),
      variation: (run) => variationLabel(base, run, vary),
      runTick: async (run, tick) => {
        const pipeline = await pipelineOf(run);
        // Each run promotes and demotes its own candidates, tick by tick, as `ers run` does.
        if (promotion?.run !== run) {
          promotion = {
            run,
            states: new Map(),
            candidates: await promotionCandidates(pipeline.tasks),
          };
        }
        const lanes = promotionLanes(promotion.states, promotion.candidates);
        const out = await pipeline.runTick(tick, undefined, {
          lanes: Object.keys(lanes).length === 0 ? undefined : lanes,
        });
        promotion.states =
          advancePromotions(promotion.states, tick, promotion.candidates, out.trace)
            .states;
        return out;
      },
    });
  } finally {
    await opened?.close();
  }
}

// Run 0 is the pipeline as declared; a later run permutes its tasks
// (`order`) and gives the shadow lane another budget (`budgets`).
function variedPipeline(base: PreparedPipeline, run: number, vary: ReadonlySet<string>) {
  const tasks = vary.has("order") && run > 0 ? permuted(base.tasks, run) : [...base.tasks];
  const shadow = vary.has("budgets") && run > 0
    ? { ops: shadowOps(base, run), entropy: base.budgets.shadow.entropy }
    : base.budgets.shadow;
  return preparePipeline({
    tasks,
    budgets: { forecast: base.budgets.forecast, shadow },
    context: base.context,
  });
}

function shadowOps(base: PreparedPipeline, run: number): number {
  const ops = base.budgets.shadow.ops;
  return [ops * 2, 0, Math.floor(ops / 2), ops + 1][(run - 1) % 4] as number;
}

// A deterministic permutation per run: reversed on odd runs, rotated by the run on even ones.
function permuted<T>(items: readonly T[], run: number): T[] {
  if (run % 2 === 1) return [...items].reverse();
  const k = run % Math.max(1, items.length);
  return [...items.slice(k), ...items.slice(0, k)];
}

function variationLabel(base: PreparedPipeline, run: number, vary: ReadonlySet<string>): string {
  if (run === 0) return "none (baseline)";
  if (vary.has("isolation") && run % 2 === 1) return "isolation worker";
  const parts: string[] = [];
  if (vary.has("order")) parts.push(run % 2 === 1 ? "order reversed" : `order rotated by ${run}`);
  if (vary.has("budgets")) parts.push(`budgets shadow.ops=${shadowOps(base, run)}`);
  if (vary.has("isolation")) parts.push("isolation inline");
  return parts.length === 0 ? "none (fresh pipeline)" : parts.join(", ");
}

/** The lines printed for a multi-tick verdict. */
function stabilizationReport(result: StabilizationResult): string[] {
  const scope = result.forecast_only ? " (forecast lane)" : "";
  if (result.ok) {
    return [
      `ERS STABILIZATION: PASS (${result.runs} runs x ${result.ticks} ticks${scope})`,
      `tick 0 trace sha256 ${result.tick_hashes[0]?.trace_sha256}`,
      `tick 0 results sha256 ${result.tick_hashes[0]?.results_sha256}`,
    ];
  }
  const f = result.failure!;
  return [
    `ERS STABILIZATION: FAIL (${result.runs} runs x ${result.ticks} ticks${scope})`,
    `run ${f.run}, tick ${f.tick}, ${f.kind} ${f.index}${
      f.task === null ? "" : ` (${cell(f.task)})`
    }`,
    `variation: ${f.variation}`,
    `path: ${cell(formatJsonPath(f.path))}`,
    ...sideBySide({ value: f.a }, { value: f.b }, "run 0", `run ${f.run}`),
  ];
}
