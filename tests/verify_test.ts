import assert from "node:assert/strict";
import { abraxasTick, ArtifactWriter, type TaskFn, verifyArtifacts } from "../mod.ts";

const ok: TaskFn = () => ({ ok: true });

async function withRun(ticks: number, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ers-verify-" });
  try {
    for (let tick = 0; tick < ticks; tick++) {
      await abraxasTick({
        tick,
        runId: "RUN-V",
        mode: "test",
        artifactsDir: dir,
        runSignal: ok,
        runCompress: ok,
        runOverlay: ok,
      });
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("verifyArtifacts() passes a clean run and counts its records", async () => {
  await withRun(3, async (dir) => {
    const report = await verifyArtifacts(dir);
    assert.deepEqual(report, {
      ok: true,
      runs: ["RUN-V"],
      records: 6,
      seals: 0,
      errors: [],
      warnings: [],
    });
    assert.deepEqual(await verifyArtifacts(dir, { runId: "RUN-V" }), report);
  });
});

Deno.test("verifyArtifacts() reports progress once per recorded file, up to the total, without changing the report", async () => {
  await withRun(3, async (dir) => {
    const seen: [number, number][] = [];
    const report = await verifyArtifacts(dir, {
      onProgress: (done, total) => seen.push([done, total]),
    });
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6].map((done) => [done, 6]));
    assert.deepEqual(report, await verifyArtifacts(dir));
    await assert.rejects(
      // @ts-expect-error: not a function
      () => verifyArtifacts(dir, { onProgress: 1 }),
      (e: Error) => e instanceof TypeError && /options\.onProgress/.test(e.message),
    );
  });
});

Deno.test("verifyArtifacts() names a tampered TrendPack, and the RunIndex that vouches for it", async () => {
  await withRun(2, async (dir) => {
    const path = `${dir}/viz/RUN-V/000001.trendpack.json`;
    const text = await Deno.readTextFile(path);
    await Deno.writeTextFile(path, text.replace('"ok_events":3', '"ok_events":4'));
    const report = await verifyArtifacts(dir);
    assert.equal(report.ok, false);
    assert.deepEqual(report.errors.map((e) => e.path), [
      "run_index/RUN-V/000001.runindex.json",
      "viz/RUN-V/000001.trendpack.json",
    ]);
    assert.match(
      report.errors[1]!.message,
      /sha256 is [0-9a-f]{64}, the manifest records [0-9a-f]{64}/,
    );
    assert.match(report.errors[0]!.message, /but viz\/RUN-V\/000001\.trendpack\.json hashes to/);
  });
});

Deno.test("verifyArtifacts() names a deleted artifact and a truncated one", async () => {
  await withRun(2, async (dir) => {
    await Deno.remove(`${dir}/run_index/RUN-V/000000.runindex.json`);
    const truncated = `${dir}/viz/RUN-V/000001.trendpack.json`;
    await Deno.writeTextFile(truncated, (await Deno.readTextFile(truncated)).slice(0, 10));
    const report = await verifyArtifacts(dir);
    assert.deepEqual(report.errors.filter((e) => e.path.startsWith("run_index/RUN-V/000000")), [
      { path: "run_index/RUN-V/000000.runindex.json", message: "recorded file is missing" },
    ]);
    assert.ok(
      report.errors.some((e) =>
        e.path === "viz/RUN-V/000001.trendpack.json" && /length is 10 bytes/.test(e.message)
      ),
    );
  });
});

Deno.test("verifyArtifacts() catches a RunIndex whose refs or hashes disagree with the manifest", async () => {
  await withRun(1, async (dir) => {
    const writer = new ArtifactWriter(dir);
    const index = (ref: string, sha: string) => ({
      schema: "RunIndex.v0",
      run_id: "RUN-V",
      tick: 5,
      refs: { trendpack: ref },
      hashes: { trendpack_sha256: sha },
      tags: [],
      provenance: {},
    });
    const common = { runId: "RUN-V", kind: "runindex", schema: "RunIndex.v0" };
    await writer.writeJson({
      ...common,
      tick: 5,
      obj: index("viz/RUN-V/nowhere.json", "0".repeat(64)),
      relPath: "run_index/RUN-V/a.json",
    });
    await writer.writeJson({
      ...common,
      tick: 6,
      obj: index("viz/RUN-V/000000.trendpack.json", "0".repeat(64)),
      relPath: "run_index/RUN-V/b.json",
    });
    const report = await verifyArtifacts(dir);
    assert.deepEqual(report.errors.map((e) => e.path), [
      "run_index/RUN-V/a.json",
      "run_index/RUN-V/b.json",
    ]);
    assert.match(
      report.errors[0]!.message,
      /refers to viz\/RUN-V\/nowhere\.json, which the manifest does not record/,
    );
    assert.match(
      report.errors[1]!.message,
      /hashes\.trendpack_sha256 is 0{64}, the manifest records/,
    );
  });
});

Deno.test("verifyArtifacts() warns of files no record names, temporary files left by a crash included", async () => {
  await withRun(1, async (dir) => {
    await Deno.writeTextFile(`${dir}/viz/RUN-V/.000001.trendpack.json.tmp`, "{");
    await Deno.writeTextFile(`${dir}/viz/RUN-V/stray.json`, "{}");
    const report = await verifyArtifacts(dir);
    assert.equal(report.ok, true);
    assert.deepEqual(report.warnings, [
      {
        path: "viz/RUN-V/.000001.trendpack.json.tmp",
        message: "temporary file left by an interrupted write; no record names it",
      },
      { path: "viz/RUN-V/stray.json", message: "no manifest record names this file" },
    ]);
  });
});

Deno.test("verifyArtifacts() reports an invalid manifest as an error naming it", async () => {
  await withRun(1, async (dir) => {
    const path = `${dir}/manifests/RUN-V.manifest.json`;
    await Deno.writeTextFile(path, (await Deno.readTextFile(path)).replace("[{", "[ {"));
    const report = await verifyArtifacts(dir);
    assert.equal(report.ok, false);
    assert.deepEqual(report.errors, [{
      path: "manifests/RUN-V.manifest.json",
      message: "invalid manifest: it is not in canonical form",
    }]);
  });
});

Deno.test("verifyArtifacts() throws NotFound for a missing directory or run", async () => {
  await withRun(1, async (dir) => {
    await assert.rejects(verifyArtifacts(`${dir}/nope`), Deno.errors.NotFound);
    await assert.rejects(verifyArtifacts(dir, { runId: "OTHER" }), /No manifest for run OTHER/);
    await assert.rejects(verifyArtifacts(dir, { runId: "../x" }), RangeError);
  });
});

Deno.test("verifyArtifacts() reports a recorded path that became a directory or a symbolic link, instead of failing", async () => {
  await withRun(2, async (dir) => {
    await Deno.remove(`${dir}/viz/RUN-V/000000.trendpack.json`);
    await Deno.mkdir(`${dir}/viz/RUN-V/000000.trendpack.json`);
    await Deno.remove(`${dir}/viz/RUN-V/000001.trendpack.json`);
    await Deno.symlink(
      `${dir}/run_index/RUN-V/000001.runindex.json`,
      `${dir}/viz/RUN-V/000001.trendpack.json`,
    );
    const report = await verifyArtifacts(dir);
    const byPath = Object.fromEntries(report.errors.map((e) => [e.path, e.message]));
    assert.equal(
      byPath["viz/RUN-V/000000.trendpack.json"],
      "recorded path: it is not a regular file (a directory)",
    );
    assert.equal(
      byPath["viz/RUN-V/000001.trendpack.json"],
      "recorded path is a symbolic link, not the recorded file",
    );
  });
});
