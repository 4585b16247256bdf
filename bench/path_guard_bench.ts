// What the symlink-race guard costs (issue 8, item 2), measured against the
// code it replaced in the same run, interleaved so that disk and machine
// noise hit both sides alike.
//
// 1. One artifact write at `viz/R/<n>.json`: `writeFileAtomic` (the previous
//    path: a temporary file beside the target, then rename) against
//    `placeFileAtomic` (a temporary file in the root, an lstat of every
//    directory right before the rename, an inode and real-path check right
//    after). Not durable and durable.
// 2. Whole ticks (`pipelineTick`, not durable, five tasks) of this checkout
//    against a baseline checkout named by `ERS_BASELINE` (a directory holding
//    the previous code, such as `git worktree add --detach /tmp/ers-baseline <commit>`),
//    one tick of each in turn, each run in its own directory.
//
//   ERS_BASELINE=/tmp/ers-baseline deno run -A bench/path_guard_bench.ts [--quick]

import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { placeFileAtomic, writeFileAtomic } from "../runtime/_fs.ts";
import * as current from "../runtime/mod.ts";
import { median } from "./_fixtures.ts";

const quick = Deno.args.includes("--quick");
const WRITES = quick ? 500 : 4_000;
const TICKS = quick ? 300 : 3_000;

function format(label: string, before: number[], after: number[]): string {
  const b = median(before);
  const a = median(after);
  return `${label.padEnd(44)} previous ${(b * 1000).toFixed(1).padStart(7)} µs   guarded ${
    (a * 1000).toFixed(1).padStart(7)
  } µs   ${(a / b).toFixed(2)}x   (+${((a - b) * 1000).toFixed(1)} µs)`;
}

async function writes(durable: boolean): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ers_bench_guard_" });
  try {
    const realRoot = await Deno.realPath(root);
    await Deno.mkdir(join(root, "viz", "R"), { recursive: true });
    const bytes = new TextEncoder().encode(JSON.stringify({ pad: "x".repeat(2_000) }));
    const before: number[] = [];
    const after: number[] = [];
    for (let i = 0; i < WRITES; i++) {
      let start = performance.now();
      await writeFileAtomic(join(root, "viz", "R", `a${i}.json`), bytes, durable);
      before.push(performance.now() - start);
      start = performance.now();
      await placeFileAtomic(root, realRoot, `viz/R/b${i}.json`, bytes, durable);
      after.push(performance.now() - start);
    }
    return format(`one 2 KB artifact, ${durable ? "durable" : "not durable"}`, before, after);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

type TickModule = Pick<typeof current, "pipelineTick">;

async function ticks(baseline: TickModule): Promise<string> {
  const dirs = [
    await Deno.makeTempDir({ prefix: "ers_bench_guard_base_" }),
    await Deno.makeTempDir({ prefix: "ers_bench_guard_new_" }),
  ];
  const step = () => ({ ok: true });
  const tasks = ["a", "b", "c"].map((name, priority) => ({
    name: `oracle:${name}`,
    lane: "forecast" as const,
    priority,
    costOps: 1,
    fn: step,
  }));
  tasks.push(
    ...["sei", "anagram"].map((name) => ({
      name: `shadow:${name}`,
      lane: "shadow" as const,
      priority: 0,
      costOps: 1,
      fn: () => ({ ok: true }),
    })) as unknown as typeof tasks,
  );
  const pipeline = { tasks, budgets: { forecast: { ops: 10 }, shadow: { ops: 10 } } };
  const times: number[][] = [[], []];
  try {
    for (let tick = 0; tick < TICKS; tick++) {
      for (const [side, module] of [baseline, current].entries()) {
        const start = performance.now();
        await module.pipelineTick(
          {
            tick,
            runId: "BENCH",
            mode: "bench",
            artifactsDir: dirs[side] as string,
            pipeline,
            durable: false,
          } as Parameters<typeof current.pipelineTick>[0],
        );
        times[side]!.push(performance.now() - start);
      }
    }
    return format(`pipelineTick, not durable (${TICKS} ticks)`, times[0]!, times[1]!);
  } finally {
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
}

console.log(await writes(false));
console.log(await writes(true));
const baselineDir = Deno.env.get("ERS_BASELINE");
if (baselineDir) {
  const baseline: TickModule = await import(
    pathToFileURL(join(baselineDir, "runtime", "mod.ts")).href
  );
  console.log(await ticks(baseline));
} else {
  console.log("(set ERS_BASELINE to a checkout of the previous code to compare whole ticks)");
}
