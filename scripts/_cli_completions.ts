// `ers completions bash|zsh|fish`: a shell completion script derived from
// the commands' specs (names, flags, choices), so it cannot fall behind them.

import {
  type Command,
  type CommandSpec,
  defineCommand,
  type FlagSpec,
  type ParsedArgs,
  printableArg,
  UsageError,
} from "./_cli_args.ts";

/** The shells `ers completions` writes a script for. */
export const SHELLS = ["bash", "zsh", "fish"] as const;

/** A shell `ers completions` writes a script for. */
export type Shell = typeof SHELLS[number];

const spec = {
  name: "completions",
  summary: "Print a shell completion script (bash, zsh or fish)",
  description: [
    "Prints a completion script for the shell: commands, their flags, and the",
    "values of flags that take one of a few. Install it with, for example:",
    '  bash: eval "$(ers completions bash)"   (in ~/.bashrc)',
    "  zsh:  ers completions zsh > ~/.zfunc/_ers   (with ~/.zfunc in fpath)",
    "  fish: ers completions fish > ~/.config/fish/completions/ers.fish",
  ],
  positionals: [{ name: "SHELL", help: "bash, zsh or fish" }],
  flags: {},
  permissions: "none.",
} as const satisfies CommandSpec;

/**
 * The `completions` command, completing the commands that `commands` returns
 * (itself included).
 *
 * @param commands The command list of the CLI.
 * @returns The command.
 *
 * @example A bash script naming every command
 * ```ts
 * import { completionsCommand } from "./_cli_completions.ts";
 * import assert from "node:assert/strict";
 *
 * const command = completionsCommand(() => [command]);
 * assert.equal(command.spec.name, "completions");
 * ```
 */
export function completionsCommand(commands: () => readonly Command[]): Command {
  return defineCommand(spec, (args: ParsedArgs<typeof spec.flags>) => {
    const shell = args.positionals[0] as string;
    if (!(SHELLS as readonly string[]).includes(shell)) {
      throw new UsageError(
        `Cannot run 'ers completions' as 'SHELL' must be one of ${
          SHELLS.join(", ")
        }: current value is ${printableArg(shell)}`,
        "completions",
      );
    }
    console.log(completionScript(shell as Shell, commands().map((c) => c.spec)));
    return Promise.resolve(0);
  });
}

/**
 * A completion script for `shell` over the given command specs.
 *
 * @param shell `bash`, `zsh` or `fish`.
 * @param specs The commands.
 * @returns The script text.
 *
 * @example Flags and their choices are completed
 * ```ts
 * import { completionScript } from "./_cli_completions.ts";
 * import assert from "node:assert/strict";
 *
 * const specs = [{
 *   name: "index", summary: "List events", description: [], permissions: "",
 *   positionals: [{ name: "DIR", help: "" }],
 *   flags: { lane: { kind: "string", value: "L", help: "Only this lane", choices: ["forecast", "shadow"] } },
 * } as const];
 * assert.match(completionScript("bash", specs), /index\) flags="--lane --help"/);
 * assert.match(completionScript("fish", specs), /-l lane -x -a 'forecast shadow'/);
 * assert.match(completionScript("zsh", specs), /'--lane\[Only this lane\]:L:\(forecast shadow\)'/);
 * ```
 */
export function completionScript(shell: Shell, specs: readonly CommandSpec[]): string {
  switch (shell) {
    case "bash":
      return bashScript(specs);
    case "zsh":
      return zshScript(specs);
    case "fish":
      return fishScript(specs);
  }
}

function flagNames(spec: CommandSpec): string[] {
  return Object.entries(spec.flags).flatMap(([name, flag]) => [name, ...(flag.aliases ?? [])]);
}

function choicesOf(flag: FlagSpec): readonly string[] | undefined {
  return flag.kind === "string" ? flag.choices : undefined;
}

