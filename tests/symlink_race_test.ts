// A writer that loops while another process swaps one of its directories for
// a symbolic link out of the artifacts root, and back, must never record a
// write that landed outside the root: it re-checks the path right before each
// rename, checks where the file landed right after, and undoes and refuses on
// any surprise. What Deno cannot close (README, "Symbolic-link swaps"): a swap
// in the microseconds before the rename, swapped back before the check, leaves
// that one file outside; the write is still refused, never recorded. So the
// test asserts that every file outside belongs to a refused write (before the
// guard, recorded writes landed outside in most runs of it).
import assert from "node:assert/strict";
import { join } from "node:path";
import { ArtifactWriter } from "../mod.ts";

const WRITES = 1000;

Deno.test({
  name: "ArtifactWriter never leaves a file outside the root while viz/R is swapped with a link",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const base = await Deno.makeTempDir({ prefix: "ers-race-" });
    const root = join(base, "out");
    const outside = join(base, "elsewhere");
    await Deno.mkdir(join(root, "viz", "R"), { recursive: true });
    await Deno.mkdir(outside);
    // The swapper: viz/R is a directory, then a link to the outside
    // directory, then the directory again, in a tight loop.
    const swapper = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-read",
        "--allow-write", // Deno.symlink needs write access to every path
        new URL("./fixtures/swap_link.ts", import.meta.url).pathname,
        join(root, "viz"),
        outside,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    await new Promise((resolve) => setTimeout(resolve, 300)); // let it start
    const refusals = new Map<string, number>();
    const refused = new Set<string>();
    try {
      const writer = new ArtifactWriter(root, { durable: false });
      for (let i = 0; i < WRITES; i++) {
        try {
          await writer.writeJson({
            runId: "R",
            tick: i,
            kind: "note",
            schema: "Note.v0",
            obj: { i },
            relPath: `viz/R/${i}.json`,
          });
        } catch (error) {
          const name = (error as Error).name;
          refusals.set(name, (refusals.get(name) ?? 0) + 1);
          refused.add(`${i}.json`);
        }
      }
    } finally {
      swapper.kill();
      await swapper.status;
    }
    try {
      const landed = await Array.fromAsync(Deno.readDir(outside));
      assert.deepEqual(
        landed.map((e) => e.name).filter((name) => !refused.has(name)),
        [],
        `recorded writes landed outside the root; refusals: ${JSON.stringify([...refusals])}`,
      );
      // Refusals name what happened; nothing else escapes.
      for (const name of refusals.keys()) {
        assert.ok(["RangeError", "ArtifactIoError", "NotFound"].includes(name), name);
      }
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
});
