// Promotion through the runtime: the records a promoting run writes, the
// status and history read back from them, and resumes that reproduce them.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  ArtifactWriter,
  openPipeline,
  type Pipeline,
  pipelineTick,
  preparePipeline,
  promotionDefinitionDigest,
  PromotionHistoryError,
  readPromotionHistory,
  readPromotionStatus,
  readRunManifest,
  readRunTicks,
  verifyArtifacts,
} from "../mod.ts";
import promoting from "./fixtures/promoting_pipeline.ts";
import { denoRun, snapshot } from "./_tree.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FIXTURE = "tests/fixtures/promoting_pipeline.ts";
const PIPELINE = promoting as unknown as Pipeline;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function runTicks(pipeline: Pipeline, dir: string, ticks: number, from = 0): Promise<void> {
  for (let tick = from; tick < from + ticks; tick++) {
    await pipelineTick({ pipeline, tick, runId: "R", mode: "test", artifactsDir: dir });
  }
}

Deno.test("pipelineTick() moves a promoted task to the forecast lane and records each decision at its tick", async () => {
  await withDir(async (dir) => {
    await runTicks(PIPELINE, dir, 12);
    const history = await readPromotionHistory(dir, "R");
    assert.deepEqual(history.map((d) => `${d.tick} ${d.task} ${d.decision} ${d.from}->${d.to}`), [
      "0 flaky enrolled shadow->shadow",
      "0 fragile enrolled shadow->shadow",
      "0 steady enrolled shadow->shadow",
      "1 fragile promoted shadow->forecast",
      "3 steady promoted shadow->forecast",
      "6 fragile demoted forecast->shadow",
      "8 fragile promoted shadow->forecast",
    ]);
    const manifest = await readRunManifest(dir, "R");
    const promotions = manifest.records.filter((r) => r.kind === "promotion");
    assert.deepEqual(promotions.map((r) => [r.tick, r.path, r.schema]), [
      [0, "promotions/R/000000.promotion.json", "PromotionDecision.v0"],
      [1, "promotions/R/000001.promotion.json", "PromotionDecision.v0"],
      [3, "promotions/R/000003.promotion.json", "PromotionDecision.v0"],
      [6, "promotions/R/000006.promotion.json", "PromotionDecision.v0"],
      [8, "promotions/R/000008.promotion.json", "PromotionDecision.v0"],
    ]);
    // The TrendPacks show the move: steady runs in the shadow lane up to
    // tick 3 and in the forecast lane, after signal, from tick 4 on.
    const ticks = await readRunTicks(dir, manifest);
    const laneOf = (tick: number, task: string) =>
      ticks[tick]?.trendpack.timeline.find((e) => e.task === task)?.lane;
    assert.deepEqual([3, 4].map((t) => laneOf(t, "steady")), ["shadow", "forecast"]);
    assert.deepEqual(
      ticks[4]?.trendpack.timeline.map((e) => `${e.lane}:${e.task}`),
      ["forecast:signal", "forecast:steady", "forecast:fragile", "shadow:watch", "shadow:flaky"],
    );
    assert.deepEqual([6, 7].map((t) => laneOf(t, "fragile")), ["forecast", "shadow"]);
    const report = await verifyArtifacts(dir);
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.equal(report.records, 12 * 2 + 5);
  });
});

Deno.test("readPromotionStatus() gives each candidate's state, lane, window and last decision", async () => {
  await withDir(async (dir) => {
    await runTicks(PIPELINE, dir, 10);
    const report = await readPromotionStatus(dir, "R");
    assert.equal(report.next_tick, 10);
    assert.deepEqual(
      report.candidates.map((c) => [
        c.task,
        c.status,
        c.lane,
        `${c.window.ok}/${c.settings.window}`,
        c.window.errors,
        c.last_decision_tick,
      ]),
      [
        ["flaky", "candidate", "shadow", "2/3", 1, null],
        ["fragile", "promoted", "forecast", "1/2", 0, 8],
        ["steady", "promoted", "forecast", "4/4", 0, 3],
      ],
    );
    await runTicks(PIPELINE, dir, 1, 10);
    const flaky = (await readPromotionStatus(dir, "R")).candidates[0];
    assert.deepEqual(flaky?.window.ticks, [8, 9, 10]);
    assert.equal(flaky?.window.errors, 1);
  });
});

