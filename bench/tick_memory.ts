// Benchmark 4b: peak memory of one 1,000,000-task tick, against the bare
// loop doing the same tick, each in a fresh process. `Deno.memoryUsage()` is
// sampled after a full GC before the tick, from inside every 16,384th task
// body during it, and right after it (the output still held); the kernel's
// peak resident set (VmHWM) is read at the end.
//
//   deno run -A --v8-flags=--expose-gc bench/tick_memory.ts

import { bareTasks, bareTick, budgetsFor, noopTasks, schedulerOf } from "./_fixtures.ts";

const COUNT = 1_000_000;
const MIB = 1024 * 1024;

interface Measure {
  mode: string;
  heapBeforeMiB: number;
  heapPeakMiB: number;
  rssBeforeMiB: number;
  rssPeakSampledMiB: number;
  vmHwmMiB: number | null;
  tickMs: number;
}

async function measure(mode: "ers" | "bare"): Promise<Measure> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
  let heapPeak = 0;
  let rssPeak = 0;
  const sample = () => {
    const usage = Deno.memoryUsage();
    heapPeak = Math.max(heapPeak, usage.heapUsed);
    rssPeak = Math.max(rssPeak, usage.rss);
  };
  let calls = 0;
  const tasks = noopTasks(COUNT, () => {
    if ((++calls & 0x3fff) === 0) sample();
  });
  const budgets = budgetsFor(COUNT);
  // Everything a tick needs exists before the baseline sample: the tick is measured alone.
  const scheduler = mode === "ers" ? schedulerOf(tasks) : undefined;
  const bare = mode === "bare" ? bareTasks(tasks) : undefined;
  gc();
  const before = Deno.memoryUsage();
  const start = performance.now();
  const out = scheduler
    ? await scheduler.runTick({
      tick: 0,
      budgetForecast: { ops: budgets.forecast },
      budgetShadow: { ops: budgets.shadow },
    })
    : bareTick(bare ?? [], 0, budgets);
  const tickMs = performance.now() - start;
  sample();
  if (out.trace.length !== COUNT) throw new Error("one event per task");
  return {
    mode,
    heapBeforeMiB: before.heapUsed / MIB,
    heapPeakMiB: heapPeak / MIB,
    rssBeforeMiB: before.rss / MIB,
    rssPeakSampledMiB: rssPeak / MIB,
    vmHwmMiB: await vmHwmMiB(),
    tickMs,
  };
}

async function vmHwmMiB(): Promise<number | null> {
  try {
    const status = await Deno.readTextFile("/proc/self/status");
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
    return kib === undefined ? null : Number(kib) / 1024;
  } catch {
    return null;
  }
}

async function child(mode: string): Promise<Measure> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", new URL(import.meta.url).pathname, mode],
    stdout: "piped",
    stderr: "inherit",
  });
  const { code, stdout } = await command.output();
  if (code !== 0) throw new Error(`tick_memory.ts ${mode} exited with ${code}`);
  return JSON.parse(new TextDecoder().decode(stdout));
}

const mode = Deno.args.find((arg) => arg === "ers" || arg === "bare");
if (mode !== undefined) {
  console.log(JSON.stringify(await measure(mode)));
} else {
  const f = (value: number | null) => value === null ? "n/a" : value.toFixed(0);
  console.log(`\n## 4b. Peak memory of one ${COUNT.toLocaleString("en-US")}-task tick\n`);
  console.log(
    "Heap figures from `Deno.memoryUsage()` (MiB); VmHWM is the process's peak RSS. Each mode runs in a fresh process.\n",
  );
  console.log(
    "| mode | heap before tick | heap peak | heap growth | RSS before | RSS peak (sampled) | VmHWM | tick ms |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  const rows = [await child("bare"), await child("ers")];
  for (const m of rows) {
    console.log(
      `| ${m.mode === "ers" ? "runTick" : "bare loop (baseline)"} | ${f(m.heapBeforeMiB)} | ${
        f(m.heapPeakMiB)
      } | ${f(m.heapPeakMiB - m.heapBeforeMiB)} | ${f(m.rssBeforeMiB)} | ${
        f(m.rssPeakSampledMiB)
      } | ${f(m.vmHwmMiB)} | ${m.tickMs.toFixed(0)} |`,
    );
  }
  const [bare, ers] = rows as [Measure, Measure];
  console.log(
    `\nHeap growth ratio runTick / bare loop: ${
      ((ers.heapPeakMiB - ers.heapBeforeMiB) / (bare.heapPeakMiB - bare.heapBeforeMiB)).toFixed(2)
    }x\n`,
  );
}
