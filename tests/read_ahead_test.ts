import assert from "node:assert/strict";
import { join } from "node:path";
import { pipelineTick, preparePipeline, readRunManifest, replayRun } from "../mod.ts";
import { readRecordedFile } from "../runtime/_read.ts";
import {
  checkedFile,
  FilesAhead,
  readWorkerOptions,
  WORKER_MIN_FILES,
  WORKER_MODULE_DIRS,
} from "../runtime/_read_ahead.ts";
import type { ManifestRecord } from "../runtime/_manifest.ts";
import steady from "./fixtures/steady_pipeline.ts";
import { deno, tempDirs } from "./_tree.ts";

const pipeline = preparePipeline(steady as Parameters<typeof preparePipeline>[0]);
// Enough ticks for a replay (a TrendPack and a ResultsPack a tick) to start a worker.
const LONG = WORKER_MIN_FILES / 2 + 40;
// A few chunks' worth.
const SHORT = 200;

const withTempDir = tempDirs("ers_read_ahead_");

async function record(dir: string, ticks: number, runId = "R"): Promise<void> {
  for (let tick = 0; tick < ticks; tick++) {
    await pipelineTick({
      pipeline,
      tick,
      runId,
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
async function readAll(
  dir: string,
  records: readonly ManifestRecord[],
  threads?: "auto" | "worker" | "here",
) {
  await using files = new FilesAhead(dir, records, new Map(), { threads });
  const read = [];
  for (const _ of records) read.push(await files.next());
  await assert.rejects(() => files.next(), RangeError);
  return { read, onWorker: files.chunksReadOnWorker };
}

// A problem of each kind, spread over several chunks of a run of `ticks`
// ticks; the problems' indexes among the replayed files.
async function spoil(dir: string, ticks: number): Promise<void> {
  const path = (tick: number, kind: "viz" | "results") =>
    join(
      dir,
      kind,
      "R",
      `${String(tick).padStart(6, "0")}.${kind === "viz" ? "trendpack" : "resultspack"}.json`,
    );
  const edited = await Deno.readTextFile(path(3, "results"));
  await Deno.writeTextFile(path(3, "results"), edited.replace('"count"', '"COUNT"'));
  await Deno.remove(path(70, "viz"));
  await new Deno.Command("mkfifo", { args: [path(70, "viz")] }).output();
  await Deno.remove(path(100, "results"));
  await Deno.writeTextFile(join(dir, "copy.json"), "{}");
  await Deno.remove(path(ticks - 1, "viz"));
  await Deno.symlink(join(dir, "copy.json"), path(ticks - 1, "viz"));
  await Deno.writeTextFile(path(ticks - 2, "viz"), "{}\n");
}

// What readRecordedFile() gives for each record, one at a time, with `problems` problems.
async function oneByOne(dir: string, records: readonly ManifestRecord[], problems: number) {
  const files = [];
  for (const r of records) files.push(checkedFile(await readRecordedFile(dir, r)));
  assert.equal(files.filter((file) => file.problem !== undefined).length, problems);
  return files;
}

Deno.test("FilesAhead on a worker or on this thread gives what reading one file at a time gives", async () => {
  await withTempDir(async (dir) => {
    await record(dir, SHORT);
    await spoil(dir, SHORT);
    const records = await replayedFiles(dir);
    const expected = await oneByOne(dir, records, 5);
    const threaded = await readAll(dir, records, "worker");
    assert.deepEqual(threaded.read, expected);
    assert.equal(threaded.onWorker, Math.ceil(records.length / 64));
    const here = await readAll(dir, records, "here");
    assert.deepEqual(here.read, expected);
    assert.equal(here.onWorker, 0);
    // A short pass does not start a worker.
    assert.equal((await readAll(dir, records)).onWorker, 0);
  });
});

Deno.test("FilesAhead shares a long pass between a worker and this thread, and replayRun() uses it", async () => {
  await withTempDir(async (dir) => {
    await record(dir, LONG);
    assert.equal((await replayRun(dir, "R", { pipeline })).ok, true);
    // A file edited late in the run (an even tick's, whose value is "even").
    const late = `results/R/${String(LONG - 6).padStart(6, "0")}.resultspack.json`;
    const text = await Deno.readTextFile(join(dir, late));
    assert.ok(text.includes('"even"'));
    await Deno.writeTextFile(join(dir, late), text.replace('"even"', '"EVEN"'));
    await assert.rejects(
      () => replayRun(dir, "R", { pipeline }),
      new RegExp(`${late.replaceAll(".", "\\.")}: sha256 is [0-9a-f]{64}, the manifest records`),
    );
    // A divergence before it ends the pass (and the worker) first.
    const early = { ...steady, context: (tick: number) => ({ n: tick === 9 ? -1 : tick }) };
    const report = await replayRun(dir, "R", {
      pipeline: early as Parameters<typeof preparePipeline>[0],
    });
    assert.equal(report.divergence?.tick, 9);
    // Whichever thread claims a chunk first reads it: the same files.
    await spoil(dir, LONG);
    const records = await replayedFiles(dir);
    assert.ok(records.length >= WORKER_MIN_FILES);
    // (The five spoiled, and the file edited above.)
    assert.deepEqual((await readAll(dir, records)).read, await oneByOne(dir, records, 6));
  });
});

// A replay in a process of its own, with only the read access `allowRead` gives.
// With `workerOptions`, Deno accepts per-worker permissions (and ERS knows it).
async function replayIn(
  dir: string,
  allowRead: string[],
  denyRead: string[] = [],
  workerOptions = false,
) {
  const script = new URL("./fixtures/replay_steady.ts", import.meta.url).pathname;
  const deny = denyRead.length === 0 ? [] : [`--deny-read=${denyRead.join(",")}`];
  const preload = new URL("../scripts/_worker_options.ts", import.meta.url).pathname;
  return await deno([
    "run",
    "--quiet",
    ...(workerOptions ? ["--unstable-worker-options", "--preload", preload] : []),
    `--allow-read=${allowRead.join(",")}`,
    ...deny,
    script,
    dir,
  ]);
}

Deno.test("a pass that may not load the worker's module reads on its own thread, silently; a read the worker could not make fails as on one thread", async () => {
  await withTempDir(async (dir) => {
    await record(dir, SHORT);
    const root = new URL("..", import.meta.url).pathname;
    const modules = [join(root, "ers"), join(root, "runtime")];
    // Only the artifacts: the worker's module may not be loaded.
    const alone = await replayIn(dir, [dir]);
    assert.equal(alone.stderr, "");
    assert.deepEqual(JSON.parse(alone.stdout), { onWorker: false, ok: true, ticks: SHORT });
    // With ERS's modules readable, the worker reads.
    // Only the worker's own folder: it may be loaded, but not what it imports.
    const part = await replayIn(dir, [dir, join(root, "runtime")]);
    assert.equal(part.stderr, "");
    assert.deepEqual(JSON.parse(part.stdout), { onWorker: false, ok: true, ticks: SHORT });
    const threaded = await replayIn(dir, [dir, ...modules]);
    assert.equal(threaded.stderr, "");
    assert.deepEqual(JSON.parse(threaded.stdout), { onWorker: true, ok: true, ticks: SHORT });
    // Given only read access of its own, it reads all the same.
    const readOnly = await replayIn(dir, [dir, ...modules], [], true);
    assert.equal(readOnly.stderr, "");
    assert.deepEqual(JSON.parse(readOnly.stdout), { onWorker: true, ok: true, ticks: SHORT });
    // No access to the ResultsPacks: the worker's read throws, and this
    // thread's read of the same chunk throws it again, as a pass without a
    // worker does.
    const results = [join(dir, "results")];
    const denied = await replayIn(dir, [dir, ...modules], results);
    const inline = await replayIn(dir, [dir], results);
    assert.equal(denied.stderr, "");
    const error = JSON.parse(denied.stdout);
    assert.equal(error.name, "NotCapable");
    assert.match(error.message, /Requires read access to ".*\/results"/);
    assert.deepEqual(error, JSON.parse(inline.stdout));
    // The same with the worker's own permissions (its read access is the caller's).
    const deniedReadOnly = await replayIn(dir, [dir, ...modules], results, true);
    assert.equal(deniedReadOnly.stderr, "");
    assert.deepEqual(JSON.parse(deniedReadOnly.stdout), error);
  });
});

Deno.test("the read-ahead worker gets the caller's read access and nothing else, where Deno allows per-worker permissions", () => {
  assert.deepEqual(readWorkerOptions(false), { type: "module" });
  assert.deepEqual(readWorkerOptions(true), {
    type: "module",
    deno: {
      permissions: {
        read: "inherit",
        import: "inherit",
        env: false,
        ffi: false,
        net: false,
        run: false,
        sys: false,
        write: false,
      },
    },
  });
});

Deno.test("diffRuns() reports A's problem before what B's read throws", async () => {
  await withTempDir(async (dir) => {
    const [a, b] = [join(dir, "a"), join(dir, "b")];
    await record(a, 6);
    await record(b, 6, "S");
    const edited = join(a, "results/R/000003.resultspack.json");
    const text = await Deno.readTextFile(edited);
    await Deno.writeTextFile(edited, text.replace('"count"', '"COUNT"'));
    const script = new URL("./fixtures/diff_steady.ts", import.meta.url).pathname;
    const { stdout, stderr } = await deno([
      "run",
      "--quiet",
      `--allow-read=${dir}`,
      `--deny-read=${join(b, "results/S/000003.resultspack.json")}`,
      script,
      ...[a, "R", b, "S"],
    ]);
    assert.equal(stderr, "");
    const error = JSON.parse(stdout);
    assert.equal(error.name, "RunReadError");
    assert.match(error.message, /results\/R\/000003\.resultspack\.json: sha256 is/);
  });
});

Deno.test("every local module the read-ahead worker loads lies in a folder FilesAhead checks first", async () => {
  const worker = new URL("../runtime/_read_ahead_worker.ts", import.meta.url).pathname;
  const info = await deno(["info", "--json", worker]);
  assert.equal(info.code, 0, info.stderr);
  const local = (JSON.parse(info.stdout).modules as { specifier: string }[])
    .map((module) => module.specifier)
    .filter((specifier) => specifier.startsWith("file:"));
  assert.ok(local.length > 1);
  for (const specifier of local) {
    assert.ok(
      WORKER_MODULE_DIRS.some((dir) => specifier.startsWith(dir.href)),
      `${specifier} is in no folder of WORKER_MODULE_DIRS`,
    );
  }
});
