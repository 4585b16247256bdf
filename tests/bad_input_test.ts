// Every invalid argument throws TypeError or RangeError naming the field and value.
import assert from "node:assert/strict";
import {
  bindCallable,
  type BindCallableOptions,
  bindRuneInvoke,
  Budget,
  DeterministicScheduler,
  preparePipeline,
  type TaskSpec,
} from "../mod.ts";

const valid: BindCallableOptions = {
  name: "t",
  lane: "forecast",
  priority: 0,
  costOps: 1,
  fn: () => 0,
};

function expectError(
  fn: () => unknown,
  type: typeof TypeError | typeof RangeError,
  message: RegExp,
) {
  assert.throws(fn, (error: unknown) => {
    assert.equal((error as Error).constructor, type, String(error));
    assert.match((error as Error).message, message);
    return true;
  });
}

Deno.test("bindCallable() names the bad field and its value", () => {
  const cases: [Partial<Record<keyof BindCallableOptions, unknown>>, typeof TypeError, RegExp][] = [
    [
      { lane: "primary" },
      RangeError,
      /'lane' must be "forecast" or "shadow": current value is "primary"/,
    ],
    [{ lane: 1 }, TypeError, /'lane' must be "forecast" or "shadow": current value is 1/],
    [{ name: "" }, RangeError, /'name' must be a non-empty string .*: current value is ""/],
    [{ name: 42 }, TypeError, /'name' must be a non-empty string .*: current value is 42/],
    [{ name: "x".repeat(1025) }, RangeError, /'name' must be a non-empty string of at most 1024/],
    [{ name: "\udc00" }, RangeError, /'name' must be a well-formed Unicode string/],
    [{ priority: 0.5 }, RangeError, /'priority' must be an integer: current value is 0.5/],
    [{ priority: "0" }, TypeError, /'priority' must be an integer: current value is "0"/],
    [
      { costOps: -1 },
      RangeError,
      /Cannot bind task as 'costOps' must be a non-negative integer: current value is -1/,
    ],
    [{ costOps: 1.5 }, RangeError, /'costOps' .*1.5/],
    [{ costOps: NaN }, RangeError, /'costOps' .*NaN/],
    [{ costOps: "1" }, TypeError, /'costOps' .*"1"/],
    [{ costOps: 2 ** 53 }, RangeError, /'costOps'/],
    [
      { costEntropy: -2 },
      RangeError,
      /'costEntropy' must be a non-negative integer: current value is -2/,
    ],
    [{ costEntropy: null }, TypeError, /'costEntropy' .*null/],
    [{ tags: ["ok", 3] }, TypeError, /'tags\[1\]' must be a string .*: current value is 3/],
    [
      { tags: "metric" },
      TypeError,
      /'tags' must be an array of strings: current value is "metric"/,
    ],
    [{ fn: "nope" }, TypeError, /'fn' must be a function: current value is "nope"/],
  ];
  for (const [override, type, message] of cases) {
    expectError(
      () => bindCallable({ ...valid, ...override } as BindCallableOptions),
      type,
      message,
    );
  }
});

Deno.test("DeterministicScheduler.add() validates hand-made specs and refuses duplicate names", () => {
  const s = new DeterministicScheduler();
  s.add(bindCallable(valid));
  expectError(
    () => s.add(bindCallable(valid)),
    RangeError,
    /'name' must be unique within the scheduler: current value is "t"/,
  );
  const handMade = { ...valid, name: "h", costEntropy: 0, tags: [], costOps: -1 } as TaskSpec;
  expectError(
    () => s.add(handMade),
    RangeError,
    /Cannot add task as 'costOps' must be a non-negative integer: current value is -1/,
  );
  expectError(() => s.add(null as unknown as TaskSpec), TypeError, /'options' must be an object/);
  assert.equal(s.size, 1);
});

Deno.test("Budget refuses negative, fractional and non-number ops and entropy", () => {
  expectError(
    () => new Budget({ ops: -1 }),
    RangeError,
    /Cannot create budget as 'ops' must be a non-negative integer: current value is -1/,
  );
  expectError(() => new Budget({ ops: 1.25 }), RangeError, /'ops' .*1.25/);
  expectError(() => new Budget({ ops: 1, entropy: -3 }), RangeError, /'entropy' .*-3/);
  expectError(() => new Budget({ ops: 1, entropy: 0.5 }), RangeError, /'entropy' .*0.5/);
  expectError(() => new Budget({ ops: "5" as unknown as number }), TypeError, /'ops' .*"5"/);
  assert.ok(Object.isFrozen(new Budget({ ops: 1 })));
});

Deno.test("DeterministicScheduler.runTick() refuses a bad tick, budget or context", async () => {
  const s = new DeterministicScheduler();
  const budgets = { budgetForecast: { ops: 1 }, budgetShadow: { ops: 1 } };
  const cases: [Record<string, unknown>, typeof TypeError, RegExp][] = [
    [
      { tick: -1, ...budgets },
      RangeError,
      /Cannot run tick as 'tick' must be a non-negative integer: current value is -1/,
    ],
    [{ tick: 0.5, ...budgets }, RangeError, /'tick' .*0.5/],
    [{ tick: "0", ...budgets }, TypeError, /'tick' .*"0"/],
    [{ tick: 0, ...budgets, budgetForecast: { ops: -1 } }, RangeError, /'budgetForecast.ops' .*-1/],
    [
      { tick: 0, ...budgets, budgetShadow: { ops: 1, entropy: 0.5 } },
      RangeError,
      /'budgetShadow.entropy' .*0.5/,
    ],
    [{ tick: 0, ...budgets, budgetShadow: 10 }, TypeError, /'budgetShadow' must be a Budget/],
    [
      { tick: 0, ...budgets, context: 5 },
      TypeError,
      /'context' must be an object: current value is 5/,
    ],
  ];
  for (const [options, type, message] of cases) {
    await assert.rejects(s.runTick(options as never), (error: unknown) => {
      assert.equal((error as Error).constructor, type, String(error));
      assert.match((error as Error).message, message);
      return true;
    });
  }
});

