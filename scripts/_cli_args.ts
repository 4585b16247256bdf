// Command-line parsing for `ers`: each command declares its flags once, in a
// spec from which its parser, its flag types, its usage line and its help all
// follow. Tokenizing is `parseArgs` from `node:util` (strict); what is left
// here are ERS's own checks (ranges, choices, patterns) and the messages. A
// bad command line is a UsageError (exit 2), found before anything runs.

import { parseArgs as nodeParseArgs } from "node:util";

// Most arguments one command line may hold, and the longest argument
// accepted (UTF-16 code units).
const MAX_ARGS = 256;
const MAX_ARG_LENGTH = 4096;

import { RUN_ID_PATTERN } from "../runtime/_paths.ts";

export { RUN_ID_PATTERN };

/** A string flag: `--out DIR`. */
export interface StringFlag {
  readonly kind: "string";
  /** Placeholder in help, such as `DIR`. */
  readonly value: string;
  /** One line for the help. */
  readonly help: string;
  /** Whether the command line must give it. */
  readonly required?: boolean;
  /** The value when the flag is not given. */
  readonly default?: string;
  /** Other names accepted for the flag, without the leading `--`. */
  readonly aliases?: readonly string[];
  /** The only values accepted. */
  readonly choices?: readonly string[];
  /** A pattern the value must match, and the rule it states. */
  readonly pattern?: { readonly regexp: RegExp; readonly rule: string };
}

/** An integer flag: `--ticks N`, with its inclusive range. */
export interface IntegerFlag {
  readonly kind: "integer";
  /** Placeholder in help, such as `N`. */
  readonly value: string;
  /** One line for the help. */
  readonly help: string;
  /** Whether the command line must give it. */
  readonly required?: boolean;
  /** The value when the flag is not given. */
  readonly default?: number;
  /** Other names accepted for the flag, without the leading `--`. */
  readonly aliases?: readonly string[];
  /** The smallest value accepted. */
  readonly min: number;
  /** The largest value accepted. */
  readonly max: number;
}

/** A boolean flag: `--json`; `false` when absent. */
export interface BooleanFlag {
  readonly kind: "boolean";
  /** One line for the help. */
  readonly help: string;
  /** Other names accepted for the flag, without the leading `--`. */
  readonly aliases?: readonly string[];
}

/** A flag a command accepts. */
export type FlagSpec = StringFlag | IntegerFlag | BooleanFlag;

/** Flags by name, without the leading `--`. */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** What a command accepts, and its help. */
export interface CommandSpec<F extends FlagSpecs = FlagSpecs> {
  /** The command's name, such as `run`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Paragraph lines shown under the usage line. */
  readonly description: readonly string[];
  /** Positional arguments, in order; each is required unless `optional`. */
  readonly positionals: readonly {
    readonly name: string;
    readonly help: string;
    readonly optional?: boolean;
  }[];
  /** Flags by name, without the leading `--`. */
  readonly flags: F;
  /** What Deno must grant, in one line. */
  readonly permissions: string;
}

/** The value type a flag spec parses to (a choice flag to the union of its choices). */
export type FlagValue<S extends FlagSpec> = S extends BooleanFlag ? boolean
  : S extends IntegerFlag ? number
  : S extends { readonly choices: readonly (infer C extends string)[] } ? C
  : string;

/** Parsed flag values: present when required, defaulted or boolean, else possibly undefined. */
export type FlagValues<F extends FlagSpecs> = {
  -readonly [K in keyof F]: F[K] extends
    BooleanFlag | { readonly required: true } | { readonly default: string | number }
    ? FlagValue<F[K]>
    : FlagValue<F[K]> | undefined;
};

/** A parsed command line. */
export interface ParsedArgs<F extends FlagSpecs = FlagSpecs> {
  /** The positional arguments, in order. */
  positionals: string[];
  /** Flag values by name; integers as numbers, booleans as `true`/`false`. */
  flags: FlagValues<F>;
  /** Whether `-h` or `--help` was given (then nothing else was checked). */
  help: boolean;
}

