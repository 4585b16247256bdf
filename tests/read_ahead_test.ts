import assert from "node:assert/strict";
import { join } from "node:path";
import { pipelineTick, preparePipeline, readRunManifest, replayRun } from "../mod.ts";
import { readRecordedFile } from "../runtime/_read.ts";
import { checkedFile, FilesAhead, WORKER_MIN_FILES } from "../runtime/_read_ahead.ts";
import type { ManifestRecord } from "../runtime/_manifest.ts";
import steady from "./fixtures/steady_pipeline.ts";
import { deno } from "./_tree.ts";

const pipeline = preparePipeline(steady as Parameters<typeof preparePipeline>[0]);
// Enough ticks for a replay (a TrendPack and a ResultsPack a tick) to read on a worker.
const TICKS = WORKER_MIN_FILES / 2 + 40;

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ers_read_ahead_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function record(dir: string, ticks: number): Promise<void> {
  for (let tick = 0; tick < ticks; tick++) {
    await pipelineTick({
      pipeline,
      tick,
      runId: "R",
      mode: "test",
      artifactsDir: dir,
      durable: false,
      provenance: "extended",
    });
  }
}

async function replayedFiles(dir: string): Promise<ManifestRecord[]> {
  const { records } = await readRunManifest(dir, "R");
  return records.filter((r) => r.kind === "trendpack" || r.kind === "resultspack");
}

// Every file of a pass, as FilesAhead gives it, and how many chunks the worker read.
async function readAll(dir: string, records: readonly ManifestRecord[], claimHere = true) {
  await using files = new FilesAhead(dir, records, new Map(), { claimHere });
  const read = [];
  for (const _ of records) read.push(await files.next());
  await assert.rejects(() => files.next(), RangeError);
  return { read, onWorker: files.chunksReadOnWorker };
}

Deno.test("FilesAhead reads a long pass on a worker and this thread, with the same checks and results as one read at a time", async () => {
  await withTempDir(async (dir) => {
    await record(dir, TICKS);
    const records = await replayedFiles(dir);
    assert.ok(records.length >= WORKER_MIN_FILES);
    const path = (tick: number, kind: "viz" | "results") =>
      join(
        dir,
        kind,
        "R",
        `${String(tick).padStart(6, "0")}.${kind === "viz" ? "trendpack" : "resultspack"}.json`,
      );
    // A problem of each kind, spread over several chunks.
    const edited = await Deno.readTextFile(path(3, "results"));
    await Deno.writeTextFile(path(3, "results"), edited.replace('"count"', '"COUNT"'));
    await Deno.remove(path(70, "viz"));
    await new Deno.Command("mkfifo", { args: [path(70, "viz")] }).output();
    await Deno.remove(path(100, "results"));
    await Deno.writeTextFile(join(dir, "copy.json"), "{}");
    await Deno.remove(path(TICKS - 1, "viz"));
    await Deno.symlink(join(dir, "copy.json"), path(TICKS - 1, "viz"));
    await Deno.writeTextFile(path(TICKS - 2, "viz"), "{}\n");

    const expected = [];
    for (const r of records) expected.push(checkedFile(await readRecordedFile(dir, r)));
    const problems = expected.flatMap((file, i) => file.problem === undefined ? [] : [i]);
    assert.equal(problems.length, 5);

    // Every chunk read by the worker.
    const threaded = await readAll(dir, records, false);
    assert.deepEqual(threaded.read, expected);
    assert.equal(threaded.onWorker, Math.ceil(records.length / 64));
    // Chunks claimed by whichever thread gets there first (this one reads
    // the first ones while the worker starts).
    const shared = await readAll(dir, records);
    assert.deepEqual(shared.read, expected);
    const here = await readAll(dir, records.slice(0, WORKER_MIN_FILES - 1));
    assert.deepEqual(here.read, expected.slice(0, WORKER_MIN_FILES - 1));
    assert.equal(here.onWorker, 0);
  });
});

Deno.test("replayRun() on a worker catches a file edited late in the run, and stops early without reading it", async () => {
  await withTempDir(async (dir) => {
    await record(dir, TICKS);
    assert.equal((await replayRun(dir, "R", { pipeline })).ok, true);
    const late = join(dir, "results/R/000150.resultspack.json");
    const text = await Deno.readTextFile(late);
    await Deno.writeTextFile(late, text.replace('"even"', '"EVEN"'));
    await assert.rejects(
      () => replayRun(dir, "R", { pipeline }),
      /results\/R\/000150\.resultspack\.json: sha256 is [0-9a-f]{64}, the manifest records/,
    );
    // A divergence before it ends the pass (and the worker) first.
    const early = { ...steady, context: (tick: number) => ({ n: tick === 9 ? -1 : tick }) };
    const report = await replayRun(dir, "R", {
      pipeline: early as Parameters<typeof preparePipeline>[0],
    });
    assert.equal(report.divergence?.tick, 9);
  });
});

// A replay in a process of its own, with only the read access `allowRead` gives.
async function replayIn(dir: string, allowRead: string[], denyRead: string[] = []) {
  const script = new URL("./fixtures/replay_steady.ts", import.meta.url).pathname;
  const deny = denyRead.length === 0 ? [] : [`--deny-read=${denyRead.join(",")}`];
  return await deno([
    "run",
    "--quiet",
    `--allow-read=${allowRead.join(",")}`,
    ...deny,
    script,
    dir,
  ]);
}

Deno.test("a replay that may not load the worker's module reads on its own thread, silently; a read the worker could not make fails as on one thread", async () => {
  await withTempDir(async (dir) => {
    await record(dir, TICKS);
    const root = new URL("..", import.meta.url).pathname;
    // Only the artifacts: the worker's module may not be loaded.
    const alone = await replayIn(dir, [dir]);
    assert.equal(alone.stderr, "");
    assert.deepEqual(JSON.parse(alone.stdout), { ok: true, ticks: TICKS, onWorker: false });
    // With ERS's modules readable, the worker reads.
    const threaded = await replayIn(dir, [dir, join(root, "ers"), join(root, "runtime")]);
    assert.equal(threaded.stderr, "");
    assert.deepEqual(JSON.parse(threaded.stdout), { ok: true, ticks: TICKS, onWorker: true });
    // No access to the ResultsPacks: the worker's read throws, and the main
    // thread's read of the same chunk throws it again, as a pass without a
    // worker does.
    const modules = [join(root, "ers"), join(root, "runtime")];
    const results = [join(dir, "results")];
    const denied = await replayIn(dir, [dir, ...modules], results);
    const inline = await replayIn(dir, [dir], results);
    assert.equal(denied.stderr, "");
    const error = JSON.parse(denied.stdout);
    assert.equal(error.name, "NotCapable");
    assert.match(error.message, /Requires read access to ".*\/results"/);
    assert.deepEqual(error, JSON.parse(inline.stdout));
  });
});
