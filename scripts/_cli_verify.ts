// `ers verify`: re-hashes artifacts against their manifests, and checks seals.

import {
  readSealPublicKey,
  type SealPublicKey,
  verifyArtifacts,
  type VerifyIssue,
} from "../runtime/mod.ts";
import {
  type Command,
  type CommandSpec,
  defineCommand,
  type ParsedArgs,
  runIdFlag,
} from "./_cli_args.ts";
import { requestDirAccess, requestFileRead } from "./_cli_access.ts";
import { type ProgressLine, progressLine } from "./_cli_progress.ts";
import { cell, plural } from "./_cli_table.ts";

const spec = {
  name: "verify",
  summary: "Re-hash artifacts against their manifests",
  description: [
    "Re-hashes every artifact the manifests under DIR record. A recorded file that",
    "is missing or differs, a RunIndex that disagrees with its TrendPack, or a bad",
    "manifest is an error; a file no record names is a warning. A sealed run's",
    "seals are checked too: the chain, every artifact they name, and that the",
    "manifest still holds what they name. With --pub, every run checked must be",
    "sealed and every seal signed by that key (or, with several keys after a key",
    "change, by one of them). Exits 0 when there are no errors, 1 otherwise.",
  ],
  positionals: [{ name: "DIR", help: "The artifacts directory" }],
  flags: {
    run: runIdFlag("Check only this run", false),
    pub: {
      kind: "string",
      value: "FILE[,FILE]",
      help: "Check seal signatures with this public key (PREFIX.pub), or any of several",
    },
    json: { kind: "boolean", help: "Print the report as JSON" },
  },
  permissions: "read DIR (and each --pub FILE).",
} as const satisfies CommandSpec;

/**
 * The `verify` command: one line per problem naming its file; exits 0 when
 * nothing recorded is wrong (warnings allowed), 1 otherwise.
 *
 * @example It only needs to read
 * ```ts
 * import { verifyCommand } from "./_cli_verify.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(verifyCommand.spec.permissions, "read DIR (and each --pub FILE).");
 * ```
 */
export const verifyCommand: Command = defineCommand(spec, main);

async function main(args: ParsedArgs<typeof spec.flags>): Promise<number> {
  const dir = args.positionals[0] as string;
  const publicKey = await readPublicKeys(args.flags.pub);
  await requestDirAccess("read", dir);
  // A progress line only for people: on a terminal, never with --json.
  let progress: ProgressLine | undefined;
  const onProgress = !args.flags.json && Deno.stderr.isTerminal()
    ? (done: number, total: number) => (progress ??= progressLine(total, "files")).update(done)
    : undefined;
  let report;
  try {
    report = await verifyArtifacts(dir, { runId: args.flags.run, publicKey, onProgress });
  } finally {
    progress?.clear();
  }
  if (args.flags.json) {
    console.log(JSON.stringify(report, null, 2));
    return report.ok ? 0 : 1;
  }
  const line = (kind: string, issue: VerifyIssue) =>
    console.log(`${kind} ${cell(issue.path)}: ${cell(issue.message)}`);
  for (const issue of report.errors) line("error  ", issue);
  for (const issue of report.warnings) line("warning", issue);
  const counts = [
    plural(report.runs.length, "run"),
    plural(report.records, "record"),
    ...(report.seals > 0 || publicKey !== undefined ? [plural(report.seals, "seal")] : []),
    plural(report.errors.length, "error"),
    plural(report.warnings.length, "warning"),
  ];
  console.log(`${report.ok ? "OK" : "FAIL"}: ${counts.join(", ")} in ${cell(dir)}`);
  return report.ok ? 0 : 1;
}

async function readPublicKeys(files: string | undefined): Promise<SealPublicKey[] | undefined> {
  if (files === undefined) return undefined;
  const keys: SealPublicKey[] = [];
  for (const file of files.split(",")) {
    await requestFileRead(file, "public key file");
    keys.push(await readSealPublicKey(file));
  }
  return keys;
}
