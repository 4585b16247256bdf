import assert from "node:assert/strict";
import {
  advancePromotions,
  bindCallable,
  type Lane,
  nextPromotionState,
  preparePipeline,
  type PromoteSettings,
  type PromotionDecision,
  promotionDefinitionDigest,
  promotionLanes,
  type PromotionState,
  type Status,
  type TraceEvent,
} from "../mod.ts";

const settings = (window: number, maxErrors = 0, maxSkips = 0): PromoteSettings => ({
  window,
  maxErrors,
  maxSkips,
});

interface Fold {
  state: PromotionState | undefined;
  decisions: { tick: number; decision: PromotionDecision }[];
  lanes: Lane[];
}

// Runs statuses through the rule, one tick each from tick 0, in the lane the
// state gives; `definitions[i]` (default "d") is the definition at tick i.
function fold(
  statuses: readonly Status[],
  promote: PromoteSettings,
  definitions: readonly string[] = [],
): Fold {
  const out: Fold = { state: undefined, decisions: [], lanes: [] };
  statuses.forEach((status, tick) => {
    const lane = out.state?.lane ?? "shadow";
    out.lanes.push(lane);
    const step = nextPromotionState(out.state, {
      task: "m",
      settings: promote,
      definition: definitions[tick] ?? "d",
      tick,
      lane,
      status,
    });
    for (const decision of [step.reset, step.decision]) {
      if (decision?.decision === "enrolled") assert.equal(tick, 0);
      else if (decision !== null) out.decisions.push({ tick, decision });
    }
    out.state = step.state;
  });
  return out;
}

const ok = (n: number): Status[] => Array(n).fill("ok");

Deno.test("nextPromotionState() promotes a steady metric after exactly W ticks", () => {
  for (const window of [1, 2, 6]) {
    const before = fold(ok(window - 1), settings(window));
    assert.equal(before.decisions.length, 0);
    assert.equal(before.state?.lane ?? "shadow", "shadow");
    const after = fold(ok(window + 2), settings(window));
    assert.deepEqual(after.decisions.map((d) => [d.tick, d.decision.decision]), [
      [window - 1, "promoted"],
    ]);
    assert.deepEqual(after.lanes, [...Array(window).fill("shadow"), "forecast", "forecast"]);
    assert.equal(after.state?.status, "promoted");
  }
  const { decisions } = fold(ok(6), settings(6));
  assert.deepEqual(decisions[0]?.decision, {
    task: "m",
    decision: "promoted",
    from: "shadow",
    to: "forecast",
    rule: "clean_shadow_window",
    window: { lane: "shadow", ticks: [0, 1, 2, 3, 4, 5], ok: 6, errors: 0, skips: 0 },
    settings: { window: 6, max_errors: 0, max_skips: 0 },
    definition_sha256: "d",
  });
});

Deno.test("nextPromotionState() never promotes a flaky metric", () => {
  const flaky: Status[] = Array.from({ length: 60 }, (_, i) => i % 5 === 4 ? "error" : "ok");
  const out = fold(flaky, settings(5));
  assert.deepEqual(out.decisions, []);
  assert.equal(out.state?.status, "candidate");
  const skipping: Status[] = flaky.map((s) => s === "error" ? "skipped_budget" : s);
  assert.deepEqual(fold(skipping, settings(5)).decisions, []);
  // Tolerated up to maxErrors / maxSkips per window.
  assert.equal(fold(flaky, settings(5, 1)).decisions[0]?.tick, 4);
  assert.equal(fold(skipping, settings(5, 0, 1)).decisions[0]?.tick, 4);
});

Deno.test("nextPromotionState() demotes a promoted metric at the end of the tick it fails in", () => {
  const statuses: Status[] = [...ok(3), "ok", "error", "ok"];
  const out = fold(statuses, settings(3));
  assert.deepEqual(out.decisions.map((d) => [d.tick, d.decision.decision]), [
    [2, "promoted"],
    [4, "demoted"],
  ]);
  assert.deepEqual(out.lanes, ["shadow", "shadow", "shadow", "forecast", "forecast", "shadow"]);
  assert.deepEqual(out.decisions[1]?.decision, {
    task: "m",
    decision: "demoted",
    from: "forecast",
    to: "shadow",
    rule: "forecast_errors_over_max",
    window: { lane: "forecast", ticks: [3, 4], ok: 1, errors: 1, skips: 0 },
    settings: { window: 3, max_errors: 0, max_skips: 0 },
    definition_sha256: "d",
  });
  assert.equal(out.state?.status, "demoted");
  assert.deepEqual(out.state?.window, [{ tick: 5, status: "ok" }]);
});

