// readRunTick() finds one tick's records by a binary search over the
// manifest's bytes: it must agree with reading the manifest whole, for every
// tick, with gaps, with records whose `extra` looks like records, and with a
// manifest it cannot search (it then reads it whole).

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ArtifactWriter,
  pipelineTick,
  readRunManifest,
  readRunTick,
  readRunTicks,
} from "../mod.ts";
import { preparePipeline } from "../ers/mod.ts";
import demoPipeline from "../scripts/_demo_pipeline.ts";
import { tempDirs } from "./_tree.ts";

const withTempDir = tempDirs("ers_search_");

async function writeTicks(dir: string, runId: string, ticks: Iterable<number>): Promise<void> {
  const pipeline = preparePipeline(demoPipeline);
  for (const tick of ticks) {
    await pipelineTick({ pipeline, tick, runId, mode: "cli", artifactsDir: dir, durable: false });
  }
}

Deno.test("readRunTick() agrees with reading the whole manifest for every tick, gaps included", async () => {
  await withTempDir(async (dir) => {
    const ticks = [...Array.from({ length: 200 }, (_, i) => i), 400, 401, 1000];
    await writeTicks(dir, "S", ticks);
    const manifest = await readRunManifest(dir, "S");
    assert.ok(
      manifest.bytes > 8 * 4096,
      `large enough for the search to bisect: ${manifest.bytes}`,
    );
    for (const tick of [...ticks, 0, 77, 149]) {
      const [whole] = await readRunTicks(dir, manifest, { tick });
      assert.deepEqual(await readRunTick(dir, "S", tick), whole, `tick ${tick}`);
    }
    for (const missing of [200, 399, 402, 999, 1001, 5000]) {
      await assert.rejects(
        readRunTick(dir, "S", missing),
        (error: unknown) =>
          error instanceof Deno.errors.NotFound &&
          error.message === `Run S records no TrendPack for tick ${missing}`,
      );
    }
  });
});

Deno.test("readRunTick() is not misled by an extra that holds record-shaped objects", async () => {
  await withTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir, { durable: false });
    const fake = { bytes: 1, kind: "trendpack", path: "viz/X/000000.trendpack.json", tick: 0 };
    for (let tick = 0; tick < 300; tick++) {
      await writer.writeJson({
        runId: "X",
        tick,
        kind: "note",
        schema: "Note.v0",
        obj: { tick },
        relPath: `notes/X/${tick}.json`,
        extra: { decoys: [fake, { ...fake, tick: 9_999 }], text: '},{"bytes":1}' },
      });
    }
    await writeTicks(dir, "X", [300]);
    const manifest = await readRunManifest(dir, "X");
    const [whole] = await readRunTicks(dir, manifest, { tick: 300 });
    assert.deepEqual(await readRunTick(dir, "X", 300), whole);
    await assert.rejects(readRunTick(dir, "X", 5), /records no TrendPack for tick 5/);
  });
});

Deno.test("readRunTick() reads a manifest it cannot search whole, and still finds the tick", async () => {
  await withTempDir(async (dir) => {
    await writeTicks(dir, "J", [0, 1, 2]);
    const path = join(dir, "manifests/J.manifest.json");
    const bytes = await Deno.readTextFile(path);
    const expected = await readRunTick(dir, "J", 1);
    await Deno.writeTextFile(path, bytes.replace('{"records":[', '{"records":[ '));
    assert.deepEqual(await readRunTick(dir, "J", 1), expected);
    await Deno.writeTextFile(path, bytes.replace('{"records":[', '{"records":{'));
    await assert.rejects(readRunTick(dir, "J", 1), /manifest/i, "the whole read checks it");
  });
});
