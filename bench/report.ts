// The benchmark report: every case of issue 5 against its in-process
// baseline, interleaved round by round (the order alternates each round) so
// that the noise of a shared machine hits both sides alike. Prints Markdown
// tables of medians, ratios (the median of the per-round ratios) and tasks
// per second, then runs the per-tick and memory scripts in fresh processes.
//
//   deno run -A --v8-flags=--expose-gc bench/report.ts [runTick] [hash] [gate] [ticks] [memory]
//
// With no argument every part runs. `--quick` takes fewer samples.

import { dozenRunInvarianceGate, traceHashSha256 } from "../mod.ts";
import {
  arbitraryTrace,
  bareHash,
  bareRun,
  bareTick,
  generalTrace,
  median,
  noopTasks,
  runTickCase,
  schedulerOf,
  SIZES,
  tickOf,
} from "./_fixtures.ts";

const args = Deno.args.filter((arg) => !arg.startsWith("--"));
const quick = Deno.args.includes("--quick");
const wants = (part: string) => args.length === 0 || args.includes(part);
const gc = (globalThis as { gc?: () => void }).gc;

interface Variant {
  name: string;
  /** Runs the work once. */
  run: () => unknown;
}

interface Row {
  name: string;
  medianMs: number;
  ratio: number;
}

// Times `variants[0]` (the baseline) and the others in alternating order,
// `repeat` runs per sample, after `warmup` discarded rounds.
async function compare(
  variants: readonly Variant[],
  rounds: number,
  repeat = 1,
  warmup = 2,
): Promise<Row[]> {
  const samples = variants.map(() => [] as number[]);
  for (let round = -warmup; round < rounds; round++) {
    const order = variants.map((_, i) => i);
    if (round % 2 !== 0) order.reverse();
    for (const i of order) {
      gc?.();
      const start = performance.now();
      for (let r = 0; r < repeat; r++) await (variants[i] as Variant).run();
      const ms = (performance.now() - start) / repeat;
      if (round >= 0) (samples[i] as number[]).push(ms);
    }
  }
  const base = samples[0] as number[];
  return variants.map((variant, i) => ({
    name: variant.name,
    medianMs: median(samples[i] as number[]),
    ratio: median((samples[i] as number[]).map((ms, round) => ms / (base[round] as number))),
  }));
}

function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toFixed(3);
}

function table(rows: readonly Row[], tasks?: number, unit = "tasks/s"): string {
  const head = tasks === undefined
    ? "| case | median ms | ratio vs baseline |\n| --- | ---: | ---: |"
    : `| case | median ms | ratio vs baseline | ${unit} |\n| --- | ---: | ---: | ---: |`;
  return [
    head,
    ...rows.map((row) =>
      `| ${row.name} | ${ms(row.medianMs)} | ${row.ratio.toFixed(2)}x |${
        tasks === undefined
          ? ""
          : ` ${Math.round(tasks / row.medianMs * 1000).toLocaleString("en-US")} |`
      }`
    ),
  ].join("\n");
}

async function runTickReport(): Promise<void> {
  console.log("\n## 1. runTick vs the bare loop (no-op tasks, half per lane)\n");
  for (const count of SIZES) {
    const { tasks, bare, budgets, sorted, warm, warmTrace } = await runTickCase(count);
    const same = await traceHashSha256(warmTrace) ===
      await traceHashSha256(bareTick(bare, 0, budgets).trace);
    if (!same) throw new Error("the bare loop must produce runTick's trace");
    const rows = await compare(
      [
        { name: "bare loop (baseline)", run: () => bareTick(bare, 0, budgets) },
        { name: "runTick, same task set as last tick", run: () => tickOf(warm, count) },
        {
          name: "bare loop without its sort (order given)",
          run: () => bareRun(sorted, 0, budgets),
        },
        {
          name: `new scheduler + ${count.toLocaleString("en-US")} add() + first runTick`,
          run: () => tickOf(schedulerOf(tasks), count),
        },
      ],
      count >= 100_000 ? (quick ? 5 : 15) : quick ? 10 : 30,
      Math.max(1, Math.round(10_000 / count)),
    );
    console.log(`### ${count.toLocaleString("en-US")} tasks\n\n${table(rows, count)}\n`);
  }
}

async function hashReport(): Promise<void> {
  const count = 100_000;
  console.log(`\n## 2. Hashing the ${count.toLocaleString("en-US")}-event trace\n`);
  const trace = await tickOf(schedulerOf(noopTasks(count)), count);
  const arbitrary = arbitraryTrace(trace);
  if (await traceHashSha256(arbitrary) !== await traceHashSha256(trace)) {
    throw new Error("the arbitrary trace must hash as the scheduler's trace does");
  }
  const rows = await compare([
    { name: "JSON.stringify + TextEncoder + SHA-256 (baseline)", run: () => bareHash(trace) },
    { name: "traceHashSha256, runTick's trace", run: () => traceHashSha256(trace) },
    {
      name: "traceHashSha256, arbitrary trace (keys shuffled, unfrozen meta)",
      run: () => traceHashSha256(arbitrary),
    },
  ], quick ? 5 : 15);
  console.log(`${table(rows, count, "events/s")}\n`);
  const general = generalTrace(trace);
  const generalRows = await compare([
    {
      name: "JSON.stringify + TextEncoder + SHA-256 of that trace (baseline)",
      run: () => bareHash(general),
    },
    {
      name: "traceHashSha256, meta with a second field (general path)",
      run: () => traceHashSha256(general),
    },
  ], quick ? 5 : 15);
  console.log(`${table(generalRows, count, "events/s")}\n`);
}

async function gateReport(): Promise<void> {
  const count = 10_000;
  const runs = 12;
  console.log(
    `\n## 4a. dozenRunInvarianceGate, ${runs} runs of ${count.toLocaleString("en-US")} events\n`,
  );
  const scheduler = schedulerOf(noopTasks(count));
  const makeTrace = () => tickOf(scheduler, count);
  const rows = await compare([
    {
      name: `${runs} x (runTick + traceHashSha256) (baseline)`,
      run: async () => {
        for (let i = 0; i < runs; i++) await traceHashSha256(await makeTrace());
      },
    },
    {
      name: "dozenRunInvarianceGate",
      run: async () => {
        if (!(await dozenRunInvarianceGate({ makeTrace, runs })).ok) throw new Error("drift");
      },
    },
  ], quick ? 5 : 15);
  console.log(`${table(rows, count * runs, "events/s")}\n`);
}

async function script(path: string, v8Flags: string[] = []): Promise<void> {
  const url = new URL(path, import.meta.url);
  const flags = v8Flags.length > 0 ? [`--v8-flags=${v8Flags.join(",")}`] : [];
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...flags, url.pathname, ...(quick ? ["--quick"] : [])],
    stdout: "inherit",
    stderr: "inherit",
  });
  const { code } = await command.output();
  if (code !== 0) throw new Error(`${path} exited with ${code}`);
}

console.log(
  `# ERS benchmark report\n\nDeno ${Deno.version.deno}, V8 ${Deno.version.v8}, ${navigator.hardwareConcurrency} logical CPUs${
    gc ? ", gc() before each sample" : ""
  }.`,
);
if (wants("runTick")) await runTickReport();
if (wants("hash")) await hashReport();
if (wants("ticks")) await script("./tick_flatness.ts");
if (wants("gate")) await gateReport();
if (wants("memory")) await script("./tick_memory.ts", ["--expose-gc"]);
