// The Chrome Trace Event export (viz/chrome_trace.ts) and `ers export`,
// checked against the Trace Event Format: the JSON Object Format
// (`traceEvents`, `displayTimeUnit`, `otherData`), and per phase the fields
// the format requires (https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU).

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildChromeTrace,
  type ChromeTraceEvent,
  ersTraceToTrendpack,
  renderChromeTrace,
  TRACE_SLOT_US,
  type TraceEvent,
  type TrendPack,
} from "../mod.ts";
import { denoRun } from "./_tree.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

// The instant scopes and metadata names the format defines, and the colour
// names trace viewers reserve (a subset: the ones this export may use).
const INSTANT_SCOPES = ["g", "p", "t"];
const METADATA_NAMES = [
  "process_name",
  "process_labels",
  "process_sort_index",
  "thread_name",
  "thread_sort_index",
];
const RESERVED_COLOURS = ["good", "bad", "terrible", "generic_work", "black", "grey", "white"];

/** Every problem of a Trace Event Format document; empty when it conforms. */
function traceFormatProblems(doc: unknown): string[] {
  const problems: string[] = [];
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return ["not a JSON object"];
  const d = doc as Record<string, unknown>;
  if (!Array.isArray(d.traceEvents)) return ["traceEvents is not an array"];
  if (d.displayTimeUnit !== undefined && !["ms", "ns"].includes(d.displayTimeUnit as string)) {
    problems.push("displayTimeUnit is neither ms nor ns");
  }
  d.traceEvents.forEach((e: Record<string, unknown>, i: number) => {
    const bad = (what: string) => problems.push(`traceEvents[${i}] (${e?.ph}): ${what}`);
    if (typeof e.name !== "string") bad("name is not a string");
    if (typeof e.ph !== "string") {
      bad("ph is not a string");
      return;
    }
    if (typeof e.ts !== "number" || !Number.isFinite(e.ts) || e.ts < 0) bad("ts is not a time");
    if (!Number.isInteger(e.pid)) bad("pid is not an integer");
    if (!Number.isInteger(e.tid)) bad("tid is not an integer");
    if (e.cat !== undefined && typeof e.cat !== "string") bad("cat is not a string");
    if (e.args !== undefined && (typeof e.args !== "object" || Array.isArray(e.args))) {
      bad("args is not an object");
    }
    if (e.cname !== undefined && !RESERVED_COLOURS.includes(e.cname as string)) {
      bad("cname is not reserved");
    }
    switch (e.ph) {
      case "X":
        if (typeof e.dur !== "number" || e.dur < 0) bad("a complete event has no dur");
        break;
      case "i":
      case "I":
        if (e.s !== undefined && !INSTANT_SCOPES.includes(e.s as string)) bad("s is not g, p or t");
        if (e.dur !== undefined) bad("an instant has a dur");
        break;
      case "C": {
        const args = e.args as Record<string, unknown> | undefined;
        if (args === undefined || Object.keys(args).length === 0) bad("a counter has no values");
        else if (!Object.values(args).every((v) => typeof v === "number")) {
          bad("a counter value is not a number");
        }
        break;
      }
      case "M":
        if (!METADATA_NAMES.includes(e.name as string)) bad("unknown metadata name");
        if (typeof e.args !== "object") bad("metadata without args");
        break;
      default:
        bad("a phase this export does not use");
    }
  });
  return problems;
}

function pack(
  tick: number,
  events: [string, "forecast" | "shadow", TraceEvent["status"], number][],
): TrendPack {
  return ersTraceToTrendpack({
    runId: "R",
    tick,
    trace: events.map(([task, lane, status, ops]) => ({
      tick,
      task,
      lane,
      status,
      cost_ops: ops,
      cost_entropy: 1,
      meta: status === "skipped_budget" ? { reason: "budget" } : { tags: ["t"] },
    })),
  });
}

const PACKS = [
  pack(0, [["a", "forecast", "ok", 3], ["b", "forecast", "error", 2], [
    "s",
    "shadow",
    "skipped_budget",
    9,
  ]]),
  pack(1, [["a", "forecast", "ok", 3], ["b", "forecast", "ok", 2], ["s", "shadow", "ok", 1]]),
];

function ofPhase(events: ChromeTraceEvent[], ph: string): ChromeTraceEvent[] {
  return events.filter((e) => e.ph === ph);
}

