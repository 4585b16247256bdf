// `ers run`: runs ticks of a pipeline (the built-in demo by default) and
// writes their artifacts under --out, and nowhere else.

import { type PreparedPipeline, preparePipeline } from "../ers/mod.ts";
import { pipelineTick } from "../runtime/mod.ts";
import { readRunManifest } from "../runtime/run_reader.ts";
import {
  type Command,
  type CommandSpec,
  defineCommand,
  type ParsedArgs,
  runIdFlag,
  UsageError,
} from "./_cli_args.ts";
import { requestDirAccess } from "./_cli_access.ts";
import { loadPipeline } from "./_cli_pipeline.ts";
import { plural } from "./_cli_table.ts";
import demoPipeline from "./_demo_pipeline.ts";

// Most ticks one `ers run` may run.
const MAX_RUN_TICKS_PER_COMMAND = 1_000_000;

// A mode: what checkName accepts (1 to 128 UTF-16 units), without control characters.
const MODE_PATTERN = {
  // deno-lint-ignore no-control-regex
  regexp: /^[^\u0000-\u001f\u007f]{1,128}$/,
  rule: "1 to 128 printable characters",
};

const spec = {
  name: "run",
  summary: "Run ticks of a pipeline and write their artifacts",
  description: [
    "Runs ticks T..T+N-1 of a pipeline, the built-in demo unless --pipeline is",
    "given, and writes each tick's TrendPack and RunIndex under DIR, recorded",
    "with their SHA-256 in DIR/manifests/ID.manifest.json. Recorded artifacts are",
    "never rewritten: running a recorded tick again with other results fails.",
  ],
  positionals: [],
  flags: {
    out: {
      kind: "string",
      value: "DIR",
      help: "Artifacts directory, the only place written",
      required: true,
    },
    run: runIdFlag("The run: 1-128 letters, digits, '.', '_', '-'", true),
    ticks: {
      kind: "integer",
      value: "N",
      help: `How many ticks to run, 1 to ${MAX_RUN_TICKS_PER_COMMAND}`,
      required: true,
      min: 1,
      max: MAX_RUN_TICKS_PER_COMMAND,
    },
    from: {
      kind: "integer",
      value: "T",
      help: "The first tick",
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
      default: 0,
    },
    mode: {
      kind: "string",
      value: "M",
      help: "The mode recorded in provenance",
      pattern: MODE_PATTERN,
      default: "cli",
    },
    pipeline: {
      kind: "string",
      value: "FILE",
      help: "A module whose default export is a Pipeline (default: the demo)",
    },
  },
  permissions: "read and write DIR; with --pipeline, read FILE (and the local modules it imports).",
} as const satisfies CommandSpec;

/**
 * The `run` command: ticks T..T+N-1 through `pipelineTick`, a progress bar on
 * stderr when it is a terminal, and a one-line summary.
 *
 * @example Its help states the permissions it needs
 * ```ts
 * import { runCommand } from "./_cli_run.ts";
 * import { helpText } from "./_cli_args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(helpText(runCommand.spec), /^Permissions: read and write DIR/m);
 * ```
 */
export const runCommand: Command = defineCommand(spec, main);

type RunArgs = ParsedArgs<typeof spec.flags>;

async function main(args: RunArgs): Promise<number> {
  const { out, run: runId, ticks: count, from, mode, pipeline: file } = args.flags;
  if (from > Number.MAX_SAFE_INTEGER - count + 1) {
    throw new UsageError(`--from ${from} plus --ticks ${count} passes the largest tick`, "run");
  }
  await requestDirAccess("write", out);
  await requestDirAccess("read", out);
  const pipeline = file === undefined ? preparePipeline(demoPipeline) : await loadPipeline(file);
  const totals = await runTicks(pipeline, { out, runId, mode, from, count });
  const manifest = await readRunManifest(out, runId);
  console.log(
    `run ${runId}: ${plural(count, "tick")} (${from}..${from + count - 1}), ${
      plural(totals.errors, "error")
    }, ${totals.skipped} skipped, ${
      plural(manifest.records.length, "artifact")
    } recorded, manifest sha256 ${manifest.sha256}`,
  );
  return 0;
}

interface RunPlan {
  out: string;
  runId: string;
  mode: string;
  from: number;
  count: number;
}

async function runTicks(
  pipeline: PreparedPipeline,
  plan: RunPlan,
): Promise<{ errors: number; skipped: number }> {
  const totals = { errors: 0, skipped: 0 };
  const progress = Deno.stderr.isTerminal() ? progressBar(plan.count) : undefined;
  try {
    for (let i = 0; i < plan.count; i++) {
      const out = await pipelineTick({
        pipeline,
        tick: plan.from + i,
        runId: plan.runId,
        mode: plan.mode,
        artifactsDir: plan.out,
      });
      for (const result of Object.values(out.results)) {
        if (result.status === "error") totals.errors++;
        if (result.status === "skipped_budget") totals.skipped++;
      }
      progress?.update(i + 1);
    }
  } finally {
    progress?.clear();
  }
  return totals;
}

// A progress bar on one line of stderr, redrawn about a hundred times per run
// at most. Display only: it never reaches an artifact.
function progressBar(total: number): { update(done: number): void; clear(): void } {
  const encoder = new TextEncoder();
  const width = 30;
  const step = Math.max(1, Math.floor(total / 100));
  const write = (text: string) => Deno.stderr.writeSync(encoder.encode(text));
  return {
    update(done: number) {
      if (done % step !== 0 && done !== total) return;
      const filled = Math.floor((done * width) / total);
      write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} ticks`);
    },
    clear() {
      write("\r\u001b[2K");
    },
  };
}
