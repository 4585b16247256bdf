// Promotion's cost (issue 13), each against a baseline in the same run:
//
// 1. Per tick: `pipelineTick` on tests/fixtures/promoting_pipeline.ts (three
//    candidates, decisions on 5 of 300 ticks) against the same pipeline with
//    `promote` removed, 300 ticks each in a fresh directory, the two
//    alternating round by round. Not durable (`syncData` stood in for a no-op,
//    as in bench/tick_flatness.ts), so the figure is the work, not the disk.
// 2. Resume: replaying a recorded 2,000-tick promoting run (what the first
//    tick of a new process does, here through `readPromotionStatus`) against
//    reading and checking the same TrendPacks (`readRunTicks`).
// 3. Rerun: the 300 recorded ticks run again in the same process (nothing is
//    rewritten), promoting against without `promote`: each tick checks that it
//    makes its recorded decisions, from the states kept tick to tick.
//
//   deno run -A bench/promotion_cost.ts [--quick]

import {
  type Pipeline,
  pipelineTick,
  readPromotionStatus,
  readRunManifest,
  readRunTicks,
} from "../mod.ts";
import promoting from "../tests/fixtures/promoting_pipeline.ts";
import { median } from "./_fixtures.ts";

const quick = Deno.args.includes("--quick");
const ROUNDS = quick ? 3 : 9;
const TICKS = 300;
const RESUME_TICKS = quick ? 500 : 2_000;

const withPromote = promoting as unknown as Pipeline;
const withoutPromote: Pipeline = {
  ...withPromote,
  tasks: withPromote.tasks.map(({ promote: _, ...task }) => task as Pipeline["tasks"][number]),
};

Deno.FsFile.prototype.syncData = () => Promise.resolve();
const dirs: string[] = [];

async function runTicks(
  pipeline: Pipeline,
  ticks: number,
  into?: string,
): Promise<{ dir: string; ms: number }> {
  const dir = into ?? await Deno.makeTempDir({ prefix: "ers_bench_promote_" });
  if (into === undefined) dirs.push(dir);
  const start = performance.now();
  for (let tick = 0; tick < ticks; tick++) {
    await pipelineTick({ pipeline, tick, runId: "B", mode: "bench", artifactsDir: dir });
  }
  return { dir, ms: performance.now() - start };
}

function ratioRow(name: string, ms: number[], base: number[], unit: string, scale = 1): string {
  const ratios = ms.map((m, i) => m / (base[i] as number));
  return `| ${name} | ${(median(ms) / scale).toFixed(3)} ${unit} | ${
    (median(base) / scale).toFixed(3)
  } ${unit} | ${median(ratios).toFixed(2)}x |`;
}

try {
  const promoted: number[] = [];
  const plain: number[] = [];
  for (let round = -1; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [withPromote, withoutPromote] : [withoutPromote, withPromote];
    for (const pipeline of order) {
      const { ms } = await runTicks(pipeline, TICKS);
      if (round >= 0) (pipeline === withPromote ? promoted : plain).push(ms);
    }
  }
  const recorded = new Map<Pipeline, string>();
  for (const pipeline of [withPromote, withoutPromote]) {
    recorded.set(pipeline, (await runTicks(pipeline, TICKS)).dir);
  }
  const rerunPromoted: number[] = [];
  const rerunPlain: number[] = [];
  for (let round = -1; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [withPromote, withoutPromote] : [withoutPromote, withPromote];
    for (const pipeline of order) {
      const { ms } = await runTicks(pipeline, TICKS, recorded.get(pipeline));
      if (round >= 0) (pipeline === withPromote ? rerunPromoted : rerunPlain).push(ms);
    }
  }
  const { dir } = await runTicks(withPromote, RESUME_TICKS);
  const replay: number[] = [];
  const read: number[] = [];
  for (let round = -1; round < ROUNDS; round++) {
    for (const which of round % 2 === 0 ? ["replay", "read"] : ["read", "replay"]) {
      const start = performance.now();
      if (which === "replay") await readPromotionStatus(dir, "B");
      else await readRunTicks(dir, await readRunManifest(dir, "B"));
      const ms = performance.now() - start;
      if (round >= 0) (which === "replay" ? replay : read).push(ms);
    }
  }
  console.log(`${ROUNDS} rounds, medians; ratio = median of per-round ratios\n`);
  console.log("| case | promotion | baseline | ratio |");
  console.log("| --- | --: | --: | --: |");
  console.log(
    ratioRow(
      `pipelineTick, not durable, ${TICKS} ticks (per tick)`,
      promoted,
      plain,
      "ms",
      TICKS,
    ),
  );
  console.log(
    ratioRow(
      `the same ${TICKS} recorded ticks run again (per tick)`,
      rerunPromoted,
      rerunPlain,
      "ms",
      TICKS,
    ),
  );
  console.log(
    ratioRow(`replay of a ${RESUME_TICKS}-tick run vs reading its TrendPacks`, replay, read, "ms"),
  );
} finally {
  for (const dir of dirs) await Deno.remove(dir, { recursive: true });
}
