// The work the cross-runtime test computes in every runtime: every golden
// vector the tests hold, run through the pure core given as an argument (the
// TypeScript modules in Deno, the `deno task bundle` output in Node and
// Chromium). It imports only types, so its own bundle holds nothing of the
// core, and it reads no file: the caller hands it the golden files' text.
//
// The result is a list of [label, value] pairs, every value a string (hex of
// bytes, a SHA-256 hex digest, or an error's name and message), so that two
// runtimes agree exactly when their results' JSON texts are equal.

import type * as Ers from "../ers/mod.ts";
import type * as Viz from "../viz/mod.ts";

/** The pure core, as each runtime loads it. */
export interface ParityCore {
  ers: typeof Ers;
  viz: typeof Viz;
}

/** The golden files' text, read by the caller however its runtime reads files. */
export interface ParityInputs {
  /** tests/testdata/canonical_json_python.json */
  canonicalJson: string;
  /** tests/testdata/trace_hashes_python.json */
  traceHashes: string;
}

/** One computed value per label, in a fixed order. */
export type ParityResult = [label: string, value: string][];

/** Computes every vector with `core`; the same inputs give the same result in every runtime. */
export async function parityWork(core: ParityCore, inputs: ParityInputs): Promise<ParityResult> {
  const out: ParityResult = [];
  for (const [name, trace] of await seedTraces(core.ers)) {
    await traceEntries(core, `seed/${name}`, trace, out);
  }
  canonicalEntries(core.ers, inputs.canonicalJson, out);
  const golden = JSON.parse(inputs.traceHashes) as { name: string; trace: Ers.TraceEvent[] }[];
  for (const { name, trace } of golden) await traceEntries(core, `python/${name}`, trace, out);
  await traceEntries(core, "escaped-one-character-keys", escapedKeyTrace(), out);
  await tickEntries(core, out);
  await promotionEntries(core.ers, out);
  await pipelineEntries(core.ers, out);
  await gateEntries(core.ers, out);
  refusalEntries(core, out);
  return out;
}

/** Lower-case hex of `bytes`. */
export function hex(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += byte.toString(16).padStart(2, "0");
  return text;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : `thrown: ${String(error)}`;
}

function attempt(compute: () => string): string {
  try {
    return compute();
  } catch (error) {
    return describeError(error);
  }
}

// The reference's seed scenarios: the invariance seed, the API example and
// the integration example's ticks 0, 1 and 2.
async function seedTraces(ers: typeof Ers): Promise<[string, Ers.TraceEvent[]][]> {
  const traces: [string, Ers.TraceEvent[]][] = [];
  const seed = new ers.DeterministicScheduler();
  seed.add(ers.bindCallable({
    name: "oracle:signal",
    lane: "forecast",
    priority: 0,
    costOps: 1,
    fn: () => ({ ok: true }),
  }));
  seed.add(ers.bindCallable({
    name: "shadow:sei",
    lane: "shadow",
    priority: 0,
    costOps: 1,
    fn: () => ({ shadow: true }),
  }));
  const seedOut = await seed.runTick({
    tick: 0,
    budgetForecast: { ops: 10 },
    budgetShadow: { ops: 10 },
    context: {},
  });
  traces.push(["invariance", seedOut.trace]);
  const api = new ers.DeterministicScheduler();
  api.add(ers.bindCallable({
    name: "oracle:signal",
    lane: "forecast",
    priority: 0,
    costOps: 5,
    fn: () => ({}),
  }));
  api.add(ers.bindCallable({
    name: "shadow:sei",
    lane: "shadow",
    priority: 0,
    costOps: 1,
    fn: () => ({}),
  }));
  const apiOut = await api.runTick({
    tick: 0,
    budgetForecast: new ers.Budget({ ops: 50 }),
    budgetShadow: new ers.Budget({ ops: 10 }),
    context: {},
  });
  traces.push(["api", apiOut.trace]);
  const integration = new ers.DeterministicScheduler();
  ["oracle:signal", "oracle:compress", "oracle:overlay"].forEach((name, priority) =>
    integration.add(
      ers.bindCallable({ name, lane: "forecast", priority, costOps: 10, fn: () => ({}) }),
    )
  );
  integration.add(ers.bindCallable({
    name: "shadow:anagram",
    lane: "shadow",
    priority: 0,
    costOps: 2,
    fn: () => ({}),
  }));
  integration.add(ers.bindCallable({
    name: "shadow:sei",
    lane: "shadow",
    priority: 1,
    costOps: 1,
    fn: () => ({}),
  }));
  for (const tick of [0, 1, 2]) {
    const { trace } = await integration.runTick({
      tick,
      budgetForecast: new ers.Budget({ ops: 50, entropy: 0 }),
      budgetShadow: new ers.Budget({ ops: 20, entropy: 0 }),
      context: {},
    });
    traces.push([`integration-tick-${tick}`, trace]);
  }
  return traces;
}

