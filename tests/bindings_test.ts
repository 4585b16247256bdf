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

Deno.test("bindRuneInvoke() treats a context[inputKey] that is not a mapping as the reference does", async () => {
  const s = new DeterministicScheduler();
  s.add(bindRuneInvoke({
    runeName: "length",
    lane: "forecast",
    priority: 0,
    costOps: 1,
    invoker: (_name, inputs) => ({ got: inputs }),
  }));
  const run = async (value: unknown) =>
    (await s.runTick({
      tick: 0,
      budgetForecast: { ops: 1 },
      budgetShadow: { ops: 0 },
      context: { rune_inputs: value },
    })).results["rune:length"]!;
  // Python: `inputs = ctx.get(key, {}) or {}`, then `inputs.get(rune)`: a
  // falsy value is an empty mapping; any other non-mapping has no `.get`.
  for (const value of [[1, 2], ["a"], "abc", 7, -1.5, NaN, true, () => 0]) {
    const result = await run(value);
    assert.equal(result.status, "error", String(value));
    assert.match(
      result.error ?? "",
      /^TypeError: Cannot invoke rune length as 'rune_inputs' must be a mapping/,
    );
  }
  for (const value of [[], "", 0, -0, false, null, undefined, {}]) {
    assert.deepEqual((await run(value)).value, { status: "not_computable", missing: "length" });
  }
  assert.deepEqual((await run({ length: [3] })).value, { got: [3] });
});