Deno.test("pipelineTick() writes no promotion record for a run without promote", async () => {
  await withDir(async (dir) => {
    const plain: Pipeline = {
      tasks: PIPELINE.tasks.map(({ promote: _, ...task }) => task as Pipeline["tasks"][number]),
      budgets: PIPELINE.budgets,
      context: PIPELINE.context,
    };
    await runTicks(plain, dir, 5);
    const files = [...(await snapshot(dir)).keys()];
    assert.ok(files.every((path) => !path.startsWith("promotions/")), files.join("\n"));
    assert.equal((await readRunManifest(dir, "R")).records.length, 10);
    assert.deepEqual(await readPromotionHistory(dir, "R"), []);
    assert.deepEqual((await readPromotionStatus(dir, "R")).candidates, []);
  });
});

Deno.test("pipelineTick() restarts a window when the definition changes mid-run, and a resume follows", async () => {
  await withDir(async (dir) => {
    const withSteady = (costOps: number): Pipeline => ({
      ...PIPELINE,
      tasks: PIPELINE.tasks.map((t) => (t.name === "steady" ? { ...t, costOps } : t)),
    });
    await runTicks(withSteady(2), dir, 3);
    await runTicks(withSteady(1), dir, 5, 3);
    const steady = await readPromotionHistory(dir, "R", { task: "steady" });
    assert.deepEqual(steady.map((d) => `${d.tick} ${d.decision} ${d.rule}`), [
      "0 enrolled declared_candidate",
      "3 reset definition_changed",
      "6 promoted clean_shadow_window",
    ]);
    assert.deepEqual(steady[1]?.window.ticks, [0, 1, 2]);
    assert.equal(steady[1]?.previous_definition_sha256, steady[0]?.definition_sha256);
    assert.equal(steady[2]?.definition_sha256, steady[1]?.definition_sha256);
    // A new process (run through the CLI) replays the records, reset included.
    const result = await denoRun(
      [`--allow-read=${dir},${ROOT}`, `--allow-write=${dir}`],
      new URL("../scripts/ers.ts", import.meta.url),
      ["promote", "history", dir, "--run", "R", "--task", "steady", "--json"],
      { cwd: ROOT },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), steady);
  });
});

Deno.test("A promoting run resumed in a new process at every tick boundary equals a run in one go, byte for byte", async () => {
  await withDir(async (dir) => {
    const ers = (out: string, ...args: string[]) =>
      denoRun(
        [`--allow-read=${out},${ROOT}`, `--allow-write=${out}`],
        new URL("../scripts/ers.ts", import.meta.url),
        ["run", "--out", out, "--run-id", "R", "--pipeline", FIXTURE, ...args],
        { cwd: ROOT },
      );
    const once = `${dir}/once`;
    const resumed = `${dir}/resumed`;
    await Deno.mkdir(once);
    await Deno.mkdir(resumed);
    const all = await ers(once, "--ticks", "12");
    assert.equal(all.code, 0, all.stderr);
    for (let tick = 0; tick < 12; tick++) {
      const step = await ers(resumed, "--ticks", "1", "--from", String(tick));
      assert.equal(step.code, 0, step.stderr);
    }
    const a = await snapshot(once);
    assert.ok([...a.keys()].includes("promotions/R/000008.promotion.json"));
    assert.deepEqual(await snapshot(resumed), a);
    // The run header records the pipeline's digest: definitions are judged over it.
    const header = JSON.parse(a.get("runs/R.runheader.json") as string);
    const digest = header.identity.pipeline_sha256 as string;
    const { tasks } = preparePipeline(PIPELINE);
    const enrolled = await readPromotionHistory(once, "R");
    for (const entry of enrolled.filter((d) => d.decision === "enrolled")) {
      const task = tasks.find((t) => t.name === entry.task);
      assert.ok(task !== undefined);
      assert.equal(entry.definition_sha256, await promotionDefinitionDigest(task, digest));
      assert.notEqual(entry.definition_sha256, await promotionDefinitionDigest(task));
    }
  });
});

