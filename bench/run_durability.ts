// `ers run` durability modes against each other: the default (each tick
// synced and recorded on its own), --no-fsync, and group commits of 10 and
// 100 ticks, on the same run of the demo pipeline, each mode a fresh process
// writing into a fresh directory, interleaved round by round so that the
// machine's load hits every mode alike. Prints the median wall time of each
// mode, its ratio to the default's, and checks that every mode wrote the
// same manifest (same bytes).
//
//   deno run -A bench/run_durability.ts [--ticks 1000] [--repeat 3]

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MODES: Readonly<Record<string, readonly string[]>> = {
  "default": [],
  "--no-fsync": ["--no-fsync"],
  "--sync-every 10": ["--sync-every", "10"],
  "--sync-every 100": ["--sync-every", "100"],
};

const { values } = parseArgs({
  options: { ticks: { type: "string", default: "1000" }, repeat: { type: "string", default: "3" } },
});
const ticks = Number(values.ticks);
const repeat = Number(values.repeat);

async function runOnce(
  out: string,
  flags: readonly string[],
): Promise<{ ms: number; sha: string }> {
  const start = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-worker-options",
      "--preload",
      join(ROOT, "scripts/_worker_options.ts"),
      join(ROOT, "scripts/ers.ts"),
      "run",
      "--out",
      out,
      "--run",
      "BENCH",
      "--ticks",
      String(ticks),
      "--json",
      ...flags,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - start;
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  return { ms, sha: JSON.parse(new TextDecoder().decode(output.stdout)).manifest_sha256 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const times = new Map<string, number[]>(Object.keys(MODES).map((m) => [m, []]));
const shas = new Set<string>();
const scratch = await Deno.makeTempDir({ prefix: "ers-durability-", dir: ROOT });
try {
  for (let round = 0; round < repeat; round++) {
    for (const [mode, flags] of Object.entries(MODES)) {
      const out = join(scratch, `${round}-${mode.replaceAll(/[^a-z0-9]/g, "")}`);
      const { ms, sha } = await runOnce(out, flags);
      times.get(mode)?.push(ms);
      shas.add(sha);
      await Deno.remove(out, { recursive: true });
      console.error(`round ${round + 1}/${repeat} ${mode}: ${(ms / 1000).toFixed(2)} s`);
    }
  }
} finally {
  await Deno.remove(scratch, { recursive: true });
}
if (shas.size !== 1) throw new Error(`modes wrote different manifests: ${[...shas].join(", ")}`);
const base = median(times.get("default") as number[]);
console.log(
  `${ticks} demo ticks, ${repeat} rounds interleaved; one manifest sha256 ${[...shas][0]}`,
);
console.log("| mode | median | per tick | samples | vs default |");
console.log("| ---- | -----: | -------: | ------- | ---------: |");
for (const [mode, xs] of times) {
  const m = median(xs);
  console.log(
    `| ${mode} | ${(m / 1000).toFixed(2)} s | ${(m / ticks).toFixed(2)} ms | ${
      xs.map((x) => (x / 1000).toFixed(1)).join(", ")
    } s | ${(m / base).toFixed(2)}x |`,
  );
}
