// Property tests: order is a function of the task set; budgets add up; one
// event per task.
import assert from "node:assert/strict";
import {
  bindCallable,
  DeterministicScheduler,
  type Lane,
  type TaskSpec,
  traceHashSha256,
} from "../mod.ts";
import { fc } from "./_deps.ts";

interface TaskShape {
  name: string;
  lane: Lane;
  priority: number;
  costOps: number;
  costEntropy: number;
  fails: boolean;
}

const taskShape = fc.record({
  name: fc.string({
    minLength: 1,
    maxLength: 6,
    unit: fc.constantFrom("a", "b", "Z", "é", "\uffff", "😀", ":"),
  }),
  lane: fc.constantFrom<Lane>("forecast", "shadow"),
  priority: fc.integer({ min: -3, max: 3 }),
  costOps: fc.integer({ min: 0, max: 8 }),
  costEntropy: fc.integer({ min: 0, max: 2 }),
  fails: fc.boolean(),
});
const taskSet = fc.uniqueArray(taskShape, { selector: (t) => t.name, maxLength: 25 });
const budget = fc.record({
  ops: fc.integer({ min: 0, max: 60 }),
  entropy: fc.integer({ min: 0, max: 4 }),
});

function toSpec(shape: TaskShape): TaskSpec {
  return bindCallable({
    ...shape,
    fn: () => {
      if (shape.fails) throw new Error(shape.name);
      return shape.name;
    },
  });
}

Deno.test("property: the trace is a function of the task set, not its insertion order", async () => {
  await fc.assert(
    fc.asyncProperty(
      taskSet.chain((set) =>
        fc.tuple(fc.constant(set), fc.shuffledSubarray(set, { minLength: set.length }))
      ),
      budget,
      budget,
      async ([set, shuffled], bf, bs) => {
        const hashes = [];
        for (const order of [set, shuffled]) {
          const s = new DeterministicScheduler();
          for (const shape of order) s.add(toSpec(shape));
          const out = await s.runTick({ tick: 1, budgetForecast: bf, budgetShadow: bs });
          hashes.push(await traceHashSha256(out.trace));
        }
        assert.equal(hashes[0], hashes[1]);
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("property: remaining = budget - charged costs, never negative; one event per task", async () => {
  await fc.assert(
    fc.asyncProperty(taskSet, budget, budget, async (set, bf, bs) => {
      const s = new DeterministicScheduler();
      for (const shape of set) s.add(toSpec(shape));
      const out = await s.runTick({ tick: 0, budgetForecast: bf, budgetShadow: bs });
      assert.equal(out.trace.length, set.length);
      assert.deepEqual(new Set(out.trace.map((e) => e.task)), new Set(set.map((t) => t.name)));
      for (const [lane, initial] of [["forecast", bf], ["shadow", bs]] as const) {
        const charged = Object.values(out.results).filter((r) => r.lane === lane);
        const ops = charged.reduce((sum, r) => sum + r.cost_ops, 0);
        const entropy = charged.reduce((sum, r) => sum + r.cost_entropy, 0);
        assert.equal(out.remaining[lane].ops, initial.ops - ops);
        assert.equal(out.remaining[lane].entropy, initial.entropy - entropy);
        assert.ok(out.remaining[lane].ops >= 0 && out.remaining[lane].entropy >= 0);
      }
      const lanes = out.trace.map((e) => e.lane);
      assert.deepEqual(lanes, [...lanes].sort(), "forecast events all come before shadow events");
    }),
    { numRuns: 200 },
  );
});