Deno.test("nextPromotionState() demotes only past maxErrors among the forecast ticks of the last W", () => {
  // Promoted at tick 1; errors at ticks 2 and 5 are never two within 3 ticks.
  const spaced: Status[] = ["ok", "ok", "error", "ok", "ok", "error", "ok"];
  assert.deepEqual(fold(spaced, settings(2, 1)).decisions.map((d) => d.decision.decision), [
    "promoted",
  ]);
  const close: Status[] = ["ok", "ok", "error", "ok", "error"];
  const out = fold(close, settings(3, 1));
  assert.deepEqual(out.decisions.map((d) => [d.tick, d.decision.decision]), [
    [2, "promoted"],
  ]);
  const closer = fold(["ok", "ok", "ok", "error", "error"], settings(3, 1));
  assert.deepEqual(closer.decisions.map((d) => [d.tick, d.decision.decision]), [
    [2, "promoted"],
    [4, "demoted"],
  ]);
  // Skips in the forecast lane never demote.
  const skipped = fold([...ok(2), ...Array(5).fill("skipped_budget")], settings(2));
  assert.equal(skipped.state?.status, "promoted");
});

Deno.test("nextPromotionState() reads 'demoted' until promoted again, with a fresh window", () => {
  const out = fold([...ok(2), "error", ...ok(2), "ok"], settings(2));
  assert.deepEqual(out.decisions.map((d) => [d.tick, d.decision.decision]), [
    [1, "promoted"],
    [2, "demoted"],
    [4, "promoted"],
  ]);
  const midway = fold([...ok(2), "error", "ok"], settings(2));
  assert.equal(midway.state?.status, "demoted");
  assert.equal(midway.state?.lastDecisionTick, 2);
});

Deno.test("nextPromotionState() restarts the window when the definition changes", () => {
  const definitions = ["a", "a", "a", "b", "b", "b", "b", "b"];
  const out = fold(ok(8), settings(4), definitions);
  assert.deepEqual(out.decisions.map((d) => [d.tick, d.decision.decision]), [
    [3, "reset"],
    [6, "promoted"],
  ]);
  const reset = out.decisions[0]?.decision;
  assert.equal(reset?.rule, "definition_changed");
  assert.equal(reset?.previous_definition_sha256, "a");
  assert.equal(reset?.definition_sha256, "b");
  assert.deepEqual(reset?.window.ticks, [0, 1, 2]);
  assert.equal(out.decisions[1]?.decision.definition_sha256, "b");
  // A change of settings restarts it under the new window.
  let state: PromotionState | undefined;
  for (let tick = 0; tick < 3; tick++) {
    state = nextPromotionState(state, {
      task: "m",
      settings: settings(4),
      definition: "a",
      tick,
      lane: "shadow",
      status: "ok",
    }).state;
  }
  const changed = nextPromotionState(state, {
    task: "m",
    settings: settings(2),
    definition: "a2",
    tick: 3,
    lane: "shadow",
    status: "ok",
  });
  assert.equal(changed.decision, null);
  assert.deepEqual(changed.state.settings, settings(2));
  assert.deepEqual(changed.state.window, [{ tick: 3, status: "ok" }]);
});

Deno.test("nextPromotionState() keeps a promoted task's lane across a reset but drops its errors", () => {
  const definitions = ["a", "a", "a", "b", "b"];
  const out = fold(["ok", "ok", "error", "error", "ok"], settings(2, 1), definitions);
  assert.deepEqual(out.decisions.map((d) => [d.tick, d.decision.decision]), [
    [1, "promoted"],
    [3, "reset"],
  ]);
  assert.equal(out.state?.lane, "forecast");
});