// Single quotes for the shells, for help text (which never holds control characters).
function quoted(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

function bashScript(specs: readonly CommandSpec[]): string {
  const commands = specs.map((s) => s.name).join(" ");
  const flagCases = specs.map((s) =>
    `    ${s.name}) flags="${[...flagNames(s).map((n) => `--${n}`), "--help"].join(" ")}" ;;`
  );
  const choiceCases = specs.flatMap((s) =>
    Object.entries(s.flags).flatMap(([name, flag]) => {
      const choices = choicesOf(flag);
      if (choices === undefined) return [];
      const names = [name, ...(flag.aliases ?? [])].map((n) => `--${n}`).join("|");
      return [
        `    ${s.name}:${names.replaceAll("|", `|${s.name}:`)}) values="${choices.join(" ")}" ;;`,
      ];
    })
  );
  return [
    '# bash completion for ers: eval "$(ers completions bash)"',
    "_ers() {",
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
    '  local cmd="${COMP_WORDS[1]}" flags="" values=""',
    '  if [ "$COMP_CWORD" -eq 1 ]; then',
    `    COMPREPLY=($(compgen -W "${commands} --help --version" -- "$cur"))`,
    "    return",
    "  fi",
    '  case "$cmd:$prev" in',
    ...choiceCases,
    "  esac",
    '  if [ -n "$values" ]; then',
    '    COMPREPLY=($(compgen -W "$values" -- "$cur"))',
    "    return",
    "  fi",
    '  case "$cmd" in',
    ...flagCases,
    "  esac",
    '  if [[ "$cur" == -* ]]; then',
    '    COMPREPLY=($(compgen -W "$flags" -- "$cur"))',
    "  else",
    '    COMPREPLY=($(compgen -f -- "$cur"))',
    "  fi",
    "}",
    "complete -o filenames -F _ers ers",
  ].join("\n");
}

function zshScript(specs: readonly CommandSpec[]): string {
  const commands = specs.map((s) =>
    `    ${quoted(`${s.name}:${s.summary.replaceAll(":", "\\:")}`)}`
  );
  const cases = specs.map((s) => {
    const specsOf = Object.entries(s.flags).flatMap(([name, flag]) =>
      [name, ...(flag.aliases ?? [])].map((n) => {
        const help = flag.help.replaceAll("[", "(").replaceAll("]", ")").replaceAll(":", "\\:");
        if (flag.kind === "boolean") return quoted(`--${n}[${help}]`);
        const choices = choicesOf(flag);
        const action = choices !== undefined ? `(${choices.join(" ")})` : "_files";
        return quoted(`--${n}[${help}]:${flag.value}:${action}`);
      })
    );
    return `    ${s.name}) _arguments ${[...specsOf, "'*:file:_files'"].join(" ")} ;;`;
  });
  return [
    "#compdef ers",
    "# zsh completion for ers: ers completions zsh > ~/.zfunc/_ers (with ~/.zfunc in fpath)",
    "_ers() {",
    "  local -a commands",
    "  commands=(",
    ...commands,
    "  )",
    "  if (( CURRENT == 2 )); then",
    "    _describe 'command' commands",
    "    return",
    "  fi",
    "  local cmd=$words[2]",
    "  shift words",
    "  (( CURRENT-- ))",
    "  case $cmd in",
    ...cases,
    "  esac",
    "}",
    'compdef _ers ers 2>/dev/null || _ers "$@"',
  ].join("\n");
}

function fishScript(specs: readonly CommandSpec[]): string {
  const lines = [
    "# fish completion for ers: ers completions fish > ~/.config/fish/completions/ers.fish",
    `complete -c ers -n __fish_use_subcommand -l help -d 'Show help'`,
    `complete -c ers -n __fish_use_subcommand -l version -d 'Print the version'`,
  ];
  for (const s of specs) {
    lines.push(`complete -c ers -n __fish_use_subcommand -f -a ${s.name} -d ${quoted(s.summary)}`);
    const when = `-n '__fish_seen_subcommand_from ${s.name}'`;
    for (const [name, flag] of Object.entries(s.flags)) {
      for (const n of [name, ...(flag.aliases ?? [])]) {
        const choices = choicesOf(flag);
        const takes = flag.kind === "boolean"
          ? ""
          : choices !== undefined
          ? ` -x -a ${quoted(choices.join(" "))}`
          : " -r";
        lines.push(`complete -c ers ${when} -l ${n}${takes} -d ${quoted(flag.help)}`);
      }
    }
  }
  return lines.join("\n");
}
