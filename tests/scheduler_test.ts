import assert from "node:assert/strict";
import { Budget, DeterministicScheduler, type LaneMessage, type TaskSpec } from "../mod.ts";
import { task } from "./_helpers.ts";

const budgets = {
  budgetForecast: new Budget({ ops: 100 }),
  budgetShadow: new Budget({ ops: 100 }),
};

function schedulerOf(tasks: TaskSpec[]): DeterministicScheduler {
  const s = new DeterministicScheduler();
  for (const t of tasks) s.add(t);
  return s;
}

Deno.test("DeterministicScheduler.runTick() orders tasks the same whatever the insertion order", async () => {
  const tasks = [
    task("b", { priority: 1 }),
    task("a", { priority: 1 }),
    task("z", { priority: 0 }),
    task("s", { lane: "shadow", priority: -5 }),
  ];
  const forward = await schedulerOf(tasks).runTick({ tick: 0, ...budgets });
  const backward = await schedulerOf([...tasks].reverse()).runTick({ tick: 0, ...budgets });
  assert.deepEqual(forward.trace.map((e) => e.task), ["z", "a", "b", "s"]);
  assert.deepEqual(backward.trace, forward.trace);
});

Deno.test("DeterministicScheduler.runTick() runs the forecast lane before shadow whatever the priorities", async () => {
  const calls: string[] = [];
  const s = schedulerOf([
    task("shadow:first", { lane: "shadow", priority: -100, fn: () => calls.push("shadow") }),
    task("oracle:late", { priority: 100, fn: () => calls.push("forecast") }),
  ]);
  await s.runTick({ tick: 0, ...budgets });
  assert.deepEqual(calls, ["forecast", "shadow"]);
});

Deno.test("DeterministicScheduler.runTick() compares names by code point, not UTF-16 unit", async () => {
  const out = await schedulerOf([task("\u{10000}"), task("\uffff"), task("Z"), task("a")]).runTick({
    tick: 0,
    ...budgets,
  });
  assert.deepEqual(out.trace.map((e) => e.task), ["Z", "a", "\uffff", "\u{10000}"]);
});

Deno.test("DeterministicScheduler.runTick() skips a task its lane cannot afford and still runs a cheaper one", async () => {
  const s = schedulerOf([
    task("a", { costOps: 6, priority: 0 }),
    task("b", { costOps: 6, priority: 1 }),
    task("c", { costOps: 4, priority: 2 }),
    task("d", { costOps: 1, costEntropy: 2, priority: 3 }),
    task("s", { lane: "shadow", costOps: 3 }),
  ]);
  const out = await s.runTick({
    tick: 4,
    budgetForecast: new Budget({ ops: 10, entropy: 1 }),
    budgetShadow: new Budget({ ops: 3 }),
  });
  assert.deepEqual(out.trace.map((e) => [e.task, e.status]), [
    ["a", "ok"],
    ["b", "skipped_budget"],
    ["c", "ok"],
    ["d", "skipped_budget"],
    ["s", "ok"],
  ]);
  assert.deepEqual(out.trace[1], {
    tick: 4,
    task: "b",
    lane: "forecast",
    status: "skipped_budget",
    cost_ops: 6,
    cost_entropy: 0,
    meta: { reason: "budget" },
  });
  assert.deepEqual(out.results.b, {
    name: "b",
    lane: "forecast",
    status: "skipped_budget",
    value: null,
    error: null,
    cost_ops: 0,
    cost_entropy: 0,
  });
  assert.deepEqual({ ...out.remaining.forecast }, { ops: 0, entropy: 1 });
  assert.deepEqual({ ...out.remaining.shadow }, { ops: 0, entropy: 0 });
  assert.ok(out.remaining.forecast instanceof Budget);
});

Deno.test("DeterministicScheduler.runTick() never lets one lane spend the other's budget", async () => {
  const s = schedulerOf([task("f", { costOps: 5 }), task("s", { lane: "shadow", costOps: 5 })]);
  const out = await s.runTick({ tick: 0, budgetForecast: { ops: 4 }, budgetShadow: { ops: 9 } });
  assert.deepEqual(out.trace.map((e) => e.status), ["skipped_budget", "ok"]);
  assert.equal(out.remaining.forecast.ops, 4);
  assert.equal(out.remaining.shadow.ops, 4);
});

