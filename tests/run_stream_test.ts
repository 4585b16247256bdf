// The manifest read a window at a time (what `ers index` reads a run with):
// the same records as a whole read, whatever the window; a bad record named
// by its index; appends between windows read; an insertion before the point
// reached refused; a pending journal read whole.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ArtifactWriter,
  ManifestError,
  pipelineTick,
  readRunManifest,
  type RunManifestRecord,
} from "../mod.ts";
import { preparePipeline } from "../ers/mod.ts";
import demoPipeline from "../scripts/_demo_pipeline.ts";
import { streamManifestRecords, streamRunTickRecords } from "../runtime/_run_stream.ts";

const MANIFEST = "manifests/R.manifest.json";
const note = { runId: "R", kind: "note", schema: "Note.v0", obj: { n: 1 } };

async function withDemoRun(ticks: number, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ers-stream-" });
  try {
    const pipeline = preparePipeline(demoPipeline);
    for (let tick = 0; tick < ticks; tick++) {
      await pipelineTick({
        pipeline,
        tick,
        runId: "R",
        mode: "demo",
        artifactsDir: dir,
        durable: false,
        provenance: "extended",
      });
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function streamed(dir: string, windowBytes?: number): Promise<RunManifestRecord[]> {
  return await Array.fromAsync(streamManifestRecords(dir, "R", readRunManifest, windowBytes));
}

Deno.test("streamManifestRecords() gives the records of a whole read, with windows of any size", async () => {
  await withDemoRun(6, async (dir) => {
    const { records } = await readRunManifest(dir, "R");
    assert.ok(records.some((r) => r.kind === "resultspack"), "the demo run records ResultsPacks");
    for (const windowBytes of [1, 64, 500, 4096, undefined]) {
      assert.deepEqual(await streamed(dir, windowBytes), records, `window ${windowBytes}`);
    }
  });
});

Deno.test("streamRunTickRecords() gives each TrendPack with its tick's records, as index reads them", async () => {
  await withDemoRun(4, async (dir) => {
    const { records } = await readRunManifest(dir, "R");
    const ticks = await Array.fromAsync(streamRunTickRecords(dir, "R", readRunManifest, 3));
    assert.deepEqual(ticks.map((t) => t.tick.tick), [0, 1, 2, 3]);
    for (const { tick, records: ofTick } of ticks) {
      assert.equal(tick.trendpack.tick, tick.tick);
      assert.deepEqual(ofTick, records.filter((r) => r.tick === tick.tick));
    }
  });
});

Deno.test("streamManifestRecords() names a bad record by its index, in a later window too", async () => {
  await withDemoRun(6, async (dir) => {
    const text = await Deno.readTextFile(join(dir, MANIFEST));
    const { records } = await readRunManifest(dir, "R");
    const victim = records.length - 2;
    const sha = records[victim]!.sha256;
    await Deno.writeTextFile(join(dir, MANIFEST), text.replace(sha, sha.toUpperCase()));
    for (const windowBytes of [64, undefined]) {
      await assert.rejects(streamed(dir, windowBytes), (error: unknown) => {
        assert.ok(error instanceof ManifestError, String(error));
        assert.equal(error.path, MANIFEST);
        assert.equal(error.problem, `records[${victim}].sha256 is not 64 hex digits`);
        return true;
      });
    }
    // Torn at the end: not a whole manifest.
    await Deno.writeTextFile(join(dir, MANIFEST), text.slice(0, -10));
    await assert.rejects(streamed(dir, 64), ManifestError);
  });
});

Deno.test("streamManifestRecords() reads records appended between windows, and refuses an insertion before the point reached", async () => {
  await withDemoRun(4, async (dir) => {
    const before = (await readRunManifest(dir, "R")).records;
    // Appended after the first window: read too.
    const appending = streamManifestRecords(dir, "R", readRunManifest, 64);
    const first = await appending.next();
    assert.deepEqual(first.value, before[0]);
    const writer = new ArtifactWriter(dir, { durable: false });
    await writer.writeJson({ ...note, tick: 9, relPath: "n/R/9.json" });
    const rest = await Array.fromAsync(appending);
    assert.deepEqual([first.value, ...rest], (await readRunManifest(dir, "R")).records);
    assert.equal(rest.at(-1)?.path, "n/R/9.json");
    // Inserted before the point reached: the bytes read moved, so it is refused.
    const inserting = streamManifestRecords(dir, "R", readRunManifest, 64);
    for (let i = 0; i < 5; i++) await inserting.next();
    await writer.writeJson({ ...note, tick: 0, relPath: "n/R/0.json" });
    await assert.rejects(Array.fromAsync(inserting), /changed while being read/);
  });
});

Deno.test("streamManifestRecords() reads a manifest with a pending journal whole, as replayed", async () => {
  await withDemoRun(2, async (dir) => {
    const path = join(dir, MANIFEST);
    const bytes = await Deno.readFile(path);
    const { records } = await readRunManifest(dir, "R");
    // An interrupted rewrite of the last byte: the journal holds it, the file lost it.
    const journal = new Uint8Array([
      ...new TextEncoder().encode(`ERSJ1 ${bytes.length - 1} 1\n`),
      ...bytes.subarray(bytes.length - 1),
    ]);
    await Deno.writeFile(join(dir, "manifests/.R.manifest.json.journal"), journal);
    await Deno.writeFile(path, bytes.subarray(0, bytes.length - 1));
    assert.deepEqual(await streamed(dir, 64), records);
  });
});

Deno.test("streamManifestRecords() throws NotFound for a missing run, and names a FIFO in place of the manifest", async () => {
  await withDemoRun(1, async (dir) => {
    await assert.rejects(
      Array.fromAsync(streamManifestRecords(dir, "NONE", readRunManifest)),
      (error: unknown) =>
        error instanceof Deno.errors.NotFound && /No manifest for run NONE/.test(error.message),
    );
    await Deno.remove(join(dir, MANIFEST));
    await new Deno.Command("mkfifo", { args: [join(dir, MANIFEST)] }).output();
    await assert.rejects(streamed(dir), /not a regular file \(a FIFO\)/);
  });
});