Deno.test("DeterministicScheduler.runTick() checks a forged Budget's fields before any task runs", async () => {
  const ran: string[] = [];
  const s = new DeterministicScheduler();
  s.add(bindCallable({ ...valid, name: "huge", costOps: 1_000_000, fn: () => ran.push("huge") }));
  const forged = (fields: PropertyDescriptorMap) => Object.create(Budget.prototype, fields);
  const real = new Budget({ ops: 1 });
  const cases: [Record<string, unknown>, typeof TypeError, RegExp][] = [
    [
      { budgetForecast: forged({ ops: { value: Infinity } }), budgetShadow: real },
      RangeError,
      /Cannot run tick as 'budgetForecast.ops' must be a non-negative integer: current value is Infinity/,
    ],
    [
      { budgetForecast: real, budgetShadow: forged({ ops: { value: 1 }, entropy: { value: -1 } }) },
      RangeError,
      /'budgetShadow.entropy' must be a non-negative integer: current value is -1/,
    ],
    [
      { budgetForecast: forged({}), budgetShadow: real },
      TypeError,
      /'budgetForecast.ops' must be a non-negative integer: current value is undefined/,
    ],
    [
      {
        budgetForecast: real,
        budgetShadow: forged({ ops: { value: "1" }, entropy: { value: 0 } }),
      },
      TypeError,
      /'budgetShadow.ops' .*"1"/,
    ],
  ];
  for (const [budgets, type, message] of cases) {
    await assert.rejects(s.runTick({ tick: 0, ...budgets } as never), (error: unknown) => {
      assert.equal((error as Error).constructor, type, String(error));
      assert.match((error as Error).message, message);
      return true;
    });
  }
  assert.deepEqual(ran, []);
});

Deno.test("DeterministicScheduler.runTick() reads each budget field once, so a getter cannot change it mid-tick", async () => {
  let reads = 0;
  const shifty = Object.create(Budget.prototype, {
    ops: { get: () => (reads++ === 0 ? 1 : 1_000_000) },
    entropy: { value: 0 },
  });
  const s = new DeterministicScheduler();
  s.add(bindCallable({ ...valid, name: "a", costOps: 1 }));
  s.add(bindCallable({ ...valid, name: "b", priority: 1, costOps: 1 }));
  const out = await s.runTick({ tick: 0, budgetForecast: shifty, budgetShadow: { ops: 0 } });
  assert.deepEqual(out.trace.map((e) => e.status), ["ok", "skipped_budget"]);
  assert.equal(out.remaining.forecast.ops, 0);
});

Deno.test("DeterministicScheduler refuses a bad maxTasks", () => {
  expectError(
    () => new DeterministicScheduler({ maxTasks: 0 }),
    RangeError,
    /'maxTasks' must be a positive integer/,
  );
  expectError(() => new DeterministicScheduler({ maxTasks: -1 }), RangeError, /'maxTasks'/);
});

Deno.test("bindRuneInvoke() names its own bad fields", () => {
  const rune = {
    runeName: "r",
    lane: "shadow" as const,
    priority: 0,
    costOps: 1,
    invoker: () => 0,
  };
  expectError(() => bindRuneInvoke({ ...rune, runeName: "" }), RangeError, /'runeName'/);
  expectError(
    () => bindRuneInvoke({ ...rune, invoker: 1 as never }),
    TypeError,
    /'invoker' must be a function/,
  );
  expectError(
    () => bindRuneInvoke({ ...rune, lane: "x" as never }),
    RangeError,
    /Cannot bind rune task as 'lane'/,
  );
});

Deno.test("preparePipeline() names the bad task or budget by its place in the pipeline", () => {
  const task = { name: "t", lane: "forecast" as const, priority: 0, costOps: 1, fn: () => 0 };
  expectError(
    () => preparePipeline({ tasks: [task, { ...task, name: "u", costOps: -1 }] }),
    RangeError,
    /Cannot prepare pipeline as 'tasks\[1\]\.costOps' must be a non-negative integer: current value is -1/,
  );
  expectError(
    () => preparePipeline({ tasks: [task, null as never] }),
    TypeError,
    /'tasks\[1\]' must be an object/,
  );
  expectError(
    () => preparePipeline({ tasks: [task, task] }),
    RangeError,
    /'tasks\[1\]\.name' must be unique: current value is "t"/,
  );
  expectError(
    () => preparePipeline({ tasks: [task], budgets: { shadow: { ops: -4 } } }),
    RangeError,
    /'budgets\.shadow\.ops' .*-4/,
  );
  expectError(
    () => preparePipeline({ tasks: "x" as never }),
    TypeError,
    /'tasks' must be an array/,
  );
  expectError(
    () => preparePipeline({ tasks: [], context: 3 as never }),
    TypeError,
    /'context' must be a function of the tick/,
  );
});
