import assert from "node:assert/strict";
import { join } from "node:path";
import {
  abraxasTick,
  Budget,
  buildRunHeader,
  canonicalResultValue,
  openPipeline,
  pipelineDigest,
  pipelineTick,
  type PipelineTickOptions,
  preparePipeline,
  readRunManifest,
  RunIdentityError,
  RunReadError,
  type TaskFn,
  verifyArtifacts,
} from "../mod.ts";
import { denoRun, snapshot, tempDirs } from "./_tree.ts";

const ok: TaskFn = () => ({ ok: true });

const withTempDir = tempDirs("ers_prov_");

function options(dir: string, tick: number, fn: TaskFn = ok): PipelineTickOptions {
  return {
    pipeline: {
      tasks: [
        { name: "f:val", lane: "forecast", priority: 0, costOps: 1, fn },
        {
          name: "f:bad",
          lane: "forecast",
          priority: 1,
          costOps: 1,
          fn: () => {
            throw new RangeError("tick too odd");
          },
        },
        { name: "s:big", lane: "shadow", priority: 0, costOps: 1, fn: () => 2n },
      ],
    },
    tick,
    runId: "X",
    mode: "test",
    artifactsDir: dir,
    provenance: "extended",
  };
}

Deno.test("pipelineTick() with extended provenance records a RunHeader, a ResultsPack and refers to both", async () => {
  await withTempDir(async (dir) => {
    const out = await pipelineTick(options(dir, 0));
    await pipelineTick(options(dir, 1));
    const manifest = await readRunManifest(dir, "X");
    assert.deepEqual(manifest.records.map((r) => `${r.tick} ${r.kind} ${r.path}`), [
      "0 resultspack results/X/000000.resultspack.json",
      "0 runheader runs/X.runheader.json",
      "0 runindex run_index/X/000000.runindex.json",
      "0 trendpack viz/X/000000.trendpack.json",
      "1 resultspack results/X/000001.resultspack.json",
      "1 runindex run_index/X/000001.runindex.json",
      "1 trendpack viz/X/000001.trendpack.json",
    ]);
    const pack = JSON.parse(
      await Deno.readTextFile(join(dir, "results/X/000000.resultspack.json")),
    );
    assert.deepEqual(pack, {
      schema: "ResultsPack.v0",
      run_id: "X",
      tick: 0,
      results: [
        {
          task: "f:bad",
          lane: "forecast",
          status: "error",
          value: null,
          error: "RangeError: tick too odd",
        },
        { task: "f:val", lane: "forecast", status: "ok", value: { ok: true }, error: null },
        {
          task: "s:big",
          lane: "shadow",
          status: "ok",
          value: { $unserializable: "bigint" },
          error: null,
        },
      ],
    });
    const index = JSON.parse(await Deno.readTextFile(out.artifacts.runindex));
    assert.equal(index.refs.results_pack, "results/X/000000.resultspack.json");
    assert.equal(index.hashes.results_pack_sha256, out.artifacts.results_pack_sha256);
    assert.equal(index.refs.run_header, "runs/X.runheader.json");
    assert.equal(index.provenance.run_header_sha256, out.artifacts.run_header_sha256);
    const header = JSON.parse(await Deno.readTextFile(join(dir, "runs/X.runheader.json")));
    assert.equal(header.identity.pipeline_digest_of, "tasks");
    assert.deepEqual(header.identity.budgets, {
      forecast: { ops: 50, entropy: 0 },
      shadow: { ops: 20, entropy: 0 },
    });
    assert.equal(header.environment.deno, Deno.version.deno);
    assert.deepEqual(await verifyArtifacts(dir), {
      ok: true,
      runs: ["X"],
      records: 7,
      seals: 0,
      errors: [],
      warnings: [],
    });
  });
});

