// Drift forensics: the three performance goals of issue 12, each against its
// baseline in the same run. Cases run in interleaved rounds (the order
// alternates each round); medians, and ratios as the median of per-round
// ratios.
//
//   deno run -A bench/drift_bench.ts [--ticks N] [--rounds R] [--cases replay,diff,tick]
//                                    [--before DIR] [--quick]
//
// N is 10,000 ticks by default, as issue 12 sets its goals (--quick: 200).
// --cases runs only some of the three (all by default). --before DIR also
// times, in case 1, the `replayRun` of another checkout of ERS at DIR (such
// as `git archive 8ebe372 | tar -x -C DIR`, the tree before the read-ahead
// worker), in the same rounds.
//
// 1. `replayRun` of an N-tick demo run (extended provenance, so every tick has
//    a TrendPack and a ResultsPack to compare) against running the same ticks
//    in memory without writing: the prepared demo pipeline's `runTick` and the
//    canonical TrendPack and ResultsPack bytes built from it.
// 2. `diffRuns` of two identical N-tick runs against reading every recorded
//    file (and the manifest) of both runs, nothing else, with `Deno.readFile`
//    (one async call a file) and with `Deno.readFileSync` (no thread hop: the
//    floor of the I/O). Measured twice: runs with different ids (compared by
//    content) and runs with the same id (compared by the hashes their
//    manifests record).
// 3. One durable `pipelineTick` of the demo pipeline with
//    `provenance: "extended"` against the default (`reference`), alternating
//    tick by tick; the ratio both as the median of per-round ratios and as
//    the ratio of the medians of all ticks.
//
// The runs of 1 and 2 are built first with `durable: false` (the build is not
// what is measured).

import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { preparePipeline } from "../ers/mod.ts";
import { canonicalJsonString } from "../ers/_canonical.ts";
import { buildResultsPack } from "../viz/results_pack.ts";
import { ersTraceToTrendpack } from "../viz/trendpack.ts";
import { ERS_PROVENANCE_VERSION } from "../runtime/layout.ts";
import { diffRuns, pipelineTick, readRunManifest, replayRun } from "../runtime/mod.ts";
import demoPipeline from "../scripts/_demo_pipeline.ts";
import { median } from "./_fixtures.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    ticks: { type: "string" },
    rounds: { type: "string" },
    cases: { type: "string", default: "replay,diff,tick" },
    before: { type: "string" },
  },
  strict: true,
});
const quick = flags.quick;
const TICKS = Number(flags.ticks ?? (quick ? 200 : 10_000));
const ROUNDS = Number(flags.rounds ?? (quick ? 3 : 7));
if (!Number.isSafeInteger(TICKS) || TICKS < 1) {
  throw new RangeError("--ticks must be a positive integer");
}
if (!Number.isSafeInteger(ROUNDS) || ROUNDS < 1) {
  throw new RangeError("--rounds must be a positive integer");
}
const CASES = new Set(flags.cases.split(","));
for (const name of CASES) {
  if (!["replay", "diff", "tick"].includes(name)) {
    throw new RangeError(`--cases: unknown case ${JSON.stringify(name)} (replay, diff, tick)`);
  }
}
const replayBefore: typeof replayRun | undefined = flags.before === undefined
  ? undefined
  : (await import(pathToFileURL(join(resolve(flags.before), "runtime/mod.ts")).href)).replayRun;
const DURABLE_TICKS = quick ? 10 : 60;
const MODE = "bench";

const pipeline = preparePipeline(demoPipeline);
const base = await Deno.makeTempDir({ prefix: "ers_bench_drift_" });
const dirA = join(base, "a");
const dirB = join(base, "b");
const dirC = join(base, "c");

async function buildRun(dir: string, runId: string): Promise<void> {
  for (let tick = 0; tick < TICKS; tick++) {
    await pipelineTick({
      pipeline,
      tick,
      runId,
      mode: MODE,
      artifactsDir: dir,
      durable: false,
      provenance: "extended",
    });
  }
}

// Baseline of 1: the ticks run in memory, their TrendPack and ResultsPack bytes built.
async function runInMemory(runId: string): Promise<number> {
  let length = 0;
  for (let tick = 0; tick < TICKS; tick++) {
    const out = await pipeline.runTick(tick);
    length += canonicalJsonString(ersTraceToTrendpack({
      trace: out.trace,
      runId,
      tick,
      provenance: { engine: "abraxas", mode: MODE, ers: ERS_PROVENANCE_VERSION },
    })).length;
    length += canonicalJsonString(buildResultsPack({ runId, tick, results: out.results })).length;
  }
  return length;
}