/** A command: its spec and what it does; `main` returns the exit code. */
export interface Command {
  /** What it accepts. */
  readonly spec: CommandSpec;
  /**
   * Parses the arguments after the command name and runs it, or prints its
   * help for `-h`; returns the exit code (0 or 1).
   *
   * @throws {UsageError} When the command line is bad (exit 2).
   */
  main(args: readonly string[]): Promise<number>;
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
 * Makes a command from its spec and its body. The body's `args.flags` is
 * typed from the spec: `--ticks` with `required: true` is a `number`, a
 * `choices` flag the union of its choices, an optional flag may be
 * `undefined`, a boolean is always `true` or `false`.
 *
 * @param spec What the command accepts.
 * @param run The body; returns the exit code.
 * @returns The command, whose `main` parses, prints help or runs.
 *
 * @example A command with a typed flag
 * ```ts
 * import { defineCommand } from "./_cli_args.ts";
 * import assert from "node:assert/strict";
 *
 * let seen = 0;
 * const echo = defineCommand({
 *   name: "echo", summary: "Echo", description: [], positionals: [], permissions: "none.",
 *   flags: { times: { kind: "integer", value: "N", help: "How often", min: 1, max: 9, default: 1 } },
 * }, (args) => {
 *   seen = args.flags.times; // a number, no cast
 *   return Promise.resolve(0);
 * });
 * assert.equal(await echo.main(["--times", "3"]), 0);
 * assert.equal(seen, 3);
 * ```
 */
export function defineCommand<const F extends FlagSpecs>(
  spec: CommandSpec<F>,
  run: (args: ParsedArgs<F>) => Promise<number>,
): Command {
  return {
    spec,
    async main(args: readonly string[]): Promise<number> {
      const parsed = parseArgs(spec, args);
      if (!parsed.help) return await run(parsed);
      console.log(helpText(spec));
      return 0;
    },
  };
}

/**
 * Parses a command's arguments with `node:util` `parseArgs` (strict):
 * `--flag value`, `--flag=value`, boolean `--flag`, `-h`/`--help`,
 * positionals, and `--` to end the flags; then checks ranges, choices,
 * patterns, aliases and required flags.
 *
 * @param spec The command's flags and positionals.
 * @param args The arguments after the command name.
 * @returns The positionals and flag values, checked and typed.
 * @throws {UsageError} Naming the unknown (with the closest known flag),
 *   repeated, missing or bad flag.
 *
 * @example Flags are checked and typed
 * ```ts
 * import { parseArgs, UsageError } from "./_cli_args.ts";
 * import assert from "node:assert/strict";
 *
 * const spec = {
 *   name: "run", summary: "", description: [], positionals: [], permissions: "",
 *   flags: { ticks: { kind: "integer", value: "N", help: "", required: true, min: 1, max: 10 } },
 * } as const;
 * assert.deepEqual(parseArgs(spec, ["--ticks=3"]).flags, { ticks: 3 });
 * assert.throws(() => parseArgs(spec, ["--ticks", "0"]), UsageError);
 * assert.throws(() => parseArgs(spec, ["--tick", "3"]), /unknown flag --tick; did you mean --ticks\?/);
 * assert.equal(parseArgs(spec, ["--help"]).help, true);
 * assert.equal(parseArgs(spec, ["-h", "--tick", "3"]).help, true); // help wins
 * assert.throws(() => parseArgs(spec, ["--ticks", "-h"]), UsageError); // a value, not help
 * ```
 */
export function parseArgs<F extends FlagSpecs>(
  spec: CommandSpec<F>,
  args: readonly string[],
): ParsedArgs<F> {
  checkLimits(spec.name, args);
  const options = nodeOptions(spec);
  // A lenient pass first: its tokens say whether help was asked for where a
  // flag can stand (not as a flag's value, nor after `--`), and describe any
  // problem the strict pass finds.
  const { tokens } = nodeParseArgs({
    args: [...args],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (tokens.some((t) => t.kind === "option" && t.name === "help")) {
    return { positionals: [], flags: {} as FlagValues<F>, help: true };
  }
  let strict: { positionals: string[]; tokens: Token[] };
  try {
    strict = nodeParseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals: true,
      tokens: true,
    });
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    throw new UsageError(describeTokenProblem(spec, tokens) ?? firstLine(error.message), spec.name);
  }
  const flags = checkFlags(spec, strict.tokens);
  const positionals = checkPositionals(spec, strict.positionals);
  return { positionals, flags: flags as FlagValues<F>, help: false };
}

// The `node:util` options of a spec: every flag and alias as a string or a
// boolean (integers are strings until ERS checks them), and -h/--help.
function nodeOptions(
  spec: CommandSpec,
): Record<string, { type: "string" | "boolean"; short?: string }> {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, flag] of Object.entries(spec.flags)) {
    const type = flag.kind === "boolean" ? "boolean" : "string";
    for (const each of [name, ...(flag.aliases ?? [])]) options[each] = { type };
  }
  return options;
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

