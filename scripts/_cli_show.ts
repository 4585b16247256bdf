// `ers show`: one tick of a run, readable.

import { readRunTick } from "../runtime/run_reader.ts";
import { readTickErrorTexts } from "../runtime/_run_extras.ts";
import { laneTotals, runEvents, type RunTick } from "../viz/run_events.ts";
import {
  type Command,
  type CommandSpec,
  defineCommand,
  type ParsedArgs,
  runIdFlag,
} from "./_cli_args.ts";
import { requestDirAccess } from "./_cli_access.ts";
import { cell, renderTable } from "./_cli_table.ts";

const spec = {
  name: "show",
  summary: "Show one tick: lanes, order, statuses, budgets spent",
  description: [
    "Reads the tick's TrendPack (checked against its SHA-256 in the manifest) and",
    "prints its provenance, its events in execution order, and per lane the",
    "events, statuses and the ops and entropy spent. When the run records the",
    "tick's ResultsPack, each failed task's error text is printed with it.",
  ],
  positionals: [{ name: "DIR", help: "The artifacts directory" }],
  flags: {
    run: runIdFlag("The run", true),
    tick: {
      kind: "integer",
      value: "N",
      help: "The tick",
      required: true,
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
    },
    json: { kind: "boolean", help: "Print JSON instead of text" },
  },
  permissions: "read DIR.",
} as const satisfies CommandSpec;

/**
 * The `show` command: a tick's provenance, its events in execution order
 * with their lanes, statuses and costs, and what each lane spent.
 *
 * @example The tick is required
 * ```ts
 * import { showCommand } from "./_cli_show.ts";
 * import { parseArgs } from "./_cli_args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseArgs(showCommand.spec, ["out", "--run", "R"]), /missing --tick N/);
 * ```
 */
export const showCommand: Command = defineCommand(spec, main);

async function main(args: ParsedArgs<typeof spec.flags>): Promise<number> {
  const dir = args.positionals[0] as string;
  const runId = args.flags.run;
  const tick = args.flags.tick;
  await requestDirAccess("read", dir);
  const shown = await readRunTick(dir, runId, tick);
  const errors = await readTickErrorTexts(dir, shown);
  if (args.flags.json) console.log(JSON.stringify(tickJson(shown, errors), null, 2));
  else for (const line of tickLines(shown, errors)) console.log(line);
  return 0;
}

// Error texts by task, from the tick's ResultsPack (empty when it has none).
type ErrorTexts = ReadonlyMap<string, string | null>;

function tickJson(t: RunTick, errors: ErrorTexts) {
  const events = runEvents([t]);
  return {
    run_id: t.trendpack.run_id,
    tick: t.tick,
    path: t.path,
    sha256: t.sha256,
    provenance: t.trendpack.provenance,
    events: events.map(({ order, task, lane, status, cost_ops, cost_entropy }) => ({
      order,
      task,
      lane,
      status,
      cost_ops,
      cost_entropy,
      ...(status === "error" && errors.has(task) ? { error: errors.get(task) } : {}),
    })),
    lanes: laneTotals(events).map((l) => ({
      lane: l.lane,
      events: l.runs,
      ok: l.ok,
      errors: l.errors,
      skipped: l.skipped,
      spent_ops: l.spent_ops,
      spent_entropy: l.spent_entropy,
    })),
  };
}

function tickLines(t: RunTick, errors: ErrorTexts): string[] {
  const provenance = Object.entries(t.trendpack.provenance)
    .map(([key, value]) => `${key} ${typeof value === "string" ? value : JSON.stringify(value)}`);
  const events = runEvents([t]);
  return [
    cell(`run ${t.trendpack.run_id}, tick ${t.tick} (${provenance.join(", ")})`),
    cell(`${t.path} sha256 ${t.sha256}`),
    "",
    ...renderTable(
      [
        { header: "order", right: true },
        { header: "lane" },
        { header: "task" },
        { header: "status" },
        { header: "cost_ops", right: true },
        { header: "cost_entropy", right: true },
        ...(errors.size > 0 ? [{ header: "error" }] : []),
      ],
      events.map((e) => [
        e.order,
        e.lane,
        e.task,
        e.status,
        e.cost_ops,
        e.cost_entropy,
        ...(errors.size > 0 ? [e.status === "error" ? errors.get(e.task) ?? "" : ""] : []),
      ]),
    ),
    "",
    ...renderTable(
      [
        { header: "lane" },
        { header: "events", right: true },
        { header: "ok", right: true },
        { header: "errors", right: true },
        { header: "skipped", right: true },
        { header: "spent_ops", right: true },
        { header: "spent_entropy", right: true },
      ],
      laneTotals(events).map((
        l,
      ) => [l.lane, l.runs, l.ok, l.errors, l.skipped, l.spent_ops, l.spent_entropy]),
    ),
  ];
}
