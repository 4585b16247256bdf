// Worker lanes against inline lanes, interleaved in one run: each round runs
// one tick inline, then the same tick in worker lanes, so both see the same
// machine state. Reports the median per-tick time of each, their difference
// and their ratio, for the 6-task demo pipeline and a 10,000-task tick.
//
//   deno run -A --unstable-worker-options --preload scripts/_worker_options.ts bench/isolation.ts
//
// With `--baseline DIR` (an ERS checkout, say an older commit extracted with
// `git archive <commit> | tar -x -C DIR`), each round also times the same
// tick in that tree's worker lanes, so a change is measured against its
// baseline in the same run. The order of the worker runs alternates by round.
//
// Then, where the time goes: the CPU time each thread of this process spends
// per 10,000-task tick in each mode (Linux only: from /proc/self/task), and
// the floor the platform sets: a postMessage round trip to an idle worker,
// and the same work done on one thread against split over the three
// hand-offs a worker tick makes (supervisor -> forecast worker -> shadow
// worker -> supervisor).
//
// The goal (issue 11): at most +0.5 ms per tick on the 6-task pipeline, at
// most 1.5x inline on the 10,000-task tick.

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type OpenedPipeline, openPipeline } from "../runtime/mod.ts";

const { values: flags } = parseArgs({ options: { baseline: { type: "string" } } });
const baseline: typeof openPipeline | undefined = flags.baseline === undefined
  ? undefined
  : (await import(pathToFileURL(resolve(flags.baseline, "runtime/mod.ts")).href)).openPipeline;

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
  await using before = baseline === undefined
    ? undefined
    : await baseline(entry.module, { isolation: "worker" });
  const warmup = Math.max(5, Math.floor(entry.rounds / 10));
  for (let tick = 0; tick < warmup; tick++) {
    await inline.runTick(tick);
    await worker.runTick(tick);
    await before?.runTick(tick);
  }
  const times = { inline: [] as number[], worker: [] as number[], before: [] as number[] };
  for (let round = 0; round < entry.rounds; round++) {
    const tick = warmup + round;
    times.inline.push(await timeTick(inline, tick));
    if (before !== undefined && round % 2 === 1) times.before.push(await timeTick(before, tick));
    times.worker.push(await timeTick(worker, tick));
    if (before !== undefined && round % 2 === 0) times.before.push(await timeTick(before, tick));
  }
  const a = median(times.inline);
  const b = median(times.worker);
  const c = before === undefined
    ? ""
    : `  baseline worker ${median(times.before).toFixed(3).padStart(8)} ms  ${
      (median(times.before) / a).toFixed(2)
    }x`;
  console.log(
    `${entry.name.padEnd(24)} inline ${a.toFixed(3).padStart(8)} ms  worker ${
      b.toFixed(3).padStart(8)
    } ms  +${(b - a).toFixed(3)} ms  ${
      (b / a).toFixed(2)
    }x${c}  (median of ${entry.rounds} interleaved ticks)`,
  );
}

// CPU time (user + system) of each thread of this process, in ms, by thread name.
function threadCpuMs(): Map<string, number> | undefined {
  try {
    const times = new Map<string, number>();
    for (const entry of Deno.readDirSync("/proc/self/task")) {
      const name = Deno.readTextFileSync(`/proc/self/task/${entry.name}/comm`).trim();
      const fields = Deno.readTextFileSync(`/proc/self/task/${entry.name}/stat`)
        .split(") ")[1]!.split(" ");
      // utime and stime, in clock ticks of 10 ms (USER_HZ 100 on Linux)
      const ms = (Number(fields[11]) + Number(fields[12])) * 10;
      const key = name.startsWith("V8 ") ? "V8 helpers" : name;
      times.set(key, (times.get(key) ?? 0) + ms);
    }
    return times;
  } catch {
    return undefined;
  }
}

