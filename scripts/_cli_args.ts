// Command-line parsing for `ers`: each command declares its flags once; a
// bad command line is a UsageError (exit 2), checked before anything runs.

// Most arguments one command line may hold, and the longest argument
// accepted (UTF-16 code units).
const MAX_ARGS = 256;
const MAX_ARG_LENGTH = 4096;

export { RUN_ID_PATTERN } from "../runtime/_paths.ts";

/** A flag a command accepts. */
export type FlagSpec =
  | {
    kind: "string";
    /** Placeholder in help, such as `DIR`. */
    value: string;
    help: string;
    required?: boolean;
    /** The only values accepted. */
    choices?: readonly string[];
    /** A pattern the value must match, and the rule it states. */
    pattern?: { regexp: RegExp; rule: string };
  }
  | {
    kind: "integer";
    value: string;
    help: string;
    required?: boolean;
    min: number;
    max: number;
  }
  | { kind: "boolean"; help: string };

/** What a command accepts, and its help. */
export interface CommandSpec {
  /** The command's name, such as `run`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The usage line, without the leading `ers `. */
  usage: string;
  /** Paragraph lines shown under the usage line. */
  description: readonly string[];
  /** Required positional arguments, in order. */
  positionals: readonly { name: string; help: string }[];
  /** Flags by name, without the leading `--`. */
  flags: Readonly<Record<string, FlagSpec>>;
  /** What Deno must grant, in one line. */
  permissions: string;
}

/** A parsed command line. */
export interface ParsedArgs {
  /** The positional arguments, in order. */
  positionals: string[];
  /** Flag values by name; integers as numbers, booleans as `true`. */
  flags: Record<string, string | number | boolean>;
  /** Whether `-h` or `--help` was given. */
  help: boolean;
}

/** A command: its spec and what it does; `main` returns the exit code. */
export interface Command {
  /** What it accepts. */
  spec: CommandSpec;
  /** Runs it; returns the exit code (0 or 1). */
  main(args: ParsedArgs): Promise<number>;
}

/**
 * A command line that cannot run: unknown command or flag, missing or bad
 * value. The CLI prints the message and the usage, and exits 2.
 *
 * @example Carries the command whose usage to print
 * ```ts
 * import { UsageError } from "./_cli_args.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new UsageError("missing --out DIR", "run");
 * assert.equal(error.name, "UsageError");
 * assert.equal(error.command, "run");
 * ```
 */
export class UsageError extends Error {
  /** Always `"UsageError"`. */
  override name = "UsageError";
  /** The command whose usage applies, if any. */
  readonly command: string | undefined;

  /**
   * Creates the error.
   *
   * @param message What is wrong with the command line.
   * @param command The command whose usage applies.
   */
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

/**
 * Parses a command's arguments: `--flag value`, `--flag=value`, boolean
 * `--flag`, `-h`/`--help`, positionals, and `--` to end the flags.
 *
 * @param spec The command's flags and positionals.
 * @param args The arguments after the command name.
 * @returns The positionals and flag values, checked.
 * @throws {UsageError} Naming the unknown, repeated, missing or bad flag.
 *
 * @example Flags are checked and typed
 * ```ts
 * import { parseArgs, type CommandSpec, UsageError } from "./_cli_args.ts";
 * import assert from "node:assert/strict";
 *
 * const spec: CommandSpec = {
 *   name: "run", summary: "", usage: "run --ticks N", description: [], positionals: [], permissions: "",
 *   flags: { ticks: { kind: "integer", value: "N", help: "", required: true, min: 1, max: 10 } },
 * };
 * assert.deepEqual(parseArgs(spec, ["--ticks=3"]).flags, { ticks: 3 });
 * assert.throws(() => parseArgs(spec, ["--ticks", "0"]), UsageError);
 * assert.throws(() => parseArgs(spec, ["--tick", "3"]), /unknown flag --tick/);
 * assert.equal(parseArgs(spec, ["--help"]).help, true);
 * assert.equal(parseArgs(spec, ["-h", "--tick", "3"]).help, true); // help wins
 * assert.throws(() => parseArgs(spec, ["--ticks", "-h"]), UsageError); // a value, not help
 * ```
 */
export function parseArgs(spec: CommandSpec, args: readonly string[]): ParsedArgs {
  checkLimits(spec.name, args);
  const parsed: ParsedArgs = { positionals: [], flags: {}, help: false };
  if (asksForHelp(spec, args)) {
    parsed.help = true;
    return parsed;
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") {
      parsed.positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("-") && arg !== "-") {
      i = readFlag(spec, args, i, parsed.flags);
    } else {
      parsed.positionals.push(arg);
    }
  }
  checkComplete(spec, parsed);
  return parsed;
}

// Whether -h or --help stands where a flag can stand (not as a flag's value,
// as in `--mode -h`, nor after `--`). Help wins over any other problem.
function asksForHelp(spec: CommandSpec, args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") return false;
    if (arg === "-h" || arg === "--help") return true;
    const name = arg.startsWith("--") && !arg.includes("=") ? arg.slice(2) : "";
    const flag = Object.hasOwn(spec.flags, name) ? spec.flags[name] : undefined;
    if (flag !== undefined && flag.kind !== "boolean") i++; // skip its value
  }
  return false;
}

function checkLimits(command: string, args: readonly string[]): void {
  if (args.length > MAX_ARGS) {
    throw new UsageError(`too many arguments: ${args.length}, at most ${MAX_ARGS}`, command);
  }
  const long = args.find((arg) => arg.length > MAX_ARG_LENGTH);
  if (long !== undefined) {
    throw new UsageError(`an argument is longer than ${MAX_ARG_LENGTH} characters`, command);
  }
}

