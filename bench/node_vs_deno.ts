// The pure core in Node beside Deno: the same `deno task bundle` output and
// the same workload (`_engine_work.ts`: `runTick` at 100,000 tasks, warm and
// cold, and `traceHashSha256` of its trace), in fresh processes that take
// turns (Deno, Node, Node, Deno, ...) so that the machine's noise hits both.
// Prints a Markdown table of medians and the Node/Deno ratio (the median of
// the per-turn ratios). A figure, not a target.
//
//   deno run -A bench/node_vs_deno.ts [--turns 8] [--rounds 7] [--count 100000]

import { parseArgs } from "node:util";
import { bundleCore } from "../scripts/bundle.ts";
import type { EngineFigures } from "./_engine_work.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    turns: { type: "string", default: "8" },
    rounds: { type: "string", default: "7" },
    count: { type: "string", default: "100000" },
  },
  strict: true,
});
const TURNS = Number(values.turns);
const ROUNDS = Number(values.rounds);
const COUNT = Number(values.count);

interface Answer extends EngineFigures {
  engine: string;
}

const ROOT = new URL("..", import.meta.url);

async function run(command: string, args: string[]): Promise<Answer> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (code !== 0) throw new Error(`${command} failed:\n${text.decode(stderr)}`);
  return JSON.parse(text.decode(stdout));
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
  const bundled = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--no-lock",
      "--platform=browser",
      "--format=esm",
      `--output=${dir}/engine_work.js`,
      "bench/_engine_work.ts",
    ],
    cwd: ROOT,
  }).output();
  if (bundled.code !== 0) throw new Error("Cannot bundle bench/_engine_work.ts");
  // One runner for both runtimes: it imports the core bundle and the work.
  await Deno.writeTextFile(
    `${dir}/run.mjs`,
    `import * as ers from "./ers/mod.js";
import { engineFigures } from "./engine_work.js";
const engine = typeof Deno === "object" ? "Deno " + Deno.version.deno + " (V8 " + Deno.version.v8 + ")"
  : "Node " + process.version + " (V8 " + process.versions.v8 + ")";
const figures = await engineFigures(ers, ${COUNT}, ${ROUNDS});
console.log(JSON.stringify({ engine, ...figures }));
`,
  );
  const deno = () =>
    run(Deno.execPath(), [
      "run",
      "--no-config",
      "--no-lock",
      `--allow-read=${dir}`,
      "--v8-flags=--expose-gc",
      `${dir}/run.mjs`,
    ]);
  const node = () => run("node", ["--expose-gc", `${dir}/run.mjs`]);
  const turns: { deno: Answer; node: Answer }[] = [];
  for (let turn = 0; turn < TURNS; turn++) {
    if (turn % 2 === 0) {
      const d = await deno();
      turns.push({ deno: d, node: await node() });
    } else {
      const n = await node();
      turns.push({ node: n, deno: await deno() });
    }
  }
  const hashes = new Set(turns.flatMap(({ deno, node }) => [deno.traceSha256, node.traceSha256]));
  if (hashes.size !== 1) throw new Error(`the runtimes hashed different traces: ${[...hashes]}`);
  const cases: [string, keyof EngineFigures][] = [
    [
      `\`runTick\`, ${COUNT.toLocaleString("en")} tasks, same task set as last tick`,
      "runTickWarmMs",
    ],
    [
      `new scheduler + ${COUNT.toLocaleString("en")} \`add()\` + first \`runTick\``,
      "runTickColdMs",
    ],
    [`\`traceHashSha256\`, the ${COUNT.toLocaleString("en")}-event trace`, "traceHashMs"],
  ];
  const first = turns[0] as { deno: Answer; node: Answer };
  console.log(`${first.deno.engine} vs ${first.node.engine}; ${TURNS} turns of ${ROUNDS} rounds`);
  console.log(`trace sha256 (both): ${[...hashes][0]}\n`);
  console.log("| case | Deno median ms | Node median ms | Node / Deno |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const [name, key] of cases) {
    const denoMs = median(turns.map((t) => t.deno[key] as number));
    const nodeMs = median(turns.map((t) => t.node[key] as number));
    const ratio = median(turns.map((t) => (t.node[key] as number) / (t.deno[key] as number)));
    console.log(`| ${name} | ${denoMs.toFixed(1)} | ${nodeMs.toFixed(1)} | ${ratio.toFixed(2)}x |`);
  }
  console.log(
    `\nper turn (Deno / Node ms): ${
      turns.map((t) =>
        cases.map(([, key]) =>
          `${(t.deno[key] as number).toFixed(1)}/${(t.node[key] as number).toFixed(1)}`
        ).join(" ")
      ).join(" | ")
    }`,
  );
} finally {
  await Deno.remove(dir, { recursive: true });
}
