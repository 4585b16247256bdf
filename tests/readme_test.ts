// The README's promises, checked: its pipeline snippet is the fixture it
// names, and its shell walkthrough, run top to bottom in a fresh copy of the
// repository, prints exactly the output it shows. (Its TypeScript blocks run
// as doc tests: `deno test --doc README.md` in `deno task check`.)

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const README = await Deno.readTextFile(join(ROOT, "README.md"));
// What a fresh clone holds that the walkthrough uses.
const CLONE_ENTRIES = ["deno.json", "mod.ts", "ers", "viz", "runtime", "scripts", "tests/fixtures"];

/** One `$ command` of the README and the output shown under it. */
interface Step {
  command: string;
  output: string[];
  /** The README line of the command (1-based). */
  line: number;
  /** The index of its block among the shell blocks. */
  block: number;
}

/** A fenced code block of a Markdown text: info string, first content line (1-based), lines. */
interface Block {
  info: string;
  line: number;
  lines: string[];
}

/**
 * The fenced code blocks of a Markdown text, read line by line: a line that
 * starts with ``` opens a block, the next line that is exactly ``` closes it.
 */
function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  let open: Block | undefined;
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (open === undefined) {
      if (line.startsWith("```")) open = { info: line.slice(3).trim(), line: i + 2, lines: [] };
    } else if (line === "```") {
      blocks.push(open);
      open = undefined;
    } else {
      open.lines.push(line);
    }
  }
  assert.equal(
    open,
    undefined,
    `README has an unclosed code block (opened before line ${open?.line})`,
  );
  return blocks;
}

/**
 * A shell block shown but not run starts with this line, giving the reason
 * (output that differs on every run, such as a new random key). The older
 * wording `# not part of the walkthrough: REASON` is read the same way.
 */
const NOT_CHECKED = /^# not (?:checked|part of the walkthrough): (\S.*)$/;

/** The README's shell blocks: every fenced block other than `ts` with a `$ command` line. */
interface Walkthrough {
  /** The commands of the blocks to check, in order. */
  steps: Step[];
  /** How many blocks to check; how many of those show output under a command. */
  blocks: number;
  blocksWithOutput: number;
  /** The blocks marked `# not checked: REASON`: their first line and the reason. */
  notChecked: { line: number; reason: string; commands: number }[];
}

function walkthrough(markdown: string): Walkthrough {
  const steps: Step[] = [];
  const notChecked: Walkthrough["notChecked"] = [];
  let blocks = 0;
  let blocksWithOutput = 0;
  for (const { info, line, lines } of fencedBlocks(markdown)) {
    if (info === "ts" || !lines.some((text) => text.startsWith("$ "))) continue;
    const skip = NOT_CHECKED.exec(lines[0] as string);
    if (skip !== null) {
      const commands = lines.filter((text) => text.startsWith("$ ")).length;
      notChecked.push({ line, reason: skip[1] as string, commands });
      continue;
    }
    assert.ok(
      info === "" && lines[0]?.startsWith("$ "),
      `README line ${line}: a shell block is a fence without a language whose first line is ` +
        "`$ command`, or starts with `# not checked: REASON`",
    );
    const block = blocks++;
    if (lines.some((text) => text !== "" && !text.startsWith("$ "))) blocksWithOutput++;
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i] as string;
      if (text.startsWith("$ ")) {
        steps.push({ command: text.slice(2), output: [], line: line + i, block });
      } else steps.at(-1)?.output.push(text);
    }
  }
  for (const step of steps) {
    while (step.output.at(-1) === "") step.output.pop(); // a blank line between commands
  }
  return { steps, blocks, blocksWithOutput, notChecked };
}

// `export NAME=VALUE` (VALUE bare or in double quotes) sets NAME for the steps after it.
const EXPORT = /^export ([A-Z_]+)=(?:"([^"]*)"|(\S*))$/;

async function copyTree(from: string, to: string): Promise<void> {
  const info = await Deno.stat(from);
  if (info.isFile) {
    await Deno.copyFile(from, to);
    return;
  }
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    await copyTree(join(from, entry.name), join(to, entry.name));
  }
}

Deno.test("README shows tests/fixtures/steady_pipeline.ts as it is", async () => {
  const fixture = await Deno.readTextFile(join(ROOT, "tests/fixtures/steady_pipeline.ts"));
  assert.ok(README.includes("```ts\n" + fixture + "```\n"), "the README's pipeline block drifted");
});

Deno.test("README walkthrough prints what it shows, run top to bottom in a fresh copy", async () => {
  const { steps, blocks, blocksWithOutput, notChecked } = walkthrough(README);
  // Every `$ ` line of the README, counted without the block parser, is a
  // step below or in a block marked `# not checked: REASON`.
  const dollarLines = README.split("\n").filter((line) => line.startsWith("$ ")).length;
  const skippedCommands = notChecked.reduce((sum, block) => sum + block.commands, 0);
  assert.equal(steps.length + skippedCommands, dollarLines, "README `$ ` lines outside the steps");
  assert.ok(blocksWithOutput >= 15, `only ${blocksWithOutput} shell blocks with output found`);
  const checked = new Set<number>();
  const clone = await Deno.makeTempDir({ prefix: "ers_readme_" });
  try {
    for (const entry of CLONE_ENTRIES) {
      await Deno.mkdir(join(clone, entry, ".."), { recursive: true });
      await copyTree(join(ROOT, entry), join(clone, entry));
    }
    const env: Record<string, string> = {
      NO_COLOR: "1",
      PATH: `${join(Deno.execPath(), "..")}:${Deno.env.get("PATH") ?? ""}`,
    };
    for (const name of ["HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
      const value = Deno.env.get(name);
      if (value !== undefined) env[name] = value;
    }
    for (const step of steps) {
      const exported = EXPORT.exec(step.command);
      if (exported !== null) {
        env[exported[1] as string] = exported[2] ?? exported[3] ?? "";
        assert.deepEqual(
          step.output,
          [],
          `README line ${step.line}: $ ${step.command} shows no output`,
        );
        checked.add(step.block);
        continue;
      }
      const output = await new Deno.Command("sh", {
        args: ["-c", `${step.command} 2>&1`],
        cwd: clone,
        stdin: "null",
        stdout: "piped",
        env,
        clearEnv: true,
      }).output();
      // `deno task` first prints the task it runs (`Task ers …`); the README leaves it out.
      const shown = new TextDecoder().decode(output.stdout).trimEnd().split("\n")
        .filter((line, i) => !(i === 0 && line.startsWith("Task ")));
      assert.deepEqual(
        shown.filter((line, i) => line !== "" || i < shown.length - 1),
        step.output,
        `README line ${step.line}: $ ${step.command}`,
      );
      checked.add(step.block);
    }
    assert.equal(checked.size, blocks, "shell blocks checked");
    assert.ok(
      checked.size >= blocksWithOutput,
      `${checked.size} shell blocks checked, ${blocksWithOutput} show output`,
    );
  } finally {
    await Deno.remove(clone, { recursive: true });
  }
});