Deno.test("the checker finds what the Trace Event Format forbids", () => {
  assert.deepEqual(traceFormatProblems({ traceEvents: [] }), []);
  assert.deepEqual(traceFormatProblems([]), ["not a JSON object"]);
  const problems = traceFormatProblems({
    traceEvents: [
      { name: "x", ph: "X", ts: 0, pid: 1, tid: 1 },
      { name: "i", ph: "i", ts: 0, pid: 1, tid: 1, s: "q" },
      { name: "c", ph: "C", ts: 0, pid: 1, tid: 1, args: { v: "1" } },
      { name: "thread_title", ph: "M", ts: 0, pid: 1, tid: 1, args: {} },
      { name: "n", ph: "X", ts: -1, pid: 1.5, tid: 1, dur: 1 },
    ],
  });
  assert.deepEqual(problems, [
    "traceEvents[0] (X): a complete event has no dur",
    "traceEvents[1] (i): s is not g, p or t",
    "traceEvents[2] (C): a counter value is not a number",
    "traceEvents[3] (M): unknown metadata name",
    "traceEvents[4] (X): ts is not a time",
    "traceEvents[4] (X): pid is not an integer",
  ]);
});

Deno.test("buildChromeTrace() conforms to the Trace Event Format", () => {
  const trace = buildChromeTrace({ runId: "R", trendpacks: PACKS });
  assert.deepEqual(traceFormatProblems(JSON.parse(JSON.stringify(trace))), []);
  assert.deepEqual(
    traceFormatProblems(JSON.parse(renderChromeTrace({ runId: "R", trendpacks: PACKS }))),
    [],
  );
});

Deno.test("buildChromeTrace() names one thread track per lane, plus the ticks track", () => {
  const trace = buildChromeTrace({ runId: "R", trendpacks: PACKS });
  const names = ofPhase(trace.traceEvents, "M")
    .filter((e) => e.name === "thread_name")
    .map((e) => [e.tid, e.args?.name]);
  assert.deepEqual(names, [[1, "ticks"], [2, "forecast lane"], [3, "shadow lane"]]);
  const process = trace.traceEvents.find((e) => e.name === "process_name");
  assert.deepEqual(process?.args, { name: "ERS run R" });
  // Every lane event sits on its lane's track.
  for (const e of trace.traceEvents.filter((e) => e.cat === "forecast" || e.cat === "shadow")) {
    assert.equal(e.tid, e.cat === "forecast" ? 2 : 3);
  }
});

Deno.test("buildChromeTrace() times events by tick and execution order, never by a clock", () => {
  const trace = buildChromeTrace({
    runId: "R",
    trendpacks: PACKS,
    results: [{ tick: 0, results: [{ task: "b", status: "error", error: "Error: b failed" }] }],
  });
  const tasks = trace.traceEvents.filter((e) => e.cat === "forecast" || e.cat === "shadow");
  assert.deepEqual(
    tasks.map((e) => [e.name, e.ph, e.ts, e.dur]),
    [
      ["a", "X", 0, TRACE_SLOT_US],
      ["b", "X", 10, TRACE_SLOT_US],
      ["s", "i", 20, undefined],
      ["a", "X", 1000, TRACE_SLOT_US],
      ["b", "X", 1010, TRACE_SLOT_US],
      ["s", "X", 1020, TRACE_SLOT_US],
    ],
  );
  const failed = tasks[1]!;
  assert.deepEqual(failed.args, {
    tick: 0,
    order: 1,
    status: "error",
    cost_ops: 2,
    cost_entropy: 1,
    tags: ["t"],
    error: "Error: b failed",
  });
  assert.equal(failed.cname, "terrible");
  assert.deepEqual(tasks[2]!.args, {
    tick: 0,
    order: 2,
    status: "skipped_budget",
    cost_ops: 9,
    cost_entropy: 1,
    tags: [],
    reason: "budget",
  });
  assert.equal(tasks[2]!.s, "t");
  assert.equal(trace.otherData.tick_us, 1000);
  const ticks = trace.traceEvents.filter((e) => e.cat === "tick");
  assert.deepEqual(ticks.map((e) => [e.name, e.ts, e.dur]), [["tick 0", 0, 30], [
    "tick 1",
    1000,
    30,
  ]]);
});

Deno.test("buildChromeTrace() makes each lane's spend a counter track, ending at zero", () => {
  const trace = buildChromeTrace({ runId: "R", trendpacks: PACKS });
  const counters = ofPhase(trace.traceEvents, "C").map((e) => [e.name, e.ts, e.args]);
  assert.deepEqual(counters, [
    ["forecast budget spent", 0, { ops: 5, entropy: 2 }],
    ["shadow budget spent", 0, { ops: 0, entropy: 0 }],
    ["forecast budget spent", 1000, { ops: 5, entropy: 2 }],
    ["shadow budget spent", 1000, { ops: 1, entropy: 1 }],
    ["forecast budget spent", 2000, { ops: 0, entropy: 0 }],
    ["shadow budget spent", 2000, { ops: 0, entropy: 0 }],
  ]);
});