Deno.test("nextPromotionState() refuses a step that does not follow the state", () => {
  const first = nextPromotionState(undefined, {
    task: "m",
    settings: settings(3),
    definition: "d",
    tick: 5,
    lane: "shadow",
    status: "ok",
  }).state;
  const step = {
    task: "m",
    settings: settings(3),
    definition: "d",
    tick: 6,
    lane: "shadow" as Lane,
    status: "ok" as Status,
  };
  assert.throws(() => nextPromotionState(first, { ...step, tick: 5 }), {
    name: "RangeError",
    message:
      "Cannot advance promotion state as 'step.tick' must be after tick 5: current value is 5",
  });
  assert.throws(() => nextPromotionState(first, { ...step, lane: "forecast" }), RangeError);
  assert.throws(() => nextPromotionState(first, { ...step, task: "other" }), RangeError);
  assert.throws(
    () => nextPromotionState(undefined, { ...step, lane: "forecast" }),
    /'step\.lane' must be "shadow"/,
  );
  assert.ok(Object.isFrozen(first));
});

// A direct restatement of the rule over the whole history, to check
// the incremental rule against on every short history.
function reference(statuses: readonly Status[], s: PromoteSettings): [number, string][] {
  const decisions: [number, string][] = [];
  let promoted = false;
  let since = 0; // first tick of the current window
  statuses.forEach((_, tick) => {
    const last = statuses.slice(Math.max(since, tick - s.window + 1), tick + 1);
    const errors = last.filter((x) => x === "error").length;
    const skips = last.filter((x) => x === "skipped_budget").length;
    if (!promoted && tick - since + 1 >= s.window && errors <= s.maxErrors && skips <= s.maxSkips) {
      decisions.push([tick, "promoted"]);
      promoted = true;
      since = tick + 1;
    } else if (promoted && errors > s.maxErrors) {
      decisions.push([tick, "demoted"]);
      promoted = false;
      since = tick + 1;
    }
  });
  return decisions;
}

Deno.test("nextPromotionState() agrees with the rule restated on every history of up to 7 ticks", () => {
  const all: Status[] = ["ok", "error", "skipped_budget"];
  let histories: Status[][] = [[]];
  let checked = 0;
  for (let length = 1; length <= 7; length++) {
    histories = histories.flatMap((h) => all.map((s) => [...h, s]));
    for (const history of histories) {
      for (const window of [1, 2, 3]) {
        for (const maxErrors of [0, 1]) {
          for (const maxSkips of [0, 1]) {
            if (maxErrors > window || maxSkips > window) continue;
            const s = settings(window, maxErrors, maxSkips);
            const got = fold(history, s).decisions.map((
              d,
            ) => [d.tick, d.decision.decision] as [number, string]);
            assert.deepEqual(got, reference(history, s), JSON.stringify({ history, s }));
            checked++;
          }
        }
      }
    }
  }
  assert.ok(checked > 30_000);
});

Deno.test("bindCallable() checks promote and keeps it on the spec", () => {
  const base = { name: "m", lane: "shadow", priority: 0, costOps: 1, fn: () => 0 } as const;
  assert.equal(bindCallable(base).promote, undefined);
  assert.ok(!("promote" in bindCallable(base)));
  assert.deepEqual(bindCallable({ ...base, promote: { window: 4, maxErrors: 1 } }).promote, {
    window: 4,
    maxErrors: 1,
    maxSkips: 0,
  });
  const bad = (promote: unknown, lane: Lane = "shadow") => () =>
    bindCallable({ ...base, lane, promote: promote as { window: number } });
  assert.throws(bad({ window: 0 }), {
    name: "RangeError",
    message:
      "Cannot bind task as 'promote.window' must be an integer from 1 to 1024: current value is 0",
  });
  assert.throws(bad({ window: "6" }), {
    name: "TypeError",
    message:
      `Cannot bind task as 'promote.window' must be a non-negative integer: current value is "6"`,
  });
  assert.throws(bad({ window: 2.5 }), RangeError);
  assert.throws(bad({}), /'promote\.window'/);
  assert.throws(bad({ window: 3, maxErrors: -1 }), /'promote\.maxErrors'/);
  assert.throws(bad({ window: 3, maxSkips: 4 }), {
    name: "RangeError",
    message:
      "Cannot bind task as 'promote.maxSkips' must be at most window (3): current value is 4",
  });
  assert.throws(bad({ window: 3, maxError: 1 }), {
    name: "RangeError",
    message:
      `Cannot bind task as 'promote' must hold only window, maxErrors and maxSkips: current value has "maxError"`,
  });
  assert.throws(bad(6), {
    name: "TypeError",
    message:
      "Cannot bind task as 'promote' must be an object { window, maxErrors?, maxSkips? }: current value is 6",
  });
  assert.throws(bad(null), TypeError);
  assert.throws(bad({ window: 3 }, "forecast"), {
    name: "RangeError",
    message:
      `Cannot bind task as 'promote' is only allowed on a shadow task: the task's lane is "forecast"`,
  });
});

