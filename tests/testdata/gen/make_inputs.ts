// Generates the inputs of the Python parity vectors. Run from the repo root:
//   deno run --allow-write tests/testdata/gen/make_inputs.ts
//   python3 tests/testdata/gen/python_expected.py
// The first writes tests/testdata/gen/inputs.json; the second reads it, runs
// Python's json.dumps/hashlib on every case and writes the golden files.

import { fc } from "../../_deps.ts";
import { bindCallable, DeterministicScheduler, type TraceEvent } from "../../../ers/mod.ts";

const tricky: unknown[] = [
  0,
  -0,
  1,
  -1,
  2 ** 53,
  -(2 ** 53),
  0.1,
  -0.1,
  1e-4,
  9.99e-5,
  1e-5,
  2.5e-7,
  5e-324,
  1.5e-10,
  123.456,
  1e15 + 0.5,
  1e21,
  -1.5e300,
  0.30000000000000004,
  1 / 3,
  -2.2250738585072014e-308,
  4503599627370495.5,
  "",
  '\u0000\u0001\u001f\u007f\u2028\u2029\b\f\n\r\t"\\/',
  "é😀\uffff\u{10000}\u{10ffff}",
  { "\uffff": 1, "\u{10000}": 2, "\ue000": 3, "a": 4, "A": 5, "": 6, "__proto__": 7 },
  [[], {}, [null, true, false]],
];

const values = fc.sample(
  fc.jsonValue({ maxDepth: 4, depthSize: "small" }),
  { seed: 20261122, numRuns: 400 },
).filter((v) => JSON.stringify(v) !== undefined).map(rescaleHugeIntegers);

// fast-check favours huge doubles, which are integral beyond 2^53 and so
// refused by design. Scale them down into small floats instead: the exponent
// form of Python's repr deserves the coverage more. A few huge values stay in
// `tricky` to cover the refusal.
function rescaleHugeIntegers(value: unknown): unknown {
  if (typeof value === "number" && Number.isInteger(value) && Math.abs(value) > 2 ** 53) {
    return value * 1e-300 * 1e-10;
  }
  if (Array.isArray(value)) return value.map(rescaleHugeIntegers);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rescaleHugeIntegers(v)]));
  }
  return value;
}

interface TraceCase {
  name: string;
  trace: TraceEvent[];
}

async function traceCases(): Promise<TraceCase[]> {
  const cases: TraceCase[] = [];
  // Unicode names, errors, skips, tags, several ticks.
  const s = new DeterministicScheduler();
  const names = [
    "ñandú",
    "😀:emoji",
    "\uffff-bmp-last",
    "\u{10000}-astral",
    "Zeta",
    "alpha",
    "é",
    "e\u0301",
  ];
  names.forEach((name, i) =>
    s.add(bindCallable({
      name,
      lane: i % 2 ? "shadow" : "forecast",
      priority: i % 3,
      costOps: i + 1,
      costEntropy: i % 2,
      tags: i % 2 ? ["metric", "ü"] : [],
      fn: () => {
        if (i % 4 === 3) throw new RangeError(`boom ${i}`);
        return { i };
      },
    }))
  );
  for (const tick of [0, 7, 123456]) {
    const out = await s.runTick({
      tick,
      budgetForecast: { ops: 9, entropy: 1 },
      budgetShadow: { ops: 6, entropy: 1 },
      context: {},
    });
    cases.push({ name: `unicode-errors-skips-tick-${tick}`, trace: out.trace });
  }
  // Hundreds of tasks, mixed priorities, half per lane, some skipped.
  const many = new DeterministicScheduler();
  for (let i = 0; i < 600; i++) {
    many.add(bindCallable({
      name: `task-${(i * 7919) % 1000}`,
      lane: i % 2 ? "shadow" : "forecast",
      priority: (i * 31) % 5,
      costOps: i % 9,
      fn: () => i,
    }));
  }
  const big = await many.runTick({
    tick: 2,
    budgetForecast: { ops: 900 },
    budgetShadow: { ops: 400 },
  });
  cases.push({ name: "six-hundred-tasks", trace: big.trace });
  // Hand-written events with float costs and rich meta, keys in any order.
  cases.push({
    name: "hand-written-floats-meta",
    trace: [
      {
        meta: { z: [1.5, 1e-7, -0.0001, "x"], a: { "😀": null, "ÿ": true } },
        tick: 1,
        task: "f",
        status: "ok",
        lane: "forecast",
        cost_entropy: 0.25,
        cost_ops: 3.5,
      } as unknown as TraceEvent,
    ],
  });
  return cases;
}

const out = { values: [...tricky, ...values], traces: await traceCases() };
await Deno.writeTextFile(
  new URL("./inputs.json", import.meta.url),
  JSON.stringify(out, null, 1) + "\n",
);
console.log(`wrote ${out.values.length} values and ${out.traces.length} traces`);