Deno.test("buildChromeTrace() widens ticks that hold more than 100 events", () => {
  const many = Array.from(
    { length: 150 },
    (_, i): [string, "forecast", "ok", number] => [`t${i}`, "forecast", "ok", 1],
  );
  const trace = buildChromeTrace({ runId: "R", trendpacks: [pack(0, many), pack(3, many)] });
  assert.equal(trace.otherData.tick_us, 2000);
  const last = trace.traceEvents.filter((e) => e.cat === "forecast").at(-1);
  assert.deepEqual([last?.ts, last?.dur], [3 * 2000 + 149 * TRACE_SLOT_US, TRACE_SLOT_US]);
  // No two slices of one track overlap.
  const slices = ofPhase(trace.traceEvents, "X").filter((e) => e.tid === 2);
  for (let i = 1; i < slices.length; i++) {
    assert.ok(slices[i]!.ts >= slices[i - 1]!.ts + slices[i - 1]!.dur!);
  }
});

Deno.test("buildChromeTrace() marks promotion decisions process-wide", () => {
  const trace = buildChromeTrace({
    runId: "R",
    trendpacks: PACKS,
    promotions: [{
      tick: 0,
      task: "s",
      decision: "promoted",
      from: "shadow",
      to: "forecast",
      rule: "w",
    }],
  });
  const mark = trace.traceEvents.find((e) => e.cat === "promotion");
  assert.deepEqual([mark?.name, mark?.ph, mark?.s, mark?.ts], ["promoted s", "i", "p", 1000]);
  assert.deepEqual(traceFormatProblems(trace), []);
});

Deno.test("renderChromeTrace() is deterministic, one event per line", () => {
  const text = renderChromeTrace({ runId: "R", trendpacks: PACKS });
  assert.equal(text, renderChromeTrace({ runId: "R", trendpacks: [...PACKS] }));
  const lines = text.split("\n");
  assert.equal(
    lines.length,
    2 + buildChromeTrace({ runId: "R", trendpacks: PACKS }).traceEvents.length + 1,
  );
  assert.throws(() => renderChromeTrace({ runId: "R", trendpacks: [] }), RangeError);
});

Deno.test("ers export writes the demo run as Trace Event JSON that conforms", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ers_export_" });
  try {
    const flags = [`--allow-read=${dir}`, `--allow-write=${dir}`];
    const ers = (...args: string[]) =>
      denoRun(flags, new URL("../scripts/ers.ts", import.meta.url), args, { cwd: ROOT });
    const out = join(dir, "out");
    assert.equal((await ers("run", "--out", out, "--run", "DEMO", "--ticks", "12")).code, 0);
    const file = join(dir, "trace.json");
    const result = await ers(
      "export",
      out,
      "--run",
      "DEMO",
      "--format",
      "chrome-trace",
      "--out",
      file,
      "--to",
      "5",
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^wrote .*trace\.json: run DEMO, 6 ticks \(0\.\.5\), \d+ (bytes|KiB); verify OK\n$/,
    );
    const text = await Deno.readTextFile(file);
    const doc = JSON.parse(text);
    assert.deepEqual(traceFormatProblems(doc), []);
    const names = new Set(
      doc.traceEvents.filter((e: ChromeTraceEvent) => e.ph === "X" && e.cat !== "tick").map((
        e: ChromeTraceEvent,
      ) => e.name),
    );
    assert.deepEqual([...names].sort(), [
      "oracle:compress",
      "oracle:overlay",
      "oracle:signal",
      "shadow:drift",
      "shadow:sei",
    ]);
    assert.equal(
      doc.traceEvents.filter((e: ChromeTraceEvent) => e.ph === "i" && e.name === "shadow:spectrum")
        .length,
      6,
    );
    const again = await ers(
      "export",
      out,
      "--run",
      "DEMO",
      "--format",
      "chrome-trace",
      "--out",
      file,
      "--to",
      "5",
    );
    assert.equal(again.code, 0);
    assert.equal(await Deno.readTextFile(file), text);
    const bad = await ers("export", out, "--run", "DEMO", "--format", "otlp", "--out", file);
    assert.equal(bad.code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
