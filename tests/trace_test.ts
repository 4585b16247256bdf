import assert from "node:assert/strict";
import {
  bindCallable,
  Budget,
  canonicalizeTrace,
  DeterministicScheduler,
  type TraceEvent,
  traceHashSha256,
  traceJsonBytes,
} from "../mod.ts";
import { traceEvent } from "./_helpers.ts";

async function integrationHash(tick: number): Promise<string> {
  const s = new DeterministicScheduler();
  const forecast = ["oracle:signal", "oracle:compress", "oracle:overlay"];
  forecast.forEach((name, priority) =>
    s.add(bindCallable({ name, lane: "forecast", priority, costOps: 10, fn: () => ({}) }))
  );
  s.add(
    bindCallable({
      name: "shadow:anagram",
      lane: "shadow",
      priority: 0,
      costOps: 2,
      fn: () => ({}),
    }),
  );
  s.add(
    bindCallable({ name: "shadow:sei", lane: "shadow", priority: 1, costOps: 1, fn: () => ({}) }),
  );
  const out = await s.runTick({
    tick,
    budgetForecast: new Budget({ ops: 50, entropy: 0 }),
    budgetShadow: new Budget({ ops: 20, entropy: 0 }),
    context: {},
  });
  return traceHashSha256(out.trace);
}

Deno.test("traceHashSha256() reproduces the reference's seed invariance hash", async () => {
  const s = new DeterministicScheduler();
  s.add(
    bindCallable({
      name: "oracle:signal",
      lane: "forecast",
      priority: 0,
      costOps: 1,
      fn: () => ({ ok: true }),
    }),
  );
  s.add(
    bindCallable({
      name: "shadow:sei",
      lane: "shadow",
      priority: 0,
      costOps: 1,
      fn: () => ({ shadow: true }),
    }),
  );
  const out = await s.runTick({
    tick: 0,
    budgetForecast: { ops: 10 },
    budgetShadow: { ops: 10 },
    context: {},
  });
  assert.equal(
    await traceHashSha256(out.trace),
    "ae7e4fe3526ad0e133d2f46de48f5941e5cf24382490e9d25088d8920decfd16",
  );
});

Deno.test("traceHashSha256() reproduces the reference's API example hash", async () => {
  const s = new DeterministicScheduler();
  s.add(
    bindCallable({
      name: "oracle:signal",
      lane: "forecast",
      priority: 0,
      costOps: 5,
      fn: () => ({}),
    }),
  );
  s.add(
    bindCallable({ name: "shadow:sei", lane: "shadow", priority: 0, costOps: 1, fn: () => ({}) }),
  );
  const out = await s.runTick({
    tick: 0,
    budgetForecast: { ops: 50 },
    budgetShadow: { ops: 10 },
    context: {},
  });
  assert.equal(
    await traceHashSha256(out.trace),
    "40a36b81f8b42f9e5a42fbaee681ddce75f2ff10bc8358875684cc827fccaab2",
  );
});

Deno.test("traceHashSha256() reproduces the reference's integration example hashes for ticks 0, 1, 2", async () => {
  assert.deepEqual(await Promise.all([0, 1, 2].map(integrationHash)), [
    "32a12734d371e5f86855cfd625aac785bff278352c2d21e7873dc3cf0282e002",
    "f82f970c4265de359a98bec85127b52b8e1085793cdb07641b2f9e4a1f69f1ca",
    "0b8b25e4aea72c2fee1e769b33e2f7b51cbbc5d0790a2c999252b21c8057a5b4",
  ]);
});

interface GoldenTrace {
  name: string;
  trace: TraceEvent[];
  sha256: string;
}

Deno.test("traceHashSha256() matches Python's hashes for unicode, floats, errors, skips and 600 tasks", async () => {
  const cases: GoldenTrace[] = JSON.parse(
    await Deno.readTextFile(new URL("./testdata/trace_hashes_python.json", import.meta.url)),
  );
  assert.equal(cases.length, 5);
  for (const { name, trace, sha256 } of cases) {
    assert.equal(await traceHashSha256(trace), sha256, name);
  }
});