Deno.test("pipelineTick() extended writes the reference's TrendPack bytes, and reference mode nothing more", async () => {
  await withTempDir(async (dir) => {
    const step = () => ({ ok: true });
    const reference = await abraxasTick({
      tick: 0,
      runId: "RUN-001",
      mode: "production",
      artifactsDir: join(dir, "ref"),
      runSignal: step,
      runCompress: step,
      runOverlay: step,
      runShadowTasks: { sei: step, anagram: step },
    });
    assert.equal(
      reference.artifacts.trendpack_sha256,
      "75075c6babe511c37367b5b8b8d0b9900fa8af9b16d663b503a27671841d70d1",
    );
    assert.equal(reference.artifacts.results_pack, undefined);
    assert.deepEqual([...(await snapshot(join(dir, "ref"))).keys()], [
      "manifests/RUN-001.manifest.json",
      "run_index/RUN-001/000000.runindex.json",
      "viz/RUN-001/000000.trendpack.json",
    ]);
    const extended = await pipelineTick({ ...options(dir, 0), artifactsDir: join(dir, "ext") });
    const plain = await pipelineTick({
      ...options(dir, 0),
      artifactsDir: join(dir, "plain"),
      provenance: "reference",
    });
    assert.equal(extended.artifacts.trendpack_sha256, plain.artifacts.trendpack_sha256);
    assert.notEqual(extended.artifacts.runindex_sha256, plain.artifacts.runindex_sha256);
  });
});

Deno.test("pipelineTick() refuses to resume a run with another pipeline, before anything is written", async () => {
  await withTempDir(async (dir) => {
    await pipelineTick(options(dir, 0));
    const before = await snapshot(dir);
    const edited = options(dir, 1, () => ({ ok: false }));
    await assert.rejects(
      () => pipelineTick(edited),
      (error: unknown) => {
        assert.ok(error instanceof RunIdentityError);
        assert.deepEqual(error.fields, ["identity.pipeline_sha256"]);
        assert.match(error.message, /^Cannot resume run X with another identity/);
        assert.match(error.message, new RegExp(error.recordedPipelineSha256));
        assert.match(error.message, new RegExp(error.attemptedPipelineSha256));
        assert.match(error.message, /--run-id/);
        return true;
      },
    );
    // Another process (a fresh writer: the same directory by another path)
    // reads the header from disk and refuses too.
    await assert.rejects(
      () => pipelineTick({ ...edited, artifactsDir: join(dir, ".", "") + "/." }),
      RunIdentityError,
    );
    await assert.rejects(
      () =>
        pipelineTick({
          ...options(dir, 1),
          pipeline: { ...options(dir, 1).pipeline, budgets: { shadow: { ops: 3 } } },
        }),
      /identity\.budgets\.shadow\.ops differs/,
    );
    await assert.rejects(
      () => pipelineTick({ ...options(dir, 1), mode: "other" }),
      RunIdentityError,
    );
    assert.deepEqual(await snapshot(dir), before);
    // The same identity resumes, from a fresh writer too, without rewriting the header.
    await pipelineTick({ ...options(dir, 1), artifactsDir: `${dir}/.` });
    assert.equal(
      (await snapshot(dir)).get("runs/X.runheader.json"),
      before.get("runs/X.runheader.json"),
    );
    assert.equal((await verifyArtifacts(dir)).ok, true);
  });
});

Deno.test("pipelineTick() checks each tick's identity with one pipeline object too, whatever setting changes", async () => {
  await withTempDir(async (dir) => {
    const pipeline = preparePipeline(
      options(dir, 0).pipeline as Parameters<typeof preparePipeline>[0],
    );
    const tick = (n: number, more: Partial<PipelineTickOptions> = {}) =>
      pipelineTick({ ...options(dir, n), pipeline, ...more });
    await tick(0);
    await tick(1); // the identity checked at tick 0 holds
    const before = await snapshot(dir);
    await assert.rejects(() => tick(2, { mode: "other" }), /identity\.mode differs/);
    await assert.rejects(
      () => tick(2, { execution: { isolation: "worker", sandbox: null } }),
      /identity\.isolation differs/,
    );
    await assert.rejects(
      () => tick(2, { pipelineDigest: { sha256: "0".repeat(64), modules: ["p.ts"] } }),
      /identity\.pipeline_sha256 differ/,
    );
    const shrunk = {
      ...pipeline,
      budgets: { ...pipeline.budgets, shadow: new Budget({ ops: 3 }) },
    };
    await assert.rejects(
      () => pipelineTick({ ...options(dir, 2), pipeline: shrunk }),
      /identity\.budgets\.shadow\.ops differs/,
    );
    assert.deepEqual(await snapshot(dir), before);
    await tick(2);
    assert.equal((await verifyArtifacts(dir)).ok, true);
  });
});

