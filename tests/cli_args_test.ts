// Unit tests of the command line's argument parsing and tables.
import assert from "node:assert/strict";
import {
  type CommandSpec,
  helpText,
  parseArgs,
  runIdFlag,
  UsageError,
  usageLine,
} from "../scripts/_cli_args.ts";
import { renderTable } from "../scripts/_cli_table.ts";

const spec = {
  name: "run",
  summary: "",
  description: [],
  positionals: [],
  flags: {
    mode: { kind: "string", value: "M", help: "" },
    ticks: { kind: "integer", value: "N", help: "", min: 1, max: 9 },
    json: { kind: "boolean", help: "" },
  },
  permissions: "none.",
} as const satisfies CommandSpec;

Deno.test("parseArgs() reads -h as help only where a flag can stand", () => {
  assert.equal(parseArgs(spec, ["-h"]).help, true);
  assert.equal(parseArgs(spec, ["--json", "--help", "--bogus"]).help, true);
  // A value that looks like a flag is refused, not taken as help; `=` gives it.
  assert.throws(() => parseArgs(spec, ["--mode", "-h"]), /--mode needs a value M.*--mode=-h/);
  assert.deepEqual(parseArgs(spec, ["--mode=-h"]).flags, { mode: "-h", json: false });
  assert.equal(parseArgs(spec, ["--mode=x", "-h"]).help, true);
  assert.throws(() => parseArgs(spec, ["--ticks", "-h"]), UsageError);
  assert.throws(() => parseArgs(spec, ["--", "-h"]), /unexpected argument "-h"/); // after --, not help
});

Deno.test("parseArgs() names the closest known flag for a typo", () => {
  const out = {
    ...spec,
    flags: { ...spec.flags, out: { kind: "string", value: "DIR", help: "" } },
  } as const satisfies CommandSpec;
  assert.throws(
    () => parseArgs(out, ["--output", "x"]),
    /^UsageError: unknown flag --output; did you mean --out\?$/,
  );
  assert.throws(() => parseArgs(out, ["--tikcs", "3"]), /did you mean --ticks\?/);
  assert.throws(() => parseArgs(out, ["--zzzzzz"]), /^UsageError: unknown flag --zzzzzz$/);
  assert.throws(() => parseArgs(out, ["-x"]), /^UsageError: unknown flag -x$/);
  assert.throws(() => parseArgs(out, ["--json=yes"]), /^UsageError: --json takes no value$/);
  assert.throws(() => parseArgs(out, ["--out"]), /^UsageError: --out needs a value DIR$/);
  assert.throws(() => parseArgs(out, ["--json", "--json"]), /--json given twice/);
});

Deno.test("parseArgs() accepts --run and --run-id as one flag", () => {
  const show = {
    ...spec,
    flags: { run: runIdFlag("The run", true) },
  } as const satisfies CommandSpec;
  assert.equal(parseArgs(show, ["--run-id=A"]).flags.run, "A");
  assert.equal(parseArgs(show, ["--run", "A"]).flags.run, "A");
  assert.throws(() => parseArgs(show, []), /^UsageError: missing --run ID$/);
  assert.throws(
    () => parseArgs(show, ["--run-id", "A", "--run", "A"]),
    /--run-id and --run are the same flag/,
  );
  assert.throws(() => parseArgs(show, ["--run", ".."]), /'--run' must be 1 to 128 letters/);
  assert.match(helpText(show), /^ {2}--run, --run-id ID +The run$/m);
  assert.equal(usageLine(show), "run --run ID");
});

Deno.test("parseArgs() fills defaults and false, and checks ranges", () => {
  const withDefaults = {
    ...spec,
    flags: {
      ...spec.flags,
      from: { kind: "integer", value: "T", help: "", min: 0, max: 5, default: 0 },
    },
  } as const satisfies CommandSpec;
  const parsed = parseArgs(withDefaults, []);
  const from: number = parsed.flags.from; // typed as a number: it has a default
  assert.equal(from, 0);
  assert.equal(parsed.flags.json, false);
  assert.throws(
    () => parseArgs(withDefaults, ["--from", "6"]),
    /from 0 to 5: current value is "6"/,
  );
  assert.throws(() => parseArgs(withDefaults, ["--from", "01"]), /current value is "01"/);
  assert.throws(() => parseArgs(withDefaults, ["extra"]), /unexpected argument "extra"/);
});

Deno.test("renderTable() handles more rows than a spread call could take", () => {
  const rows = Array.from({ length: 300_000 }, (_, i) => [`task-${i}`, i]);
  const lines = renderTable([{ header: "task" }, { header: "n", right: true }], rows);
  assert.equal(lines.length, 300_001);
  assert.equal(lines.at(-1), "task-299999  299999");
});
