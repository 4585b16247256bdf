// The writer's cost per recorded artifact against an older checkout of ERS,
// in one process, rounds interleaved (old, new, old, new, ...) so that the
// machine's load hits both alike: N writeJson calls into a fresh directory,
// each appending one record to the run's manifest. Prints the medians and
// their ratio.
//
//   git archive <commit> | tar -x -C /tmp/ers-old
//   deno run -A bench/manifest_commit_compare.ts /tmp/ers-old [N] [--durable]

const [oldRoot, count, mode] = Deno.args;
if (oldRoot === undefined) {
  throw new Error("usage: manifest_commit_compare.ts OLD_CHECKOUT [N] [--durable]");
}
const N = Number(count ?? 600);
const durable = mode === "--durable";
type Mod = typeof import("../mod.ts");
const OLD: Mod = await import(`${new URL(`file://${oldRoot}/`).href}mod.ts`);
const NEW: Mod = await import("../mod.ts");

async function once(mod: Mod): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "ers-commit-bench-" });
  try {
    const writer = new mod.ArtifactWriter(dir, { durable });
    const start = performance.now();
    for (let tick = 0; tick < N; tick++) {
      await writer.writeJson({
        runId: "R",
        tick,
        kind: "note",
        schema: "Note.v0",
        obj: { tick, pad: "x".repeat(200) },
        relPath: `notes/R/${tick}.json`,
        extra: { mode: "demo" },
      });
    }
    return performance.now() - start;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const old: number[] = [];
const now: number[] = [];
await once(OLD);
await once(NEW);
for (let round = 0; round < 11; round++) {
  old.push(await once(OLD));
  now.push(await once(NEW));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
console.log(
  `${durable ? "durable" : "no fsync"}, ${N} artifacts: old ${median(old).toFixed(0)} ms, new ${
    median(now).toFixed(0)
  } ms, ratio ${(median(now) / median(old)).toFixed(3)}`,
);