Deno.test("pipelineTick() refuses a RunHeader that was edited on disk", async () => {
  await withTempDir(async (dir) => {
    await pipelineTick(options(dir, 0));
    const path = join(dir, "runs/X.runheader.json");
    const header = JSON.parse(await Deno.readTextFile(path));
    header.identity.mode = "forged";
    await Deno.writeTextFile(path, JSON.stringify(header));
    await assert.rejects(
      () => pipelineTick({ ...options(dir, 1), artifactsDir: `${dir}/.` }),
      (error: unknown) =>
        error instanceof RunReadError && /identity_sha256 does not match/.test(error.message),
    );
  });
});

Deno.test("pipelineTick() extended digests a named pipeline module and records it for replay", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "p.ts");
    await Deno.writeTextFile(join(dir, "steps.ts"), "export const step = () => 1;\n");
    await Deno.writeTextFile(
      file,
      'import { step } from "./steps.ts";\nimport type { X } from "./types.ts";\nexport default { tasks: [] };\n',
    );
    const digest = await pipelineDigest(file);
    assert.deepEqual(digest.modules, ["p.ts", "steps.ts"]);
    await pipelineTick({ ...options(join(dir, "out"), 0), pipelineFile: file });
    const header = JSON.parse(await Deno.readTextFile(join(dir, "out/runs/X.runheader.json")));
    assert.equal(header.pipeline_file, "../p.ts");
    assert.equal(header.identity.pipeline_sha256, digest.sha256);
    assert.equal(header.identity.pipeline_digest_of, "modules");
    assert.deepEqual(header.pipeline_modules, ["p.ts", "steps.ts"]);
    // Moving the directory keeps the digest; editing an import changes it.
    const moved = join(dir, "moved");
    await Deno.mkdir(moved);
    await Deno.copyFile(file, join(moved, "p.ts"));
    await Deno.copyFile(join(dir, "steps.ts"), join(moved, "steps.ts"));
    assert.equal((await pipelineDigest(join(moved, "p.ts"))).sha256, digest.sha256);
    await Deno.writeTextFile(join(dir, "steps.ts"), "export const step = () => 2;\n");
    await assert.rejects(
      () => pipelineTick({ ...options(join(dir, "out"), 1), pipelineFile: file }),
      RunIdentityError,
    );
    await assert.rejects(() => pipelineDigest(join(dir, "none.ts")), Deno.errors.NotFound);
  });
});

Deno.test("canonicalResultValue() marks every value canonical JSON cannot hold, never dropping it", () => {
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  const throwing = {
    get x() {
      throw new Error("no");
    },
  };
  assert.deepEqual(canonicalResultValue({ a: NaN, b: -Infinity, c: 2 ** 60, d: "\ud800" }), {
    a: { $unserializable: "NaN" },
    b: { $unserializable: "-Infinity" },
    c: { $unserializable: "unsafe-integer" },
    d: { $unserializable: "lone-surrogate" },
  });
  assert.deepEqual(canonicalResultValue(cyclic), [{ $unserializable: "cycle" }]);
  assert.deepEqual(canonicalResultValue(throwing), { $unserializable: "throws" });
  assert.deepEqual(canonicalResultValue([Symbol("s"), () => 1, new Date(0), undefined, -0]), [
    { $unserializable: "symbol" },
    { $unserializable: "function" },
    { $unserializable: "object:Date" },
    null,
    0,
  ]);
  let deep: unknown = 1;
  for (let i = 0; i < 600; i++) deep = [deep];
  assert.match(JSON.stringify(canonicalResultValue(deep)), /"\$unserializable":"too-deep"/);
  const shared = { n: 1 };
  assert.deepEqual(canonicalResultValue([shared, shared]), [{ n: 1 }, { n: 1 }]);
});