// Baseline of 2: every recorded file of both runs, and their manifests, read.
async function readBoth(runs: [string, string][], sync = false): Promise<number> {
  let bytes = 0;
  for (const [dir, runId] of runs) {
    const manifest = await readRunManifest(dir, runId);
    for (const record of manifest.records) {
      const path = join(dir, record.path);
      bytes += (sync ? Deno.readFileSync(path) : await Deno.readFile(path)).length;
    }
  }
  return bytes;
}

// One case against its baseline, in the order of the round; their times.
type Pair = (
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
) => Promise<readonly [number, number]>;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

function row(name: string, values: number[], unit = "ms"): string {
  return `| ${name} | ${median(values).toFixed(1)} ${unit} |`;
}

try {
  console.log(
    `drift_bench: ${TICKS} ticks, ${ROUNDS} rounds, ${DURABLE_TICKS} durable ticks/round`,
  );
  console.log(`loadavg before: ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  const buildStart = performance.now();
  const diff = CASES.has("diff");
  if (CASES.has("replay") || diff) await buildRun(dirA, "DRIFT-A");
  if (diff) {
    await buildRun(dirB, "DRIFT-A"); // same id, other directory
    await buildRun(dirC, "DRIFT-C"); // other id
  }
  console.log(`built the runs in ${((performance.now() - buildStart) / 1000).toFixed(1)} s`);

  // Sanity: the cases do the work they claim.
  if (CASES.has("replay")) {
    for (const replay of [replayRun, replayBefore]) {
      const check = await replay?.(dirA, "DRIFT-A", {
        pipeline: replay === replayRun ? pipeline : demoPipeline,
      });
      if (check && (!check.ok || check.ticks !== TICKS || check.results_packs !== TICKS)) {
        throw new Error(`replay of the demo run must pass: ${JSON.stringify(check.divergence)}`);
      }
    }
  }
  if (diff) {
    const same = await diffRuns(dirA, "DRIFT-A", dirB, "DRIFT-A");
    const other = await diffRuns(dirA, "DRIFT-A", dirC, "DRIFT-C");
    if (!same.ok || same.common_ticks !== TICKS) throw new Error("identical runs must not differ");
    if (other.divergence !== null || other.common_ticks !== TICKS) {
      throw new Error("runs that differ only by id must have no divergent tick");
    }
  }

  const replay: number[] = [], memory: number[] = [], replayRatio: number[] = [];
  const before: number[] = [], beforeRatio: number[] = [];
  const diffOther: number[] = [], readOther: number[] = [], diffOtherRatio: number[] = [];
  const readOtherSync: number[] = [], diffOtherSyncRatio: number[] = [];
  const diffSame: number[] = [], readSame: number[] = [], diffSameRatio: number[] = [];
  const reference: number[] = [], extended: number[] = [], tickRatio: number[] = [];
  const allReference: number[] = [], allExtended: number[] = [];
  let durableTick = 0;
  const diffRound = async (pair: Pair): Promise<void> => {
    const [d, b] = await pair(
      () => diffRuns(dirA, "DRIFT-A", dirC, "DRIFT-C"),
      () => readBoth([[dirA, "DRIFT-A"], [dirC, "DRIFT-C"]]),
    );
    diffOther.push(d), readOther.push(b), diffOtherRatio.push(d / b);
    const [d2, b2] = await pair(
      () => diffRuns(dirA, "DRIFT-A", dirC, "DRIFT-C"),
      () => readBoth([[dirA, "DRIFT-A"], [dirC, "DRIFT-C"]], true),
    );
    diffOther.push(d2), readOtherSync.push(b2), diffOtherSyncRatio.push(d2 / b2);
    const [ds, bs] = await pair(
      () => diffRuns(dirA, "DRIFT-A", dirB, "DRIFT-A"),
      () => readBoth([[dirA, "DRIFT-A"], [dirB, "DRIFT-A"]]),
    );
    diffSame.push(ds), readSame.push(bs), diffSameRatio.push(ds / bs);
  };

  // Durable ticks, alternating one by one between the two provenances.
  const tickRound = async (pair: Pair): Promise<void> => {
    const ref: number[] = [], ext: number[] = [];
    for (let i = 0; i < DURABLE_TICKS; i++, durableTick++) {
      const tick = durableTick;
      const [e, f] = await pair(
        () =>
          pipelineTick({
            pipeline,
            tick,
            runId: "DURABLE-EXT",
            mode: MODE,
            artifactsDir: join(base, "durable"),
            provenance: "extended",
          }),
        () =>
          pipelineTick({
            pipeline,
            tick,
            runId: "DURABLE-REF",
            mode: MODE,
            artifactsDir: join(base, "durable"),
          }),
      );
      ext.push(e), ref.push(f);
    }
    extended.push(median(ext)), reference.push(median(ref));
    allExtended.push(...ext), allReference.push(...ref);
    tickRatio.push(median(ext) / median(ref));
  };

  for (let round = 0; round < ROUNDS; round++) {
    const flip = round % 2 === 1;
    const pair: Pair = async (a, b) => {
      if (flip) {
        const tb = await timed(b);
        return [await timed(a), tb] as const;
      }
      const ta = await timed(a);
      return [ta, await timed(b)] as const;
    };
    if (CASES.has("replay")) {
      const [r, m] = await pair(
        () => replayRun(dirA, "DRIFT-A", { pipeline }),
        () => runInMemory("DRIFT-A"),
      );
      replay.push(r), memory.push(m), replayRatio.push(r / m);
      if (replayBefore !== undefined) {
        // The other checkout prepares the pipeline itself (its classes are its own).
        const t = await timed(() => replayBefore(dirA, "DRIFT-A", { pipeline: demoPipeline }));
        before.push(t), beforeRatio.push(t / m);
      }
    }
    if (diff) await diffRound(pair);
    if (CASES.has("tick")) await tickRound(pair);
    console.log(`round ${round + 1}/${ROUNDS} done`);
  }

  if (CASES.has("replay")) {
    console.log(`\n### 1. replay of a ${TICKS}-tick demo run (extended provenance)\n`);
    console.log("| case | median |\n|---|---|");
    console.log(row(`replayRun, ${TICKS} ticks`, replay));
    console.log(row(`runTick + TrendPack + ResultsPack in memory, ${TICKS} ticks`, memory));
    if (replayBefore !== undefined) console.log(row(`replayRun of ${flags.before}`, before));
    console.log(`\nratio (median of per-round): ${median(replayRatio).toFixed(2)}x (goal <= 1.5x)`);
    console.log(`per-round ratios: ${replayRatio.map((x) => x.toFixed(2)).join(" ")}`);
    if (replayBefore !== undefined) {
      console.log(`ratio of ${flags.before}: ${median(beforeRatio).toFixed(2)}x`);
    }
  }
  if (diff) {
    const bytesOther = await readBoth([[dirA, "DRIFT-A"], [dirC, "DRIFT-C"]]);
    console.log(`\n### 2. diff of two identical ${TICKS}-tick runs (${bytesOther} bytes read)\n`);
    console.log("| case | median |\n|---|---|");
    console.log(row("diffRuns, other run ids (by content)", diffOther));
    console.log(row("read every recorded file of both (Deno.readFile)", readOther));
    console.log(row("read every recorded file of both (Deno.readFileSync)", readOtherSync));
    console.log(row("diffRuns, same run id (by recorded hash)", diffSame));
    console.log(row("read every recorded file of both (same id)", readSame));
    console.log(`\nratio, other ids: ${median(diffOtherRatio).toFixed(2)}x (Deno.readFile)`);
    console.log(`ratio, other ids: ${median(diffOtherSyncRatio).toFixed(2)}x (Deno.readFileSync)`);
    console.log(`ratio, same id: ${median(diffSameRatio).toFixed(2)}x`);
  }
  if (CASES.has("tick")) {
    console.log(`\n### 3. one durable demo tick (median of ${DURABLE_TICKS} per round)\n`);
    console.log("| case | median |\n|---|---|");
    console.log(row('pipelineTick, provenance "reference" (default)', reference));
    console.log(row('pipelineTick, provenance "extended"', extended));
    const ofMedians = median(allExtended) / median(allReference);
    console.log(
      `\nratio: ${median(tickRatio).toFixed(2)}x, median of per-round ratios; ${
        ofMedians.toFixed(2)
      }x, ratio of the medians of all ${allExtended.length} ticks (goal <= 1.30x)`,
    );
  }
  console.log(`loadavg after: ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
} finally {
  await Deno.remove(base, { recursive: true });
}
