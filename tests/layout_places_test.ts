// In the directories the artifact layout owns, only the layout's shapes: a
// run whose id ends in a layout suffix (`a.runheader.json`, `x.json`) cannot
// make another run's per-run file a directory of its own, or its per-tick
// directory a file, and so block that run's own artifacts.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ArtifactWriter, pipelineTick, type TaskFn } from "../mod.ts";
import { tempDirs } from "./_tree.ts";

const ok: TaskFn = () => ({ ok: true });
const note = { kind: "note", schema: "Note.v0", tick: 0, obj: {} };

const inTempDir = tempDirs("ers-layout-places-");

Deno.test("ArtifactWriter refuses, in a layout directory, a path that is not the layout's shape", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir, { durable: false });
    const attempts: [string, string][] = [
      // runs/ holds per-run RunHeaders only: this directory is run a's RunHeader place.
      ["a.runheader.json", "runs/a.runheader.json/x.json"],
      ["R", "runs/R.json"],
      // viz/ holds per-tick directories only: this file is run x.json's directory.
      ["x", "viz/x.json"],
      ["x", "results/x.json"],
      ["x", "run_index/x.json"],
      ["x", "promotions/x.json"],
    ];
    for (const [runId, relPath] of attempts) {
      await assert.rejects(
        writer.writeJson({ ...note, runId, relPath }),
        (error: Error) => {
          assert.ok(error instanceof RangeError, `${relPath}: ${error.name}`);
          assert.ok(error.message.includes(relPath), error.message);
          assert.match(error.message, /layout/);
          return true;
        },
        relPath,
      );
    }
    // Nothing was written.
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), []);
    // Other kinds keep both shapes.
    await writer.writeJson({ ...note, runId: "R", relPath: "notes/R.json" });
    await writer.writeJson({ ...note, runId: "R", relPath: "notes/R/0.json" });
  });
});

Deno.test("run a's RunHeader place cannot be taken by run a.runheader.json", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir, { durable: false });
    await writer.writeJson({
      ...note,
      runId: "a.runheader.json",
      relPath: "runs/a.runheader.json/x.json",
    })
      .catch(() => {});
    const out = await pipelineTick({
      pipeline: { tasks: [{ name: "f", lane: "forecast", priority: 0, costOps: 1, fn: ok }] },
      tick: 0,
      runId: "a",
      mode: "test",
      artifactsDir: dir,
      provenance: "extended",
      durable: false,
    });
    assert.equal(out.artifacts.run_header, join(dir, "runs/a.runheader.json"));
    assert.ok((await Deno.lstat(join(dir, "runs/a.runheader.json"))).isFile);
  });
});