// A trace's hash, canonical bytes, canonical structure and TrendPack bytes.
async function traceEntries(
  { ers, viz }: ParityCore,
  label: string,
  trace: readonly Ers.TraceEvent[],
  out: ParityResult,
): Promise<void> {
  out.push([`${label}/sha256`, await ers.traceHashSha256(trace)]);
  out.push([`${label}/trace-bytes`, hex(ers.traceJsonBytes(trace))]);
  out.push([
    `${label}/canonicalized`,
    attempt(() => hex(ers.canonicalJsonBytes(ers.canonicalizeTrace(trace)))),
  ]);
  const pack = viz.ersTraceToTrendpack({
    trace,
    runId: `parity-${label}`,
    tick: trace[0]?.tick ?? 0,
    provenance: { engine: "abraxas", mode: "parity", label },
  });
  out.push([`${label}/trendpack-bytes`, hex(ers.canonicalJsonBytes(pack))]);
}

// Python's json.dumps corpus: the bytes of each value, or the error refusing it.
function canonicalEntries(ers: typeof Ers, text: string, out: ParityResult): void {
  const cases = JSON.parse(text) as { input: string }[];
  cases.forEach(({ input }, i) => {
    out.push([
      `canonical/${i}`,
      attempt(() => hex(ers.canonicalJsonBytes(JSON.parse(input)))),
    ]);
  });
}

// Names whose UTF-16 order differs from their code point order, combining
// marks and astral characters.
const NAME_STEMS = [
  "\uffff",
  "\u{10000}",
  "\ue000",
  "\u{1f600}",
  "\u{10ffff}",
  "é",
  "e\u0301",
  "Zeta",
  "alpha",
  "ñandú",
  "\u00ff",
  "A",
];

/** Six hundred tasks over two ticks: code-point-sensitive names, errors, skips, async and shadow reads and writes. */
async function tickEntries({ ers, viz }: ParityCore, out: ParityResult): Promise<void> {
  const s = new ers.DeterministicScheduler();
  for (let i = 0; i < 600; i++) {
    const stem = NAME_STEMS[(i * 5 + (i >> 3)) % NAME_STEMS.length] as string;
    const name = i % 5 === 0 ? `${stem}${(i * 7919) % 600}` : `${(i * 7919) % 600}${stem}`;
    s.add(ers.bindCallable({
      name,
      lane: i % 3 === 0 ? "shadow" : "forecast",
      priority: (i * 31) % 4,
      costOps: i % 9,
      costEntropy: i % 4 === 0 ? 1 : 0,
      tags: i % 6 === 0 ? [stem, "metric"] : [],
      fn: taskBody(i, stem),
    }));
  }
  const context = {
    seen: new Map<string, { n: number }>([["\u{10000}", { n: 1 }], ["\uffff", { n: 2 }]]),
    names: new Set(NAME_STEMS),
    list: [1.5, 1e-7, "é"],
  };
  const trendpacks: Viz.TrendPack[] = [];
  const results: Viz.ReportTickResults[] = [];
  for (const tick of [3, 4]) {
    const result = await s.runTick({
      tick,
      budgetForecast: { ops: 1100 + tick, entropy: 60 },
      budgetShadow: { ops: 500, entropy: 30 },
      context,
    });
    const label = `tick600/tick-${tick}`;
    await traceEntries({ ers, viz }, label, result.trace, out);
    out.push([`${label}/results-bytes`, hex(ers.canonicalJsonBytes(result.results))]);
    out.push([
      `${label}/remaining`,
      JSON.stringify([result.remaining.forecast, result.remaining.shadow]),
    ]);
    trendpacks.push(viz.ersTraceToTrendpack({
      trace: result.trace,
      runId: "parity-600",
      tick,
      provenance: { engine: "abraxas", mode: "parity", ers: "v0.2" },
    }));
    results.push({
      tick,
      results: Object.values(result.results).map(({ name, status, error }) => ({
        task: name,
        status,
        error,
      })),
    });
  }
  await reportEntries(viz, trendpacks, results, out);
}

