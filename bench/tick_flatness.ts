// Benchmark 3: the time of one `abraxasTick` near tick 100 and near tick
// 10,000 of ONE run (one artifacts directory, one growing manifest). Each
// window's figure is the median per-tick time over 100 consecutive ticks.
//
// Two passes, each in its own temporary directory: durable (the writer's
// default: fsync before each rename and after each manifest update) and not
// durable. `abraxasTick` offers no durability option, so the second pass
// stands `Deno.FsFile.prototype.syncData` in for a no-op, which is exactly
// what `durable: false` skips; the runtime itself is not edited.
//
//   deno run -A bench/tick_flatness.ts [--quick]

import { abraxasTick } from "../mod.ts";
import { median } from "./_fixtures.ts";

const quick = Deno.args.includes("--quick");
const WINDOWS = quick ? [100, 2_000] : [100, 1_000, 5_000, 10_000];
const WINDOW_TICKS = 100;
const TICKS = (WINDOWS.at(-1) as number) + WINDOW_TICKS;

const step = (context: Record<string, unknown>) => ({ ok: true, tick: context.tick });
const shadowSteps = { sei: step, anagram: step };

interface Pass {
  perTickMs: number[];
  syncsPerTick: number;
  totalS: number;
}

// Directories are removed only after both passes, so that deleting one pass's
// 20,000 files does not slow the other pass down.
const dirs: string[] = [];

async function pass(durable: boolean): Promise<Pass> {
  const syncData = Deno.FsFile.prototype.syncData;
  let syncs = 0;
  Deno.FsFile.prototype.syncData = function (this: Deno.FsFile): Promise<void> {
    syncs++;
    return durable ? syncData.call(this) : Promise.resolve();
  };
  const dir = await Deno.makeTempDir({ prefix: "ers_bench_ticks_" });
  dirs.push(dir);
  const perTickMs: number[] = [];
  const started = performance.now();
  try {
    for (let tick = 0; tick < TICKS; tick++) {
      const start = performance.now();
      await abraxasTick({
        tick,
        runId: "BENCH-RUN",
        mode: "bench",
        artifactsDir: dir,
        context: { tick },
        runSignal: step,
        runCompress: step,
        runOverlay: step,
        runShadowTasks: shadowSteps,
      });
      perTickMs.push(performance.now() - start);
    }
  } finally {
    Deno.FsFile.prototype.syncData = syncData;
  }
  return { perTickMs, syncsPerTick: syncs / TICKS, totalS: (performance.now() - started) / 1000 };
}

function windowMs(perTickMs: readonly number[], from: number): number {
  return median(perTickMs.slice(from, from + WINDOW_TICKS));
}

const TREND_STEP = quick ? 500 : 1_000;

function trend(perTickMs: readonly number[]): string {
  const points: string[] = [];
  for (let from = 0; from + WINDOW_TICKS <= perTickMs.length; from += TREND_STEP) {
    points.push(`${from}: ${windowMs(perTickMs, from).toFixed(2)}`);
  }
  return points.join(", ");
}

console.log(
  `\n## 3. abraxasTick per-tick time in one run of ${TICKS.toLocaleString("en-US")} ticks\n`,
);
console.log(
  `Median ms per tick over ${WINDOW_TICKS} consecutive ticks; ratio = window / ticks ${
    WINDOWS[0]
  }-${(WINDOWS[0] as number) + WINDOW_TICKS - 1}.\n`,
);
console.log(
  `| pass | ${
    WINDOWS.map((w) => `ticks ${w}-${w + WINDOW_TICKS - 1}`).join(" | ")
  } | syncData calls/tick | whole run |`,
);
console.log(`| --- | ${WINDOWS.map(() => "---:").join(" | ")} | ---: | ---: |`);
const trends: string[] = [];
try {
  for (const durable of [true, false]) {
    const result = await pass(durable);
    trends.push(`${durable ? "durable" : "not durable"}: ${trend(result.perTickMs)}`);
    const first = windowMs(result.perTickMs, WINDOWS[0] as number);
    const cells = WINDOWS.map((w) => {
      const value = windowMs(result.perTickMs, w);
      return w === WINDOWS[0]
        ? `${value.toFixed(3)} ms`
        : `${value.toFixed(3)} ms (${(value / first).toFixed(2)}x)`;
    });
    console.log(
      `| ${durable ? "durable (default)" : "not durable (syncData no-op)"} | ${
        cells.join(" | ")
      } | ${result.syncsPerTick.toFixed(1)} | ${result.totalS.toFixed(1)} s |`,
    );
  }
} finally {
  for (const dir of dirs) await Deno.remove(dir, { recursive: true });
}
console.log(
  `\nTrend, median ms of ticks t..t+${
    WINDOW_TICKS - 1
  } every ${TREND_STEP} ticks (t: ms), to tell a drift from noise:\n`,
);
for (const line of trends) console.log(`- ${line}`);