type Token = NonNullable<ReturnType<typeof nodeParseArgs>["tokens"]>[number];

// What the strict pass objected to, said in ERS's words, from the lenient
// pass's tokens; undefined when the tokens show nothing wrong.
function describeTokenProblem(spec: CommandSpec, tokens: readonly Token[]): string | undefined {
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const found = findFlag(spec, token.name);
    if (found === undefined) return unknownFlagMessage(spec, token.rawName);
    const [name, flag] = found;
    if (flag.kind === "boolean") {
      if (token.value !== undefined) return `--${name} takes no value`;
    } else if (token.value === undefined) {
      return `${token.rawName} needs a value ${flag.value}`;
    } else if (!token.inlineValue && token.value.startsWith("-")) {
      return `${token.rawName} needs a value ${flag.value}: current value is ${
        printableArg(token.value)
      } (write ${token.rawName}=${token.value} if that is meant)`;
    }
  }
  return undefined;
}

function unknownFlagMessage(spec: CommandSpec, rawName: string): string {
  const shown = /^--?[A-Za-z0-9-]+$/.test(rawName) ? rawName : printableArg(rawName);
  const known = Object.entries(spec.flags).flatMap(([name, f]) => [name, ...(f.aliases ?? [])]);
  const near = closest(rawName.replace(/^--?/, ""), [...known, "help"]);
  return near === undefined
    ? `unknown flag ${shown}`
    : `unknown flag ${shown}; did you mean --${near}?`;
}

/**
 * The known name closest to a mistyped one, or undefined when none is close:
 * a name that starts with the other (`--output` for `--out`), or within an
 * edit distance of about a third of its length.
 *
 * @param given The mistyped name.
 * @param known The names to choose from.
 * @returns The closest known name, if any is close.
 *
 * @example Typos and prefixes
 * ```ts
 * import { closest } from "./_cli_args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(closest("output", ["out", "run", "ticks"]), "out");
 * assert.equal(closest("tikcs", ["out", "run", "ticks"]), "ticks");
 * assert.equal(closest("zzz", ["out", "run", "ticks"]), undefined);
 * ```
 */
export function closest(given: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const prefix = given.length >= 2 && (name.startsWith(given) || given.startsWith(name));
    const distance = prefix ? 0.5 : editDistance(given, name);
    const limit = Math.max(1, Math.floor(Math.max(given.length, name.length) / 3));
    if (distance <= limit && (best === undefined || distance < best.distance)) {
      best = { name, distance };
    }
  }
  return best?.name;
}

// Optimal string alignment distance (insertions, deletions, substitutions and
// swaps of neighbours), over names of at most MAX_ARG_LENGTH units.
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const prev = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

function findFlag(spec: CommandSpec, given: string): [string, FlagSpec] | undefined {
  for (const [name, flag] of Object.entries(spec.flags)) {
    if (name === given || (flag.aliases ?? []).includes(given)) return [name, flag];
  }
  return undefined;
}

