// The README's promises, checked: its pipeline snippet is the fixture it
// names, and its shell walkthrough, run top to bottom in a fresh copy of the
// repository, prints exactly the output it shows. (Its TypeScript blocks run
// as doc tests: `deno test --doc README.md` in `deno task check`.)

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import denoJson from "../deno.json" with { type: "json" };

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const README = await Deno.readTextFile(join(ROOT, "README.md"));
// What a fresh clone holds that the walkthrough uses.
const CLONE_ENTRIES = ["deno.json", "mod.ts", "ers", "viz", "runtime", "scripts", "tests/fixtures"];

/** One `$ command` of the README and the output shown under it. */
interface Step {
  command: string;
  output: string[];
}

/** The steps of every fenced block without a language whose lines start with `$ `. */
function walkthrough(markdown: string): Step[] {
  const steps: Step[] = [];
  for (const block of markdown.matchAll(/^```\n([\s\S]*?)^```$/gm)) {
    const lines = (block[1] ?? "").trimEnd().split("\n");
    if (!lines[0]?.startsWith("$ ")) continue;
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

// `deno task NAME ARGS` as the command the task runs; `ers` commands get read
// and write access, as a user who allows Deno's prompts does, unless stdin is
// /dev/null (no one to answer, as shown). Other commands run as they are.
function shellLine(command: string): string {
  const task = /^deno task ([a-z:]+)(.*)$/.exec(command);
  if (task === null) return command;
  const [, name, rest] = task as unknown as [string, string, string];
  const line = (denoJson.tasks as Record<string, string>)[name];
  assert.ok(line !== undefined, `README runs an unknown task ${name}`);
  const grants = name === "ers" && !rest.includes("< /dev/null")
    ? "--allow-read --allow-write "
    : "";
  return `${line.replace(/^deno run /, `deno run ${grants}`)}${rest}`;
}

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
    const path = Deno.env.get("PATH") ?? "";
    const denoDir = join(Deno.execPath(), "..");
    for (const step of steps) {
      const output = await new Deno.Command("sh", {
        args: ["-c", `${shellLine(step.command)} 2>&1`],
        cwd: clone,
        stdin: "null",
        stdout: "piped",
        env: { NO_COLOR: "1", PATH: `${denoDir}:${path}` },
      }).output();
      const shown = new TextDecoder().decode(output.stdout).trimEnd().split("\n");
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
