// The lists ERS builds next to task code (trace, outcomes, runs) are filled
// by index into an array with no prototype: an index setter a task plants on
// `Array.prototype` or `Object.prototype` and leaves in place for the rest of
// the tick never runs on them, and never sees a trace event or a result.

import assert from "node:assert/strict";
import { bindCallable, DeterministicScheduler } from "../mod.ts";
import { append, listDone, newList } from "../ers/_intrinsics.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const INDICES = 16;

// Setters on `holder` for "0".."15" that record what they are handed and then
// store the value as an own property (so that ordinary code keeps working).
function plantIndexSetters(holder: object, seen: Set<unknown>): () => void {
  for (let i = 0; i < INDICES; i++) {
    Object.defineProperty(holder, String(i), {
      configurable: true,
      set(this: unknown, value: unknown) {
        seen.add(this);
        seen.add(value);
        Object.defineProperty(this, i, {
          value,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      },
    });
  }
  return () => {
    for (let i = 0; i < INDICES; i++) delete (holder as Any)[String(i)];
  };
}

Deno.test("append on a newList runs no index setter on Array.prototype or Object.prototype", () => {
  const seen = new Set<unknown>();
  const undoArray = plantIndexSetters(Array.prototype, seen);
  const undoObject = plantIndexSetters(Object.prototype, seen);
  let list;
  try {
    const building = newList<{ n: number }>();
    for (let n = 0; n < INDICES + 2; n++) append(building, { n });
    list = listDone(building);
  } finally {
    undoObject();
    undoArray();
  }
  assert.equal(seen.size, 0, "a planted setter ran");
  assert.equal(Object.getPrototypeOf(list), Array.prototype);
  assert.ok(Array.isArray(list));
  assert.deepEqual(list.map((item) => item.n), Array.from({ length: INDICES + 2 }, (_, n) => n));
});

Deno.test("a task's index setters on Array.prototype, left in place for the tick, never see the trace or a result", async () => {
  for (const holder of [Array.prototype, Object.prototype]) {
    const seen = new Set<unknown>();
    let undo: (() => void) | undefined;
    const s = new DeterministicScheduler();
    s.add(bindCallable({
      name: "a:plant",
      lane: "forecast",
      priority: 0,
      costOps: 1,
      fn: () => {
        undo = plantIndexSetters(holder, seen);
        return "planted";
      },
    }));
    for (let i = 0; i < 5; i++) {
      s.add(bindCallable({
        name: `f${i}`,
        lane: "forecast",
        priority: 1,
        costOps: 1,
        fn: () => i,
      }));
      s.add(bindCallable({
        name: `s${i}`,
        lane: "shadow",
        priority: 1,
        costOps: 1,
        fn: () => -i,
      }));
    }
    let out;
    try {
      out = await s.runTick({
        tick: 1,
        budgetForecast: { ops: 100 },
        budgetShadow: { ops: 100 },
        context: {},
      });
    } finally {
      undo?.();
    }
    assert.ok(undo !== undefined, "the planting task ran");
    assert.ok(!seen.has(out.trace), "a setter ran on the trace");
    for (const event of out.trace) {
      assert.ok(!seen.has(event), `a setter saw ${event.task}'s event`);
    }
    for (const result of Object.values(out.results)) {
      assert.ok(!seen.has(result), `a setter saw ${result.name}'s result`);
    }
    assert.equal(Object.getPrototypeOf(out.trace), Array.prototype);
    assert.deepEqual(
      out.trace.map((e) => [e.task, e.status]),
      [
        ["a:plant", "ok"],
        ...[0, 1, 2, 3, 4].map((i) => [`f${i}`, "ok"]),
        ...[0, 1, 2, 3, 4].map((i) => [`s${i}`, "ok"]),
      ],
    );
    assert.equal(out.results.f3?.value, 3);
    assert.equal(out.results.s3?.value, -3);
  }
});