// Flag values from the strict pass's tokens: each flag once (under any of its
// names), each value checked, defaults and `false` filled in, required ones present.
function checkFlags(spec: CommandSpec, tokens: readonly Token[]): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  const givenAs: Record<string, string> = {};
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const [name, flag] = findFlag(spec, token.name) as [string, FlagSpec];
    if (Object.hasOwn(givenAs, name)) {
      const first = givenAs[name];
      throw new UsageError(
        first === token.rawName
          ? `${token.rawName} given twice`
          : `${first} and ${token.rawName} are the same flag; give it once`,
        spec.name,
      );
    }
    givenAs[name] = token.rawName;
    flags[name] = flag.kind === "boolean"
      ? true
      : flag.kind === "integer"
      ? parseInteger(spec.name, token.rawName, flag, token.value as string)
      : checkString(spec.name, token.rawName, flag, token.value as string);
  }
  for (const [name, flag] of Object.entries(spec.flags)) {
    if (Object.hasOwn(flags, name)) continue;
    if (flag.kind === "boolean") flags[name] = false;
    else if (flag.default !== undefined) flags[name] = flag.default;
    else if (flag.required) throw new UsageError(`missing --${name} ${flag.value}`, spec.name);
  }
  return flags;
}

function checkPositionals(spec: CommandSpec, given: readonly string[]): string[] {
  const expected = spec.positionals;
  if (given.length > expected.length) {
    const extra = given[expected.length] as string;
    throw new UsageError(`unexpected argument ${printableArg(extra)}`, spec.name);
  }
  const missing = expected[given.length];
  if (missing !== undefined && !missing.optional) {
    throw new UsageError(`missing ${missing.name}`, spec.name);
  }
  if (given.some((p) => p === "")) {
    throw new UsageError("a positional argument is empty", spec.name);
  }
  return [...given];
}

function parseInteger(command: string, shown: string, flag: IntegerFlag, value: string): number {
  const number = /^(0|[1-9][0-9]*)$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number) || number < flag.min || number > flag.max) {
    throw new UsageError(
      `Cannot run 'ers ${command}' as '${shown}' must be an integer from ${flag.min} to ${flag.max}: current value is ${
        printableArg(value)
      }`,
      command,
    );
  }
  return number;
}