// The run report (HTML) and the Chrome trace of the 600-task ticks, with
// promotion marks: large, so each is recorded as its SHA-256 and length.
async function reportEntries(
  viz: typeof Viz,
  trendpacks: Viz.TrendPack[],
  results: Viz.ReportTickResults[],
  out: ParityResult,
): Promise<void> {
  const promotions: Viz.ReportPromotion[] = [
    { tick: 3, task: "0\uffff", decision: "promoted", from: "shadow", to: "forecast", rule: "é" },
    { tick: 4, task: "\u{10000}5", decision: "demoted", from: "forecast", to: "shadow" },
  ];
  const html = viz.renderRunReport({
    runId: "parity-600",
    trendpacks,
    verdict: {
      ok: false,
      checked: ["2 ticks"],
      errors: [{ path: "viz/\u{1f600}.json", message: "bad <b>" }],
      warnings: [],
    },
    results,
    promotions,
    header: { identity: { run: "parity-600", "\uffff": 1, "\u{10000}": [1.5, 1e-7] } },
    maxBuckets: 7,
  });
  out.push(["report/html", await digestText(html)]);
  const chrome = viz.renderChromeTrace({ runId: "parity-600", trendpacks, results, promotions });
  out.push(["report/chrome-trace", await digestText(chrome)]);
}

async function digestText(text: string): Promise<string> {
  const bytes = new TextEncoder().encode(text);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `${bytes.length} bytes, sha256 ${hex(digest)}`;
}

// A task's body: values, thrown errors of several kinds, async results, and
// shadow reads (and a refused write) through the read-only view.
function taskBody(i: number, stem: string): Ers.TaskFn {
  switch (i % 8) {
    case 1:
      return () => {
        throw new RangeError(`boom ${i} ${stem}`);
      };
    case 2:
      return () => {
        throw `a bare string ${i}`;
      };
    case 3:
      return () => Promise.resolve({ i, stem, half: i / 2, tiny: i * 1e-9 });
    case 5:
      return (context) => {
        const seen = context.seen as Map<string, { n: number }>;
        const names = context.names as Set<string>;
        return {
          keys: [...seen.keys()],
          n: [...seen.values()].map((v) => v.n),
          has: names.has(stem),
          list: (context.list as unknown[]).slice(),
        };
      };
    case 7:
      return (context) => {
        (context.list as unknown[]).push(i);
        return i;
      };
    default:
      return () => [i, stem, i % 3 === 0];
  }
}

// Eight ticks of promotion candidates (steady, flaky, failing after a while)
// with code-point-sensitive names: each tick's trace hash and its decisions.
async function promotionEntries(ers: typeof Ers, out: ParityResult): Promise<void> {
  const s = new ers.DeterministicScheduler();
  const bodies: Record<string, (tick: number) => unknown> = {
    "\uffff:steady": () => 1,
    "\u{10000}:flaky": (tick) => {
      if (tick % 3 === 2) throw new Error(`flaky at ${tick}`);
      return tick;
    },
    "\ue000:late": (tick) => {
      if (tick >= 4) throw new RangeError("late");
      return 0;
    },
  };
  let tick = 0;
  const candidates = new Map<string, Ers.CandidateDefinition>();
  for (const [name, body] of Object.entries(bodies)) {
    const task = ers.bindCallable({
      name,
      lane: "shadow",
      priority: 0,
      costOps: 1,
      fn: () => body(tick),
      promote: { window: 2 },
    });
    s.add(task);
    candidates.set(name, {
      settings: { window: 2, maxErrors: 0, maxSkips: 0 },
      definition: await ers.promotionDefinitionDigest(task),
    });
  }
  let states: ReadonlyMap<string, Ers.PromotionState> = new Map();
  for (; tick < 8; tick++) {
    const { trace } = await s.runTick({
      tick,
      budgetForecast: { ops: 3 },
      budgetShadow: { ops: 3 },
      lanes: ers.promotionLanes(states, candidates),
    });
    const advance = ers.advancePromotions(states, tick, candidates, trace);
    states = advance.states;
    out.push([`promotion/tick-${tick}/sha256`, await ers.traceHashSha256(trace)]);
    out.push([`promotion/tick-${tick}/trace-bytes`, hex(ers.traceJsonBytes(trace))]);
    out.push([`promotion/tick-${tick}/decisions`, hex(ers.canonicalJsonBytes(advance.decisions))]);
  }
}