Deno.test("preparePipeline() names the task of a bad promote value", () => {
  const task = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    lane: "shadow" as const,
    priority: 0,
    costOps: 1,
    fn: () => 0,
    ...extra,
  });
  const tasks = [task("a"), task("b"), task("c")];
  assert.throws(
    () => preparePipeline({ tasks: [...tasks, task("d", { promote: { window: -1 } })] }),
    {
      name: "RangeError",
      message:
        "Cannot prepare pipeline as 'tasks[3].promote.window' must be a non-negative integer: current value is -1",
    },
  );
  assert.throws(
    () =>
      preparePipeline({
        tasks: [...tasks, task("d", { lane: "forecast", promote: { window: 2 } })],
      }),
    /'tasks\[3\]\.promote' is only allowed on a shadow task/,
  );
  const ready = preparePipeline({ tasks: [...tasks, task("d", { promote: { window: 2 } })] });
  assert.deepEqual(ready.tasks[3]?.promote, { window: 2, maxErrors: 0, maxSkips: 0 });
});

Deno.test("promotionDefinitionDigest() changes with costs, priority, tags, settings and pipeline digest only", async () => {
  const base = {
    name: "m",
    lane: "shadow",
    priority: 0,
    costOps: 1,
    fn: () => 0,
    promote: { window: 3 },
  } as const;
  const digest = (extra: Record<string, unknown> = {}, pipeline?: string) =>
    promotionDefinitionDigest(bindCallable({ ...base, ...extra }), pipeline);
  const same = await digest();
  assert.match(same, /^[0-9a-f]{64}$/);
  assert.equal(await digest({ fn: () => 1 }), same);
  const changes = [
    await digest({ costOps: 2 }),
    await digest({ costEntropy: 1 }),
    await digest({ priority: 1 }),
    await digest({ tags: ["x"] }),
    await digest({ promote: { window: 4 } }),
    await digest({ promote: { window: 3, maxErrors: 1 } }),
    await digest({ promote: { window: 3, maxSkips: 1 } }),
    await digest({}, "0".repeat(64)),
  ];
  assert.equal(new Set([same, ...changes]).size, changes.length + 1);
  await assert.rejects(
    async () => await promotionDefinitionDigest(bindCallable({ ...base, promote: undefined })),
    TypeError,
  );
});

function event(task: string, lane: Lane, status: Status, tick = 0): TraceEvent {
  return { tick, task, lane, status, cost_ops: 1, cost_entropy: 0, meta: { tags: [] } };
}

Deno.test("advancePromotions() orders decisions by task and withdraws a task that drops promote", () => {
  const c = (window: number) => ({ settings: settings(window), definition: `w${window}` });
  const candidates = new Map([["b", c(1)], ["a", c(1)], ["\u{10000}", c(2)], ["\uffff", c(1)]]);
  const trace = [...candidates.keys()].map((name) => event(name, "shadow", "ok"));
  const first = advancePromotions(new Map(), 0, candidates, trace);
  assert.deepEqual(first.decisions.map((d) => `${d.task} ${d.decision}`), [
    "a enrolled",
    "a promoted",
    "b enrolled",
    "b promoted",
    "\uffff enrolled",
    "\uffff promoted",
    "\u{10000} enrolled",
  ]);
  assert.deepEqual(promotionLanes(first.states, candidates), {
    a: "forecast",
    b: "forecast",
    "\uffff": "forecast",
  });
  // b drops promote and runs in its own lane; a is absent and keeps its state.
  const without = new Map(candidates);
  without.delete("b");
  const second = advancePromotions(first.states, 1, without, [
    event("b", "shadow", "ok", 1),
    event("\uffff", "forecast", "ok", 1),
  ]);
  assert.deepEqual(second.decisions.map((d) => [d.task, d.decision, d.from, d.to, d.rule]), [
    ["b", "withdrawn", "forecast", "shadow", "promote_removed"],
  ]);
  assert.equal(second.states.has("b"), false);
  assert.equal(second.states.get("a"), first.states.get("a"));
  assert.equal(first.states.has("b"), true, "the states given are not changed");
  // Back as a candidate, b is enrolled afresh.
  const third = advancePromotions(second.states, 2, candidates, [event("b", "shadow", "ok", 2)]);
  assert.deepEqual(third.decisions.map((d) => d.decision), ["enrolled", "promoted"]);
});