function checkString(command: string, shown: string, flag: StringFlag, value: string): string {
  const rule = flag.choices !== undefined
    ? (flag.choices.includes(value) ? undefined : `one of ${flag.choices.join(", ")}`)
    : flag.pattern !== undefined && !flag.pattern.regexp.test(value)
    ? flag.pattern.rule
    : value === ""
    ? "a non-empty string"
    : undefined;
  if (rule !== undefined) {
    throw new UsageError(
      `Cannot run 'ers ${command}' as '${shown}' must be ${rule}: current value is ${
        printableArg(value)
      }`,
      command,
    );
  }
  return value;
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
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
 * The usage line of a command, derived from its spec: positionals, then
 * required flags, then optional ones in brackets, in the spec's order.
 *
 * @param spec The command.
 * @returns The usage line without the leading `ers `.
 *
 * @example Required flags bare, optional ones bracketed
 * ```ts
 * import { usageLine } from "./_cli_args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(usageLine({
 *   name: "show", summary: "", description: [], permissions: "",
 *   positionals: [{ name: "DIR", help: "" }],
 *   flags: {
 *     tick: { kind: "integer", value: "N", help: "", required: true, min: 0, max: 9 },
 *     by: { kind: "string", value: "K", help: "", choices: ["task", "lane"] },
 *     json: { kind: "boolean", help: "" },
 *   },
 * }), "show DIR --tick N [--by task|lane] [--json]");
 * ```
 */
export function usageLine(spec: CommandSpec): string {
  const parts: string[] = [spec.name];
  for (const p of spec.positionals) parts.push(p.optional ? `[${p.name}]` : p.name);
  const entries = Object.entries(spec.flags);
  const isRequired = (f: FlagSpec) => f.kind !== "boolean" && f.required === true;
  for (const [name, flag] of entries.filter(([, f]) => isRequired(f))) {
    parts.push(flagWithValue(name, flag));
  }
  for (const [name, flag] of entries.filter(([, f]) => !isRequired(f))) {
    parts.push(`[${flagWithValue(name, flag)}]`);
  }
  return parts.join(" ");
}

function flagWithValue(name: string, flag: FlagSpec): string {
  if (flag.kind === "boolean") return `--${name}`;
  const value = flag.kind === "string" && flag.choices !== undefined
    ? flag.choices.join("|")
    : flag.value;
  return `--${name} ${value}`;
}

/**
 * The help of a command: usage, description, positionals and flags (with
 * aliases, choices and defaults), and the permissions it needs.
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
 *   name: "show", summary: "", description: ["Shows a tick."],
 *   positionals: [{ name: "DIR", help: "Artifacts directory" }], permissions: "read DIR",
 *   flags: {
 *     run: { kind: "string", value: "ID", help: "The run", required: true, aliases: ["run-id"] },
 *     tick: { kind: "integer", value: "N", help: "The tick", min: 0, max: 9, default: 0 },
 *   },
 * });
 * assert.match(text, /^Usage: ers show DIR --run ID \[--tick N\]$/m);
 * assert.match(text, /^  --run, --run-id ID +The run$/m);
 * assert.match(text, /^  --tick N +The tick \(default 0\)$/m);
 * assert.match(text, /^  -h, --help +Show this help$/m);
 * ```
 */
export function helpText(spec: CommandSpec): string {
  const rows: [string, string][] = [
    ...spec.positionals.map((p): [string, string] => [p.name, p.help]),
    ...Object.entries(spec.flags).map(([name, flag]): [string, string] => [
      flagNames(name, flag),
      flagHelp(flag),
    ]),
    ["-h, --help", "Show this help"],
  ];
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `Usage: ers ${usageLine(spec)}`,
    "",
    ...spec.description,
    "",
    "Arguments and options:",
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`),
    "",
    `Permissions: ${spec.permissions}`,
  ].join("\n");
}

function flagNames(name: string, flag: FlagSpec): string {
  const names = [name, ...(flag.aliases ?? [])].map((n) => `--${n}`).join(", ");
  return flag.kind === "boolean" ? names : `${names} ${flag.value}`;
}

function flagHelp(flag: FlagSpec): string {
  const choices = flag.kind === "string" && (flag.choices?.length ?? 0) > 1
    ? `: ${flag.choices?.join(", ")}`
    : "";
  const fallback = flag.kind !== "boolean" && flag.default !== undefined
    ? ` (default ${typeof flag.default === "string" ? JSON.stringify(flag.default) : flag.default})`
    : "";
  return `${flag.help}${choices}${fallback}`;
}

/**
 * The `--run ID` flag (also `--run-id ID`) every command that names a run
 * takes, with the run id's pattern.
 *
 * @param help One line for the help.
 * @param required Whether the command must be given a run.
 * @returns The flag spec.
 *
 * @example Both names are accepted
 * ```ts
 * import { parseArgs, runIdFlag } from "./_cli_args.ts";
 * import assert from "node:assert/strict";
 *
 * const spec = {
 *   name: "show", summary: "", description: [], positionals: [], permissions: "",
 *   flags: { run: runIdFlag("The run", true) },
 * };
 * assert.equal(parseArgs(spec, ["--run", "A"]).flags.run, "A");
 * assert.equal(parseArgs(spec, ["--run-id", "A"]).flags.run, "A");
 * assert.throws(() => parseArgs(spec, ["--run", "A", "--run-id", "B"]), /same flag/);
 * ```
 */
export function runIdFlag<const R extends boolean>(
  help: string,
  required: R,
): StringFlag & { readonly required: R } {
  return {
    kind: "string",
    value: "ID",
    help,
    required,
    aliases: ["run-id"],
    pattern: RUN_ID_PATTERN,
  };
}
