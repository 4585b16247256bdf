// The pure core in Node beside Deno: the same `deno task bundle` output and
// the same workload (`_engine_work.ts`: `runTick` at 100,000 tasks, warm and
// cold, and `traceHashSha256` of its trace). One Deno and one Node process
// stay up and take turns sample by sample, the order alternating each round,
// so that the noise of a shared machine hits both (the idle one waits on its
// stdin). Prints a Markdown table of medians and the Node/Deno ratio (the
// median of the per-round ratios). A figure, not a target.
//
//   deno run -A bench/node_vs_deno.ts [--rounds 25] [--count 100000]

import { parseArgs } from "node:util";
import { bundleCore, bundleModule } from "../scripts/bundle.ts";
import { ENGINE_CASES, type EngineCase } from "./_engine_work.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "25" },
    count: { type: "string", default: "100000" },
  },
  strict: true,
});
const ROUNDS = Number(values.rounds);
const COUNT = Number(values.count);
const WARMUP = 2;

// One runner for both runtimes: it builds the work with the core bundle,
// says which engine it is, then answers each case name on stdin with one
// sample's milliseconds.
const RUNNER = `import * as ers from "./ers/mod.js";
import { engineSampler } from "./engine_work.js";
const isDeno = typeof Deno === "object";
const engine = isDeno ? "Deno " + Deno.version.deno + " (V8 " + Deno.version.v8 + ")"
  : "Node " + process.version + " (V8 " + process.versions.v8 + ")";
async function* lines() {
  const stream = isDeno ? Deno.stdin.readable : (await import("node:stream")).Readable.toWeb(process.stdin);
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    for (let at = buffered.indexOf("\\n"); at >= 0; at = buffered.indexOf("\\n")) {
      yield buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
    }
  }
}
const sampler = await engineSampler(ers, ${COUNT});
console.log(JSON.stringify({ engine, traceSha256: sampler.traceSha256 }));
for await (const name of lines()) console.log(JSON.stringify({ ms: await sampler.sample(name) }));
`;

/** A runtime process driven line by line. */
class Runner {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: AsyncIterator<string>;

  constructor(command: string, args: string[]) {
    this.#child = new Deno.Command(command, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#lines = lineReader(this.#child.stdout);
  }

  async read(): Promise<Record<string, unknown>> {
    const { value, done } = await this.#lines.next();
    if (done) throw new Error("a runtime exited before answering");
    return JSON.parse(value);
  }

  async sample(name: EngineCase): Promise<number> {
    await this.#writer.write(new TextEncoder().encode(`${name}\n`));
    return (await this.read()).ms as number;
  }

  async close(): Promise<void> {
    await this.#writer.close();
    await this.#child.status;
  }
}

async function* lineReader(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    for (let at = buffered.indexOf("\n"); at >= 0; at = buffered.indexOf("\n")) {
      yield buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? sorted[mid] as number
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const dir = await Deno.makeTempDir({ prefix: "ers_node_vs_deno_" });
try {
  await bundleCore(dir);
  await bundleModule("bench/_engine_work.ts", `${dir}/engine_work.js`);
  await Deno.writeTextFile(`${dir}/run.mjs`, RUNNER);
  const deno = new Runner(Deno.execPath(), [
    "run",
    "--no-config",
    "--no-lock",
    `--allow-read=${dir}`,
    "--v8-flags=--expose-gc",
    `${dir}/run.mjs`,
  ]);
  const node = new Runner("node", ["--expose-gc", `${dir}/run.mjs`]);
  const [denoHello, nodeHello] = [await deno.read(), await node.read()];
  if (denoHello.traceSha256 !== nodeHello.traceSha256) {
    throw new Error(
      `the runtimes hashed different traces: ${JSON.stringify([denoHello, nodeHello])}`,
    );
  }
  const samples = Object.fromEntries(
    ENGINE_CASES.map((name) => [name, { deno: [] as number[], node: [] as number[] }]),
  ) as Record<EngineCase, { deno: number[]; node: number[] }>;
  for (let round = -WARMUP; round < ROUNDS; round++) {
    for (const name of ENGINE_CASES) {
      const denoFirst = round % 2 === 0;
      const first = await (denoFirst ? deno : node).sample(name);
      const second = await (denoFirst ? node : deno).sample(name);
      if (round < 0) continue;
      samples[name].deno.push(denoFirst ? first : second);
      samples[name].node.push(denoFirst ? second : first);
    }
  }
  await deno.close();
  await node.close();
  const count = COUNT.toLocaleString("en");
  const titles: Record<EngineCase, string> = {
    runTickWarm: `\`runTick\`, ${count} tasks, same task set as last tick`,
    runTickCold: `new scheduler + ${count} \`add()\` + first \`runTick\``,
    traceHash: `\`traceHashSha256\`, the ${count}-event trace`,
  };
  console.log(`${denoHello.engine} vs ${nodeHello.engine}; ${ROUNDS} interleaved rounds`);
  console.log(`trace sha256 (both): ${denoHello.traceSha256}\n`);
  console.log("| case | Deno median ms | Node median ms | Node / Deno (median of rounds) |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const name of ENGINE_CASES) {
    const { deno, node } = samples[name];
    const ratios = node.map((ms, i) => ms / (deno[i] as number));
    console.log(
      `| ${titles[name]} | ${median(deno).toFixed(1)} | ${median(node).toFixed(1)} | ${
        median(ratios).toFixed(2)
      }x (rounds: ${Math.min(...ratios).toFixed(2)} to ${Math.max(...ratios).toFixed(2)}) |`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
