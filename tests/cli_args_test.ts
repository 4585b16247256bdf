// Unit tests of the command line's argument parsing and tables.
import assert from "node:assert/strict";
import { type CommandSpec, parseArgs, UsageError } from "../scripts/_cli_args.ts";
import { renderTable } from "../scripts/_cli_table.ts";

const spec: CommandSpec = {
  name: "run",
  summary: "",
  usage: "run --mode M",
  description: [],
  positionals: [],
  flags: {
    mode: { kind: "string", value: "M", help: "" },
    ticks: { kind: "integer", value: "N", help: "", min: 1, max: 9 },
    json: { kind: "boolean", help: "" },
  },
  permissions: "none.",
};

Deno.test("parseArgs() reads -h as help only where a flag can stand", () => {
  assert.equal(parseArgs(spec, ["-h"]).help, true);
  assert.equal(parseArgs(spec, ["--json", "--help", "--bogus"]).help, true);
  assert.deepEqual(parseArgs(spec, ["--mode", "-h"]).flags, { mode: "-h" });
  assert.equal(parseArgs(spec, ["--mode=x", "-h"]).help, true);
  assert.throws(() => parseArgs(spec, ["--ticks", "-h"]), UsageError);
  assert.throws(() => parseArgs(spec, ["--", "-h"]), /unexpected argument "-h"/); // after --, not help
});

Deno.test("renderTable() handles more rows than a spread call could take", () => {
  const rows = Array.from({ length: 300_000 }, (_, i) => [`task-${i}`, i]);
  const lines = renderTable([{ header: "task" }, { header: "n", right: true }], rows);
  assert.equal(lines.length, 300_001);
  assert.equal(lines.at(-1), "task-299999  299999");
});
