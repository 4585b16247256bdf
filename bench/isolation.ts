// Worker lanes against inline lanes, interleaved in one run: each round runs
// one tick inline, then the same tick in worker lanes, so both see the same
// machine state. Reports the median per-tick time of each, their difference
// and their ratio, for the 6-task demo pipeline and a 10,000-task tick.
//
//   deno run -A --unstable-worker-options --preload scripts/_worker_options.ts bench/isolation.ts
//
// The goal (issue 11): at most +0.5 ms per tick on the 6-task pipeline, at
// most 1.5x inline on the 10,000-task tick.

import { type OpenedPipeline, openPipeline } from "../runtime/mod.ts";

const DEMO = new URL("../scripts/_demo_pipeline.ts", import.meta.url);
const WIDE_TASKS = 10_000;

interface Case {
  name: string;
  module: string | URL;
  rounds: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function timeTick(pipeline: OpenedPipeline, tick: number): Promise<number> {
  const start = performance.now();
  await pipeline.runTick(tick);
  return performance.now() - start;
}

async function measure(entry: Case): Promise<void> {
  await using inline = await openPipeline(entry.module, { isolation: "inline" });
  await using worker = await openPipeline(entry.module, { isolation: "worker" });
  const warmup = Math.max(5, Math.floor(entry.rounds / 10));
  for (let tick = 0; tick < warmup; tick++) {
    await inline.runTick(tick);
    await worker.runTick(tick);
  }
  const times = { inline: [] as number[], worker: [] as number[] };
  for (let round = 0; round < entry.rounds; round++) {
    const tick = warmup + round;
    times.inline.push(await timeTick(inline, tick));
    times.worker.push(await timeTick(worker, tick));
  }
  const a = median(times.inline);
  const b = median(times.worker);
  console.log(
    `${entry.name.padEnd(24)} inline ${a.toFixed(3).padStart(8)} ms  worker ${
      b.toFixed(3).padStart(8)
    } ms  +${(b - a).toFixed(3)} ms  ${
      (b / a).toFixed(2)
    }x  (median of ${entry.rounds} interleaved ticks)`,
  );
}

const dir = await Deno.makeTempDir();
try {
  const wide = `${dir}/wide.js`;
  await Deno.writeTextFile(
    wide,
    `export default {
      tasks: Array.from({ length: ${WIDE_TASKS} }, (_, i) => ({
        name: "t" + String(i).padStart(5, "0"), lane: i % 2 === 0 ? "forecast" : "shadow",
        priority: i % 7, costOps: 1, fn: (ctx) => ctx.n + i,
      })),
      budgets: { forecast: { ops: ${WIDE_TASKS} }, shadow: { ops: ${WIDE_TASKS} } },
      context: (tick) => ({ n: tick }),
    };`,
  );
  console.log(
    `Deno ${Deno.version.deno}, ${Deno.build.os}-${Deno.build.arch}, ${navigator.hardwareConcurrency} cores`,
  );
  await measure({ name: "6-task demo tick", module: DEMO, rounds: 2000 });
  await measure({ name: `${WIDE_TASKS}-task tick`, module: wide, rounds: 60 });
} finally {
  await Deno.remove(dir, { recursive: true });
}