Deno.test("Promotion records that do not follow from the recorded ticks are refused, naming the tick", async () => {
  await withDir(async (dir) => {
    const plain: Pipeline = {
      tasks: [{ name: "m", lane: "shadow", priority: 0, costOps: 1, fn: () => 1 }],
    };
    await runTicks(plain, dir, 2);
    const settings = { window: 3, max_errors: 0, max_skips: 0 };
    const window = { lane: "shadow", ticks: [], ok: 0, errors: 0, skips: 0 };
    const decision = (kind: string, to: string, rule: string) => ({
      task: "m",
      decision: kind,
      from: "shadow",
      to,
      rule,
      window,
      settings,
      definition_sha256: "0".repeat(64),
    });
    await new ArtifactWriter(dir).writeJson({
      runId: "R",
      tick: 1,
      kind: "promotion",
      schema: "PromotionDecision.v0",
      relPath: "promotions/R/000001.promotion.json",
      obj: {
        schema: "PromotionDecision.v0",
        run_id: "R",
        tick: 1,
        decisions: [
          decision("enrolled", "shadow", "declared_candidate"),
          decision("promoted", "forecast", "clean_shadow_window"),
        ],
      },
    });
    await assert.rejects(readPromotionStatus(dir, "R"), (error: unknown) => {
      assert.ok(error instanceof PromotionHistoryError);
      assert.equal(error.tick, 1);
      assert.match(error.message, /^Cannot follow the promotions of run R at tick 1: /);
      return true;
    });
    // A tick other than the next one this process wrote replays the records
    // too, and refuses to build on them.
    await assert.rejects(
      pipelineTick({ pipeline: plain, tick: 3, runId: "R", mode: "test", artifactsDir: dir }),
      PromotionHistoryError,
    );
  });
});

Deno.test("ers promote: status as JSON equals the library's, and bad command lines fail cleanly", async () => {
  await withDir(async (dir) => {
    await runTicks(PIPELINE, dir, 6);
    const ers = (...args: string[]) =>
      denoRun(
        [`--allow-read=${dir},${ROOT}`],
        new URL("../scripts/ers.ts", import.meta.url),
        args,
        {
          cwd: ROOT,
        },
      );
    const json = await ers("promote", "status", dir, "--run", "R", "--json");
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), await readPromotionStatus(dir, "R"));
    const text = await ers("promote", "history", dir, "--run", "R", "--task", "steady");
    assert.equal(text.code, 0, text.stderr);
    assert.deepEqual(text.stdout.split("\n").slice(0, 3), [
      "tick  task    decision  from    to        rule                 window",
      "   0  steady  enrolled  shadow  shadow    declared_candidate   -",
      "   3  steady  promoted  shadow  forecast  clean_shadow_window  ticks 0..3 shadow: 4 ok, 0 errors, 0 skips",
    ]);
    const none = await ers("promote", "history", dir, "--run", "R", "--task", "watch");
    assert.equal(none.stdout, 'run R: no promotion decisions for task "watch"\n');
    const missing = await ers("promote", "status", dir, "--run", "NOPE");
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trimEnd().split("\n").length, 1, missing.stderr);
    assert.match(missing.stderr, /^ers: .*NOPE/);
    const unknown = await ers("promote", "statuses", dir, "--run", "R");
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /^ers: unknown action "statuses": ers promote takes status or history$/m,
    );
    const badFlag = await ers("promote", "status", dir, "--run", "R", "--task", "x");
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /--task/);
    const help = await ers("promote", "history", "--help");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--task NAME/);
  });
});

Deno.test("pipelineTick() runs the recorded ticks of a promoting run again without rewriting a byte", async () => {
  await withDir(async (dir) => {
    await runTicks(PIPELINE, dir, 8);
    const before = await snapshot(dir);
    await runTicks(PIPELINE, dir, 8);
    await runTicks(PIPELINE, dir, 3, 4);
    assert.deepEqual(await snapshot(dir), before);
  });
});

Deno.test("A promoting pipeline writes the same bytes with worker lanes, inline lanes and prepared in process", async () => {
  await withDir(async (dir) => {
    const url = new URL("./fixtures/promoting_pipeline.ts", import.meta.url);
    for (const isolation of ["worker", "inline"] as const) {
      await using opened = await openPipeline(url, { isolation });
      for (let tick = 0; tick < 12; tick++) {
        await pipelineTick({
          pipeline: opened,
          tick,
          runId: "R",
          mode: "test",
          artifactsDir: `${dir}/${isolation}`,
        });
      }
    }
    await runTicks(PIPELINE, `${dir}/prepared`, 12);
    const prepared = await snapshot(`${dir}/prepared`);
    assert.ok(prepared.has("promotions/R/000006.promotion.json"));
    assert.deepEqual(await snapshot(`${dir}/worker`), prepared);
    assert.deepEqual(await snapshot(`${dir}/inline`), prepared);
  });
});

