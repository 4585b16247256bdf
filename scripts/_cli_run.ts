// `ers run`: runs ticks of a pipeline (the built-in demo by default) and
// writes their artifacts under --out, and nowhere else.

import {
  ArtifactWriter,
  type OpenedPipeline,
  pipelineDigest,
  pipelineTick,
  type PipelineTickOptions,
} from "../runtime/mod.ts";
import {
  checkRecordedArtifacts,
  readRunManifest,
  type RunManifest,
} from "../runtime/run_reader.ts";
import {
  type Command,
  type CommandSpec,
  defineCommand,
  type ParsedArgs,
  runIdFlag,
  UsageError,
} from "./_cli_args.ts";
import { requireAccess } from "./_cli_access.ts";
import { CliError } from "./_cli_errors.ts";
import { progressLine } from "./_cli_progress.ts";
import {
  DEMO_PIPELINE,
  ISOLATION_FLAG,
  laneModuleAccess,
  openCliPipeline,
} from "./_cli_pipeline.ts";
import { cell, plural } from "./_cli_table.ts";
import { MAX_MODE_LENGTH, MAX_RUN_ID_LENGTH } from "../runtime/_paths.ts";

// Most ticks one `ers run` may run.
const MAX_RUN_TICKS_PER_COMMAND = 1_000_000;
// Most ticks between two group commits: the demo's records of 10,000 ticks
// stay well under what a writer holds (MAX_HELD_RECORDS).
const MAX_SYNC_EVERY_TICKS = 10_000;

// A mode: what checkName accepts (1 to MAX_MODE_LENGTH UTF-16 units), without control characters.
const MODE_PATTERN = {
  regexp: new RegExp(`^[^\\u0000-\\u001f\\u007f]{1,${MAX_MODE_LENGTH}}$`),
  rule: `1 to ${MAX_MODE_LENGTH} printable characters`,
};

