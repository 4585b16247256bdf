// Scale of `ers report` and `ers export` (issue 14): HTML size and time to
// write the report of a 10,000-tick and a 100,000-tick demo run, against the
// baseline of the same run, in the same process: verifying the run and reading
// its TrendPacks back (the I/O every report must do before drawing anything).
//
//   deno run -A bench/report_scale.ts [--ticks 10000,100000] [--rounds 3] [--extended]
//
// The runs are written first, not durable, in batches of 500 ticks (the same
// TrendPack and RunIndex bytes `ers run` writes, without one fsync per tick),
// into a temporary directory that is removed at the end. With --extended the
// runs are what `ers run` writes by default (RunHeader and a ResultsPack per
// tick too), written through pipelineTick one tick at a time (slower to set up).

import { join } from "node:path";
import { ersTraceToTrendpack, preparePipeline } from "../mod.ts";
import {
  ArtifactWriter,
  pipelineTick,
  readRunManifest,
  streamRunTicks,
  verifyArtifacts,
  writeRunChromeTrace,
  writeRunReport,
} from "../runtime/mod.ts";
import { renderRunReport } from "../viz/mod.ts";
import {
  ARTIFACT_LAYOUT,
  artifactPath,
  buildRunIndex,
  ERS_PROVENANCE_VERSION,
} from "../runtime/layout.ts";
import demoPipeline from "../scripts/_demo_pipeline.ts";
import { median } from "./_fixtures.ts";

function flag(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] ?? fallback : fallback;
}
const SIZES = flag("ticks", "10000,100000").split(",").map(Number);
const ROUNDS = Number(flag("rounds", "3"));
const BATCH = 500;
const EXTENDED = Deno.args.includes("--extended");

// As `ers run` writes it (extended provenance: RunHeader and ResultsPacks
// too), one tick at a time, not durable.
async function writeExtendedRun(dir: string, runId: string, ticks: number): Promise<void> {
  const pipeline = preparePipeline(demoPipeline);
  for (let tick = 0; tick < ticks; tick++) {
    await pipelineTick({
      pipeline,
      tick,
      runId,
      mode: "cli",
      artifactsDir: dir,
      durable: false,
      provenance: "extended",
      pipelineFile: "ers:demo",
    });
  }
}

async function writeDemoRun(dir: string, runId: string, ticks: number): Promise<void> {
  if (EXTENDED) return await writeExtendedRun(dir, runId, ticks);
  const writer = new ArtifactWriter(dir, { durable: false });
  const pipeline = preparePipeline(demoPipeline);
  for (let start = 0; start < ticks; start += BATCH) {
    const prepared = [];
    for (let tick = start; tick < Math.min(ticks, start + BATCH); tick++) {
      const out = await pipeline.runTick(tick);
      const trendpack = await writer.prepareJson({
        runId,
        tick,
        kind: "trendpack",
        schema: ARTIFACT_LAYOUT.trendpack.schema,
        obj: ersTraceToTrendpack({
          trace: out.trace,
          runId,
          tick,
          provenance: { engine: "abraxas", mode: "cli", ers: ERS_PROVENANCE_VERSION },
        }),
        relPath: artifactPath("trendpack", runId, tick),
        extra: { mode: "cli", ers: ERS_PROVENANCE_VERSION },
      });
      const runindex = await writer.prepareJson({
        runId,
        tick,
        kind: "runindex",
        schema: ARTIFACT_LAYOUT.runindex.schema,
        obj: buildRunIndex({ runId, tick, mode: "cli", trendpack: trendpack.record }),
        relPath: artifactPath("runindex", runId, tick),
        extra: { mode: "cli" },
      });
      prepared.push(trendpack, runindex);
    }
    await writer.writeAll(prepared);
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const value = await fn();
  return [performance.now() - start, value];
}

const fmtMs = (ms: number) => ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
const fmtBytes = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MB (${n.toLocaleString("en")} B)`;

const dir = await Deno.makeTempDir({ prefix: "ers_report_bench_" });
const rows: string[] = [];
try {
  for (const ticks of SIZES) {
    const runId = `R${ticks}`;
    const [makeMs] = await timed(() => writeDemoRun(dir, runId, ticks));
    console.error(`wrote a ${ticks}-tick run in ${fmtMs(makeMs)}`);
    const base: number[] = [];
    const report: number[] = [];
    const render: number[] = [];
    const exportMs: number[] = [];
    let htmlBytes = 0;
    let traceBytes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Baseline: what every report must do first, verify and read the run.
      // Side by side, as the report does them.
      const [readMs, packs] = await timed(async () => {
        const [, loaded] = await Promise.all([
          verifyArtifacts(dir, { runId }),
          readRunManifest(dir, runId).then(async (manifest) => {
            const ticks = [];
            for await (const tick of streamRunTicks(dir, manifest)) ticks.push(tick.trendpack);
            return ticks;
          }),
        ]);
        return loaded;
      });
      base.push(readMs);
      const [renderMs] = await timed(() =>
        Promise.resolve(
          renderRunReport({
            runId,
            trendpacks: packs,
            verdict: { ok: true, checked: [], errors: [], warnings: [] },
          }),
        )
      );
      render.push(renderMs);
      const [reportMs, written] = await timed(() =>
        writeRunReport(dir, runId, join(dir, `${runId}.html`))
      );
      report.push(reportMs);
      htmlBytes = written.bytes;
      const [traceMs, trace] = await timed(() =>
        writeRunChromeTrace(dir, runId, join(dir, `${runId}.trace.json`))
      );
      exportMs.push(traceMs);
      traceBytes = trace.bytes;
      await Deno.remove(join(dir, `${runId}.html`));
      await Deno.remove(join(dir, `${runId}.trace.json`));
      console.error(`  round ${round + 1}: read ${fmtMs(readMs)}, report ${fmtMs(reportMs)}`);
    }
    rows.push(
      `| ${ticks.toLocaleString("en")} | ${fmtBytes(htmlBytes)} | ${fmtMs(median(report))} | ${
        fmtMs(median(base))
      } | ${(median(report) / median(base)).toFixed(2)}x | ${fmtMs(median(render))} | ${
        fmtBytes(traceBytes)
      } | ${fmtMs(median(exportMs))} |`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
console.log(
  "| ticks | report HTML | `writeRunReport` | baseline: verify + read | ratio | `renderRunReport` alone | Chrome trace JSON | `writeRunChromeTrace` |",
);
console.log(
  "| ----: | ----------: | ---------------: | ----------------------: | ----: | ----------------------: | ----------------: | --------------------: |",
);
for (const row of rows) console.log(row);
