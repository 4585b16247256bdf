// Each run writes only in its own place (`<kind>/<run_id>/...` or
// `<kind>/<run_id>.<ext>`), so no run can overwrite what another recorded;
// run ids that start with '.' work as they do in the reference.
import assert from "node:assert/strict";
import { join } from "node:path";
import { abraxasTick, ArtifactWriter, type TaskFn, verifyArtifacts } from "../mod.ts";
import { readRunManifest, readRunTicks } from "../runtime/run_reader.ts";
import { tempDirs } from "./_tree.ts";

const ok: TaskFn = () => ({ ok: true });
const note = { kind: "note", schema: "Note.v0", tick: 0 };

const inTempDir = tempDirs("ers-places-");

Deno.test("ArtifactWriter refuses a path outside the writing run's place, so no run overwrites another's file", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir);
    await writer.writeJson({ ...note, runId: "A", obj: "a", relPath: "notes/A/0.json" });
    await abraxasTick({
      tick: 0,
      runId: "A",
      mode: "test",
      artifactsDir: dir,
      runSignal: ok,
      runCompress: ok,
      runOverlay: ok,
    });
    const before = await Deno.readTextFile(join(dir, "viz/A/000000.trendpack.json"));
    const attempts = [
      "notes/A/0.json", // recorded by run A
      "viz/A/000000.trendpack.json", // recorded by run A
      "viz/A/000001.trendpack.json", // in run A's place, not yet recorded
      "notes/0.json", // in no run's place (the run would be "0")
      "A/B/x.json", // in run B's place only by accident of shape: run is "B"
    ];
    for (const relPath of attempts.slice(0, 4)) {
      await assert.rejects(
        writer.writeJson({ ...note, runId: "C", obj: "c", relPath }),
        (error: unknown) => {
          assert.ok(error instanceof RangeError, String(error));
          assert.match(
            error.message,
            /'relPath' must be in run C's place, <kind>\/C\/\.\.\. or <kind>\/C\.<ext>/,
          );
          return true;
        },
      );
    }
    assert.equal(await Deno.readTextFile(join(dir, "notes/A/0.json")), '"a"');
    assert.equal(await Deno.readTextFile(join(dir, "viz/A/000000.trendpack.json")), before);
    const c = await writer.writeJson({ ...note, runId: "C", obj: "c", relPath: "notes/C/0.json" });
    assert.equal(c.path, "notes/C/0.json");
    await writer.writeJson({ ...note, runId: "C", obj: "c", relPath: "notes/C.json" });
    await writer.writeJson({ ...note, runId: "B", obj: "b", relPath: attempts[4]! });
    assert.equal((await verifyArtifacts(dir)).ok, true);
  });
});

Deno.test("run ids that start with '.' write, read and verify clean, as the reference writes them", async () => {
  await inTempDir(async (dir) => {
    const runs = [".a", ".hidden", "...", "..a", ".a.manifest.json"];
    for (const runId of runs) {
      for (const tick of [0, 1]) {
        await abraxasTick({
          tick,
          runId,
          mode: "test",
          artifactsDir: dir,
          runSignal: ok,
          runCompress: ok,
          runOverlay: ok,
        });
      }
      const ticks = await readRunTicks(dir, await readRunManifest(dir, runId));
      assert.deepEqual(ticks.map((t) => t.path), [
        `viz/${runId}/000000.trendpack.json`,
        `viz/${runId}/000001.trendpack.json`,
      ]);
    }
    const report = await verifyArtifacts(dir);
    assert.deepEqual(report.errors, []);
    assert.deepEqual(report.warnings, []);
    assert.deepEqual(report.runs, [...runs].sort());
    for (const runId of runs) {
      const one = await verifyArtifacts(dir, { runId });
      assert.deepEqual([one.ok, one.records, one.warnings], [true, 4, []], runId);
    }
    // The extended artifacts too: a RunHeader at runs/<run>.runheader.json
    // (a hidden name for a run id that starts with '.') and ResultsPacks.
    const { pipelineTick } = await import("../runtime/mod.ts");
    const pipeline = {
      tasks: [{ name: "t", lane: "forecast" as const, priority: 0, costOps: 1, fn: ok }],
    };
    for (const tick of [0, 1]) {
      await pipelineTick({
        tick,
        runId: ".x",
        mode: "test",
        artifactsDir: dir,
        pipeline,
        provenance: "extended",
      });
    }
    const extended = await verifyArtifacts(dir, { runId: ".x" });
    assert.deepEqual([extended.ok, extended.warnings], [true, []]);
    assert.ok(extended.records > 4);
    // A hidden file name stays reserved for temporary files and journals.
    const writer = new ArtifactWriter(dir);
    await assert.rejects(
      writer.writeJson({ ...note, runId: ".a", obj: 1, relPath: "notes/.a/.x.tmp" }),
      RangeError,
    );
    await assert.rejects(
      writer.writeJson({ ...note, runId: ".a", obj: 1, relPath: "notes/.a.tmp" }),
      RangeError,
    );
  });
});
