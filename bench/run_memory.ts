// `ers run` memory and per-tick time against run length: one process runs
// ticks 0..N-1 of the demo pipeline through `pipelineTick` (extended
// provenance, as `ers run` writes it; not durable, so that the disk's fsync
// latency does not drown the writer's own time), and reports the heap after
// a forced GC at each checkpoint and the mean time per tick between
// checkpoints. With --before DIR (a checkout of the baseline), the baseline
// and this checkout run in turn, each in its own process, round by round.
//
//   deno run -A bench/run_memory.ts [--ticks 8000] [--every 2000] [--repeat 2] [--before DIR]

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    ticks: { type: "string", default: "8000" },
    every: { type: "string", default: "2000" },
    repeat: { type: "string", default: "2" },
    before: { type: "string" },
    child: { type: "string" },
  },
});
const ticks = Number(values.ticks);
const every = Number(values.every);
const MIB = 1024 * 1024;

interface Sample {
  tick: number;
  heapMiB: number;
  msPerTick: number | null;
}

async function child(root: string): Promise<Sample[]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
  const { pipelineTick } = await import(join(root, "runtime/mod.ts"));
  const { default: pipeline } = await import(join(root, "scripts/_demo_pipeline.ts"));
  const dir = await Deno.makeTempDir({ prefix: "ers-run-memory-" });
  const samples: Sample[] = [];
  try {
    let last = performance.now();
    for (let tick = 0; tick <= ticks; tick++) {
      if (tick % every === 0) {
        const now = performance.now();
        gc();
        samples.push({
          tick,
          heapMiB: Deno.memoryUsage().heapUsed / MIB,
          msPerTick: tick === 0 ? null : (now - last) / every,
        });
        last = performance.now();
      }
      if (tick === ticks) break;
      await pipelineTick({
        pipeline,
        tick,
        runId: "MEM",
        mode: "bench",
        artifactsDir: dir,
        durable: false,
        provenance: "extended",
        pipelineFile: "ers:demo",
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return samples;
}

async function measure(root: string): Promise<Sample[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      fileURLToPath(import.meta.url),
      "--child",
      root,
      "--ticks",
      String(ticks),
      "--every",
      String(every),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`child for ${root} failed`);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

if (values.child !== undefined) {
  console.log(JSON.stringify(await child(values.child)));
} else {
  const here = fileURLToPath(new URL("..", import.meta.url));
  const sides = values.before === undefined
    ? [["this checkout", here]]
    : [["before", values.before], ["after", here]];
  const results = new Map<string, Sample[][]>(sides.map(([name]) => [name as string, []]));
  for (let round = 0; round < Number(values.repeat); round++) {
    for (const [name, root] of sides) {
      results.get(name as string)?.push(await measure(root as string));
      console.error(`round ${round + 1}: ${name} done`);
    }
  }
  console.log(
    `demo run of ${ticks} ticks, heap after forced GC (MiB) and ms per tick since the last`,
  );
  console.log(
    "| side | round | " + (results.values().next().value?.[0] ?? []).map((s) =>
      `tick ${s.tick}`
    ).join(" | ") + " |",
  );
  for (const [name, rounds] of results) {
    rounds.forEach((samples, i) => {
      const cells = samples.map((s) =>
        `${s.heapMiB.toFixed(1)}${s.msPerTick === null ? "" : ` / ${s.msPerTick.toFixed(2)} ms`}`
      );
      console.log(`| ${name} | ${i + 1} | ${cells.join(" | ")} |`);
    });
  }
}
