import assert from "node:assert/strict";
import {
  abraxasTick,
  type AbraxasTickOptions,
  ArtifactWriter,
  pipelineTick,
  type TaskFn,
} from "../mod.ts";
import { snapshot } from "./_tree.ts";

async function inTempDirs(count: number, fn: (...dirs: string[]) => Promise<void>): Promise<void> {
  const dirs = await Promise.all(
    Array.from({ length: count }, () => Deno.makeTempDir({ prefix: "ers-tick-" })),
  );
  try {
    await fn(...dirs);
  } finally {
    await Promise.all(dirs.map((dir) => Deno.remove(dir, { recursive: true })));
  }
}

async function sha256File(path: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await Deno.readFile(path)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

const ok: TaskFn = () => ({ ok: true });
const reference = (dir: string, tick: number): AbraxasTickOptions => ({
  tick,
  runId: "RUN-001",
  mode: "production",
  context: {},
  artifactsDir: dir,
  runSignal: ok,
  runCompress: ok,
  runOverlay: ok,
  runShadowTasks: { sei: ok, anagram: ok },
});

Deno.test("abraxasTick() reproduces the reference's known manifest, TrendPack and RunIndex hashes", async () => {
  await inTempDirs(1, async (dir) => {
    const ticks = [];
    for (const tick of [0, 1, 2]) ticks.push(await abraxasTick(reference(dir, tick)));
    assert.equal(
      ticks[0]!.artifacts.trendpack_sha256,
      "75075c6babe511c37367b5b8b8d0b9900fa8af9b16d663b503a27671841d70d1",
    );
    assert.equal(
      ticks[0]!.artifacts.runindex_sha256,
      "25fab378654d8f2563b2c8d78a048b6dc0658c4b8ec2ecf0cb0de364e7e4d841",
    );
    assert.equal(
      await sha256File(`${dir}/manifests/RUN-001.manifest.json`),
      "07d7a36974f685ae0ea57fceae09152bfb4bb143f43c531612ffe6fa7267d808",
    );
    assert.equal(
      await sha256File(ticks[0]!.artifacts.trendpack),
      ticks[0]!.artifacts.trendpack_sha256,
    );
  });
});

Deno.test("abraxasTick() runs signal, compress, overlay in order, then the shadow tasks", async () => {
  await inTempDirs(1, async (dir) => {
    const calls: string[] = [];
    const step = (name: string): TaskFn => () => calls.push(name);
    const out = await abraxasTick({
      ...reference(dir, 0),
      runSignal: step("signal"),
      runCompress: step("compress"),
      runOverlay: step("overlay"),
      runShadowTasks: { sei: step("shadow:sei"), anagram: step("shadow:anagram") },
    });
    assert.deepEqual(calls, ["signal", "compress", "overlay", "shadow:anagram", "shadow:sei"]);
    assert.equal(out.tick, 0);
    assert.equal(out.run_id, "RUN-001");
    assert.equal(out.mode, "production");
    assert.deepEqual(out.remaining, {
      forecast: { ops: 20, entropy: 0 },
      shadow: { ops: 16, entropy: 0 },
    });
    assert.equal(out.results["shadow:sei"]?.cost_ops, 2);
    const pack = JSON.parse(await Deno.readTextFile(out.artifacts.trendpack));
    assert.deepEqual(pack.provenance, { engine: "abraxas", mode: "production", ers: "v0.2" });
    assert.deepEqual(pack.stats, {
      total_events: 5,
      forecast_events: 3,
      shadow_events: 2,
      errors: 0,
      skipped: 0,
      ok_events: 5,
    });
  });
});

Deno.test("abraxasTick() lays artifacts out as viz/<run>/<tick>.trendpack.json and run_index/<run>/<tick>.runindex.json", async () => {
  await inTempDirs(1, async (dir) => {
    const out = await abraxasTick({ ...reference(dir, 42), runId: "TEST-RUN-003" });
    assert.equal(out.artifacts.trendpack, `${dir}/viz/TEST-RUN-003/000042.trendpack.json`);
    assert.equal(out.artifacts.runindex, `${dir}/run_index/TEST-RUN-003/000042.runindex.json`);
    const index = JSON.parse(await Deno.readTextFile(out.artifacts.runindex));
    assert.deepEqual(index, {
      schema: "RunIndex.v0",
      run_id: "TEST-RUN-003",
      tick: 42,
      refs: { trendpack: "viz/TEST-RUN-003/000042.trendpack.json" },
      hashes: { trendpack_sha256: out.artifacts.trendpack_sha256 },
      tags: [],
      provenance: { engine: "abraxas", mode: "production" },
    });
    assert.deepEqual([...(await snapshot(dir)).keys()], [
      "manifests/TEST-RUN-003.manifest.json",
      "run_index/TEST-RUN-003/000042.runindex.json",
      "viz/TEST-RUN-003/000042.trendpack.json",
    ]);
  });
});

Deno.test("abraxasTick() writes the same bytes, RunIndex and manifest included, in different directories", async () => {
  await inTempDirs(2, async (first, second) => {
    for (const tick of [0, 1]) {
      await abraxasTick(reference(first, tick));
      await abraxasTick(reference(second, tick));
    }
    assert.deepEqual(await snapshot(first), await snapshot(second));
  });
});

Deno.test("abraxasTick() resumed from tick 0 completes the run to the bytes of an uninterrupted one", async () => {
  await inTempDirs(2, async (resumed, straight) => {
    for (let tick = 0; tick < 4; tick++) await abraxasTick(reference(resumed, tick));
    for (let tick = 0; tick < 8; tick++) await abraxasTick(reference(resumed, tick));
    for (let tick = 0; tick < 8; tick++) await abraxasTick(reference(straight, tick));
    assert.deepEqual(await snapshot(resumed), await snapshot(straight));
  });
});

Deno.test("abraxasTick() honours overridden budgets and costs, and records skips and errors", async () => {
  await inTempDirs(1, async (dir) => {
    const out = await abraxasTick({
      ...reference(dir, 3),
      runCompress: () => {
        throw new RangeError("compress failed");
      },
      budgetForecast: { ops: 12 },
      budgetShadow: { ops: 3 },
      costOps: { signal: 4, compress: 4, overlay: 5, shadow: 3 },
    });
    assert.equal(out.results["oracle:compress"]?.error, "RangeError: compress failed");
    assert.equal(out.results["oracle:overlay"]?.status, "skipped_budget");
    assert.deepEqual(out.remaining.forecast, { ops: 4, entropy: 0 });
    const pack = JSON.parse(await Deno.readTextFile(out.artifacts.trendpack));
    assert.deepEqual(pack.budget, {
      forecast: { spent_ops: 8, spent_entropy: 0 },
      shadow: { spent_ops: 3, spent_entropy: 0 },
    });
    assert.deepEqual(pack.errors, [{
      task: "oracle:compress",
      lane: "forecast",
      cost_ops: 4,
      meta: { tags: [] },
    }]);
    assert.deepEqual(pack.skipped.map((s: { task: string }) => s.task), [
      "oracle:overlay",
      "shadow:sei",
    ]);
  });
});

Deno.test("abraxasTick() refuses bad arguments before running any task or writing anything", async () => {
  await inTempDirs(1, async (dir) => {
    const root = `${dir}/out`;
    let ran = false;
    const spy: TaskFn = () => (ran = true);
    const valid = { ...reference(root, 0), runSignal: spy };
    const cases: [Partial<AbraxasTickOptions>, RegExp][] = [
      [{ runId: "../escape" }, /'runId' must be 1 to 128/],
      [{ tick: -1 }, /'tick' must be a non-negative integer/],
      [{ mode: "" }, /'mode' must be a non-empty string/],
      [{ runOverlay: undefined }, /'runOverlay' must be a function/],
      [{ runShadowTasks: { x: 5 as unknown as TaskFn } }, /'runShadowTasks\.x' must be a function/],
      [{ costOps: { signal: -1 } }, /'costOps\.signal' must be a non-negative integer/],
      [{ budgetShadow: { ops: 1.5 } }, /'budgetShadow\.ops' must be a non-negative integer/],
      [{ artifactsDir: "" }, /'artifactsDir' must be a non-empty path string/],
    ];
    for (const [override, message] of cases) {
      await assert.rejects(abraxasTick({ ...valid, ...override }), message);
    }
    assert.equal(ran, false);
    assert.equal(await Deno.stat(root).then(() => "exists", () => "absent"), "absent");
  });
});

Deno.test("pipelineTick() runs any pipeline with its per-tick context and emits the same artifact layout", async () => {
  await inTempDirs(1, async (dir) => {
    const pipeline = {
      tasks: [
        {
          name: "double",
          lane: "forecast" as const,
          priority: 0,
          costOps: 2,
          fn: (ctx: Record<string, unknown>) => (ctx.n as number) * 2,
        },
        {
          name: "peek",
          lane: "shadow" as const,
          priority: 0,
          costOps: 1,
          fn: (ctx: Record<string, unknown>) => ctx.n,
        },
      ],
      budgets: { forecast: { ops: 2 }, shadow: { ops: 1 } },
      context: (tick: number) => ({ n: tick + 1 }),
    };
    const out = await pipelineTick({
      pipeline,
      tick: 9,
      runId: "P-1",
      mode: "test",
      artifactsDir: dir,
    });
    assert.equal(out.results.double?.value, 20);
    assert.equal(out.results.peek?.value, 10);
    assert.deepEqual(out.remaining, {
      forecast: { ops: 0, entropy: 0 },
      shadow: { ops: 0, entropy: 0 },
    });
    assert.match(out.artifacts.trendpack, /viz\/P-1\/000009\.trendpack\.json$/);
    const overridden = await pipelineTick({
      pipeline,
      tick: 10,
      runId: "P-1",
      mode: "test",
      artifactsDir: dir,
      context: { n: 0 },
    });
    assert.equal(overridden.results.double?.value, 0);
  });
});

Deno.test("pipelineTick() records with a given writer, and refuses one of another directory or with 'durable'", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ers-tick-writer-" });
  try {
    const pipeline = {
      tasks: [{ name: "one", lane: "forecast" as const, priority: 0, costOps: 1, fn: () => 1 }],
    };
    const writer = new ArtifactWriter(dir, { groupCommit: true });
    const options = { pipeline, tick: 0, runId: "W", mode: "test", artifactsDir: dir, writer };
    await pipelineTick(options);
    await assert.rejects(Deno.stat(`${dir}/manifests/W.manifest.json`), Deno.errors.NotFound);
    assert.equal(await writer.flush(), 2);
    await assert.rejects(
      pipelineTick({ ...options, tick: 1, artifactsDir: `${dir}/elsewhere` }),
      (error: Error) => error instanceof RangeError && error.message.includes("'writer'"),
    );
    await assert.rejects(
      pipelineTick({ ...options, tick: 1, durable: true }),
      (error: Error) => error instanceof RangeError && error.message.includes("'durable'"),
    );
    await assert.rejects(
      // @ts-expect-error: not a writer
      pipelineTick({ ...options, tick: 1, writer: { root: dir } }),
      (error: Error) => error instanceof TypeError && error.message.includes("'writer'"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