Deno.test("DeterministicScheduler.runTick() records and charges errors, keeping their text out of the trace", async () => {
  class CustomError extends Error {
    override name = "CustomError";
  }
  const s = schedulerOf([
    task("a", {
      costOps: 2,
      tags: ["x"],
      fn: () => {
        throw new CustomError("bad input");
      },
    }),
    task("b", {
      costOps: 2,
      priority: 1,
      fn: () => {
        throw "plain string";
      },
    }),
    task("c", { costOps: 2, priority: 2, fn: () => Promise.reject(new TypeError("async")) }),
    task("d", {
      costOps: 2,
      priority: 3,
      fn: () => {
        throw {
          toString() {
            throw new Error("x");
          },
        };
      },
    }),
  ]);
  const out = await s.runTick({ tick: 0, budgetForecast: { ops: 10 }, budgetShadow: { ops: 0 } });
  assert.equal(out.results.a?.error, "CustomError: bad input");
  assert.equal(out.results.b?.error, "plain string");
  assert.equal(out.results.c?.error, "TypeError: async");
  assert.equal(out.results.d?.error, "[object Object]");
  assert.equal(out.results.a?.value, null);
  assert.equal(out.results.a?.cost_ops, 2);
  assert.equal(out.remaining.forecast.ops, 2);
  assert.deepEqual(out.trace[0], {
    tick: 0,
    task: "a",
    lane: "forecast",
    status: "error",
    cost_ops: 2,
    cost_entropy: 0,
    meta: { tags: ["x"] },
  });
  assert.ok(!JSON.stringify(out.trace).includes("bad input"));
});

Deno.test("DeterministicScheduler.runTick() awaits async tasks one at a time, in order", async () => {
  const log: string[] = [];
  const slow = (name: string, ms: number) => async () => {
    log.push(`start ${name}`);
    await new Promise((resolve) => setTimeout(resolve, ms));
    log.push(`end ${name}`);
    return name.toUpperCase();
  };
  const s = schedulerOf([
    task("a", { fn: slow("a", 20) }),
    task("b", { priority: 1, fn: slow("b", 1) }),
  ]);
  const out = await s.runTick({ tick: 0, ...budgets });
  assert.deepEqual(log, ["start a", "end a", "start b", "end b"]);
  assert.equal(out.results.a?.value, "A");
});

Deno.test("DeterministicScheduler.runTick() gives forecast tasks the context itself", async () => {
  const context = { count: 0 };
  const s = schedulerOf([task("f", { fn: (ctx) => (ctx as typeof context).count++ })]);
  await s.runTick({ tick: 0, ...budgets, context });
  assert.equal(context.count, 1);
});

Deno.test("DeterministicScheduler.runTick() makes a shadow task's write an error and leaves the context untouched", async () => {
  const context = { nested: { list: [1, 2], map: new Map([["k", 1]]) }, n: 1 };
  const writes: ((ctx: typeof context) => unknown)[] = [
    (ctx) => ctx.n = 2,
    (ctx) => ctx.nested.list.push(3),
    (ctx) => ctx.nested.list[0] = 9,
    (ctx) => delete (ctx as Partial<typeof context>).n,
    (ctx) => ctx.nested.map.set("k", 2),
    (ctx) => Object.assign(ctx.nested, { extra: true }),
    // Sloppy-mode code: a failed assignment would be silent without the throwing trap.
    (ctx) => new Function("ctx", "ctx.nested.n = 1; return 'wrote';")(ctx),
  ];
  const s = new DeterministicScheduler();
  writes.forEach((write, i) =>
    s.add(task(`shadow:${i}`, { lane: "shadow", fn: (ctx) => write(ctx as typeof context) }))
  );
  s.add(task("shadow:reader", {
    lane: "shadow",
    priority: 1,
    fn: (ctx) => {
      const c = ctx as typeof context;
      return [
        c.n,
        c.nested.list.map((x) => x * 2),
        c.nested.map.get("k"),
        Array.isArray(c.nested.list),
      ];
    },
  }));
  const out = await s.runTick({ tick: 0, ...budgets, context });
  for (let i = 0; i < writes.length; i++) {
    const result = out.results[`shadow:${i}`];
    assert.equal(result?.status, "error", `write ${i}`);
    assert.match(result?.error ?? "", /^TypeError: Cannot modify the context from a shadow task/);
  }
  assert.deepEqual(out.results["shadow:reader"]?.value, [1, [2, 4], 1, true]);
  assert.deepEqual(context, { nested: { list: [1, 2], map: new Map([["k", 1]]) }, n: 1 });
});

Deno.test("DeterministicScheduler.runTick() relays one lane.begin then the tasks, forecast first", async () => {
  const relayed: string[] = [];
  const s = new DeterministicScheduler({
    onRelay: (lane: string, message: LaneMessage) => {
      relayed.push(
        `${lane}:${message.type}${message.type === "lane.run" ? `:${message.task.name}` : ""}`,
      );
    },
  });
  s.add(task("s1", { lane: "shadow" }));
  s.add(task("f2", { priority: 2 }));
  s.add(task("f1", { priority: 1 }));
  await s.runTick({ tick: 0, ...budgets });
  assert.deepEqual(relayed, [
    "forecast:lane.begin",
    "forecast:lane.run:f1",
    "forecast:lane.run:f2",
    "shadow:lane.begin",
    "shadow:lane.run:s1",
  ]);
});