Deno.test("ers run --compat v0.2 writes exactly today's reference bytes", async () => {
  await withTempDir(async (dir) => {
    const result = await denoRun(
      [`--allow-read=${dir}`, `--allow-write=${dir}`],
      "../scripts/ers.ts",
      ["run", "--out", dir, "--run", "DEMO", "--ticks", "5", "--compat", "v0.2"],
    );
    assert.equal(result.code, 0, result.stderr);
    const hashes: Record<string, string> = {};
    for (const [path, text] of await snapshot(dir)) {
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
      hashes[path] = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0"))
        .join("");
    }
    // Recorded with `ers run` on main before extended provenance existed.
    assert.deepEqual(hashes, {
      "manifests/DEMO.manifest.json":
        "70eaf4063c92ec9ff254d1ee7ed690024db51fc041933c7e3018f9ae7e3f8686",
      "run_index/DEMO/000000.runindex.json":
        "642b072c95ea94def391e9d1480f94842600b51706bc4241f9e4ae955b368dcc",
      "run_index/DEMO/000001.runindex.json":
        "31ded09bdc23371bf710c0fad333ea7ad2bcdc72d851f304221a162ef39b826a",
      "run_index/DEMO/000002.runindex.json":
        "c9a9390c82a348b859d988db0f090b7d38ac44871878dc1e3e7d0449049b7bf4",
      "run_index/DEMO/000003.runindex.json":
        "6fb39cc55d443e46e91d51987f4822e957b0945f2f459ba226fe331112f6043f",
      "run_index/DEMO/000004.runindex.json":
        "8b7e4cebff6f3cc6cdcbf649f48564396ed1ecd72eab72d54ac81fa42fa63858",
      "viz/DEMO/000000.trendpack.json":
        "d7a53d8d9c026bd0b4ee17deb71d829af215d835c1607162a6a6f50297e3a4de",
      "viz/DEMO/000001.trendpack.json":
        "20b3ce7d32d8635cd9815194239266f2187b2843c680d74c6df82aa5e207515b",
      "viz/DEMO/000002.trendpack.json":
        "bf40ae7d33b2495c63a3fae77e9343348fb5fa4652adf20e0d8443a036b2709c",
      "viz/DEMO/000003.trendpack.json":
        "836bc51224baf96e2fbc8ef3018d3e26abbc6d2836e2d62ab270cfb278a4f010",
      "viz/DEMO/000004.trendpack.json":
        "1a2189ca5f87344826fa137e1f51027aa90bcb4c199b1453aa3cf892839e3bbb",
    });
  });
});

Deno.test("ers run refuses to resume a run with another pipeline and writes nothing", async () => {
  await withTempDir(async (dir) => {
    const flags = [`--allow-read=${dir},tests/fixtures`, `--allow-write=${dir}`];
    const first = await denoRun(flags, "../scripts/ers.ts", [
      "run",
      "--out",
      dir,
      "--run",
      "R",
      "--ticks",
      "2",
    ]);
    assert.equal(first.code, 0, first.stderr);
    const before = await snapshot(dir);
    const second = await denoRun(flags, "../scripts/ers.ts", [
      "run",
      "--out",
      dir,
      "--run",
      "R",
      "--ticks",
      "2",
      "--from",
      "2",
      "--pipeline",
      "tests/fixtures/steady_pipeline.ts",
    ]);
    assert.equal(second.code, 1);
    const recorded = JSON.parse(before.get("runs/R.runheader.json") as string);
    assert.match(
      second.stderr,
      new RegExp(
        `^ers: Cannot resume run R with another identity .*recorded with pipeline sha256 ${recorded.identity.pipeline_sha256}, this pipeline is [0-9a-f]{64}.*--run-id`,
      ),
    );
    assert.deepEqual(await snapshot(dir), before);
  });
});

Deno.test("buildRunHeader() digests a pipeline's tasks alike prepared, opened inline and opened in workers", async () => {
  const file = new URL("./fixtures/steady_pipeline.ts", import.meta.url);
  const header = (pipeline: Parameters<typeof buildRunHeader>[0]["pipeline"]) =>
    buildRunHeader({ runId: "R", firstTick: 0, mode: "m", pipeline });
  const prepared = preparePipeline((await import(file.href)).default);
  await using inline = await openPipeline(file, { isolation: "inline" });
  await using worker = await openPipeline(file, { isolation: "worker" });
  const digests = [
    (await header(prepared)).identity.pipeline_sha256,
    (await header(inline)).identity.pipeline_sha256,
    (await header(worker)).identity.pipeline_sha256,
  ];
  // Worker isolation keeps task bodies in the lanes: the digest must still
  // cover the real sources, so an edited body changes it and replay agrees.
  assert.deepEqual(digests, [digests[0], digests[0], digests[0]]);
  const edited = preparePipeline({
    ...(await import(file.href)).default,
    context: (tick: number) => ({ n: tick + 1 }),
  });
  assert.notEqual((await header(edited)).identity.pipeline_sha256, digests[0]);
});