Deno.test("A promotion record changed on disk is refused by the readers and by the next tick, naming the file", async () => {
  await withDir(async (dir) => {
    const names = ["__proto__", "constructor"];
    const pipeline: Pipeline = {
      tasks: names.map((name) => ({
        name,
        lane: "shadow" as const,
        priority: 0,
        costOps: 1,
        fn: () => 1,
        promote: { window: 2 },
      })),
    };
    await runTicks(pipeline, dir, 3);
    const status = await readPromotionStatus(dir, "R");
    assert.deepEqual(status.candidates.map((c) => `${c.task} ${c.status} ${c.lane}`), [
      "__proto__ promoted forecast",
      "constructor promoted forecast",
    ]);
    await Deno.writeTextFile(`${dir}/promotions/R/000001.promotion.json`, "{}");
    const named = { name: "RunReadError", message: /promotions\/R\/000001\.promotion\.json/ };
    await assert.rejects(readPromotionHistory(dir, "R"), named);
    await assert.rejects(
      pipelineTick({ pipeline, tick: 5, runId: "R", mode: "test", artifactsDir: dir }),
      named,
    );
  });
});

Deno.test("ers invariance --ticks passes on a promoting pipeline, and runs its promotions", async () => {
  const ers = (...args: string[]) =>
    denoRun(
      ["--unstable-worker-options", `--allow-read=${ROOT}`],
      new URL("../scripts/ers.ts", import.meta.url),
      ["invariance", "--pipeline", FIXTURE, "--ticks", "12", ...args],
      { cwd: ROOT },
    );
  const pass = await ers("--runs", "4", "--vary", "order,isolation");
  assert.equal(pass.code, 0, pass.stdout + pass.stderr);
  assert.match(pass.stdout, /^ERS STABILIZATION: PASS \(4 runs x 12 ticks\)$/m);
  // With no shadow budget (run 2) no candidate proves itself, so the forecast
  // lane differs from tick 2 on: fragile, promoted at tick 1, is missing.
  const budgets = await ers("--runs", "3", "--vary", "budgets");
  assert.equal(budgets.code, 1, budgets.stderr);
  assert.match(budgets.stdout, /^run 2, tick 2, event 1 \(fragile\)$/m);
  assert.match(budgets.stdout, /"lane":"forecast".*"task":"fragile"/);
});

Deno.test("ers replay reproduces a promoting run, from any tick, and reports a changed rule's first divergence", async () => {
  await withDir(async (dir) => {
    const ers = (...args: string[]) =>
      denoRun(
        [`--allow-read=${dir},${ROOT}`, `--allow-write=${dir}`],
        new URL("../scripts/ers.ts", import.meta.url),
        args,
        { cwd: ROOT },
      );
    const run = await ers(
      "run",
      "--out",
      dir,
      "--run-id",
      "R",
      "--ticks",
      "12",
      "--pipeline",
      FIXTURE,
    );
    assert.equal(run.code, 0, run.stderr);
    const whole = await ers("replay", dir, "--run", "R");
    assert.equal(whole.code, 0, whole.stdout + whole.stderr);
    assert.match(whole.stdout, /^replay R: ticks 0\.\.11 identical/m);
    const tail = await ers("replay", dir, "--run", "R", "--from", "7");
    assert.equal(tail.code, 0, tail.stdout + tail.stderr);
    assert.match(tail.stdout, /^replay R: ticks 7\.\.11 identical/m);
    // The same tasks with fragile's window at 3: promoted two ticks later.
    const source = await Deno.readTextFile(`${ROOT}/${FIXTURE}`);
    const edited = `${dir}/edited_pipeline.ts`;
    await Deno.writeTextFile(
      edited,
      source.replace("promote: { window: 2 }", "promote: { window: 3 }"),
    );
    const changed = await ers("replay", dir, "--run", "R", "--pipeline", edited);
    assert.equal(changed.code, 1, changed.stdout + changed.stderr);
    assert.match(changed.stdout, /tick 0/);
    assert.match(changed.stdout, /promotion/);
  });
});

const tickOf = (pipeline: Pipeline, dir: string, tick: number) =>
  pipelineTick({ pipeline, tick, runId: "R", mode: "test", artifactsDir: dir });

