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
}

/** The fenced code blocks of a Markdown text: info string and lines. */
function fencedBlocks(markdown: string): { info: string; lines: string[] }[] {
  const blocks: { info: string; lines: string[] }[] = [];
  let open: { info: string; lines: string[] } | undefined;
  for (const line of markdown.split("\n")) {
    if (open === undefined) {
      if (line.startsWith("```")) open = { info: line.slice(3).trim(), lines: [] };
    } else if (line === "```") {
      blocks.push(open);
      open = undefined;
    } else {
      open.lines.push(line);
    }
  }
  assert.equal(open, undefined, "README has an unclosed code block");
  return blocks;
}

/** The steps of every fenced block without a language whose first line starts with `$ `. */
function walkthrough(markdown: string): Step[] {
  const steps: Step[] = [];
  for (const { info, lines } of fencedBlocks(markdown)) {
    if (info !== "" || !lines[0]?.startsWith("$ ")) continue;
    for (const line of lines) {
      if (line.startsWith("$ ")) steps.push({ command: line.slice(2), output: [] });
      else steps.at(-1)?.output.push(line);
    }
  }
  for (const step of steps) {
    while (step.output.at(-1) === "") step.output.pop(); // a blank line between commands
  }
  return steps;
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
  const steps = walkthrough(README);
  assert.ok(steps.length >= 15, `only ${steps.length} steps found`);
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
        assert.deepEqual(step.output, [], `$ ${step.command} shows no output`);
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
        `$ ${step.command}`,
      );
    }
  } finally {
    await Deno.remove(clone, { recursive: true });
  }
});
