// A recorded artifact whose directory was swapped for a symbolic link out of
// the root is not the file ERS wrote: verify and seal refuse it, rather than
// read it through the link and report OK.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  abraxasTick,
  generateSealKey,
  readSealKey,
  SealError,
  sealRun,
  type TaskFn,
  verifyArtifacts,
} from "../mod.ts";

const ok: TaskFn = () => ({ ok: true });

Deno.test("verifyArtifacts() and sealRun() refuse recorded files reached through a linked directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ers-read-link-" });
  try {
    const root = join(dir, "out");
    for (const tick of [0, 1]) {
      await abraxasTick({
        tick,
        runId: "R",
        mode: "test",
        artifactsDir: root,
        runSignal: ok,
        runCompress: ok,
        runOverlay: ok,
      });
    }
    assert.equal((await verifyArtifacts(root)).ok, true);
    // The same files, moved out of the root, and a link to them in place of viz/R.
    await Deno.rename(join(root, "viz/R"), join(dir, "elsewhere"));
    await Deno.symlink(join(dir, "elsewhere"), join(root, "viz/R"));
    const report = await verifyArtifacts(root);
    assert.equal(report.ok, false);
    assert.deepEqual(report.errors.map((e) => e.path), [
      "viz/R/000000.trendpack.json",
      "viz/R/000001.trendpack.json",
    ]);
    assert.match(report.errors[0]!.message, /symbolic link/);
    const key = await readSealKey((await generateSealKey(join(dir, "k"))).keyPath);
    await assert.rejects(sealRun(root, "R", key, { durable: false }), SealError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