Deno.test("pipelineTick() refuses a tick that would change the promotion decisions recorded after it, writing nothing", async () => {
  await withDir(async (dir) => {
    // A gap filled in: tick 3 of a run that records ticks 0..2 and 5.
    for (const tick of [0, 1, 2, 5]) await tickOf(PIPELINE, `${dir}/gap`, tick);
    const gap = await snapshot(`${dir}/gap`);
    await assert.rejects(tickOf(PIPELINE, `${dir}/gap`, 3), (error: unknown) => {
      assert.ok(error instanceof PromotionHistoryError);
      assert.equal(error.tick, 3);
      assert.match(error.message, /tick 3 is not recorded, but ticks up to 5 are/);
      return true;
    });
    assert.deepEqual(await snapshot(`${dir}/gap`), gap);
    assert.equal((await readPromotionStatus(`${dir}/gap`, "R")).next_tick, 6);
    // A tick before the first recorded one.
    await tickOf(PIPELINE, `${dir}/early`, 5);
    await assert.rejects(tickOf(PIPELINE, `${dir}/early`, 3), PromotionHistoryError);
    assert.equal((await readPromotionHistory(`${dir}/early`, "R")).length, 3);
    // A recorded tick run again with another promote setting.
    await runTicks(PIPELINE, `${dir}/again`, 5);
    const again = await snapshot(`${dir}/again`);
    const shorter: Pipeline = {
      ...PIPELINE,
      tasks: PIPELINE.tasks.map((t) => t.name === "steady" ? { ...t, promote: { window: 3 } } : t),
    };
    await assert.rejects(tickOf(shorter, `${dir}/again`, 2), (error: unknown) => {
      assert.ok(error instanceof PromotionHistoryError);
      assert.match(
        error.message,
        /at tick 2: this pipeline decides \[.*"reset".*\], the record holds \[\]/,
      );
      return true;
    });
    assert.deepEqual(await snapshot(`${dir}/again`), again);
    await readPromotionStatus(`${dir}/again`, "R");
    // Without candidates, a gap may still be filled, as before promotion.
    const plain: Pipeline = {
      tasks: [{ name: "m", lane: "shadow", priority: 0, costOps: 1, fn: () => 1 }],
    };
    for (const tick of [0, 2, 1]) await tickOf(plain, `${dir}/plain`, tick);
  });
});

Deno.test("pipelineTick() reads the records again when they lost records since its process's last tick", async () => {
  await withDir(async (dir) => {
    // The run's directory emptied between two ticks of one process: tick 4
    // starts afresh, as it would in a new process.
    await runTicks(PIPELINE, `${dir}/a`, 4);
    await Deno.remove(`${dir}/a`, { recursive: true });
    const out = await tickOf(PIPELINE, `${dir}/a`, 4);
    assert.equal(out.results.steady?.lane, "shadow");
    await tickOf(PIPELINE, `${dir}/b`, 4);
    assert.deepEqual(await snapshot(`${dir}/a`), await snapshot(`${dir}/b`));
    // Replaced by a copy of a shorter run: tick 5 follows the copy's records.
    await runTicks(PIPELINE, `${dir}/c`, 5);
    await runTicks(PIPELINE, `${dir}/short`, 2);
    await Deno.remove(`${dir}/c`, { recursive: true });
    await copyTree(`${dir}/short`, `${dir}/c`);
    await tickOf(PIPELINE, `${dir}/c`, 5);
    await tickOf(PIPELINE, `${dir}/short`, 5);
    assert.deepEqual(await snapshot(`${dir}/c`), await snapshot(`${dir}/short`));
  });
});

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to);
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

const EMPTY = { lane: "shadow", ticks: [] as number[], ok: 0, errors: 0, skips: 0 };

function forgedDecision(change: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    task: "m",
    decision: "enrolled",
    from: "shadow",
    to: "shadow",
    rule: "declared_candidate",
    window: EMPTY,
    settings: { window: 3, max_errors: 0, max_skips: 0 },
    definition_sha256: "0".repeat(64),
    ...change,
  };
}

// Records `text` as the PromotionDecision.v0 of tick 1 of run R, manifest included.
async function forgeRecord(dir: string, text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  const path = "promotions/R/000001.promotion.json";
  await Deno.mkdir(`${dir}/promotions/R`, { recursive: true });
  await Deno.writeFile(`${dir}/${path}`, bytes);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  const manifestPath = `${dir}/manifests/R.manifest.json`;
  const manifest = JSON.parse(await Deno.readTextFile(manifestPath));
  const record = {
    bytes: bytes.length,
    kind: "promotion",
    path,
    schema: "PromotionDecision.v0",
    sha256,
    tick: 1,
  };
  const at = manifest.records.findIndex((r: { tick: number }) => r.tick === 1);
  manifest.records.splice(at, 0, record);
  await Deno.writeTextFile(manifestPath, JSON.stringify(manifest));
}

