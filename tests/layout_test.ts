import assert from "node:assert/strict";
import {
  abraxasTick,
  ARTIFACT_LAYOUT,
  artifactPath,
  buildRunIndex,
  readRunManifest,
  runOfPath,
  type TaskFn,
  tickStem,
} from "../mod.ts";

const ok: TaskFn = () => ({ ok: true });

Deno.test("artifactPath() names the reference's paths for every kind", () => {
  assert.equal(artifactPath("trendpack", "RUN-001", 0), "viz/RUN-001/000000.trendpack.json");
  assert.equal(artifactPath("runindex", "RUN-001", 42), "run_index/RUN-001/000042.runindex.json");
  assert.equal(artifactPath("manifest", "RUN-001"), "manifests/RUN-001.manifest.json");
  assert.equal(artifactPath("trendpack", "R", 1_000_000), "viz/R/1000000.trendpack.json");
  for (const kind of Object.keys(ARTIFACT_LAYOUT) as (keyof typeof ARTIFACT_LAYOUT)[]) {
    const path = ARTIFACT_LAYOUT[kind].perTick
      ? artifactPath(kind, "a.b", 3)
      : artifactPath(kind, "a.b");
    assert.equal(runOfPath(path), "a.b", path);
  }
});

Deno.test("artifactPath() refuses an unknown kind, a bad run id and a misplaced tick", () => {
  assert.throws(
    () => artifactPath("nope" as "trendpack", "R", 0),
    /Cannot name artifact path as 'kind' must be one of manifest, trendpack, runindex, promotion, runheader, resultspack/,
  );
  assert.throws(() => artifactPath("trendpack", "..", 0), RangeError);
  assert.throws(() => artifactPath("trendpack", "a/b", 0), RangeError);
  assert.throws(() => artifactPath("trendpack", "R"), TypeError);
  assert.throws(() => artifactPath("manifest", "R", 0), RangeError);
  assert.throws(() => tickStem(1.5), RangeError);
});

Deno.test("runOfPath() reads the run of both layout shapes and nothing else", () => {
  assert.equal(runOfPath("viz/R/000000.trendpack.json"), "R");
  assert.equal(runOfPath("promotions/R-2/sub/000001.json"), "R-2");
  assert.equal(runOfPath("manifests/R.manifest.json"), "R");
  assert.equal(runOfPath("manifests/R.manifest.manifest.json"), "R.manifest");
  assert.equal(runOfPath("notes/R.v1.json"), "R.v1");
  assert.equal(runOfPath("notes/R"), undefined); // no extension: not <run>.<ext>
  assert.equal(runOfPath("notes/.json"), undefined);
  assert.equal(runOfPath("manifests/.manifest.json"), undefined);
  assert.equal(runOfPath("viz/../000000.json"), undefined);
  assert.equal(runOfPath("viz/./000000.json"), undefined);
  assert.equal(runOfPath("/viz/R/1.json"), undefined);
  assert.equal(runOfPath("viz\\R\\1.json"), undefined);
  assert.equal(runOfPath("viz/R R/1.json"), undefined);
  assert.equal(runOfPath(`viz/${"x".repeat(129)}/1.json`), undefined);
  assert.equal(runOfPath("top.json"), undefined);
  assert.equal(runOfPath(42 as unknown as string), undefined);
});

Deno.test("abraxasTick() writes exactly where the layout says, with its schema tags", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = await abraxasTick({
      tick: 5,
      runId: "L",
      mode: "demo",
      artifactsDir: dir,
      runSignal: ok,
      runCompress: ok,
      runOverlay: ok,
    });
    const manifest = await readRunManifest(dir, "L");
    assert.equal(manifest.path, artifactPath("manifest", "L"));
    assert.deepEqual(
      manifest.records.map((r) => [r.kind, r.schema, r.path]),
      [
        ["runindex", ARTIFACT_LAYOUT.runindex.schema, artifactPath("runindex", "L", 5)],
        ["trendpack", ARTIFACT_LAYOUT.trendpack.schema, artifactPath("trendpack", "L", 5)],
      ],
    );
    const index = JSON.parse(await Deno.readTextFile(out.artifacts.runindex));
    assert.deepEqual(
      index,
      buildRunIndex({
        runId: "L",
        tick: 5,
        mode: "demo",
        trendpack: {
          path: artifactPath("trendpack", "L", 5),
          sha256: out.artifacts.trendpack_sha256,
        },
      }),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
