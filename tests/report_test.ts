// The run report: the pure HTML transform (viz/report.ts), the file side
// (runtime/run_report.ts) and the `ers report` command.

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ArtifactWriter,
  DamagedRunError,
  ersTraceToTrendpack,
  loadRunView,
  renderRunReport,
  type ReportVerdict,
  RunReadError,
  type RunReportInput,
  type TraceEvent,
  type TrendPack,
  writeRunReport,
} from "../mod.ts";
import { denoRun } from "./_tree.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OK: ReportVerdict = { ok: true, checked: ["everything"], errors: [], warnings: [] };

type Status = TraceEvent["status"];

/** A TrendPack of one tick: each `[task, lane, status, ops]` in order. */
function pack(tick: number, events: [string, "forecast" | "shadow", Status, number][]): TrendPack {
  return ersTraceToTrendpack({
    runId: "R",
    tick,
    provenance: { engine: "abraxas", mode: "test", ers: "v0.2" },
    trace: events.map(([task, lane, status, ops]) => ({
      tick,
      task,
      lane,
      status,
      cost_ops: ops,
      cost_entropy: status === "skipped_budget" ? 0 : 1,
      meta: status === "skipped_budget" ? { reason: "budget" } : { tags: [] },
    })),
  });
}

/** Ticks 0..n-1 of a two-task run; `a` errs at the ticks in `errorTicks`, `s` is skipped at `skipTicks`. */
function run(n: number, errorTicks: number[] = [], skipTicks: number[] = []): TrendPack[] {
  return Array.from({ length: n }, (_, t) =>
    pack(t, [
      ["a", "forecast", errorTicks.includes(t) ? "error" : "ok", 3],
      ["s", "shadow", skipTicks.includes(t) ? "skipped_budget" : "ok", 2],
    ]));
}

function count(text: string, pattern: RegExp): number {
  return [...text.matchAll(new RegExp(pattern.source, "g"))].length;
}

/** The `<g class="row" data-task=...>` group of a timeline row. */
function timelineRow(html: string, lane: string, task: string): string {
  const start = html.indexOf(`<g class="row" data-lane="${lane}" data-task="${task}">`);
  assert.ok(start >= 0, `no timeline row ${lane}/${task}`);
  return html.slice(start, html.indexOf("</g>", start));
}