Deno.test("A forged promotion record is refused by the readers, naming the file and field or the tick", async () => {
  const plain: Pipeline = {
    tasks: [
      { name: "f", lane: "forecast", priority: 0, costOps: 1, fn: () => 1 },
      { name: "m", lane: "shadow", priority: 0, costOps: 1, fn: () => 1 },
    ],
  };
  const record = (decisions: string) =>
    `{"decisions":[${decisions}],"run_id":"R","schema":"PromotionDecision.v0","tick":1}`;
  const text = (change: Record<string, unknown>) => canonical(forgedDecision(change));
  const cases: [string, RegExp][] = [
    [record(text({ task: "\ud800" })), /000001\.promotion\.json: it is not canonical JSON/],
    [record(text({})).replace('"tick":1', '"tick":1,"tick":1'), /it is not canonical JSON/],
    [record(text({})).replace('"window":3', '"window":3.0'), /it is not canonical JSON/],
    [record(text({})).replace(/}$/, ',"zz":1}'), /: "zz" is not a PromotionDecision\.v0 field/],
    [
      record(text({ settings: { window: 100000, max_errors: 0, max_skips: 0 } })),
      /decisions\[0\]\.settings\.window must be an integer from 1 to 1024/,
    ],
    [
      record(text({ settings: { window: 2, max_errors: 3, max_skips: 0 } })),
      /decisions\[0\]\.settings\.max_errors must be at most window \(2\)/,
    ],
    [record(text({ definition_sha256: "" })), /decisions\[0\]\.definition_sha256 is not a SHA-256/],
    [record(text({ extra: true })), /decisions\[0\]\.extra is not a PromotionDecision\.v0 field/],
  ];
  for (const [forged, message] of cases) {
    await withDir(async (dir) => {
      await runTicks(plain, dir, 3);
      await forgeRecord(dir, forged);
      await assert.rejects(readPromotionStatus(dir, "R"), { name: "RunReadError", message });
    });
  }
  // An enrolment of a forecast task: its recorded lane does not follow.
  await withDir(async (dir) => {
    await runTicks(plain, dir, 3);
    await forgeRecord(dir, record(text({ task: "f" })));
    await assert.rejects(readPromotionHistory(dir, "R"), (error: unknown) => {
      assert.ok(error instanceof PromotionHistoryError, String(error));
      assert.equal(error.tick, 1);
      assert.match(
        error.message,
        /at tick 1: the TrendPack records "f" in the forecast lane, its recorded decisions put it in the shadow lane$/,
      );
      return true;
    });
  });
});

// JSON with keys in code point order (ASCII here); a lone surrogate comes out escaped.
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value !== "object" || value === null) return JSON.stringify(value);
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
}

Deno.test("readPromotionHistory() refuses bad options, naming the field", async () => {
  await withDir(async (dir) => {
    await runTicks(PIPELINE, dir, 2);
    const history = (options: unknown) =>
      readPromotionHistory(dir, "R", options as { task?: string });
    await assert.rejects(history(null), {
      name: "TypeError",
      message:
        "Cannot read promotion history as 'options' must be an object: current value is null",
    });
    await assert.rejects(history({ task: 5 }), {
      name: "TypeError",
      message:
        "Cannot read promotion history as 'options.task' must be a string: current value is 5",
    });
    assert.equal((await history({ task: "steady" })).length, 1);
    assert.equal((await history(undefined)).length, 4);
  });
});

Deno.test("ers promote prints control and bidirectional-override characters of task names as escapes", async () => {
  await withDir(async (dir) => {
    const names = ["\u202eevil", "a\u001b[2Jb", "\u2067x\u2069"];
    const pipeline: Pipeline = {
      tasks: names.map((name) => ({
        name,
        lane: "shadow" as const,
        priority: 0,
        costOps: 1,
        fn: () => 1,
        promote: { window: 1 },
      })),
    };
    await runTicks(pipeline, dir, 1);
    const status = await denoRun(
      [`--allow-read=${dir},${ROOT}`],
      new URL("../scripts/ers.ts", import.meta.url),
      ["promote", "status", dir, "--run", "R"],
      { cwd: ROOT },
    );
    assert.equal(status.code, 0, status.stderr);
    const tasks = status.stdout.split("\n").slice(3, 6).map((line) => line.split(" ")[0]);
    assert.deepEqual(tasks, ["a\\u001b[2Jb", "\\u202eevil", "\\u2067x\\u2069"]);
  });
});
