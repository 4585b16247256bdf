// `ers promote status|history`: where a run's promotion candidates stand, and
// the decisions that moved them, read back from the run's records.

import type { PromotionWindow } from "../ers/promotion.ts";
import {
  type PromotionCandidateStatus,
  type PromotionHistoryEntry,
  readPromotionHistory,
  readPromotionStatus,
} from "../runtime/promotion.ts";
import {
  type Command,
  type CommandSpec,
  defineCommand,
  helpText,
  type ParsedArgs,
  runIdFlag,
  UsageError,
} from "./_cli_args.ts";
import { requestDirAccess } from "./_cli_access.ts";
import { cell, plural, renderTable } from "./_cli_table.ts";

const DIR = { name: "DIR", help: "The artifacts directory" } as const;
const JSON_FLAG = { kind: "boolean", help: "Print JSON instead of text" } as const;

const statusSpec = {
  name: "promote status",
  summary: "Where each promotion candidate of a run stands",
  description: [
    "Replays the run's recorded ticks and promotion decisions (checking that each",
    "decision follows from the ticks) and prints one line per candidate: its state",
    "(candidate, promoted, or demoted: promoted once, back in the shadow lane), the",
    "lane it runs in from the next tick on, its window so far, and the tick of its",
    "last promotion or demotion.",
  ],
  positionals: [DIR],
  flags: { run: runIdFlag("The run", true), json: JSON_FLAG },
  permissions: "read DIR.",
} as const satisfies CommandSpec;

const historySpec = {
  name: "promote history",
  summary: "The promotion decisions of a run, in order",
  description: [
    "Lists the run's PromotionDecision.v0 records in order (tick, then task):",
    "enrolled, promoted, demoted, reset (the definition changed) and withdrawn, with",
    "the lanes, the rule that fired and the window judged. Each is checked to follow",
    "from the recorded ticks.",
  ],
  positionals: [DIR],
  flags: {
    run: runIdFlag("The run", true),
    task: { kind: "string", value: "NAME", help: "Only this task's decisions" },
    json: JSON_FLAG,
  },
  permissions: "read DIR.",
} as const satisfies CommandSpec;

const status = defineCommand(statusSpec, runStatus);
const history = defineCommand(historySpec, runHistory);
const ACTIONS: Readonly<Record<string, Command>> = { status, history };

const spec: CommandSpec = {
  name: "promote",
  summary: "Promotion candidates of a run: status, or history of decisions",
  description: [
    "promote status DIR --run ID [--json]: where each candidate stands.",
    "promote history DIR --run ID [--task NAME] [--json]: the decisions, in order.",
    "Run 'ers promote status --help' or 'ers promote history --help' for details.",
  ],
  positionals: [{ name: "status|history", help: "What to show" }, DIR],
  flags: historySpec.flags,
  permissions: "read DIR.",
};

/**
 * The `promote` command: `status` and `history` of a run's promotion
 * candidates, as text or JSON.
 *
 * @example It needs an action
 * ```ts
 * import { promoteCommand } from "./_cli_promote.ts";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(promoteCommand.main(["out", "--run", "R"]), /status or history/);
 * ```
 */
export const promoteCommand: Command = {
  spec,
  async main(args: readonly string[]): Promise<number> {
    const [action, ...rest] = args;
    if (action === "-h" || action === "--help") {
      console.log(helpText(spec));
      return 0;
    }
    const command = action === undefined ? undefined : ACTIONS[action];
    if (command === undefined || !Object.hasOwn(ACTIONS, action as string)) {
      const given = action === undefined
        ? "missing action"
        : `unknown action ${JSON.stringify(action)}`;
      throw new UsageError(`${given}: ers promote takes status or history`, "promote");
    }
    try {
      return await command.main(rest);
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(error.message, "promote");
      throw error;
    }
  },
};

async function runStatus(args: ParsedArgs<typeof statusSpec.flags>): Promise<number> {
  const dir = args.positionals[0] as string;
  await requestDirAccess("read", dir);
  const report = await readPromotionStatus(dir, args.flags.run);
  if (args.flags.json) {
    console.log(JSON.stringify(report, null, 2));
    return 0;
  }
  const candidates = report.candidates;
  console.log(cell(
    `run ${report.run_id}, next tick ${report.next_tick}: ${
      plural(candidates.length, "candidate")
    }`,
  ));
  if (candidates.length === 0) return 0;
  console.log("");
  const rows = candidates.map((c) => [
    c.task,
    c.status,
    c.lane,
    progress(c),
    c.last_decision_tick ?? "-",
  ]);
  const columns = [
    { header: "task" },
    { header: "state" },
    { header: "lane" },
    { header: "window" },
    { header: "last decision", right: true },
  ];
  for (const line of renderTable(columns, rows)) console.log(line);
  return 0;
}

// A candidate's window so far: clean ticks toward promotion in the shadow
// lane, errors toward demotion in the forecast lane.
function progress(c: PromotionCandidateStatus): string {
  const w = c.window;
  if (c.lane === "forecast") {
    return `${
      plural(w.errors, "error")
    } in ${w.ticks.length}/${c.settings.window} forecast ticks (max ${c.settings.max_errors})`;
  }
  const extra = [
    w.errors > 0 ? plural(w.errors, "error") : "",
    w.skips > 0 ? plural(w.skips, "skip") : "",
  ]
    .filter((s) => s !== "");
  return `${w.ok}/${c.settings.window} clean ticks${
    extra.length > 0 ? `, ${extra.join(", ")}` : ""
  }`;
}

async function runHistory(args: ParsedArgs<typeof historySpec.flags>): Promise<number> {
  const dir = args.positionals[0] as string;
  await requestDirAccess("read", dir);
  const entries = await readPromotionHistory(dir, args.flags.run, { task: args.flags.task });
  if (args.flags.json) {
    console.log(JSON.stringify(entries, null, 2));
    return 0;
  }
  if (entries.length === 0) {
    const task = args.flags.task;
    const about = task === undefined ? "" : ` for task ${JSON.stringify(task)}`;
    console.log(cell(`run ${args.flags.run}: no promotion decisions${about}`));
    return 0;
  }
  const rows = entries.map((d: PromotionHistoryEntry) => [
    d.tick,
    d.task,
    d.decision,
    d.from,
    d.to,
    d.rule,
    windowText(d.window),
  ]);
  const columns = [
    { header: "tick", right: true },
    { header: "task" },
    { header: "decision" },
    { header: "from" },
    { header: "to" },
    { header: "rule" },
    { header: "window" },
  ];
  for (const line of renderTable(columns, rows)) console.log(line);
  return 0;
}

function windowText(w: PromotionWindow): string {
  if (w.ticks.length === 0) return "-";
  const first = w.ticks[0];
  const last = w.ticks[w.ticks.length - 1];
  const span = first === last ? `tick ${first}` : `ticks ${first}..${last}`;
  return `${span} ${w.lane}: ${w.ok} ok, ${plural(w.errors, "error")}, ${plural(w.skips, "skip")}`;
}
