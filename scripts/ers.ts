/**
 * The `ers` command line: run pipelines tick by tick, check their
 * determinism, and read back and verify the artifacts they leave.
 *
 * ```sh
 * deno task ers --help
 * deno task ers invariance
 * deno task ers run --out ./out --run-id DEMO --ticks 24
 * deno task ers verify ./out
 * deno task ers index ./out --run DEMO --by task
 * deno task ers show ./out --run DEMO --tick 5
 * deno task ers report ./out --run DEMO --out demo.html
 * deno task ers export ./out --run DEMO --format chrome-trace --out demo.trace.json
 * deno task ers keygen --out ./keys/ci
 * deno task ers seal ./out --run DEMO --key ./keys/ci.key
 * deno task ers verify ./out --pub ./keys/ci.pub
 * ```
 *
 * The task grants no permissions up front: each command asks Deno for
 * exactly what it needs (a prompt in a terminal). `invariance` needs none,
 * `verify`, `index` and `show` read their directory, and `run` reads and
 * writes under `--out` only. Exit codes: 0 success, 1 failure (FAIL, a
 * problem found, a missing directory, run or permission), 2 a bad command line.
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };
import { type Command, UsageError, usageLine } from "./_cli_args.ts";
import { detailLines, errorLine } from "./_cli_errors.ts";
import { completionsCommand } from "./_cli_completions.ts";
import { indexCommand } from "./_cli_index.ts";
import { exportCommand, reportCommand } from "./_cli_report.ts";
import { diffCommand, replayCommand } from "./_cli_drift.ts";
import { invarianceCommand } from "./_cli_invariance.ts";
import { keygenCommand } from "./_cli_keygen.ts";
import { promoteCommand } from "./_cli_promote.ts";
import { runCommand } from "./_cli_run.ts";
import { sealCommand } from "./_cli_seal.ts";
import { showCommand } from "./_cli_show.ts";
import { verifyCommand } from "./_cli_verify.ts";

const COMMANDS: readonly Command[] = [
  invarianceCommand,
  runCommand,
  verifyCommand,
  indexCommand,
  showCommand,
  promoteCommand,
  reportCommand,
  exportCommand,
  keygenCommand,
  sealCommand,
  replayCommand,
  diffCommand,
  completionsCommand(() => COMMANDS),
];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.spec.name.length));
  return [
    `ers ${denoJson.version}: the ERS command line (deterministic ticks, traced, hashed, verified)`,
    "",
    "Usage: ers <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(width)}  ${c.spec.summary}`),
    "",
    "Options:",
    "  -h, --help     Show this help, or a command's after its name",
    "  -V, --version  Print the version",
    "",
    "Run 'ers <command> --help' for a command's options and permissions.",
  ].join("\n");
}

async function main(args: readonly string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === "-h" || name === "--help") {
    console.log(mainHelp());
    return 0;
  }
  if (name === "-V" || name === "--version") {
    console.log(`ers ${denoJson.version}`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.spec.name === name);
  try {
    if (command === undefined) {
      throw new UsageError(
        name === undefined ? "missing command" : `unknown command ${JSON.stringify(name)}`,
      );
    }
    return await command.main(rest);
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  console.error(`ers: ${errorLine(error)}`);
  for (const line of detailLines(error)) console.error(line);
  if (!(error instanceof UsageError)) return 1;
  const command = COMMANDS.find((c) => c.spec.name === error.command);
  console.error("");
  if (command === undefined) {
    console.error(mainHelp());
  } else {
    console.error(`Usage: ers ${usageLine(command.spec)}`);
    console.error(`Run 'ers ${command.spec.name} --help' for details.`);
  }
  return 2;
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