// A prepared pipeline of callable and rune tasks (computable, not computable,
// refused inputs), its context a function of the tick, over three ticks.
async function pipelineEntries(ers: typeof Ers, out: ParityResult): Promise<void> {
  const invoker = (rune: string, inputs: unknown) => ({ rune, inputs });
  const pipeline = ers.preparePipeline({
    tasks: [
      ers.bindRuneInvoke({
        runeName: "\u{10000}sigil",
        lane: "forecast",
        priority: 1,
        costOps: 2,
        invoker,
      }),
      ers.bindRuneInvoke({
        runeName: "\uffffsigil",
        lane: "forecast",
        priority: 1,
        costOps: 2,
        invoker,
      }),
      ers.bindRuneInvoke({ runeName: "absent", lane: "shadow", priority: 0, costOps: 1, invoker }),
      { name: "tick-echo", lane: "shadow", priority: 2, costOps: 1, fn: (context) => context.tick },
    ],
    budgets: { forecast: { ops: 3 }, shadow: { ops: 5, entropy: 0 } },
    context: (tick) => ({
      tick,
      rune_inputs: tick === 1 ? [1, 2] : { "\u{10000}sigil": { tick }, "\uffffsigil": tick * 0.1 },
    }),
  });
  for (const tick of [0, 1, 2]) {
    const result = await pipeline.runTick(tick);
    out.push([`pipeline/tick-${tick}/trace-bytes`, hex(ers.traceJsonBytes(result.trace))]);
    out.push([`pipeline/tick-${tick}/sha256`, await ers.traceHashSha256(result.trace)]);
    out.push([`pipeline/tick-${tick}/results-bytes`, hex(ers.canonicalJsonBytes(result.results))]);
  }
}

// The invariance gate on a deterministic scenario and on one that drifts on
// its seventh run: verdicts, hashes and the divergence report.
async function gateEntries(ers: typeof Ers, out: ParityResult): Promise<void> {
  const traceOf = async (runIndex: number) => {
    const s = new ers.DeterministicScheduler();
    for (const name of ["\u{10000}", "\uffff", "e\u0301", "é"]) {
      s.add(ers.bindCallable({ name, lane: "forecast", priority: 0, costOps: 1, fn: () => 0 }));
    }
    const drifts = runIndex === 6;
    s.add(ers.bindCallable({
      name: "drift",
      lane: "shadow",
      priority: 0,
      costOps: drifts ? 9 : 1,
      fn: () => 0,
    }));
    return (await s.runTick({ tick: 5, budgetForecast: { ops: 4 }, budgetShadow: { ops: 2 } }))
      .trace;
  };
  const steady = await ers.dozenRunInvarianceGate({ makeTrace: () => traceOf(0) });
  out.push(["gate/steady", hex(ers.canonicalJsonBytes(steady))]);
  const drifting = await ers.dozenRunInvarianceGate({ makeTrace: traceOf });
  out.push(["gate/drifting", hex(ers.canonicalJsonBytes(drifting))]);
}

// Bad input gets the same error, naming the same field, in every runtime.
function refusalEntries({ ers, viz }: ParityCore, out: ParityResult): void {
  const attempts: [string, () => unknown][] = [
    [
      "bind-cost",
      () =>
        ers.bindCallable({ name: "x", lane: "forecast", priority: 0, costOps: -1, fn: () => 0 }),
    ],
    [
      "bind-lone-surrogate",
      () =>
        ers.bindCallable({
          name: "\ud800",
          lane: "forecast",
          priority: 0,
          costOps: 1,
          fn: () => 0,
        }),
    ],
    ["bind-lane", () =>
      ers.bindCallable({
        name: "x",
        lane: "middle" as Ers.Lane,
        priority: 0,
        costOps: 1,
        fn: () => 0,
      })],
    ["budget", () => new ers.Budget({ ops: 1.5 })],
    ["canonical-cycle", () => {
      const cyclic: Record<string, unknown> = { "\u{10000}": [] };
      (cyclic["\u{10000}"] as unknown[]).push(cyclic);
      return ers.canonicalJsonBytes(cyclic);
    }],
    ["trace-event", () => ers.traceJsonBytes([{ tick: -1 } as unknown as Ers.TraceEvent])],
    ["trendpack", () => viz.ersTraceToTrendpack({ trace: [], runId: "R", tick: -1 })],
  ];
  for (const [name, run] of attempts) {
    out.push([
      `refusal/${name}`,
      attempt(() => {
        run();
        return "accepted";
      }),
    ]);
  }
}

// Metas whose keys are escaped one-character strings: Deno 2.9.6's V8 parses
// such keys wrong (issue 8, item 10), so any JSON text round trip in the core
// would give Deno different bytes from Node and Chromium.
function escapedKeyTrace(): Ers.TraceEvent[] {
  const event = (task: string, meta: unknown) =>
    ({
      tick: 0,
      task,
      lane: "forecast",
      status: "ok",
      cost_ops: 1,
      cost_entropy: 0,
      meta,
    }) as unknown as Ers.TraceEvent;
  return [
    event("a", { " ": 0, "\\": 1 }),
    event("b", { x: [{ " ": 0, '"': 0 }] }),
    event("c", { "\u0000": [{ "\n": 0, "\\": 0 }], "\u001f": { "/": 0 } }),
  ];
}