const spec = {
  name: "run",
  summary: "Run ticks of a pipeline and write their artifacts",
  description: [
    "Runs ticks T..T+N-1 of a pipeline, the built-in demo unless --pipeline is",
    "given, and writes each tick's TrendPack, ResultsPack and RunIndex, and the",
    "run's RunHeader, under DIR, recorded with their SHA-256 in",
    "DIR/manifests/ID.manifest.json. Recorded artifacts are never rewritten:",
    "running a recorded tick again with other results fails, and resuming a run",
    "with another pipeline, budgets or mode is refused before anything is",
    "written. --compat v0.2 writes only the reference's TrendPack, RunIndex and",
    "manifest, byte for byte. Each lane runs in its own sandboxed Web Worker",
    "unless --isolation inline; the artifacts are the same bytes either way.",
  ],
  positionals: [],
  flags: {
    out: {
      kind: "string",
      value: "DIR",
      help: "Artifacts directory, the only place written",
      required: true,
    },
    run: runIdFlag(`The run: 1-${MAX_RUN_ID_LENGTH} letters, digits, '.', '_', '-'`, true),
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
    isolation: ISOLATION_FLAG,
    "allow-gap": {
      kind: "boolean",
      help: "Allow --from past the run's next tick, leaving ticks unrecorded",
    },
    "no-fsync": {
      kind: "boolean",
      help: "Do not sync to the disk (a backfill to rerun after a power cut)",
    },
    "sync-every": {
      kind: "integer",
      value: "N",
      help:
        `Group commit: sync and record every N ticks (1 to ${MAX_SYNC_EVERY_TICKS}), at the end and on Ctrl-C`,
      min: 1,
      max: MAX_SYNC_EVERY_TICKS,
    },
    json: { kind: "boolean", help: "Print the summary as one JSON object" },
    compat: {
      kind: "string",
      value: "V",
      help: "Write only the artifacts of reference version V (v0.2)",
      choices: ["v0.2"],
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
  const { out, run: runId, ticks: count, from, mode, pipeline: file, json, compat } = args.flags;
  if (from > Number.MAX_SAFE_INTEGER - count + 1) {
    throw new UsageError(`--from ${from} plus --ticks ${count} passes the largest tick`, "run");
  }
  await requireAccess([
    { access: "read", path: out, what: "artifacts directory" },
    { access: "write", path: out, what: "artifacts directory" },
    ...(file === undefined ? [] : [{ access: "read" as const, path: file, what: "pipeline file" }]),
    ...laneModuleAccess(args.flags.isolation, file === undefined),
  ]);
  const before = await existingRun(out, runId);
  if (before !== undefined && !args.flags["allow-gap"]) refuseGap(runId, before, from);
  const rerun = before?.records.filter((r) => r.tick >= from && r.tick < from + count) ?? [];
  const damagedBefore = await checkRecordedArtifacts(out, rerun);
  await using pipeline = await openCliPipeline(file, args.flags.isolation);
  const durable = !args.flags["no-fsync"];
  const syncEvery = args.flags["sync-every"];
  if (syncEvery !== undefined && !durable) {
    throw new UsageError(
      "--sync-every and --no-fsync cannot be combined: --sync-every syncs every N ticks, --no-fsync never",
      "run",
    );
  }
  const provenance = compat === undefined
    ? await extendedProvenance(file)
    : { provenance: "reference" as const };
  const totals = await runTicks(pipeline, {
    out,
    runId,
    mode,
    from,
    count,
    durable,
    syncEvery,
    provenance,
  }, !json);
  const damagedBeforePaths = new Set(damagedBefore.map((d) => d.path));
  const damaged = await checkRecordedArtifacts(
    out,
    rerun.filter((r) => damagedBeforePaths.has(r.path)),
  );
  const restored = damagedBefore.filter((d) => !damaged.some((left) => left.path === d.path));
  const manifest = await readRunManifest(out, runId);
  const last = from + totals.ticks - 1;
  if (json) {
    console.log(JSON.stringify(
      {
        run_id: runId,
        from,
        ticks: totals.ticks,
        interrupted: totals.interrupted,
        errors: totals.errors,
        skipped: totals.skipped,
        records: manifest.records.length,
        manifest_sha256: manifest.sha256,
        restored: restored.map((r) => r.path),
        damaged,
      },
      null,
      2,
    ));
  } else {
    const range = totals.ticks === 0 ? "none" : `${from}..${last}`;
    console.log(
      `run ${runId}: ${plural(totals.ticks, "tick")} (${range}), ${
        plural(totals.errors, "error")
      }, ${totals.skipped} skipped, ${
        plural(manifest.records.length, "artifact")
      } recorded, manifest sha256 ${manifest.sha256}`,
    );
    for (const r of restored) console.log(`restored ${cell(r.path)} (${cell(r.problem)})`);
    if (totals.interrupted) console.log(`interrupted: ticks ${last + 1}.. were not run`);
  }
  if (damaged.length > 0) {
    throw new CliError(
      `run ${runId} has ${
        plural(damaged.length, "damaged artifact")
      } that running again cannot repair; 'ers verify' lists every problem:`,
      damaged.map((d) => `  ${d.path}: ${d.problem}`),
    );
  }
  return totals.interrupted ? 130 : 0;
}

// The run's manifest as it is before this command, or undefined for a new run.
async function existingRun(out: string, runId: string): Promise<RunManifest | undefined> {
  try {
    return await readRunManifest(out, runId);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

// Refuses to start past the tick after the run's last, which would leave
// ticks no record covers.
function refuseGap(runId: string, before: RunManifest, from: number): void {
  const lastTick = before.records.reduce((max, r) => Math.max(max, r.tick), -1);
  if (from > lastTick + 1) {
    throw new UsageError(
      `run ${runId} records ticks up to ${lastTick}: --from ${from} would leave ticks ${
        lastTick + 1
      }..${from - 1} unrecorded (pass --allow-gap if that is meant)`,
      "run",
    );
  }
}

interface RunPlan {
  out: string;
  runId: string;
  mode: string;
  from: number;
  count: number;
  durable: boolean;
  /** Group commit every this many ticks; undefined: each tick on its own. */
  syncEvery: number | undefined;
  provenance: Pick<PipelineTickOptions, "provenance" | "pipelineFile" | "pipelineDigest">;
}

// What the RunHeader names: the pipeline file and its digest, or for the
// built-in demo `ers:demo` and a digest of its tasks.
async function extendedProvenance(file: string | undefined): Promise<RunPlan["provenance"]> {
  if (file === undefined) return { provenance: "extended", pipelineFile: DEMO_PIPELINE };
  return { provenance: "extended", pipelineFile: file, pipelineDigest: await pipelineDigest(file) };
}

interface RunTotals {
  /** Ticks run and recorded. */
  ticks: number;
  errors: number;
  skipped: number;
  /** Whether Ctrl-C stopped the run before its last tick. */
  interrupted: boolean;
}

// Runs the ticks one after another. Ctrl-C (SIGINT) is taken between ticks:
// the tick in flight is finished and recorded, then the run stops. With
// --sync-every, what is held is recorded every N ticks, at the end, on
// Ctrl-C and before an error is reported.
async function runTicks(
  pipeline: OpenedPipeline,
  plan: RunPlan,
  showProgress: boolean,
): Promise<RunTotals> {
  const totals: RunTotals = { ticks: 0, errors: 0, skipped: 0, interrupted: false };
  const progress = showProgress && Deno.stderr.isTerminal()
    ? progressLine(plan.count, "ticks")
    : undefined;
  const stop = () => {
    totals.interrupted = true;
  };
  const group = plan.syncEvery === undefined
    ? undefined
    : new ArtifactWriter(plan.out, { groupCommit: true });
  Deno.addSignalListener("SIGINT", stop);
  try {
    for (let i = 0; i < plan.count && !totals.interrupted; i++) {
      const out = await pipelineTick({
        pipeline,
        tick: plan.from + i,
        runId: plan.runId,
        mode: plan.mode,
        artifactsDir: plan.out,
        ...(group === undefined ? { durable: plan.durable } : { writer: group }),
        ...plan.provenance,
      });
      totals.ticks++;
      for (const result of Object.values(out.results)) {
        if (result.status === "error") totals.errors++;
        if (result.status === "skipped_budget") totals.skipped++;
      }
      if (group !== undefined && totals.ticks % (plan.syncEvery as number) === 0) {
        await group.flush();
      }
      progress?.update(i + 1);
    }
    await group?.flush();
    if (totals.ticks === plan.count) totals.interrupted = false;
  } catch (error) {
    // Record what the ticks before the error wrote, then report the error (if
    // the flush fails too, the first error is reported, and what it could not
    // record is left as a crash leaves it: files that running again keeps).
    await group?.flush().catch(() => {});
    throw error;
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    progress?.clear();
  }
  return totals;
}
