// `ers keygen`: an Ed25519 key pair for sealing runs.

import { dirname } from "node:path";
import { generateSealKey } from "../runtime/mod.ts";
import { type Command, type CommandSpec, defineCommand, type ParsedArgs } from "./_cli_args.ts";
import { requireAccess } from "./_cli_access.ts";

const spec = {
  name: "keygen",
  summary: "Generate an Ed25519 key pair for sealing runs",
  description: [
    "Generates an Ed25519 key pair with Web Crypto and writes PREFIX.key, the",
    "private key (mode 0600; keep it secret, and out of the artifacts directory),",
    "and PREFIX.pub, the public key that 'ers verify --pub' checks seals with.",
    "Refuses to replace an existing file unless --force is given.",
  ],
  positionals: [],
  flags: {
    out: {
      kind: "string",
      value: "PREFIX",
      help: "Write PREFIX.key and PREFIX.pub",
      required: true,
    },
    force: { kind: "boolean", help: "Replace PREFIX.key and PREFIX.pub if they exist" },
  },
  permissions: "read and write the directory of PREFIX.",
} as const satisfies CommandSpec;

/**
 * The `keygen` command: writes `PREFIX.key` (mode 0600) and `PREFIX.pub`,
 * refusing to replace either unless `--force` is given.
 *
 * @example It needs the directory of PREFIX only
 * ```ts
 * import { keygenCommand } from "./_cli_keygen.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(keygenCommand.spec.name, "keygen");
 * assert.match(keygenCommand.spec.permissions, /directory of PREFIX/);
 * ```
 */
export const keygenCommand: Command = defineCommand(spec, main);

async function main(args: ParsedArgs<typeof spec.flags>): Promise<number> {
  const prefix = args.flags.out;
  const dir = dirname(prefix);
  await requireAccess([
    { access: "read", path: dir, what: "key directory" },
    { access: "write", path: dir, what: "key directory" },
  ]);
  const files = await generateSealKey(prefix, { overwrite: args.flags.force });
  console.log(`wrote ${files.keyPath} (private key, mode 0600: keep it secret)`);
  console.log(`wrote ${files.pubPath} (public key: give it to 'ers verify --pub')`);
  console.log(`keyid ${files.keyid}`);
  return 0;
}
