import assert from "node:assert/strict";
import { join } from "node:path";
import {
  diffRuns,
  pipelineTick,
  type PipelineTickOptions,
  preparePipeline,
  replayRun,
  RunReadError,
  stabilizationGate,
  type TaskFn,
} from "../mod.ts";
import { denoRun, snapshot, tempDirs } from "./_tree.ts";

const STEADY = "tests/fixtures/steady_pipeline.ts";

const withTempDir = tempDirs("ers_drift_");

function ers(dir: string, ...args: string[]) {
  return denoRun(
    [`--allow-read=${dir},tests/fixtures`, `--allow-write=${dir}`],
    "../scripts/ers.ts",
    args,
  );
}

const pipelineWith = (value: TaskFn, cost = 1) => ({
  tasks: [
    { name: "f:val", lane: "forecast" as const, priority: 0, costOps: cost, fn: value },
    { name: "s:look", lane: "shadow" as const, priority: 0, costOps: 1, fn: () => "seen" },
  ],
  context: (tick: number) => ({ n: tick }),
});
const steady = pipelineWith((ctx) => ({ v: ctx.n }));

async function record(dir: string, pipeline = steady, ticks = 5): Promise<void> {
  for (let tick = 0; tick < ticks; tick++) {
    const options: PipelineTickOptions = {
      pipeline,
      tick,
      runId: "R",
      mode: "test",
      artifactsDir: dir,
      provenance: "extended",
    };
    await pipelineTick(options);
  }
}

Deno.test("replayRun() passes on a clean run and writes nothing", async () => {
  await withTempDir(async (dir) => {
    await record(dir);
    const before = await snapshot(dir);
    const report = await replayRun(dir, "R", { pipeline: steady });
    assert.deepEqual(report, {
      run_id: "R",
      ok: true,
      from: 0,
      to: 4,
      ticks: 5,
      results_packs: 5,
      recorded_pipeline_sha256: report.pipeline_sha256,
      pipeline_sha256: report.pipeline_sha256,
      pipeline_changed: false,
      divergence: null,
    });
    assert.deepEqual(await snapshot(dir), before);
    const range = await replayRun(dir, "R", { pipeline: steady, from: 1, to: 2 });
    assert.deepEqual([range.from, range.to, range.ticks], [1, 2, 2]);
  });
});

Deno.test("replayRun() catches a value change at its tick, task and field", async () => {
  await withTempDir(async (dir) => {
    await record(dir);
    const edited = pipelineWith((ctx) => ({ v: (ctx.n as number) === 3 ? -1 : ctx.n }));
    const report = await replayRun(dir, "R", { pipeline: edited });
    assert.equal(report.ok, false);
    assert.equal(report.pipeline_changed, true);
    assert.equal(report.to, 3);
    assert.deepEqual(report.divergence, {
      tick: 3,
      artifact: "resultspack",
      task: "f:val",
      path: ["results", "f:val", "value", "v"],
      a: 3,
      b: -1,
    });
  });
});

Deno.test("replayRun() catches a cost change in the TrendPack", async () => {
  await withTempDir(async (dir) => {
    await record(dir);
    const costly = pipelineWith((ctx) => ({ v: ctx.n }), 2);
    const report = await replayRun(dir, "R", { pipeline: costly });
    assert.equal(report.ok, false);
    assert.deepEqual(report.divergence?.tick, 0);
    assert.equal(report.divergence?.artifact, "trendpack");
    assert.deepEqual(report.divergence?.path, ["budget", "forecast", "spent_ops"]);
    assert.deepEqual([report.divergence?.a, report.divergence?.b], [1, 2]);
  });
});

Deno.test("replayRun() of a reference run compares TrendPacks only", async () => {
  await withTempDir(async (dir) => {
    for (let tick = 0; tick < 3; tick++) {
      await pipelineTick({ pipeline: steady, tick, runId: "R", mode: "m", artifactsDir: dir });
    }
    const report = await replayRun(dir, "R", { pipeline: steady });
    assert.deepEqual(
      [report.ok, report.ticks, report.results_packs, report.recorded_pipeline_sha256],
      [true, 3, 0, null],
    );
  });
});

Deno.test("diffRuns() names the first divergent tick, header differences and one-sided ticks", async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, "a");
    const b = join(dir, "b");
    await record(a);
    await record(b, pipelineWith((ctx) => ({ v: (ctx.n as number) >= 2 ? 0 : ctx.n })), 7);
    const report = await diffRuns(a, "R", b, "R");
    assert.equal(report.ok, false);
    assert.deepEqual(report.identity.map((d) => d.field), ["identity.pipeline_sha256"]);
    assert.deepEqual(report.environment, []);
    assert.equal(report.common_ticks, 5);
    assert.deepEqual([report.only_a, report.only_b], [[], [5, 6]]);
    assert.deepEqual(report.divergence, {
      tick: 2,
      artifact: "resultspack",
      task: "f:val",
      path: ["results", "f:val", "value", "v"],
      a: 2,
      b: 0,
    });
    const same = await diffRuns(a, "R", a, "R");
    assert.equal(same.ok, true);
  });
});