Deno.test("DeterministicScheduler.runTick() makes a value whose `then` throws an error result and runs later tasks", async () => {
  const s = schedulerOf([
    task("a", {
      fn: () => ({
        get then() {
          throw new Error("then getter");
        },
      }),
    }),
    task("b", {
      priority: 1,
      fn: () =>
        new Proxy({}, {
          get: () => {
            throw new RangeError("trap");
          },
        }),
    }),
    task("c", { priority: 2 }),
    task("s", { lane: "shadow" }),
  ]);
  for (const tick of [0, 1]) {
    const out = await s.runTick({ tick, ...budgets });
    assert.deepEqual(out.trace.map((e) => [e.tick, e.task, e.status]), [
      [tick, "a", "error"],
      [tick, "b", "error"],
      [tick, "c", "ok"],
      [tick, "s", "ok"],
    ]);
    assert.equal(out.results.a?.error, "Error: then getter");
    assert.equal(out.results.b?.error, "RangeError: trap");
  }
});

Deno.test("DeterministicScheduler.runTick() starts clean after a tick aborted by a throwing onRelay", async () => {
  // Abort in the forecast lane with mail left in both lanes, then in the shadow lane.
  const abortPoints = [
    (lane: string, m: LaneMessage) =>
      lane === "forecast" && m.type === "lane.run" && m.task.name === "f2",
    (lane: string, m: LaneMessage) => lane === "shadow" && m.type === "lane.run",
  ];
  for (const abortAt of abortPoints) {
    let aborting = true;
    const calls: string[] = [];
    const s = new DeterministicScheduler({
      onRelay: (lane, message) => {
        if (aborting && abortAt(lane, message)) throw new Error("hook failed");
      },
    });
    for (
      const [name, lane, priority] of [["f1", "forecast", 1], ["f2", "forecast", 2], [
        "s1",
        "shadow",
        1,
      ], ["s2", "shadow", 2]] as const
    ) {
      s.add(task(name, { lane, priority, fn: () => calls.push(name) }));
    }
    await assert.rejects(s.runTick({ tick: 0, ...budgets }), /hook failed/);
    aborting = false;
    calls.length = 0;
    const out = await s.runTick({ tick: 1, ...budgets });
    assert.deepEqual(calls, ["f1", "f2", "s1", "s2"]);
    assert.deepEqual(out.trace.map((e) => [e.tick, e.task, e.status]), [
      [1, "f1", "ok"],
      [1, "f2", "ok"],
      [1, "s1", "ok"],
      [1, "s2", "ok"],
    ]);
  }
});

Deno.test("DeterministicScheduler.runTick() includes tasks added after an earlier tick", async () => {
  const s = schedulerOf([task("b")]);
  await s.runTick({ tick: 0, ...budgets });
  s.add(task("a"));
  const out = await s.runTick({ tick: 1, ...budgets });
  assert.deepEqual(out.trace.map((e) => e.task), ["a", "b"]);
  assert.equal(s.size, 2);
});

Deno.test("DeterministicScheduler.runTick() refuses to start while a tick is running", async () => {
  let release: () => void = () => {};
  let calls = 0;
  const s = schedulerOf([task("slow", {
    fn: () => calls++ === 0 ? new Promise<void>((resolve) => release = resolve) : "fast",
  })]);
  const first = s.runTick({ tick: 0, ...budgets });
  await assert.rejects(s.runTick({ tick: 1, ...budgets }), /already running/);
  release();
  assert.equal((await first).results.slow?.status, "ok");
  assert.equal((await s.runTick({ tick: 1, ...budgets })).trace.length, 1);
});

Deno.test("DeterministicScheduler.runTick() turns undefined return values into null, keeps other values", async () => {
  const value = { deep: [1] };
  const s = schedulerOf([task("u", { fn: () => undefined }), task("v", { fn: () => value })]);
  const out = await s.runTick({ tick: 0, ...budgets });
  assert.equal(out.results.u?.value, null);
  assert.equal(out.results.v?.value, value);
});

Deno.test("DeterministicScheduler.add() bounds the task count and names the bound", () => {
  const s = new DeterministicScheduler({ maxTasks: 2 });
  s.add(task("a"));
  s.add(task("b"));
  assert.throws(() => s.add(task("c")), {
    name: "RangeError",
    message: /maximum of 2 tasks: current value is "c"/,
  });
});

Deno.test("DeterministicScheduler handles task names that are Object.prototype keys", async () => {
  const s = schedulerOf([task("__proto__"), task("constructor"), task("toString")]);
  const out = await s.runTick({ tick: 0, ...budgets });
  assert.equal(out.results["__proto__"]?.status, "ok");
  assert.equal(out.results["constructor"]?.value, "constructor");
  assert.deepEqual(Object.keys(out.results).sort(), ["__proto__", "constructor", "toString"]);
});

Deno.test("DeterministicScheduler.runTick() records a thrown value that cannot even be described as an error", async () => {
  const hostile = new Proxy({}, {
    get() {
      throw new Error("no");
    },
    getPrototypeOf() {
      throw new Error("no");
    },
  });
  const s = schedulerOf([
    task("hostile", {
      fn: () => {
        throw hostile;
      },
    }),
    task("next", { priority: 1 }),
  ]);
  const out = await s.runTick({ tick: 0, ...budgets });
  assert.equal(out.results.hostile?.status, "error");
  assert.equal(out.results.hostile?.error, "[a thrown value that cannot be described]");
  assert.equal(out.results.next?.status, "ok");
});
