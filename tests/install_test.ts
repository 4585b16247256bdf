// `ers` as an installed command: the `./cli` export, the local `deno install`
// line the README shows (into a temporary root), and shell completions.

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import denoJson from "../deno.json" with { type: "json" };
import { deno, denoRun } from "./_tree.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const README = await Deno.readTextFile(join(ROOT, "README.md"));
const ERS = new URL("../scripts/ers.ts", import.meta.url);

Deno.test("deno.json exports the CLI as ./cli and publishes scripts/", () => {
  assert.equal((denoJson.exports as Record<string, string>)["./cli"], "./scripts/ers.ts");
  assert.ok(denoJson.publish.include.includes("scripts/"));
  assert.ok(
    README.includes(
      "deno install -g -n ers --allow-read --allow-write --unstable-worker-options jsr:@abraxas/ers/cli",
    ),
  );
});

Deno.test("the README's local deno install line installs a working ers", async () => {
  const line = /^(deno install -g -n ers [^\n]* scripts\/ers\.ts)$/m.exec(README)?.[1];
  assert.ok(line, "README shows the local install line");
  const root = await Deno.makeTempDir({ prefix: "ers_install_" });
  try {
    const installed = await new Deno.Command(Deno.execPath(), {
      args: line.split(" ").slice(1),
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { DENO_INSTALL_ROOT: root, NO_COLOR: "1" },
    }).output();
    assert.equal(installed.code, 0, new TextDecoder().decode(installed.stderr));
    const ers = join(root, "bin", Deno.build.os === "windows" ? "ers.cmd" : "ers");
    const version = await new Deno.Command(ers, {
      args: ["--version"],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    assert.equal(new TextDecoder().decode(version.stdout), `ers ${denoJson.version}\n`);
    const out = join(root, "out");
    const run = await new Deno.Command(ers, {
      args: ["run", "--out", out, "--run", "I", "--ticks", "2"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    assert.match(new TextDecoder().decode(run.stdout), /^run I: 2 ticks \(0\.\.1\)/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ers completions bash completes commands, flags and choices", async () => {
  const script = await denoRun([], ERS, ["completions", "bash"]);
  assert.equal(script.code, 0, script.stderr);
  const complete = async (...words: string[]) => {
    const program = [
      script.stdout,
      `COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")})`,
      `COMP_CWORD=${words.length - 1}`,
      "_ers",
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join("\n");
    const output = await new Deno.Command("bash", {
      args: ["-c", program],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    return new TextDecoder().decode(output.stdout).trim().split("\n");
  };
  assert.deepEqual(await complete("ers", "ind"), ["index"]);
  assert.deepEqual(await complete("ers", "co"), ["completions"]);
  assert.deepEqual(await complete("ers", "index", "out", "--la"), ["--lane"]);
  assert.deepEqual(await complete("ers", "index", "out", "--lane", ""), ["forecast", "shadow"]);
  assert.deepEqual(await complete("ers", "run", "--run"), ["--run", "--run-id"]);
  assert.deepEqual(await complete("ers", "index", "out", "--by", "l"), ["lane"]);
});

Deno.test("ers completions zsh and fish name every command and flag; another shell is a usage error", async () => {
  const help = await denoRun([], ERS, ["--help"]);
  const commands = [...help.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1] as string);
  assert.ok(commands.includes("completions") && commands.includes("run"));
  for (const shell of ["zsh", "fish"]) {
    const script = (await denoRun([], ERS, ["completions", shell])).stdout;
    for (const command of commands) assert.match(script, new RegExp(`\\b${command}\\b`), shell);
    assert.match(script, /--?(l )?out\b|-l out /, shell);
  }
  const fish = (await denoRun([], ERS, ["completions", "fish"])).stdout;
  assert.match(fish, /__fish_seen_subcommand_from index' -l lane -x -a 'forecast shadow'/);
  const zsh = (await denoRun([], ERS, ["completions", "zsh"])).stdout;
  assert.match(zsh, /^#compdef ers$/m);
  const bad = await deno(["run", "--quiet", ERS.pathname, "completions", "tcsh"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /'SHELL' must be one of bash, zsh, fish: current value is "tcsh"/);
});
