import assert from "node:assert/strict";
import { abraxasTick, ArtifactWriter, ManifestError, type TaskFn } from "../mod.ts";
import {
  laneTotals,
  readRunManifest,
  readRunTicks,
  runEvents,
  RunReadError,
  taskTotals,
} from "../mod.ts";

const ok: TaskFn = () => ({ ok: true });
const fail: TaskFn = () => {
  throw new Error("no");
};

async function withRun(ticks: number, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ers-reader-" });
  try {
    for (let tick = 0; tick < ticks; tick++) {
      await abraxasTick({
        tick,
        runId: "RUN-R",
        mode: "test",
        artifactsDir: dir,
        runSignal: ok,
        runCompress: tick % 2 === 0 ? ok : fail,
        runOverlay: ok,
        runShadowTasks: { sei: ok },
        budgetShadow: { ops: 1 },
      });
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("readRunTicks() reads every TrendPack of a run, in tick order, as abraxasTick wrote them", async () => {
  await withRun(3, async (dir) => {
    const manifest = await readRunManifest(dir, "RUN-R");
    assert.equal(manifest.records.length, 6);
    assert.equal(manifest.bytes, (await Deno.stat(`${dir}/${manifest.path}`)).size);
    const ticks = await readRunTicks(dir, manifest);
    assert.deepEqual(ticks.map((t) => [t.tick, t.path]), [
      [0, "viz/RUN-R/000000.trendpack.json"],
      [1, "viz/RUN-R/000001.trendpack.json"],
      [2, "viz/RUN-R/000002.trendpack.json"],
    ]);
    const onDisk = JSON.parse(await Deno.readTextFile(`${dir}/viz/RUN-R/000001.trendpack.json`));
    assert.deepEqual(ticks[1]?.trendpack, onDisk);
    assert.deepEqual((await readRunTicks(dir, manifest, { tick: 2 })).map((t) => t.tick), [2]);
    await assert.rejects(readRunTicks(dir, manifest, { tick: 9 }), Deno.errors.NotFound);
    await assert.rejects(readRunTicks(dir, manifest, { maxTicks: 2 }), RangeError);
  });
});

Deno.test("runEvents(), taskTotals() and laneTotals() agree with the TrendPacks' own counts", async () => {
  await withRun(4, async (dir) => {
    const ticks = await readRunTicks(dir, await readRunManifest(dir, "RUN-R"));
    const events = runEvents(ticks);
    assert.equal(events.length, ticks.reduce((n, t) => n + t.trendpack.stats.total_events, 0));
    assert.deepEqual(runEvents(ticks, { status: "error" }).map((e) => [e.tick, e.task]), [
      [1, "oracle:compress"],
      [3, "oracle:compress"],
    ]);
    const compress = taskTotals(events).find((t) => t.task === "oracle:compress");
    assert.deepEqual(compress, {
      task: "oracle:compress",
      lane: "forecast",
      runs: 4,
      ok: 2,
      errors: 2,
      skipped: 0,
      spent_ops: 40,
      spent_entropy: 0,
    });
    const [forecast, shadow] = laneTotals(events);
    const spent = (lane: "forecast" | "shadow") =>
      ticks.reduce((n, t) => n + t.trendpack.budget[lane].spent_ops, 0);
    assert.equal(forecast?.spent_ops, spent("forecast"));
    assert.equal(shadow?.spent_ops, spent("shadow"));
    assert.equal(shadow?.skipped, 4, "shadow:sei costs 2, the shadow lane has 1");
  });
});

Deno.test("readRunTicks() names a recorded TrendPack that was changed, removed or is not a TrendPack", async () => {
  await withRun(2, async (dir) => {
    const manifest = await readRunManifest(dir, "RUN-R");
    const path = `${dir}/viz/RUN-R/000001.trendpack.json`;
    const original = await Deno.readTextFile(path);
    await Deno.writeTextFile(path, original.replace('"mode":"test"', '"mode":"tset"'));
    await assert.rejects(
      readRunTicks(dir, manifest),
      (error: unknown) =>
        error instanceof RunReadError && error.path === "viz/RUN-R/000001.trendpack.json" &&
        /sha256 is [0-9a-f]{64}, the manifest records/.test(error.message),
    );
    await Deno.remove(path);
    await assert.rejects(
      readRunTicks(dir, manifest),
      /000001\.trendpack\.json: recorded file is missing/,
    );
  });
  const dir = await Deno.makeTempDir({ prefix: "ers-reader-" });
  try {
    await new ArtifactWriter(dir, { durable: false }).writeJson({
      runId: "FAKE",
      tick: 0,
      kind: "trendpack",
      schema: "TrendPack.v0",
      obj: { version: "0.1", run_id: "FAKE", tick: 0, provenance: {}, timeline: [{ task: 1 }] },
      relPath: "viz/FAKE/000000.trendpack.json",
    });
    await assert.rejects(
      readRunTicks(dir, await readRunManifest(dir, "FAKE")),
      /viz\/FAKE\/000000\.trendpack\.json: timeline\[0\]\.task is not a string/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readRunManifest() refuses a manifest whose record points outside the artifacts directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ers-reader-" });
  try {
    await Deno.mkdir(`${dir}/manifests`);
    const record = {
      bytes: 2,
      kind: "x",
      path: "../escape.json",
      schema: "X.v0",
      sha256: "0".repeat(64),
      tick: 0,
    };
    await Deno.writeTextFile(
      `${dir}/manifests/BAD.manifest.json`,
      `{"records":[${JSON.stringify(record)}],"run_id":"BAD","schema":"Manifest.v0"}`,
    );
    await assert.rejects(
      readRunManifest(dir, "BAD"),
      (error: unknown) =>
        error instanceof ManifestError &&
        /records\[0\]\.path is not a relative path inside the artifacts directory/.test(
          error.message,
        ),
    );
    await assert.rejects(readRunManifest(dir, "NONE"), Deno.errors.NotFound);
    await assert.rejects(readRunManifest(`${dir}/absent`, "BAD"), /is not a directory/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