Deno.test("traceHashSha256() gives the same hash for a scheduler's trace and its parsed copy", async () => {
  const s = new DeterministicScheduler();
  s.add(
    bindCallable({ name: "é", lane: "shadow", priority: 0, costOps: 1, tags: ["t"], fn: () => 0 }),
  );
  s.add(bindCallable({ name: "x", lane: "forecast", priority: 0, costOps: 9, fn: () => 0 }));
  const { trace } = await s.runTick({
    tick: 5,
    budgetForecast: { ops: 1 },
    budgetShadow: { ops: 1 },
  });
  const copy = JSON.parse(JSON.stringify(trace)) as TraceEvent[];
  const reordered = copy.map((e) =>
    Object.fromEntries(Object.entries(e).reverse()) as unknown as TraceEvent
  );
  const hash = await traceHashSha256(trace);
  assert.equal(await traceHashSha256(copy), hash);
  assert.equal(await traceHashSha256(reordered), hash);
});

Deno.test("traceJsonBytes() writes canonical bytes and canonicalizeTrace() the same payload", () => {
  const trace: TraceEvent[] = [{
    tick: 1,
    task: "t",
    lane: "shadow",
    status: "skipped_budget",
    cost_ops: 3,
    cost_entropy: 0,
    meta: { reason: "budget" },
  }];
  const text =
    '{"events":[{"cost_entropy":0,"cost_ops":3,"lane":"shadow","meta":{"reason":"budget"},"status":"skipped_budget","task":"t","tick":1}]}';
  assert.equal(new TextDecoder().decode(traceJsonBytes(trace)), text);
  assert.equal(JSON.stringify(canonicalizeTrace(trace)), text);
});

Deno.test("traceJsonBytes() refuses malformed events, naming the event and field", () => {
  const good = traceEvent();
  const cases: [unknown, RegExp][] = [
    ["not an array", /'trace' must be an array/],
    [[null], /'trace\[0\]' must be a trace event object/],
    [[{ ...good, tick: undefined }], /'trace\[0\]\.tick' is missing/],
    [[good, { ...good, extra: 1 }], /'trace\[1\]' has unknown field 'extra'/],
    [[{ ...good, cost_ops: "1" }], /'trace\[0\]\.cost_ops' must be a number/],
    [[{ ...good, cost_ops: NaN }], /'trace\[0\]\.cost_ops' must be a finite number/],
    [[{ ...good, task: 5 }], /'trace\[0\]\.task' must be a string/],
    [[{ ...good, meta: [] }], /'trace\[0\]\.meta' must be a plain object/],
    [
      [{ ...good, meta: { when: new Date() } }],
      /'trace\[0\]\.meta\.when' must be a plain object or array/,
    ],
    [[{ ...good, task: "\ud800" }], /'trace\[0\]\.task' must be a well-formed/],
  ];
  for (const [trace, message] of cases) {
    assert.throws(() => traceJsonBytes(trace as TraceEvent[]), message);
  }
});

Deno.test("traceJsonBytes() does not let a later mutation of shared meta go stale", async () => {
  const s = new DeterministicScheduler();
  s.add(
    bindCallable({
      name: "a",
      lane: "forecast",
      priority: 0,
      costOps: 1,
      tags: ["x"],
      fn: () => 0,
    }),
  );
  const { trace } = await s.runTick({
    tick: 0,
    budgetForecast: { ops: 1 },
    budgetShadow: { ops: 0 },
  });
  const before = new TextDecoder().decode(traceJsonBytes(trace));
  assert.throws(() => (trace[0]!.meta as { tags: string[] }).tags.push("y"), TypeError);
  trace[0]!.meta = { tags: ["y"] };
  assert.notEqual(new TextDecoder().decode(traceJsonBytes(trace)), before);
});

Deno.test("traceHashSha256() reads meta behind a getter afresh on every hash", async () => {
  let tag = "a";
  const event = (meta: unknown) => traceEvent({ meta });
  const metas = [
    // A getter on a frozen object, returning a fresh frozen array.
    Object.freeze({
      get tags() {
        return Object.freeze([tag]);
      },
    }),
    // A frozen array whose element is a getter.
    Object.freeze({
      tags: Object.freeze(Object.defineProperty([], 0, { get: () => tag, enumerable: true })),
    }),
  ];
  for (const meta of metas) {
    tag = "a";
    const first = await traceHashSha256([event(meta)]);
    assert.equal(first, await traceHashSha256([event({ tags: ["a"] })]));
    tag = "b";
    assert.equal(
      await traceHashSha256([event(meta)]),
      await traceHashSha256([event({ tags: ["b"] })]),
    );
  }
});