Deno.test("advancePromotions() refuses a trace that does not follow the states", () => {
  const candidates = new Map([["m", { settings: settings(1), definition: "d" }]]);
  const { states } = advancePromotions(new Map(), 0, candidates, [event("m", "shadow", "ok")]);
  assert.throws(
    () => advancePromotions(states, 1, candidates, [event("m", "shadow", "ok", 1)]),
    /'step\.lane' must be "forecast"/,
  );
  assert.throws(
    () => advancePromotions(states, 0, candidates, [event("m", "forecast", "ok")]),
    /'step\.tick' must be after tick 0/,
  );
});

Deno.test("nextPromotionState() refuses a step with a bad tick, settings, lane, status or task, naming the field", () => {
  const step = {
    task: "m",
    settings: settings(2),
    definition: "d",
    tick: 0,
    lane: "shadow" as Lane,
    status: "ok" as Status,
  };
  const bad = (change: Record<string, unknown>, message: RegExp, name = "RangeError") =>
    assert.throws(
      () => nextPromotionState(undefined, { ...step, ...change } as typeof step),
      { name, message },
    );
  bad(
    { tick: NaN },
    /^Cannot advance promotion state as 'step\.tick' must be a non-negative integer: current value is NaN$/,
  );
  bad({ tick: -1 }, /'step\.tick' must be a non-negative integer: current value is -1/);
  bad({ tick: 1.5 }, /'step\.tick' must be a non-negative integer: current value is 1\.5/);
  bad({ settings: undefined }, /'step\.settings' must be an object/, "TypeError");
  bad(
    { settings: settings(0) },
    /'step\.settings\.window' must be an integer from 1 to 1024: current value is 0/,
  );
  bad({ settings: settings(Infinity) }, /'step\.settings\.window' must be a non-negative integer/);
  bad(
    { settings: settings(2, NaN) },
    /'step\.settings\.maxErrors' must be a non-negative integer: current value is NaN/,
  );
  bad(
    { settings: settings(2, 0, 3) },
    /'step\.settings\.maxSkips' must be at most window \(2\): current value is 3/,
  );
  bad(
    { status: "exploded" },
    /'step\.status' must be "ok", "error" or "skipped_budget": current value is "exploded"/,
  );
  bad({ lane: "middle" }, /'step\.lane' must be "forecast" or "shadow": current value is "middle"/);
  bad({ task: 5 }, /'step\.task' must be a string: current value is 5/, "TypeError");
  bad(
    { definition: null },
    /'step\.definition' must be a string: current value is null/,
    "TypeError",
  );
  // The same definition with other settings is not the state's definition.
  const { state } = nextPromotionState(undefined, step);
  assert.throws(
    () => nextPromotionState(state, { ...step, tick: 1, settings: settings(3) }),
    /'step\.settings' must be the settings of definition "d" \(window 2, maxErrors 0, maxSkips 0\): current value is window 3, maxErrors 0, maxSkips 0/,
  );
});

Deno.test("advancePromotions() refuses a bad tick, a bad candidate and a task twice in one trace", () => {
  const candidates = new Map([["m", { settings: settings(2), definition: "d" }]]);
  const once = [event("m", "shadow", "ok")];
  assert.throws(() => advancePromotions(new Map(), NaN, candidates, once), {
    name: "RangeError",
    message: /'tick' must be a non-negative integer: current value is NaN/,
  });
  assert.throws(
    () => advancePromotions(new Map(), 0, candidates, [...once, event("m", "shadow", "ok")]),
    /^RangeError: Cannot advance promotions as 'trace\[1\]\.task' must be a task not already in the trace: current value is "m"$/,
  );
  const window0 = new Map([["m", { settings: settings(0), definition: "d" }]]);
  assert.throws(
    () => advancePromotions(new Map(), 0, window0, once),
    /^RangeError: Cannot advance promotions as 'candidates\.get\("m"\)\.settings\.window' must be an integer from 1 to 1024: current value is 0$/,
  );
  assert.throws(
    () =>
      advancePromotions(new Map(), 0, candidates, [{
        task: "m",
        lane: "shadow",
        status: "late" as Status,
      }]),
    /'trace\[0\]\.status' must be "ok", "error" or "skipped_budget": current value is "late"/,
  );
});
