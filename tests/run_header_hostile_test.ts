// A RunHeader place that holds no file ERS made (a FIFO, a directory, a
// symbolic link, a hard link) is refused clearly when a run resumes: never
// blocking on a FIFO, never a raw operating-system error, never read through
// a link to a file outside the artifacts directory.
import assert from "node:assert/strict";
import { join } from "node:path";
import { pipelineTick, type PipelineTickOptions, RunReadError, type TaskFn } from "../mod.ts";
import { tempDirs } from "./_tree.ts";

const ok: TaskFn = () => ({ ok: true });

function options(dir: string, tick: number): PipelineTickOptions {
  return {
    pipeline: { tasks: [{ name: "f:val", lane: "forecast", priority: 0, costOps: 1, fn: ok }] },
    tick,
    runId: "X",
    mode: "test",
    artifactsDir: dir,
    provenance: "extended",
    durable: false,
  };
}

const withTempDir = tempDirs("ers_header_");

const HEADER = "runs/X.runheader.json";

async function rejectsNaming(dir: string, problem: RegExp): Promise<void> {
  await assert.rejects(pipelineTick(options(dir, 0)), (error: Error) => {
    assert.ok(error instanceof RunReadError, `${error.name}: ${error.message}`);
    assert.ok(error.message.includes(HEADER), error.message);
    assert.match(error.message, problem);
    return true;
  });
}

Deno.test("pipelineTick() extended refuses a FIFO in place of the RunHeader without blocking", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "runs"));
    const fifo = join(dir, HEADER);
    await new Deno.Command("mkfifo", { args: [fifo] }).output();
    const tick = rejectsNaming(dir, /not a regular file/);
    // Were the tick blocked reading the FIFO, the race would end on the
    // timer; opening the write end then releases the reader.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      tick.then(() => "settled", (error) => error),
      new Promise((done) => timer = setTimeout(() => done("blocked"), 10_000)),
    ]);
    clearTimeout(timer);
    if (outcome === "blocked") {
      const writer = await Deno.open(fifo, { write: true });
      writer.close();
      await tick.catch(() => {});
    }
    if (outcome instanceof Error) throw outcome;
    assert.equal(outcome, "settled");
  });
});

Deno.test("pipelineTick() extended refuses a directory in place of the RunHeader, naming it", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, HEADER), { recursive: true });
    await rejectsNaming(dir, /not a regular file/);
  });
});

Deno.test("pipelineTick() extended never reads a RunHeader through a link", async () => {
  await withTempDir(async (dir) => {
    await pipelineTick(options(join(dir, "a"), 0));
    const outside = join(dir, "outside.json");
    await Deno.copyFile(join(dir, "a", HEADER), outside);
    // A symbolic link to a valid header outside the artifacts directory.
    await Deno.mkdir(join(dir, "b", "runs"), { recursive: true });
    await Deno.symlink(outside, join(dir, "b", HEADER));
    await assert.rejects(pipelineTick(options(join(dir, "b"), 0)), (error: Error) => {
      assert.ok(error instanceof RunReadError, `${error.name}: ${error.message}`);
      assert.match(error.message, /symbolic link/);
      return true;
    });
    // A hard link to it.
    await Deno.mkdir(join(dir, "c", "runs"), { recursive: true });
    await Deno.link(outside, join(dir, "c", HEADER));
    await assert.rejects(pipelineTick(options(join(dir, "c"), 0)), (error: Error) => {
      assert.ok(error instanceof RunReadError, `${error.name}: ${error.message}`);
      assert.match(error.message, /hard links/);
      return true;
    });
  });
});