Deno.test("renderRunReport() is byte-identical for the same input and self-contained", () => {
  const input: RunReportInput = { runId: "R", trendpacks: run(30, [4, 5]), verdict: OK };
  const html = renderRunReport(input);
  assert.equal(html, renderRunReport({ ...input, trendpacks: run(30, [4, 5]) }));
  assert.ok(html.startsWith("<!DOCTYPE html>"));
  for (const external of [/<script/i, /<link/i, /\bsrc=/i, /\bhref=/i, /url\(/i, /@import/i]) {
    assert.doesNotMatch(html, external);
  }
  // The only URL is the SVG namespace, which is a name, not a fetch.
  assert.deepEqual(
    [...new Set(html.match(/https?:\/\/[^"' ]+/g))],
    ["http://www.w3.org/2000/svg"],
  );
  for (const id of ["timeline", "heatmap", "costs-chart"]) {
    assert.match(html, new RegExp(`<svg id="${id}"`));
  }
});

Deno.test("renderRunReport() header shows the run, ticks, engine, mode, version and verdict", () => {
  const html = renderRunReport({
    runId: "R",
    trendpacks: run(3),
    verdict: {
      ok: false,
      checked: ["3 recorded artifacts re-hashed"],
      errors: [{ path: "run_index/R/000001.runindex.json", message: "SHA-256 differs" }],
      warnings: [{ path: "stray.txt", message: "no manifest record names this file" }],
    },
    header: {
      path: "runs/R.runheader.json",
      sha256: "ab".repeat(32),
      identity: { ers: "0.2.0", budgets: { forecast: { ops: 50 } }, mode: "cli" },
    },
  });
  assert.match(html, /<h1>ERS run <code>R<\/code><\/h1>/);
  assert.match(html, /<dt>Ticks<\/dt><dd>ticks 0\.\.2: 3 TrendPacks<\/dd>/);
  assert.match(html, /<dt>Engine<\/dt><dd><code>abraxas<\/code><\/dd>/);
  assert.match(html, /<dt>Mode<\/dt><dd><code>test<\/code><\/dd>/);
  assert.match(html, /<dt>ERS version<\/dt><dd><code>v0\.2<\/code><\/dd>/);
  assert.match(html, /class="verdict fail"/);
  assert.match(html, /verify: FAIL<\/strong> \(1 error, 1 warning\)/);
  assert.match(html, /<li>3 recorded artifacts re-hashed<\/li>/);
  assert.match(html, /run_index\/R\/000001\.runindex\.json<\/code>: SHA-256 differs/);
  // The identity, flattened and sorted.
  const identity = html.slice(html.indexOf('id="identity"'));
  assert.ok(identity.indexOf("budgets.forecast.ops") < identity.indexOf("<th>ers</th>"));
  assert.match(identity, /<th>mode<\/th><td><code>cli<\/code>/);
});

Deno.test("renderRunReport() bins 5,000 ticks into at most maxBuckets, each showing its worst status", () => {
  // `a` errs once at tick 1234 (bucket 24 of 50-tick buckets); `s` is skipped at 10.
  const html = renderRunReport({
    runId: "R",
    trendpacks: run(5000, [1234], [10]),
    verdict: OK,
    maxBuckets: 100,
  });
  const a = timelineRow(html, "forecast", "a");
  assert.equal(count(a, /<rect class="(ok|er\d|sk\d)"/), 100);
  assert.equal(count(a, /<rect class="er\d"/), 1);
  assert.match(
    a,
    /<rect class="er1"[^>]*><title>a ticks 1200\.\.1249: 49 ok, 1 error; ops 150, entropy 50<\/title>/,
  );
  const s = timelineRow(html, "shadow", "s");
  assert.match(
    s,
    /<rect class="sk1"[^>]*><title>s ticks 0\.\.49: 49 ok, 1 skipped_budget; ops 98, entropy 49/,
  );
  assert.match(html, /a bucket of 50 ticks \(100 buckets\)/);
  // The shade says how much of the bucket had the worst status.
  const heavy = renderRunReport({
    runId: "R",
    trendpacks: run(40, Array.from({ length: 15 }, (_, i) => i)),
    verdict: OK,
    maxBuckets: 4,
  });
  assert.deepEqual(
    [...timelineRow(heavy, "forecast", "a").matchAll(/<rect class="(\w+)"/g)].map((m) => m[1]),
    ["bg", "er4", "er3", "ok", "ok"], // the row, then 10 of 10 and 5 of 10 errors
  );
});

Deno.test("renderRunReport() never draws more than 1,000 buckets by default", () => {
  const html = renderRunReport({ runId: "R", trendpacks: run(2500), verdict: OK });
  assert.equal(count(timelineRow(html, "forecast", "a"), /<rect class="ok"/), 834); // ceil(2500 / 3)
  assert.match(html, /3 ticks per bucket/);
});

Deno.test("renderRunReport() groups error ticks into clusters of consecutive ticks, with ResultsPack text", () => {
  const html = renderRunReport({
    runId: "R",
    trendpacks: run(12, [2, 3, 4, 9]),
    verdict: OK,
    results: [2, 3, 4, 9].map((tick) => ({
      tick,
      results: [
        {
          task: "a",
          status: "error" as const,
          error: tick === 9 ? "Error: late" : "RangeError: dropout",
        },
        { task: "s", status: "ok" as const, error: null },
      ],
    })),
  });
  const errors = html.slice(
    html.indexOf('<section id="errors">'),
    html.indexOf('<section id="costs">'),
  );
  assert.match(errors, /2 clusters .*, 4 errors in all/);
  assert.match(
    errors,
    /<tr><td>forecast<\/td><td><code>a<\/code><\/td><td class="n">ticks 2\.\.4<\/td><td class="n">3<\/td><td class="msg"><div><code>RangeError: dropout<\/code><\/div><\/td><\/tr>/,
  );
  assert.match(
    errors,
    /tick 9<\/td><td class="n">1<\/td><td class="msg"><div><code>Error: late<\/code>/,
  );
  // Without ResultsPacks the report says so rather than inventing a text.
  const bare = renderRunReport({ runId: "R", trendpacks: run(12, [2]), verdict: OK });
  assert.match(bare, /no ResultsPack/);
});

Deno.test("renderRunReport() marks skipped_budget hot spots and scales spend by the RunHeader budget", () => {
  const html = renderRunReport({
    runId: "R",
    trendpacks: run(10, [], [3, 4]),
    verdict: OK,
    header: {
      identity: {},
      budgets: { forecast: { ops: 6, entropy: 2 }, shadow: { ops: 8, entropy: 1 } },
    },
  });
  const heat = html.slice(
    html.indexOf('<svg id="heatmap"'),
    html.indexOf("</svg>", html.indexOf('<svg id="heatmap"')),
  );
  assert.equal(count(heat, /class="k\d hot"/), 2);
  assert.match(heat, /shadow tick 3: 1 skipped_budget \(2 ops not run\)/);
  // 3 ops per tick of a budget of 6 is half: shade 4 of 8.
  assert.match(
    heat,
    /<rect class="h4"[^>]*><title>forecast tick 0: 3 ops spent, 3 per tick of a budget of 6<\/title>/,
  );
  assert.match(html, /against the lane&#39;s per-tick budget from the RunHeader/);
});

Deno.test("renderRunReport() sums costs per task, per lane and for the run, and the stats", () => {
  const html = renderRunReport({ runId: "R", trendpacks: run(4, [1], [2]), verdict: OK });
  const costs = html.slice(html.indexOf('<table class="costs">'));
  // a: 4 runs, 3 ok, 1 error, 12 ops, 4 entropy. s: 4 runs, 3 ok, 1 skipped, 6 ops, 3 entropy.
  assert.match(
    costs,
    /<code>a<\/code><\/td><td>forecast<\/td><td class="n">4<\/td><td class="n">3<\/td><td class="n">1<\/td><td class="n">0<\/td><td class="n">12<\/td><td class="n">4<\/td>/,
  );
  assert.match(
    costs,
    /<code>s<\/code><\/td><td>shadow<\/td><td class="n">4<\/td><td class="n">3<\/td><td class="n">0<\/td><td class="n">1<\/td><td class="n">6<\/td><td class="n">3<\/td>/,
  );
  assert.match(
    costs,
    /run total<\/strong><\/td><td><\/td><td class="n">8<\/td><td class="n">6<\/td><td class="n">1<\/td><td class="n">1<\/td><td class="n">18<\/td><td class="n">7<\/td>/,
  );
  assert.match(
    html,
    /<tr><th>total_events<\/th><td class="n">8<\/td><\/tr><tr><th>ok_events<\/th><td class="n">6<\/td><\/tr><tr><th>errors<\/th><td class="n">1<\/td><\/tr><tr><th>skipped<\/th><td class="n">1<\/td>/,
  );
});

Deno.test("renderRunReport() escapes hostile task names and error texts", () => {
  const evil = `<img src=x onerror="alert(1)">&\u0001`;
  const html = renderRunReport({
    runId: "R",
    trendpacks: [pack(0, [[evil, "forecast", "error", 1]])],
    verdict: OK,
    results: [{
      tick: 0,
      results: [{ task: evil, status: "error", error: `</code><script>x</script>` }],
    }],
  });
  assert.doesNotMatch(html, /<img|<script|onerror="/);
  assert.match(html, /&lt;img src=x onerror=&quot;alert\(1\)&quot;&gt;&amp;\ufffd/);
  assert.match(html, /&lt;\/code&gt;&lt;script&gt;x&lt;\/script&gt;/);
});

Deno.test("renderRunReport() marks promotions on the timeline and lists them", () => {
  const html = renderRunReport({
    runId: "R",
    trendpacks: [
      pack(0, [["m", "shadow", "ok", 1]]),
      pack(1, [["m", "forecast", "ok", 1]]),
      pack(2, [["m", "shadow", "ok", 1]]),
    ],
    verdict: OK,
    promotions: [
      {
        tick: 0,
        task: "m",
        decision: "enrolled",
        from: "shadow",
        to: "shadow",
        rule: "declared_candidate",
      },
      {
        tick: 0,
        task: "m",
        decision: "promoted",
        from: "shadow",
        to: "forecast",
        rule: "1 clean tick",
      },
      { tick: 1, task: "m", decision: "demoted", from: "forecast", to: "shadow" },
    ],
  });
  assert.match(
    html,
    /<path class="pr"[^>]*><title>m promoted at the end of tick 0: shadow → forecast<\/title>/,
  );
  assert.match(
    html,
    /<path class="de"[^>]*><title>m demoted at the end of tick 1: forecast → shadow<\/title>/,
  );
  // The task has a row in each lane it ran in.
  timelineRow(html, "forecast", "m");
  timelineRow(html, "shadow", "m");
  // Only the moves are marked; every decision is listed.
  assert.equal(count(html, /<path class="(pr|de)" d="[^"]*"><title>/), 2);
  assert.match(html, /<td>enrolled<\/td><td>shadow → shadow<\/td><td>declared_candidate<\/td>/);
  assert.match(html, /<section id="promotions">/);
  assert.match(html, /<td>promoted<\/td><td>shadow → forecast<\/td><td>1 clean tick<\/td>/);
});

Deno.test("renderRunReport() refuses bad input, naming the field", () => {
  const bad = (input: unknown, error: typeof TypeError, pattern: RegExp) =>
    assert.throws(() => renderRunReport(input as RunReportInput), (e: unknown) => {
      assert.ok(e instanceof error, String(e));
      assert.match((e as Error).message, pattern);
      return true;
    });
  bad(
    { runId: "R", trendpacks: [], verdict: OK },
    RangeError,
    /'trendpacks' must be a non-empty array/,
  );
  bad(
    { runId: "X", trendpacks: run(1), verdict: OK },
    RangeError,
    /'trendpacks\[0\]\.run_id' must be the report's run id "X"/,
  );
  bad(
    { runId: "R", trendpacks: [...run(2)].reverse(), verdict: OK },
    RangeError,
    /'trendpacks\[1\]\.tick' must be greater than the tick before it \(1\)/,
  );
  const broken = run(1);
  (broken[0]!.timeline[0] as { lane: string }).lane = "main";
  bad(
    { runId: "R", trendpacks: broken, verdict: OK },
    RangeError,
    /'trendpacks\[0\]\.timeline\[0\]\.lane' must be forecast or shadow/,
  );
  bad({ runId: "R", trendpacks: run(1) }, TypeError, /'verdict' must be an object/);
  bad({ runId: "R", trendpacks: run(1), verdict: OK, maxBuckets: 0 }, RangeError, /'maxBuckets'/);
  bad(
    {
      runId: "R",
      trendpacks: run(1),
      verdict: OK,
      results: [{ tick: 0, results: [{ task: "a", error: 3 }] }],
    },
    TypeError,
    /'results\[0\]\.results\[0\]\.error' must be a string or null: current value is 3/,
  );
  bad(
    {
      runId: "R",
      trendpacks: run(1),
      verdict: OK,
      promotions: [{ tick: 0, task: "a", decision: "moved", from: "shadow", to: "forecast" }],
    },
    RangeError,
    /'promotions\[0\]\.decision' must be one of enrolled, promoted, demoted, reset, withdrawn/,
  );
});

// --- the file side and the command ---------------------------------------

async function withDemoRun(ticks: number, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ers_report_" });
  try {
    const made = await ers(dir, "run", join(dir, "out"), "--run", "DEMO", "--ticks", String(ticks));
    assert.equal(made.code, 0, made.stderr);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function ers(dir: string, command: string, ...args: string[]) {
  const flags = [`--allow-read=${dir}`, `--allow-write=${dir}`];
  const all = command === "run" ? ["--out", ...args] : args;
  return denoRun(flags, new URL("../scripts/ers.ts", import.meta.url), [command, ...all], {
    cwd: ROOT,
  });
}

Deno.test("ers report writes one HTML page of the demo run, the same bytes every time", async () => {
  await withDemoRun(12, async (dir) => {
    const out = join(dir, "out");
    const first = await ers(dir, "report", out, "--run", "DEMO", "--out", join(dir, "a.html"));
    assert.equal(first.code, 0, first.stderr);
    const html = await Deno.readTextFile(join(dir, "a.html"));
    assert.equal(
      first.stdout,
      `wrote ${join(dir, "a.html")}: run DEMO, 12 ticks (0..11), ${
        Math.round(new TextEncoder().encode(html).length / 1024)
      } KiB; verify OK\n`,
    );
    const again = await ers(dir, "report", out, "--run", "DEMO", "--out", join(dir, "b.html"));
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await Deno.readTextFile(join(dir, "b.html")), html);
    for (
      const task of [
        "oracle:signal",
        "oracle:compress",
        "oracle:overlay",
        "shadow:sei",
        "shadow:drift",
        "shadow:spectrum",
      ]
    ) {
      assert.match(html, new RegExp(`data-task="${task}"`));
    }
    assert.match(html, /verify: OK<\/strong>/);
    assert.match(html, /37 recorded artifacts re-hashed/);
    // No temporary file is left beside the report.
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names.sort(), ["a.html", "b.html", "out"]);
  });
});

Deno.test("ers report --from/--to shows only the range; a range with no tick is refused", async () => {
  await withDemoRun(12, async (dir) => {
    const out = join(dir, "out");
    const file = join(dir, "r.html");
    const ranged = await ers(
      dir,
      "report",
      out,
      "--run",
      "DEMO",
      "--out",
      file,
      "--from",
      "3",
      "--to",
      "5",
    );
    assert.equal(ranged.code, 0, ranged.stderr);
    assert.match(ranged.stdout, /3 ticks \(3\.\.5\)/);
    assert.match(await Deno.readTextFile(file), /<dd>ticks 3\.\.5: 3 TrendPacks<\/dd>/);
    const empty = await ers(dir, "report", out, "--run", "DEMO", "--out", file, "--from", "50");
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /^ers: Run DEMO records no TrendPack in ticks 50\.\./);
    const backwards = await ers(
      dir,
      "report",
      out,
      "--run",
      "DEMO",
      "--out",
      file,
      "--from",
      "5",
      "--to",
      "3",
    );
    assert.equal(backwards.code, 2);
    assert.match(backwards.stderr, /--to 3 is before --from 5/);
  });
});

Deno.test("ers report refuses a damaged run and writes nothing", async () => {
  await withDemoRun(4, async (dir) => {
    const out = join(dir, "out");
    const path = join(out, "viz", "DEMO", "000002.trendpack.json");
    const text = await Deno.readTextFile(path);
    await Deno.writeTextFile(path, text.replace('"ok"', '"OK"'));
    const result = await ers(dir, "report", out, "--run", "DEMO", "--out", join(dir, "r.html"));
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^ers: Cannot show run DEMO as verify finds 2 errors in it, the first: run_index\/DEMO\/000002\.runindex\.json: .*viz\/DEMO\/000002\.trendpack\.json/,
    );
    assert.equal(result.stderr.trimEnd().split("\n").length, 1);
    await assert.rejects(Deno.stat(join(dir, "r.html")), Deno.errors.NotFound);
    await assert.rejects(loadRunView(out, "DEMO"), DamagedRunError);
  });
});

Deno.test("writeRunReport() replaces an existing file atomically and needs write access", async () => {
  await withDemoRun(2, async (dir) => {
    const out = join(dir, "out");
    const file = join(dir, "r.html");
    await Deno.writeTextFile(file, "old");
    const written = await writeRunReport(out, "DEMO", file);
    assert.equal((await Deno.stat(file)).size, written.bytes);
    assert.deepEqual([written.fromTick, written.toTick, written.ticks], [0, 1, 2]);
    await assert.rejects(writeRunReport(out, "DEMO", ""), TypeError);
    await assert.rejects(writeRunReport(out, "DEMO", file, { fromTick: 3, toTick: 1 }), RangeError);
  });
});

Deno.test("loadRunView() takes the TrendPacks from the verify pass and refuses one of another tick", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ers_report_one_pass_" });
  try {
    const writer = new ArtifactWriter(dir, { durable: false });
    const write = (tick: number, obj: TrendPack) =>
      writer.writeJson({
        runId: "R",
        tick,
        kind: "trendpack",
        schema: "TrendPack.v0",
        obj,
        relPath: `viz/R/${String(tick).padStart(6, "0")}.trendpack.json`,
      });
    // More ticks than one batch of reads, so that batches finish out of order.
    for (let tick = 0; tick < 40; tick++) {
      await write(tick, pack(tick, [["a", "forecast", "ok", 1]]));
    }
    const view = await loadRunView(dir, "R", { fromTick: 3 });
    assert.deepEqual(view.ticks.map((t) => t.tick), [...Array(37).keys()].map((i) => i + 3));
    assert.equal(view.manifest.records.length, 40);
    assert.equal(view.manifest.bytes, (await Deno.readFile(join(dir, view.manifest.path))).length);
    // Bytes that match their record, but a TrendPack of another tick.
    await write(40, pack(7, [["a", "forecast", "ok", 1]]));
    await assert.rejects(loadRunView(dir, "R"), (error: unknown) => {
      assert.ok(error instanceof RunReadError);
      assert.match(error.message, /viz\/R\/000040\.trendpack\.json/);
      return true;
    });
    assert.equal((await loadRunView(dir, "R", { toTick: 39 })).ticks.length, 40);
    // A damaged file is refused as damaged, before the TrendPack's own problem.
    await Deno.writeTextFile(join(dir, "viz/R/000001.trendpack.json"), "{}");
    await assert.rejects(loadRunView(dir, "R"), DamagedRunError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeRunReport() draws the RunHeader, ResultsPack error texts and promotion records", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ers_report_extras_" });
  try {
    const writer = new ArtifactWriter(dir, { durable: false });
    const write = (tick: number, kind: string, schema: string, obj: unknown, relPath: string) =>
      writer.writeJson({ runId: "R", tick, kind, schema, obj, relPath });
    for (const tick of [0, 1]) {
      const trendpack = pack(tick, [["a", "forecast", tick === 1 ? "error" : "ok", 3], [
        "s",
        "shadow",
        "ok",
        2,
      ]]);
      await write(
        tick,
        "trendpack",
        "TrendPack.v0",
        trendpack,
        `viz/R/00000${tick}.trendpack.json`,
      );
      await write(tick, "resultspack", "ResultsPack.v0", {
        schema: "ResultsPack.v0",
        run_id: "R",
        tick,
        results: [
          {
            task: "a",
            lane: "forecast",
            status: tick === 1 ? "error" : "ok",
            value: null,
            error: tick === 1 ? "RangeError: sensor dropout" : null,
          },
          { task: "s", lane: "shadow", status: "ok", value: 1, error: null },
        ],
      }, `results/R/00000${tick}.resultspack.json`);
    }
    await write(0, "runheader", "RunHeader.v0", {
      schema: "RunHeader.v0",
      run_id: "R",
      identity: {
        ers: "v0.2",
        mode: "test",
        budgets: { forecast: { ops: 6, entropy: 2 }, shadow: { ops: 4, entropy: 0 } },
      },
    }, "runs/R.runheader.json");
    await write(0, "promotion", "PromotionDecision.v0", {
      schema: "PromotionDecision.v0",
      run_id: "R",
      tick: 0,
      decisions: [{
        task: "s",
        decision: "promoted",
        from: "shadow",
        to: "forecast",
        rule: "clean_shadow_window",
      }],
    }, "promotions/R/000000.promotion.json");
    const file = join(dir, "r.html");
    await writeRunReport(dir, "R", file);
    const html = await Deno.readTextFile(file);
    assert.match(html, /<td class="msg"><div><code>RangeError: sensor dropout<\/code>/);
    assert.match(html, /RunHeader identity<\/strong> <code>runs\/R\.runheader\.json<\/code>/);
    assert.match(html, /<th>budgets\.forecast\.ops<\/th><td><code>6<\/code>/);
    assert.match(html, /3 per tick of a budget of 6/);
    assert.match(
      html,
      /<td>promoted<\/td><td>shadow → forecast<\/td><td>clean_shadow_window<\/td>/,
    );
    assert.match(
      html,
      /the RunHeader runs\/R\.runheader\.json, 1 ResultsPacks \(the ticks with errors\), the PromotionDecision records in the range read back/,
    );
    // A record whose bytes match its hash but not its schema is refused, not drawn.
    await write(
      2,
      "trendpack",
      "TrendPack.v0",
      pack(2, [["a", "forecast", "error", 3]]),
      "viz/R/000002.trendpack.json",
    );
    await write(2, "resultspack", "ResultsPack.v0", {
      schema: "ResultsPack.v0",
      run_id: "R",
      tick: 2,
      results: {},
    }, "results/R/000002.resultspack.json");
    await assert.rejects(writeRunReport(dir, "R", file), (error: unknown) => {
      assert.ok(error instanceof RunReadError);
      assert.match(
        error.message,
        /results\/R\/000002\.resultspack\.json: 'results' is not an array/,
      );
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ers report and ers export show the promotions of a promoting pipeline's run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ers_report_promote_" });
  try {
    const out = join(dir, "out");
    const flags = [`--allow-read=${dir},${ROOT}`, `--allow-write=${dir}`];
    const cli = (...args: string[]) =>
      denoRun(flags, new URL("../scripts/ers.ts", import.meta.url), args, { cwd: ROOT });
    const made = await cli(
      "run",
      "--out",
      out,
      "--run",
      "P",
      "--ticks",
      "12",
      "--pipeline",
      "tests/fixtures/promoting_pipeline.ts",
    );
    assert.equal(made.code, 0, made.stderr);
    const file = join(dir, "p.html");
    assert.equal((await cli("report", out, "--run", "P", "--out", file)).code, 0);
    const html = await Deno.readTextFile(file);
    const marks = [...html.matchAll(/<path class="(?:pr|de)" d="[^"]*"><title>([^<]*)<\/title>/g)]
      .map((m) => m[1]);
    assert.deepEqual(marks, [
      "fragile promoted at the end of tick 1: shadow → forecast",
      "steady promoted at the end of tick 3: shadow → forecast",
      "fragile demoted at the end of tick 6: forecast → shadow",
      "fragile promoted at the end of tick 8: shadow → forecast",
    ]);
    // A promoted task has a row in each lane it ran in.
    timelineRow(html, "forecast", "steady");
    timelineRow(html, "shadow", "steady");
    const trace = join(dir, "p.json");
    const exported = await cli(
      "export",
      out,
      "--run",
      "P",
      "--format",
      "chrome-trace",
      "--out",
      trace,
    );
    assert.equal(exported.code, 0, exported.stderr);
    const events = JSON.parse(await Deno.readTextFile(trace)).traceEvents as {
      cat?: string;
      name: string;
      ts: number;
    }[];
    assert.deepEqual(
      events.filter((e) => e.cat === "promotion" && !e.name.startsWith("enrolled")).map((e) => [
        e.name,
        e.ts,
      ]),
      [["promoted fragile", 2000], ["promoted steady", 4000], ["demoted fragile", 7000], [
        "promoted fragile",
        9000,
      ]],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
