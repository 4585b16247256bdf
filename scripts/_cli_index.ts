// `ers index`: a run's events across ticks, filtered, or totals per task.

import { readRunManifest } from "../runtime/run_reader.ts";
import { readErrorTexts } from "../runtime/_run_extras.ts";
import { streamRunTickRecords } from "../runtime/_run_stream.ts";
import { READ_CONCURRENCY } from "../runtime/_concurrency.ts";
import { ARTIFACT_LAYOUT } from "../runtime/layout.ts";
import {
  type EventTotals,
  laneTotals,
  mergeTotals,
  type RunEvent,
  type RunEventFilter,
  runEvents,
  taskTotals,
} from "../viz/run_events.ts";
import {
  type Command,
  type CommandSpec,
  defineCommand,
  type ParsedArgs,
  printableArg,
  runIdFlag,
} from "./_cli_args.ts";
import { requestDirAccess } from "./_cli_access.ts";
import { CliError } from "./_cli_errors.ts";
import { plural, renderTable } from "./_cli_table.ts";
import { LANES, STATUSES } from "../ers/mod.ts";

const spec = {
  name: "index",
  summary: "List a run's events across ticks, or totals per task or lane",
  description: [
    "Reads the run's manifest and every TrendPack it records (each checked against",
    "its SHA-256) and lists one row per event: tick, event order, task, lane,",
    "status and costs. Filters combine; a --task no event has is an error. With",
    "--by task or --by lane, prints totals per task or per lane: runs (times",
    "scheduled), ok, errors, skipped, and the ops and entropy spent. Listing",
    "events, a failed task's error text is printed with it when the run records",
    "the tick's ResultsPack.",
  ],
  positionals: [{ name: "DIR", help: "The artifacts directory" }],
  flags: {
    run: runIdFlag("The run", true),
    lane: { kind: "string", value: "L", help: "Only this lane", choices: LANES },
    status: {
      kind: "string",
      value: "S",
      help: "Only this status",
      choices: STATUSES,
    },
    task: { kind: "string", value: "NAME", help: "Only the task of exactly this name" },
    by: {
      kind: "string",
      value: "KEY",
      help: "Totals per task or per lane instead of events",
      choices: ["task", "lane"],
    },
    json: { kind: "boolean", help: "Print JSON instead of a table" },
  },
  permissions: "read DIR.",
} as const satisfies CommandSpec;

/**
 * The `index` command: one row per matching event (tick, task, lane, status,
 * costs), or totals with `--by task` or `--by lane`; a table, or JSON with `--json`.
 *
 * @example Its filters take only known values
 * ```ts
 * import { indexCommand } from "./_cli_index.ts";
 * import { parseArgs } from "./_cli_args.ts";
 * import assert from "node:assert/strict";
 *
 * const args = parseArgs(indexCommand.spec, ["out", "--run", "R", "--status", "error"]);
 * assert.equal(args.flags.status, "error");
 * assert.throws(() => parseArgs(indexCommand.spec, ["out", "--run", "R", "--lane", "both"]), /forecast, shadow/);
 * ```
 */
export const indexCommand: Command = defineCommand(spec, main);

async function main(args: ParsedArgs<typeof spec.flags>): Promise<number> {
  const dir = args.positionals[0] as string;
  const runId = args.flags.run;
  const filter: RunEventFilter = {};
  if (args.flags.lane !== undefined) filter.lane = args.flags.lane;
  if (args.flags.status !== undefined) filter.status = args.flags.status;
  if (args.flags.task !== undefined) filter.task = args.flags.task;
  await requestDirAccess("read", dir);
  const by = args.flags.by;
  const scan = await scanRun(dir, runId, filter, by);
  if (filter.task !== undefined && !scan.taskSeen) {
    throw new CliError(`Run ${runId} has no task named ${printableArg(filter.task)}`);
  }
  const totals = by === undefined ? undefined : scan.totals;
  if (args.flags.json) {
    const rows = totals === undefined
      ? { events: scan.events }
      : by === "task"
      ? { tasks: totals }
      : { lanes: totals };
    console.log(JSON.stringify({ run_id: runId, ticks: scan.ticks, filter, ...rows }, null, 2));
  } else if (totals === undefined) {
    printEvents(scan.events, scan.ticks);
  } else {
    printTotals(totals, scan.ticks, by === "task");
  }
  return 0;
}

