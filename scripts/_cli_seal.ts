// `ers seal`: signs a run's manifest and artifacts into its seal chain.

import { readSealKey, type RunSeal, sealRun } from "../runtime/mod.ts";
import {
  type Command,
  type CommandSpec,
  defineCommand,
  type ParsedArgs,
  runIdFlag,
} from "./_cli_args.ts";
import { requireAccess } from "./_cli_access.ts";
import { cell, plural } from "./_cli_table.ts";

const spec = {
  name: "seal",
  summary: "Sign a run's manifest and artifacts into its seal chain",
  description: [
    "Checks every artifact the run records, and the run's earlier seals, then signs",
    "a DSSE envelope of an in-toto Statement naming the manifest and every artifact",
    "with its SHA-256, and appends it to manifests/<run_id>.seal.json, chained to",
    "the seal before it. Sealing again after more ticks appends; when the newest",
    "seal already covers the run, nothing is written. Exits 0 when sealed, 1 when",
    "the run cannot be sealed.",
  ],
  positionals: [{ name: "DIR", help: "The artifacts directory" }],
  flags: {
    run: runIdFlag("The run to seal", true),
    key: {
      kind: "string",
      value: "FILE",
      help: "The private key file, PREFIX.key from 'ers keygen'",
      required: true,
    },
    json: { kind: "boolean", help: "Print the seal as JSON" },
  },
  permissions: "read and write DIR, read the --key FILE.",
} as const satisfies CommandSpec;

/**
 * The `seal` command: appends a signed seal of the run to
 * `manifests/<run_id>.seal.json`, or says the newest seal already covers it.
 *
 * @example It reads the key and reads and writes DIR
 * ```ts
 * import { sealCommand } from "./_cli_seal.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sealCommand.spec.permissions, "read and write DIR, read the --key FILE.");
 * ```
 */
export const sealCommand: Command = defineCommand(spec, main);

async function main(args: ParsedArgs<typeof spec.flags>): Promise<number> {
  const dir = args.positionals[0] as string;
  const { run: runId, key: keyFile } = args.flags;
  await requireAccess([
    { access: "read", path: keyFile, what: "seal key file" },
    { access: "read", path: dir, what: "artifacts directory" },
    { access: "write", path: dir, what: "artifacts directory" },
  ]);
  const key = await readSealKey(keyFile);
  const seal = await sealRun(dir, runId, key);
  if (args.flags.json) {
    console.log(JSON.stringify({ run_id: runId, ...seal }, null, 2));
    return 0;
  }
  console.log(summary(runId, seal));
  console.log(`sha256 ${seal.sha256}`);
  console.log(`keyid  ${seal.keyids.join(", ")}`);
  return 0;
}

function summary(runId: string, seal: RunSeal): string {
  const covers = `${
    plural(seal.records, "record")
  }, ticks ${seal.ticks.first} to ${seal.ticks.last}`;
  return seal.appended
    ? `sealed run ${cell(runId)}: seal ${seal.index} in ${seal.path} covers ${covers}`
    : `run ${cell(runId)} is already sealed: seal ${seal.index} in ${seal.path} covers ${covers}`;
}
