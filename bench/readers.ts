// The readers as a user meets them: `ers show`, `ers verify` and
// `ers index --by task` on demo runs of several lengths, each command run as
// its own process (wall time and peak RSS from /usr/bin/time), this checkout
// against a baseline checkout in the same run, interleaved, so that machine
// noise hits both sides.
//
//   git archive <commit> | tar -x -C /tmp/ers_before     # the baseline
//   deno run -A bench/readers.ts --before /tmp/ers_before [--ticks 30,10000,50000] [--repeat 3]
//     [--cases show,verify,index,report] [--dir DIR]
//
// With --dir, the run B already in DIR is read (one --ticks value, its
// length) instead of writing one; DIR is left in place.
//
// Besides wall time and peak RSS, each cell gives the CPU time (user plus
// system, all threads): on a machine shared with other work the wall time
// swings with the load, the CPU time much less.
//
// The runs are written once by this checkout's library (not durable: the
// bytes are the same) and read by both sides.

import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pipelineTick } from "../runtime/mod.ts";
import { preparePipeline } from "../ers/mod.ts";
import demoPipeline from "../scripts/_demo_pipeline.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    before: { type: "string" },
    ticks: { type: "string", default: "30,10000,50000" },
    repeat: { type: "string", default: "3" },
    cases: { type: "string", default: "show,verify,index" },
    dir: { type: "string" },
  },
  strict: true,
});
if (values.before === undefined) throw new TypeError("give --before <baseline checkout>");
const AFTER = fileURLToPath(new URL("..", import.meta.url));
const SIDES = { before: values.before, after: AFTER };
const REPEAT = Number(values.repeat);
const CASES = new Set(values.cases.split(","));

interface Sample {
  seconds: number;
  cpuSeconds: number;
  rssKiB: number;
}

async function measure(root: string, args: string[]): Promise<Sample> {
  const output = await new Deno.Command("/usr/bin/time", {
    args: [
      "-f",
      "%e %U %S %M",
      Deno.execPath(),
      "run",
      "-A",
      join(root, "scripts/ers.ts"),
      ...args,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(output.stderr).trim().split("\n");
  if (output.code !== 0) throw new Error(`ers ${args.join(" ")} failed:\n${lines.join("\n")}`);
  const [seconds, user, system, rss] = (lines.at(-1) ?? "").split(" ").map(Number);
  return {
    seconds: seconds ?? NaN,
    cpuSeconds: (user ?? NaN) + (system ?? NaN),
    rssKiB: rss ?? NaN,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function writeRun(dir: string, ticks: number): Promise<void> {
  const pipeline = preparePipeline(demoPipeline);
  for (let tick = 0; tick < ticks; tick++) {
    await pipelineTick({
      pipeline,
      tick,
      runId: "B",
      mode: "cli",
      artifactsDir: dir,
      durable: false,
    });
  }
}

const rows: string[] = [];
for (const ticks of values.ticks.split(",").map(Number)) {
  const dir = values.dir ?? await Deno.makeTempDir({ prefix: "ers_bench_readers_" });
  const html = join(await Deno.makeTempDir({ prefix: "ers_bench_report_" }), "report.html");
  try {
    if (values.dir === undefined) {
      const started = performance.now();
      await writeRun(dir, ticks);
      console.error(
        `wrote ${ticks} ticks in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    }
    const cases: [string, string, string[]][] = [
      ["show", "show one tick", [
        "show",
        dir,
        "--run",
        "B",
        "--tick",
        String(Math.floor(ticks / 2)),
      ]],
      ["verify", "verify", ["verify", dir]],
      ["index", "index --by task", ["index", dir, "--run", "B", "--by", "task"]],
      ["report", "report", ["report", dir, "--run", "B", "--out", html]],
    ];
    for (const [key, name, args] of cases) {
      if (!CASES.has(key)) continue;
      const samples: Record<string, Sample[]> = { before: [], after: [] };
      for (let i = 0; i < REPEAT; i++) {
        for (const [side, root] of Object.entries(SIDES)) {
          samples[side]!.push(await measure(root, args));
        }
      }
      const cell = (side: string) => {
        const s = samples[side]!;
        return `${median(s.map((x) => x.seconds)).toFixed(2)} s (CPU ${
          median(s.map((x) => x.cpuSeconds)).toFixed(2)
        } s), ${(median(s.map((x) => x.rssKiB)) / 1024).toFixed(0)} MiB`;
      };
      const ratio = (of: (x: Sample) => number) =>
        median(samples.before!.map(of)) / median(samples.after!.map(of));
      // The median of the per-round ratios: each round's two samples share the load.
      const paired = median(samples.before!.map((x, i) => x.seconds / samples.after![i]!.seconds));
      const row = `| ${name}, ${ticks.toLocaleString("en")} ticks | ${cell("before")} | ${
        cell("after")
      } | ${ratio((x) => x.seconds).toFixed(1)}x | ${paired.toFixed(1)}x | ${
        ratio((x) => x.cpuSeconds).toFixed(1)
      }x |`;
      console.log(row);
      rows.push(row);
    }
  } finally {
    if (values.dir === undefined) await Deno.remove(dir, { recursive: true });
    await Deno.remove(join(html, ".."), { recursive: true });
  }
}
console.log(
  "\n| case | before | after | speed-up (medians) | per-round | CPU |\n| --- | --- | --- | ---: | ---: | ---: |",
);
for (const row of rows) console.log(row);