interface RunScan {
  ticks: number;
  /** Whether any event has the --task asked for (whatever the other filters). */
  taskSeen: boolean;
  /** The matching events, when listing them; a failed one with its error text when recorded. */
  events: (RunEvent & { error?: string | null })[];
  /** Totals by lane and task, when totalling. */
  totals: EventTotals[];
}

// One pass over the run's manifest and TrendPacks, a window of the manifest
// and one tick in memory at a time (plus a few reads ahead): only the
// matching events, or the running totals, are kept, so memory is flat in the
// run's length.
async function scanRun(
  dir: string,
  runId: string,
  filter: RunEventFilter,
  by: "task" | "lane" | undefined,
): Promise<RunScan> {
  const scan: RunScan = { ticks: 0, taskSeen: false, events: [], totals: [] };
  const ticks = streamRunTickRecords(dir, runId, readRunManifest, READ_CONCURRENCY);
  for await (const { tick, records } of ticks) {
    scan.ticks++;
    if (filter.task !== undefined && !scan.taskSeen) {
      scan.taskSeen = runEvents([tick], { task: filter.task }).length > 0;
    }
    const events = runEvents([tick], filter);
    if (by === undefined) {
      const record = records.findLast((r) => r.schema === ARTIFACT_LAYOUT.resultspack.schema);
      const errors = record !== undefined && events.some((e) => e.status === "error")
        ? await readErrorTexts(dir, record, runId)
        : undefined;
      for (const event of events) {
        const error = event.status === "error" ? errors?.get(event.task) : undefined;
        scan.events.push(error === undefined ? event : { ...event, error });
      }
      continue;
    }
    scan.totals = mergeTotals(scan.totals, by === "task" ? taskTotals(events) : laneTotals(events));
  }
  return scan;
}

function printEvents(
  events: readonly (RunEvent & { error?: string | null })[],
  ticks: number,
): void {
  const texts = events.some((e) => "error" in e);
  const lines = renderTable(
    [
      { header: "tick", right: true },
      { header: "order", right: true },
      { header: "task" },
      { header: "lane" },
      { header: "status" },
      { header: "cost_ops", right: true },
      { header: "cost_entropy", right: true },
      ...(texts ? [{ header: "error" }] : []),
    ],
    events.map((e) => [
      e.tick,
      e.order,
      e.task,
      e.lane,
      e.status,
      e.cost_ops,
      e.cost_entropy,
      ...(texts ? [e.error ?? ""] : []),
    ]),
  );
  for (const line of lines) console.log(line);
  console.log(`${plural(events.length, "event")} in ${plural(ticks, "tick")}`);
}

function printTotals(totals: readonly EventTotals[], ticks: number, byTask: boolean): void {
  const lines = renderTable(
    [
      ...(byTask ? [{ header: "task" }] : []),
      { header: "lane" },
      { header: "runs", right: true },
      { header: "ok", right: true },
      { header: "errors", right: true },
      { header: "skipped", right: true },
      { header: "spent_ops", right: true },
      { header: "spent_entropy", right: true },
    ],
    totals.map((t) => [
      ...(byTask ? [t.task ?? ""] : []),
      t.lane,
      t.runs,
      t.ok,
      t.errors,
      t.skipped,
      t.spent_ops,
      t.spent_entropy,
    ]),
  );
  for (const line of lines) console.log(line);
  console.log(`${plural(totals.length, byTask ? "task" : "lane")} in ${plural(ticks, "tick")}`);
}
