import assert from "node:assert/strict";
import { ersTraceToTrendpack, type TraceEvent } from "../mod.ts";

const event = (
  task: string,
  lane: "forecast" | "shadow",
  status: TraceEvent["status"],
  cost_ops: number,
  cost_entropy = 0,
): TraceEvent => ({
  tick: 1,
  task,
  lane,
  status,
  cost_ops,
  cost_entropy,
  meta: status === "skipped_budget" ? { reason: "budget" } : { tags: ["t"] },
});

Deno.test("ersTraceToTrendpack() builds the reference's TrendPack from a trace", () => {
  const trace = [
    event("a", "forecast", "ok", 3, 1),
    event("b", "forecast", "error", 2),
    event("c", "forecast", "skipped_budget", 9, 2),
    event("s", "shadow", "ok", 1),
  ];
  const pack = ersTraceToTrendpack({
    trace,
    runId: "R",
    tick: 1,
    provenance: { engine: "abraxas" },
  });
  assert.deepEqual(pack, {
    version: "0.1",
    run_id: "R",
    tick: 1,
    provenance: { engine: "abraxas" },
    timeline: trace.map(({ task, lane, status, cost_ops, cost_entropy, meta }) => ({
      task,
      lane,
      status,
      cost_ops,
      cost_entropy,
      meta,
    })),
    budget: {
      forecast: { spent_ops: 5, spent_entropy: 1 },
      shadow: { spent_ops: 1, spent_entropy: 0 },
    },
    errors: [{ task: "b", lane: "forecast", cost_ops: 2, meta: { tags: ["t"] } }],
    skipped: [{ task: "c", lane: "forecast", cost_ops: 9, cost_entropy: 2 }],
    stats: {
      total_events: 4,
      forecast_events: 3,
      shadow_events: 1,
      errors: 1,
      skipped: 1,
      ok_events: 2,
    },
  });
});

Deno.test("ersTraceToTrendpack() defaults provenance to {} and names bad arguments", () => {
  assert.deepEqual(ersTraceToTrendpack({ trace: [], runId: "R", tick: 0 }).provenance, {});
  assert.throws(
    () => ersTraceToTrendpack({ trace: {} as TraceEvent[], runId: "R", tick: 0 }),
    /'trace' must be an array/,
  );
  assert.throws(
    () => ersTraceToTrendpack({ trace: [], runId: 1 as unknown as string, tick: 0 }),
    /'runId' must be a string/,
  );
  assert.throws(
    () => ersTraceToTrendpack({ trace: [], runId: "R", tick: -2 }),
    /'tick' must be a non-negative integer/,
  );
  assert.throws(
    () => ersTraceToTrendpack({ trace: [], runId: "R", tick: 0, provenance: [] as never }),
    /'provenance' must be a plain object/,
  );
});

Deno.test("one limit governs TrendPacks: the writer refuses what readRunTicks() would refuse", async () => {
  const { ArtifactWriter, MAX_TIMELINE_EVENTS, MAX_TRENDPACK_BYTES, pipelineTick } = await import(
    "../runtime/mod.ts"
  );
  const dir = await Deno.makeTempDir({ prefix: "ers-limit-" });
  try {
    // 200,000 tasks make a TrendPack of about 20 MB, beyond the readers' cap.
    const tasks = Array.from({ length: 200_000 }, (_, i) => ({
      name: `task-${String(i).padStart(6, "0")}`,
      lane: "forecast" as const,
      priority: 0,
      costOps: 1,
      fn: () => 0,
    }));
    await assert.rejects(
      pipelineTick({
        tick: 0,
        runId: "BIG",
        mode: "test",
        artifactsDir: dir,
        pipeline: { tasks, budgets: { forecast: { ops: 200_000 } } },
      }),
      (error: unknown) => {
        assert.ok(error instanceof RangeError, String(error));
        assert.match(
          error.message,
          new RegExp(`TrendPack .* bytes, more than the ${MAX_TRENDPACK_BYTES} a reader accepts`),
        );
        return true;
      },
    );
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
    // The same bound on a TrendPack written by hand.
    const writer = new ArtifactWriter(dir);
    const big = ersTraceToTrendpack({
      trace: new Array(150_000).fill(event("x".repeat(100), "forecast", "ok", 1)),
      runId: "BIG",
      tick: 0,
    });
    await assert.rejects(
      writer.writeJson({
        runId: "BIG",
        tick: 0,
        kind: "trendpack",
        schema: "TrendPack.v0",
        obj: big,
        relPath: "viz/BIG/000000.trendpack.json",
      }),
      /more than the 16777216 a reader accepts/,
    );
    assert.throws(
      () =>
        ersTraceToTrendpack({
          trace: new Array(MAX_TIMELINE_EVENTS + 1).fill(event("a", "forecast", "ok", 1)),
          runId: "BIG",
          tick: 0,
        }),
      (error: unknown) =>
        error instanceof RangeError &&
        /'trace' must hold at most 1048576 events/.test(error.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
