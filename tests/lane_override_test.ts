import assert from "node:assert/strict";
import {
  Budget,
  DeterministicScheduler,
  preparePipeline,
  type TaskContext,
  type TaskSpec,
} from "../mod.ts";
import { task } from "./_helpers.ts";

function schedulerOf(tasks: TaskSpec[]): DeterministicScheduler {
  const s = new DeterministicScheduler();
  for (const t of tasks) s.add(t);
  return s;
}

const budgets = {
  budgetForecast: new Budget({ ops: 100 }),
  budgetShadow: new Budget({ ops: 100 }),
};

Deno.test("DeterministicScheduler.runTick() orders a task moved to the forecast lane by the stable order", async () => {
  const s = schedulerOf([
    task("a", { priority: 0 }),
    task("c", { priority: 1 }),
    task("b", { lane: "shadow", priority: 1 }),
    task("d", { lane: "shadow", priority: 2 }),
    task("s", { lane: "shadow", priority: 0 }),
  ]);
  const out = await s.runTick({ tick: 0, ...budgets, lanes: { b: "forecast", d: "forecast" } });
  assert.deepEqual(out.trace.map((e) => `${e.lane}:${e.task}`), [
    "forecast:a",
    "forecast:b",
    "forecast:c",
    "forecast:d",
    "shadow:s",
  ]);
  assert.equal(out.results.b?.lane, "forecast");
  // The override holds for one tick only.
  const next = await s.runTick({ tick: 1, ...budgets });
  assert.deepEqual(next.trace.map((e) => `${e.lane}:${e.task}`), [
    "forecast:a",
    "forecast:c",
    "shadow:s",
    "shadow:b",
    "shadow:d",
  ]);
});

Deno.test("DeterministicScheduler.runTick() charges a moved task to its new lane and skips it there when unaffordable", async () => {
  const s = schedulerOf([
    task("f", { costOps: 6 }),
    task("m", { lane: "shadow", costOps: 5, priority: 1 }),
  ]);
  const lanes = { m: "forecast" } as const;
  const tight = await s.runTick({
    tick: 0,
    budgetForecast: { ops: 10 },
    budgetShadow: { ops: 50 },
    lanes,
  });
  assert.deepEqual(tight.trace.map((e) => [e.task, e.lane, e.status]), [
    ["f", "forecast", "ok"],
    ["m", "forecast", "skipped_budget"],
  ]);
  assert.equal(tight.remaining.shadow.ops, 50);
  const roomy = await s.runTick({
    tick: 1,
    budgetForecast: { ops: 11 },
    budgetShadow: { ops: 0 },
    lanes,
  });
  assert.deepEqual(roomy.trace.map((e) => e.status), ["ok", "ok"]);
  assert.equal(roomy.remaining.forecast.ops, 0);
});

Deno.test("DeterministicScheduler.runTick() gives a moved task its new lane's context", async () => {
  const write = (ctx: TaskContext) => {
    ctx.seen = true;
    return "wrote";
  };
  const s = schedulerOf([task("w", { lane: "shadow", fn: write })]);
  const context: TaskContext = {};
  const promoted = await s.runTick({ tick: 0, ...budgets, context, lanes: { w: "forecast" } });
  assert.equal(promoted.results.w?.status, "ok");
  assert.equal(context.seen, true);
  const demoted = schedulerOf([task("w", { fn: write })]);
  const frozen: TaskContext = {};
  const out = await demoted.runTick({
    tick: 0,
    ...budgets,
    context: frozen,
    lanes: { w: "shadow" },
  });
  assert.equal(out.results.w?.status, "error");
  assert.equal(out.results.w?.lane, "shadow");
  assert.deepEqual(frozen, {});
});

Deno.test("DeterministicScheduler.runTick() treats an override to a task's own lane as no override", async () => {
  const s = schedulerOf([task("a"), task("b", { lane: "shadow" })]);
  const plain = await s.runTick({ tick: 0, ...budgets });
  const same = await s.runTick({ tick: 0, ...budgets, lanes: { a: "forecast", b: "shadow" } });
  assert.deepEqual(same.trace, plain.trace);
});

Deno.test("DeterministicScheduler.runTick() refuses a bad lane override before running anything", async () => {
  let ran = 0;
  const s = schedulerOf([task("a", { fn: () => ran++ })]);
  const run = (lanes: unknown) =>
    s.runTick({ tick: 0, ...budgets, lanes: lanes as Record<string, "forecast"> });
  await assert.rejects(run([]), {
    name: "TypeError",
    message:
      "Cannot run tick as 'lanes' must be an object of task names to lanes: current value is an array of length 0",
  });
  await assert.rejects(run({ nope: "forecast" }), {
    name: "RangeError",
    message:
      `Cannot run tick as 'lanes["nope"]' must be the name of a task of the scheduler: current value is "nope"`,
  });
  await assert.rejects(run({ a: "sideways" }), {
    name: "RangeError",
    message:
      `Cannot run tick as 'lanes["a"]' must be "forecast" or "shadow": current value is "sideways"`,
  });
  await assert.rejects(run({ a: 1 }), TypeError);
  await assert.rejects(run({ __proto__: null, constructor: "forecast" }), RangeError);
  assert.equal(ran, 0);
});

Deno.test("PreparedPipeline.runTick() passes lane overrides to its scheduler", async () => {
  const pipeline = preparePipeline({
    tasks: [{ name: "m", lane: "shadow", priority: 0, costOps: 1, fn: () => 1 }],
  });
  const moved = await pipeline.runTick(0, undefined, { lanes: { m: "forecast" } });
  assert.equal(moved.results.m?.lane, "forecast");
  assert.equal(moved.remaining.forecast.ops, 49);
  assert.equal((await pipeline.runTick(1)).results.m?.lane, "shadow");
});