Deno.test("replayRun() and diffRuns() refuse a tampered file, a FIFO and a linked directory, naming the file", async () => {
  await withTempDir(async (dir) => {
    const run = join(dir, "run");
    const other = join(dir, "other");
    await record(run, steady, 6);
    for (let tick = 0; tick < 6; tick++) {
      await pipelineTick({
        pipeline: steady,
        tick,
        runId: "Q",
        mode: "test",
        artifactsDir: other,
        provenance: "extended",
      });
    }
    const replay = () => replayRun(run, "R", { pipeline: steady });
    const diff = () => diffRuns(run, "R", other, "Q");
    // Tick 3's ResultsPack edited: same length, other bytes.
    const results = join(run, "results/R/000003.resultspack.json");
    const original = await Deno.readTextFile(results);
    await Deno.writeTextFile(results, original.replace('"v":3', '"v":4'));
    await assert.rejects(replay, RunReadError, "results/R/000003.resultspack.json");
    await assert.rejects(replay, /sha256 is [0-9a-f]{64}, the manifest records/);
    await assert.rejects(diff, /results\/R\/000003\.resultspack\.json/);
    // A replay that stops before it (at the end of its range, or at a
    // divergence) reports no problem with it, though it may have read it ahead.
    assert.equal((await replayRun(run, "R", { pipeline: steady, to: 2 })).ok, true);
    const early = pipelineWith((ctx) => ({ v: (ctx.n as number) === 1 ? -1 : ctx.n }));
    assert.equal((await replayRun(run, "R", { pipeline: early })).divergence?.tick, 1);
    await Deno.writeTextFile(results, original);
    // A FIFO in place of tick 4's TrendPack: refused at once, never blocked on.
    const trend = join(run, "viz/R/000004.trendpack.json");
    const saved = await Deno.readFile(trend);
    await Deno.remove(trend);
    await new Deno.Command("mkfifo", { args: [trend] }).output();
    await assert.rejects(replay, /viz\/R\/000004\.trendpack\.json.*not a regular file \(a FIFO\)/);
    await assert.rejects(diff, /not a regular file \(a FIFO\)/);
    // A link to a copy with the recorded bytes: refused, never followed.
    await Deno.remove(trend);
    await Deno.writeFile(join(dir, "copy.json"), saved);
    await Deno.symlink(join(dir, "copy.json"), trend);
    await assert.rejects(replay, /000004\.trendpack\.json: recorded path is a symbolic link/);
    await Deno.remove(trend);
    await Deno.writeFile(trend, saved);
    assert.equal((await replayRun(run, "R", { pipeline: steady })).ok, true);
    // The run's TrendPack directory swapped for a link to a copy outside the root.
    const outside = join(dir, "outside");
    await Deno.rename(join(run, "viz/R"), outside);
    await Deno.symlink(outside, join(run, "viz/R"));
    await assert.rejects(
      replay,
      /goes through viz\/R \(a symbolic link\), which is not a real directory/,
    );
    await assert.rejects(diff, /goes through viz\/R \(a symbolic link\)/);
  });
});

Deno.test("diffRuns() by content sets only the top-level run id aside", async () => {
  await withTempDir(async (dir) => {
    // Tick 0's value names a run: a nested run_id that differs is a divergence.
    const naming = (runId: string) =>
      pipelineWith((ctx) => (ctx.n as number) === 0 ? { run_id: runId } : { v: ctx.n });
    const runs = [["a", "A", "A"], ["b", "B", "B"], ["c", "C", "A"]] as const;
    for (const [out, runId, named] of runs) {
      for (const tick of [0, 1]) {
        await pipelineTick({
          pipeline: naming(named),
          tick,
          runId,
          mode: "m",
          artifactsDir: join(dir, out),
          provenance: "extended",
        });
      }
    }
    const report = await diffRuns(join(dir, "a"), "A", join(dir, "b"), "B");
    assert.deepEqual(report.divergence, {
      tick: 0,
      artifact: "resultspack",
      task: "f:val",
      path: ["results", "f:val", "value", "run_id"],
      a: "A",
      b: "B",
    });
    // The same value in both runs: no divergence, though the run ids differ.
    const same = await diffRuns(join(dir, "a"), "A", join(dir, "c"), "C");
    assert.deepEqual([same.divergence, same.common_ticks], [null, 2]);
  });
});

Deno.test("stabilizationGate() catches Math.random() and passes a steady pipeline", async () => {
  const random = preparePipeline(pipelineWith(() => ({ r: Math.random() })));
  const caught = await stabilizationGate({
    ticks: 3,
    runs: 2,
    runTick: (_run, tick) => random.runTick(tick),
  });
  assert.equal(caught.failure?.run, 1);
  assert.deepEqual(caught.failure?.path, ["value", "r"]);
  const fine = preparePipeline(steady);
  const passed = await stabilizationGate({
    ticks: 5,
    runs: 3,
    runTick: (_run, tick) => fine.runTick(tick),
  });
  assert.equal(passed.ok, true);
  await assert.rejects(
    () => stabilizationGate({ ticks: 0, runs: 2, runTick: (_r, t) => fine.runTick(t) }),
    RangeError,
  );
});