async function cpuByThread(module: string, isolation: "inline" | "worker"): Promise<void> {
  await using pipeline = await openPipeline(module, { isolation });
  for (let tick = 0; tick < 20; tick++) await pipeline.runTick(tick);
  const ticks = 400;
  const before = threadCpuMs();
  const start = performance.now();
  for (let tick = 0; tick < ticks; tick++) await pipeline.runTick(20 + tick);
  const wallMs = (performance.now() - start) / ticks;
  const after = threadCpuMs();
  if (before === undefined || after === undefined) return;
  const parts: string[] = [];
  let total = 0;
  for (const [name, ms] of after) {
    const perTick = (ms - (before.get(name) ?? 0)) / ticks;
    total += perTick;
    if (perTick >= 0.01) parts.push(`${name} ${perTick.toFixed(2)}`);
  }
  console.log(
    `  ${isolation.padEnd(6)} wall ${wallMs.toFixed(2)} ms/tick, CPU ${total.toFixed(2)} ms/tick: ${
      parts.join(", ")
    }  (${ticks} ticks in a row)`,
  );
}

// A worker that answers a ping; that listens on a channel, spins the rounds
// it gets there and tells the supervisor; or that spins the rounds it is sent
// and passes them on through its channel.
const HOP = URL.createObjectURL(
  new Blob([
    `let out; let sink = 0;
    const spin = (n) => { let x = sink; for (let i = 0; i < n; i++) x = (x * 31 + i) | 0; sink = x; };
    self.onmessage = (e) => {
      const m = e.data;
      if (m.listen) { m.listen.onmessage = (p) => { spin(p.data); self.postMessage(p.data); }; return; }
      if (m.out) { out = m.out; return; }
      if (m.ping) { self.postMessage(0); return; }
      spin(m.n); out.postMessage(m.n);
    };`,
  ], { type: "text/javascript" }),
);

async function platformFloor(): Promise<void> {
  let sink = 0;
  const spin = (n: number) => {
    let x = sink;
    for (let i = 0; i < n; i++) x = (x * 31 + i) | 0;
    sink = x;
  };
  for (let i = 0; i < 20; i++) spin(1e6);
  let start = performance.now();
  spin(2e7);
  const perMs = Math.round(2e7 / (performance.now() - start)); // rounds of `spin` per ms
  const a = new Worker(HOP, { type: "module" });
  const b = new Worker(HOP, { type: "module" });
  const channel = new MessageChannel();
  a.postMessage({ out: channel.port1 }, [channel.port1]);
  b.postMessage({ listen: channel.port2 }, [channel.port2]);
  const answer = (w: Worker) => new Promise((resolve) => w.onmessage = resolve);
  const rounds = 300;
  const ping: number[] = [];
  const one: number[] = [];
  const split: number[] = [];
  for (let round = 0; round < rounds + 20; round++) {
    start = performance.now();
    const pong = answer(a);
    a.postMessage({ ping: true });
    await pong;
    if (round >= 20) ping.push(performance.now() - start);
    const n = perMs; // about 1 ms of work per segment, four segments
    start = performance.now();
    spin(n);
    spin(n);
    spin(n);
    spin(n);
    if (round >= 20) one.push(performance.now() - start);
    start = performance.now();
    spin(n);
    const back = answer(b);
    a.postMessage({ n });
    await back;
    spin(n);
    if (round >= 20) split.push(performance.now() - start);
  }
  a.terminate();
  b.terminate();
  console.log(
    `  postMessage round trip to an idle worker: ${
      median(ping).toFixed(3)
    } ms (median of ${rounds})`,
  );
  console.log(
    `  4 x ~1 ms of work: one thread ${median(one).toFixed(3)} ms, split over 3 hand-offs ${
      median(split).toFixed(3)
    } ms (+${(median(split) - median(one)).toFixed(3)} ms, median of ${rounds})`,
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
  await measure({ name: `${WIDE_TASKS}-task tick`, module: wide, rounds: 200 });
  console.log(`CPU time by thread, ${WIDE_TASKS}-task tick:`);
  await cpuByThread(wide, "inline");
  await cpuByThread(wide, "worker");
  console.log("The platform's floor:");
  await platformFloor();
} finally {
  await Deno.remove(dir, { recursive: true });
}