// Reads the flag at args[i] (and its value); returns the index of the last
// argument consumed.
function readFlag(
  spec: CommandSpec,
  args: readonly string[],
  i: number,
  flags: ParsedArgs["flags"],
): number {
  const arg = args[i] as string;
  const eq = arg.indexOf("=");
  const name = arg.startsWith("--") ? arg.slice(2, eq < 0 ? undefined : eq) : "";
  const flag = Object.hasOwn(spec.flags, name) ? spec.flags[name] : undefined;
  if (flag === undefined) {
    const given = arg.slice(0, eq < 0 ? undefined : eq);
    const shown = /^--?[A-Za-z0-9-]+$/.test(given) ? given : printableArg(given);
    throw new UsageError(`unknown flag ${shown}`, spec.name);
  }
  if (Object.hasOwn(flags, name)) throw new UsageError(`--${name} given twice`, spec.name);
  if (flag.kind === "boolean") {
    if (eq >= 0) throw new UsageError(`--${name} takes no value`, spec.name);
    flags[name] = true;
    return i;
  }
  let value: string;
  let last = i;
  if (eq >= 0) {
    value = arg.slice(eq + 1);
  } else {
    if (i + 1 >= args.length || (args[i + 1] as string).startsWith("--")) {
      throw new UsageError(`--${name} needs a value ${flag.value}`, spec.name);
    }
    value = args[i + 1] as string;
    last = i + 1;
  }
  flags[name] = flag.kind === "integer"
    ? parseInteger(spec.name, name, flag, value)
    : checkString(spec.name, name, flag, value);
  return last;
}

function parseInteger(
  command: string,
  name: string,
  flag: Extract<FlagSpec, { kind: "integer" }>,
  value: string,
): number {
  const number = /^(0|[1-9][0-9]*)$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number) || number < flag.min || number > flag.max) {
    throw new UsageError(
      `Cannot ${command} as '--${name}' must be an integer from ${flag.min} to ${flag.max}: current value is ${
        printableArg(value)
      }`,
      command,
    );
  }
  return number;
}

function checkString(
  command: string,
  name: string,
  flag: Extract<FlagSpec, { kind: "string" }>,
  value: string,
): string {
  const rule = flag.choices !== undefined
    ? (flag.choices.includes(value) ? undefined : `one of ${flag.choices.join(", ")}`)
    : flag.pattern !== undefined && !flag.pattern.regexp.test(value)
    ? flag.pattern.rule
    : value === ""
    ? "a non-empty string"
    : undefined;
  if (rule !== undefined) {
    throw new UsageError(
      `Cannot ${command} as '--${name}' must be ${rule}: current value is ${printableArg(value)}`,
      command,
    );
  }
  return value;
}

function checkComplete(spec: CommandSpec, parsed: ParsedArgs): void {
  const expected = spec.positionals;
  if (parsed.positionals.length > expected.length) {
    const extra = parsed.positionals[expected.length] as string;
    throw new UsageError(`unexpected argument ${printableArg(extra)}`, spec.name);
  }
  const missing = expected[parsed.positionals.length];
  if (missing !== undefined) throw new UsageError(`missing ${missing.name}`, spec.name);
  if (parsed.positionals.some((p) => p === "")) {
    throw new UsageError("a positional argument is empty", spec.name);
  }
  for (const [name, flag] of Object.entries(spec.flags)) {
    if (flag.kind !== "boolean" && flag.required && !Object.hasOwn(parsed.flags, name)) {
      throw new UsageError(`missing --${name} ${flag.value}`, spec.name);
    }
  }
}

/**
 * Quotes an argument for a message, escaping control characters so that a
 * hostile argument cannot drive the terminal.
 *
 * @param arg The argument.
 * @returns It as a JSON string.
 *
 * @example Escapes are visible
 * ```ts
 * import { printableArg } from "./_cli_args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(printableArg("a\u001b[2Jb"), '"a\\u001b[2Jb"');
 * ```
 */
export function printableArg(arg: string): string {
  return JSON.stringify(arg);
}

/**
 * The help of a command: usage, description, positionals and flags, and the
 * permissions it needs.
 *
 * @param spec The command.
 * @returns The help text, lines joined with `\n`.
 *
 * @example Every flag is listed
 * ```ts
 * import { helpText } from "./_cli_args.ts";
 * import assert from "node:assert/strict";
 *
 * const text = helpText({
 *   name: "show", summary: "", usage: "show DIR --tick N", description: ["Shows a tick."],
 *   positionals: [{ name: "DIR", help: "Artifacts directory" }], permissions: "read DIR",
 *   flags: { tick: { kind: "integer", value: "N", help: "The tick", required: true, min: 0, max: 9 } },
 * });
 * assert.match(text, /^Usage: ers show DIR --tick N$/m);
 * assert.match(text, /^  --tick N +The tick$/m);
 * assert.match(text, /^  -h, --help +Show this help$/m);
 * ```
 */
export function helpText(spec: CommandSpec): string {
  const rows: [string, string][] = [
    ...spec.positionals.map((p): [string, string] => [p.name, p.help]),
    ...Object.entries(spec.flags).map(([name, flag]): [string, string] => [
      flag.kind === "boolean" ? `--${name}` : `--${name} ${flag.value}`,
      flag.kind === "string" && (flag.choices?.length ?? 0) > 1
        ? `${flag.help}: ${flag.choices?.join(", ")}`
        : flag.help,
    ]),
    ["-h, --help", "Show this help"],
  ];
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `Usage: ers ${spec.usage}`,
    "",
    ...spec.description,
    "",
    "Arguments and options:",
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`),
    "",
    `Permissions: ${spec.permissions}`,
  ].join("\n");
}
