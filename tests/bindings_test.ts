import assert from "node:assert/strict";
import { bindCallable, bindRuneInvoke, DeterministicScheduler } from "../mod.ts";

Deno.test("bindCallable() returns a frozen spec with defaults", () => {
  const spec = bindCallable({ name: "a", lane: "shadow", priority: 2, costOps: 3, fn: () => 0 });
  assert.ok(Object.isFrozen(spec) && Object.isFrozen(spec.tags));
  assert.deepEqual({ ...spec, fn: undefined }, {
    name: "a",
    lane: "shadow",
    priority: 2,
    costOps: 3,
    costEntropy: 0,
    fn: undefined,
    tags: [],
  });
});

Deno.test("bindCallable() copies tags so later changes to the caller's array do not leak", () => {
  const tags = ["metric"];
  const spec = bindCallable({
    name: "a",
    lane: "shadow",
    priority: 0,
    costOps: 1,
    fn: () => 0,
    tags,
  });
  tags.push("later");
  assert.deepEqual(spec.tags, ["metric"]);
});

Deno.test("bindRuneInvoke() names the task rune:<name>, tags it rune and feeds it its inputs", async () => {
  const calls: unknown[] = [];
  const spec = bindRuneInvoke({
    runeName: "sigil",
    lane: "forecast",
    priority: 0,
    costOps: 2,
    invoker: (rune, inputs) => {
      calls.push([rune, inputs]);
      return { fired: rune };
    },
  });
  assert.equal(spec.name, "rune:sigil");
  assert.deepEqual(spec.tags, ["rune"]);
  const s = new DeterministicScheduler();
  s.add(spec);
  const out = await s.runTick({
    tick: 0,
    budgetForecast: { ops: 2 },
    budgetShadow: { ops: 0 },
    context: { rune_inputs: { sigil: { x: 1 } } },
  });
  assert.deepEqual(out.results["rune:sigil"]?.value, { fired: "sigil" });
  assert.deepEqual(calls, [["sigil", { x: 1 }]]);
  assert.deepEqual(out.trace[0]?.meta, { tags: ["rune"] });
});

Deno.test("bindRuneInvoke() returns not_computable without inputs, and reads only own keys", () => {
  const spec = bindRuneInvoke({
    runeName: "constructor",
    lane: "shadow",
    priority: 0,
    costOps: 1,
    inputKey: "runes",
    invoker: () => "called",
  });
  const missing = { status: "not_computable", missing: "constructor" };
  assert.deepEqual(spec.fn({}), missing);
  assert.deepEqual(spec.fn({ runes: null }), missing);
  assert.deepEqual(spec.fn({ runes: {} }), missing);
  assert.deepEqual(spec.fn({ runes: { constructor: null } }), missing);
  assert.equal(spec.fn({ runes: { constructor: 0 } }), "called");
});
