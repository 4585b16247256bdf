// Placements that hand the context from the forecast lane to the shadow lane
// between themselves (`contextHandoff`), as worker lanes do: the supervisor
// hands over both batches before it relays a message, and still relays every
// message in the stable order.

import assert from "node:assert/strict";
import {
  Budget,
  DeterministicScheduler,
  HANDED_OFF_CONTEXT,
  inProcessPlacement,
  type LaneBatch,
  type LaneBatchResult,
  type LanePlacement,
  type TaskContext,
} from "../mod.ts";
import { task } from "./_helpers.ts";

/**
 * Two in-process placements that hand the context over through a shared
 * promise, logging what they are handed and when; the forecast lane's batch
 * runs once `release` is called.
 */
function handingOff(log: string[]) {
  const handoff = {};
  let handOver: (context: TaskContext) => void = () => {};
  let handed = new Promise<TaskContext>((resolve) => handOver = resolve);
  let release: () => void = () => {};
  let released = new Promise<void>((resolve) => release = resolve);
  const forecast: LanePlacement = {
    contextHandoff: handoff,
    async run(batch: LaneBatch): Promise<LaneBatchResult> {
      log.push(`forecast batch ${batch.runs.map((m) => m.task.name).join(",")}`);
      await released;
      const ran = await inProcessPlacement.run(batch);
      handOver(batch.context);
      return { outcomes: ran.outcomes, context: HANDED_OFF_CONTEXT };
    },
  };
  const shadow: LanePlacement = {
    contextHandoff: handoff,
    async run(batch: LaneBatch): Promise<LaneBatchResult> {
      log.push(`shadow batch ${batch.runs.map((m) => m.task.name).join(",")}`);
      assert.equal(batch.context, HANDED_OFF_CONTEXT);
      const context = await handed;
      handed = new Promise<TaskContext>((resolve) => handOver = resolve);
      released = new Promise<void>((resolve) => release = resolve);
      return await inProcessPlacement.run({ ...batch, context });
    },
  };
  return { forecast, shadow, release: () => release() };
}

Deno.test("DeterministicScheduler.runTick() hands both batches to placements sharing a contextHandoff before relaying, then relays every message in order", async () => {
  const log: string[] = [];
  const lanes = handingOff(log);
  const s = new DeterministicScheduler({
    placement: { forecast: lanes.forecast, shadow: lanes.shadow },
    onRelay: (lane, message) => {
      log.push(
        message.type === "lane.begin"
          ? `relay ${lane} begin ${message.context === HANDED_OFF_CONTEXT ? "handed-off" : "given"}`
          : `relay ${lane} ${message.task.name}`,
      );
      if (log.length === 4) lanes.release();
    },
  });
  s.add(task("w", { fn: (ctx) => ctx.n = 2 }));
  s.add(task("big", { priority: 1, costOps: 50 }));
  s.add(task("r", { lane: "shadow", fn: (ctx) => ctx.n }));
  const out = await s.runTick({
    tick: 3,
    budgetForecast: new Budget({ ops: 10 }),
    budgetShadow: new Budget({ ops: 1 }),
    context: { n: 1 },
  });
  assert.deepEqual(log, [
    "shadow batch r",
    "forecast batch w",
    "relay forecast begin given",
    "relay forecast w",
    "relay forecast big",
    "relay shadow begin handed-off",
    "relay shadow r",
  ]);
  assert.deepEqual(out.trace.map((e) => `${e.lane} ${e.task} ${e.status}`), [
    "forecast w ok",
    "forecast big skipped_budget",
    "shadow r ok",
  ]);
  assert.equal(out.results.r?.value, 2);
  assert.deepEqual([out.remaining.forecast.ops, out.remaining.shadow.ops], [9, 0]);
});

Deno.test("DeterministicScheduler.runTick() with a contextHandoff rejects a relay hook's error only once both batches have settled", async () => {
  const log: string[] = [];
  const lanes = handingOff(log);
  const s = new DeterministicScheduler({
    placement: { forecast: lanes.forecast, shadow: lanes.shadow },
    onRelay: (lane, message) => {
      if (lane === "shadow" && message.type === "lane.begin") {
        lanes.release();
        throw new Error("hook failed");
      }
    },
  });
  s.add(task("w"));
  s.add(task("r", { lane: "shadow", fn: () => log.push("shadow task ran") }));
  await assert.rejects(
    s.runTick({ tick: 0, budgetForecast: { ops: 1 }, budgetShadow: { ops: 1 } }),
    /hook failed/,
  );
  assert.deepEqual(log, ["shadow batch r", "forecast batch w", "shadow task ran"]);
});

Deno.test("DeterministicScheduler.runTick() relays in sequence when placements do not share a contextHandoff", async () => {
  const seen: unknown[] = [];
  const forecast: LanePlacement = { contextHandoff: {}, run: inProcessPlacement.run };
  const shadow: LanePlacement = { contextHandoff: {}, run: inProcessPlacement.run };
  const s = new DeterministicScheduler({
    placement: { forecast, shadow },
    onRelay: (_lane, message) => {
      if (message.type === "lane.begin") seen.push(message.context);
    },
  });
  s.add(task("w", { fn: (ctx) => ctx.n = 5 }));
  s.add(task("r", { lane: "shadow", fn: (ctx) => ctx.n }));
  const context = { n: 1 };
  const out = await s.runTick({
    tick: 0,
    budgetForecast: { ops: 1 },
    budgetShadow: { ops: 1 },
    context,
  });
  assert.equal(out.results.r?.value, 5);
  assert.deepEqual(seen, [context, context]);
});

Deno.test("a contextHandoff that is not an object is refused, naming the placement's field", () => {
  for (const bad of [true, 1, "key", null]) {
    const placement = {
      contextHandoff: bad,
      run: inProcessPlacement.run,
    } as unknown as LanePlacement;
    assert.throws(
      () => new DeterministicScheduler({ placement: { forecast: placement, shadow: placement } }),
      (error: unknown) =>
        error instanceof TypeError && error.message.includes("placement.forecast.contextHandoff"),
    );
  }
});
