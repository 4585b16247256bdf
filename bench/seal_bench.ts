// Sealing and verifying a 10,000-tick run (20,000 artifacts and the
// manifest), against the least work any check of it must do: reading and
// hashing every recorded file. The cases run in interleaved rounds (the order
// alternates each round); medians, and ratios as the median of per-round
// ratios.
//
//   deno run -A bench/seal_bench.ts [--quick]
//
// The run is built first with `syncData` stood in for a no-op (the build is
// not what is measured); sealing is then measured durable, as `ers seal` does.

import { join } from "node:path";
import {
  abraxasTick,
  generateSealKey,
  readRunManifest,
  readSealKey,
  readSealPublicKey,
  sealRun,
  verifyArtifacts,
  verifySeal,
} from "../mod.ts";
import { median } from "./_fixtures.ts";

const quick = Deno.args.includes("--quick");
const TICKS = quick ? 1_000 : 10_000;
const ROUNDS = quick ? 3 : 7;
const RUN = "BENCH-SEAL";

const base = await Deno.makeTempDir({ prefix: "ers_bench_seal_" });
const dir = join(base, "out");
const sealPath = join(dir, "manifests", `${RUN}.seal.json`);
const stash = join(base, "stash.seal.json");

async function buildRun(): Promise<number> {
  const syncData = Deno.FsFile.prototype.syncData;
  Deno.FsFile.prototype.syncData = () => Promise.resolve();
  const started = performance.now();
  try {
    const step = () => ({ ok: true });
    for (let tick = 0; tick < TICKS; tick++) {
      await abraxasTick({
        tick,
        runId: RUN,
        mode: "bench",
        artifactsDir: dir,
        runSignal: step,
        runCompress: step,
        runOverlay: step,
      });
    }
  } finally {
    Deno.FsFile.prototype.syncData = syncData;
  }
  return (performance.now() - started) / 1000;
}

// The floor: read and SHA-256 every recorded file, nothing else.
async function bareRehash(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    await crypto.subtle.digest("SHA-256", await Deno.readFile(join(dir, path)));
  }
}

try {
  const buildS = await buildRun();
  const { records } = await readRunManifest(dir, RUN);
  const paths = records.map((record) => record.path);
  const files = await generateSealKey(join(base, "ci"));
  const key = await readSealKey(files.keyPath);
  const pub = await readSealPublicKey(files.pubPath);
  await sealRun(dir, RUN, key);
  const sealBytes = (await Deno.stat(sealPath)).size;

  const cases: { name: string; run: () => Promise<unknown> }[] = [
    { name: "bare re-hash of every recorded file (baseline)", run: () => bareRehash(paths) },
    {
      name: "`verifyArtifacts`, run not sealed (today's verify)",
      run: async () => {
        await Deno.rename(sealPath, stash);
        try {
          const report = await verifyArtifacts(dir);
          if (!report.ok || report.seals !== 0) throw new Error("unexpected report");
        } finally {
          await Deno.rename(stash, sealPath);
        }
      },
    },
    {
      name: "`sealRun` (first seal, durable)",
      run: async () => {
        await Deno.remove(sealPath);
        const seal = await sealRun(dir, RUN, key);
        if (!seal.appended || seal.records !== paths.length) throw new Error("unexpected seal");
      },
    },
    {
      name: "`verifyArtifacts` with `publicKey` (`ers verify --pub`)",
      run: async () => {
        const report = await verifyArtifacts(dir, { publicKey: pub });
        if (!report.ok || report.seals !== 1) throw new Error("unexpected report");
      },
    },
    {
      name: "`verifySeal` alone, with `publicKey`",
      run: async () => {
        const report = await verifySeal(dir, RUN, { publicKey: pub });
        if (!report.ok) throw new Error("unexpected report");
      },
    },
  ];
  const samples = cases.map(() => [] as number[]);
  for (let round = -1; round < ROUNDS; round++) {
    const order = cases.map((_, i) => i);
    if (round % 2 !== 0) order.reverse();
    for (const i of order) {
      const start = performance.now();
      await cases[i]!.run();
      if (round >= 0) samples[i]!.push(performance.now() - start);
    }
  }
  console.log(
    `${TICKS} ticks, ${paths.length} artifacts (built in ${buildS.toFixed(1)} s); ` +
      `seal file ${(sealBytes / 1e6).toFixed(2)} MB; ${ROUNDS} rounds\n`,
  );
  console.log("| case | median | ratio to the bare re-hash |");
  console.log("| ---- | -----: | ------------------------: |");
  const baseline = samples[0]!;
  for (const [i, { name }] of cases.entries()) {
    const ratios = samples[i]!.map((ms, round) => ms / baseline[round]!);
    console.log(
      `| ${name} | ${(median(samples[i]!) / 1000).toFixed(2)} s | ${median(ratios).toFixed(2)}x |`,
    );
  }
} finally {
  await Deno.remove(base, { recursive: true });
}