Deno.test("ers replay passes on a clean run and catches an edited pipeline file", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "p.ts");
    await Deno.copyFile(STEADY, file);
    const out = join(dir, "out");
    const made = await ers(
      dir,
      "run",
      "--out",
      out,
      "--run",
      "S",
      "--ticks",
      "6",
      "--pipeline",
      file,
    );
    assert.equal(made.code, 0, made.stderr);
    const clean = await ers(dir, "replay", out, "--run", "S");
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(
      clean.stdout,
      "replay S: ticks 0..5 identical (6 ticks, 6 ResultsPacks compared)\n",
    );
    const before = await snapshot(out);
    const source = await Deno.readTextFile(file);
    await Deno.writeTextFile(
      file,
      source.replace("(ctx.n as number) * 2", "(ctx.n as number) * 3"),
    );
    const edited = await ers(dir, "replay", out, "--run", "S");
    assert.equal(edited.code, 1);
    const lines = edited.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^pipeline changed: recorded sha256 [0-9a-f]{64}, now [0-9a-f]{64}$/);
    assert.deepEqual(lines.slice(1), [
      "replay S: first divergence at tick 1",
      "artifact: resultspack",
      "task: count",
      "path: results › count › value",
      "  field  recorded  replayed",
      "! value  2         3",
    ]);
    assert.deepEqual(await snapshot(out), before, "replay writes nothing");
    const json = JSON.parse((await ers(dir, "replay", out, "--run", "S", "--json")).stdout);
    assert.equal(json.divergence.tick, 1);
  });
});

Deno.test("ers diff names the tick two runs part at, and exits 0 on identical runs", async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, "a");
    const b = join(dir, "b");
    assert.equal((await ers(dir, "run", "--out", a, "--run", "D", "--ticks", "8")).code, 0);
    assert.equal((await ers(dir, "run", "--out", b, "--run", "D", "--ticks", "8")).code, 0);
    const same = await ers(dir, "diff", a, b, "--run", "D");
    assert.equal(same.code, 0, same.stderr);
    assert.equal(same.stdout, "diff D: 8 common ticks identical\n");
    // Run B's tick 5 TrendPack is recorded with other costs.
    const other = join(dir, "c");
    const made = await ers(dir, "run", "--out", other, "--run", "D", "--ticks", "8", "--mode", "x");
    assert.equal(made.code, 0, made.stderr);
    const differs = await ers(dir, "diff", a, other, "--run", "D");
    assert.equal(differs.code, 1);
    assert.match(differs.stdout, /^identity differs: identity\.mode: "cli" vs "x"$/m);
    assert.match(differs.stdout, /^diff D: first divergence at tick 0$/m);
    assert.match(differs.stdout, /^path: provenance › mode$/m);
  });
});

Deno.test("ers invariance --ticks catches module state and Math.random() inline, passes --vary order,budgets", async () => {
  const drifting = await ers(
    "/nonexistent",
    "invariance",
    "--pipeline",
    "tests/fixtures/drifting_pipeline.ts",
    "--ticks",
    "3",
    "--runs",
    "2",
  );
  assert.equal(drifting.code, 1);
  assert.match(drifting.stdout, /^ERS STABILIZATION: FAIL \(2 runs x 3 ticks\)$/m);
  assert.match(drifting.stdout, /^run 1, tick 0, event 0 \(flaky\)$/m);
  const random = await ers(
    "/nonexistent",
    "invariance",
    "--pipeline",
    "tests/fixtures/random_pipeline.ts",
    "--ticks",
    "2",
    "--runs",
    "2",
  );
  assert.equal(random.code, 1);
  assert.match(random.stdout, /^run 1, tick 0, result 0 \(dice\)$/m);
  assert.match(random.stdout, /^path: value › r$/m);
  const steady = await ers(
    "/nonexistent",
    "invariance",
    "--pipeline",
    STEADY,
    "--ticks",
    "6",
    "--runs",
    "5",
    "--vary",
    "order,budgets",
    "--json",
  );
  assert.equal(steady.code, 0, steady.stdout);
  const verdict = JSON.parse(steady.stdout);
  assert.deepEqual([verdict.ok, verdict.runs, verdict.ticks, verdict.forecast_only], [
    true,
    5,
    6,
    true,
  ]);
  // Without --ticks the seed check prints what it always has.
  const seed = await ers("/nonexistent", "invariance", "--runs", "3");
  assert.equal(
    seed.stdout,
    "ERS INVARIANCE: PASS\nhash: ae7e4fe3526ad0e133d2f46de48f5941e5cf24382490e9d25088d8920decfd16\n",
  );
  const usage = await ers("/nonexistent", "invariance", "--ticks", "3");
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--ticks needs --pipeline FILE/);
});
