// Regression tests for a V8 bug in JSON.parse (Deno 2.9.6): once an object
// with keys " " then "\\" exists, JSON.parse returns an escaped one-character
// key that follows " " (such as "\"" or "\u0041") as "\\". ERS must neither
// build canonical structures through a text round trip nor trust JSON.parse
// for anything hashed or compared.
import assert from "node:assert/strict";
import {
  ArtifactWriter,
  canonicalizeTrace,
  dozenRunInvarianceGate,
  type TraceEvent,
  verifyArtifacts,
} from "../mod.ts";
import { readRunManifest, readRunTicks } from "../mod.ts";
import { ersTraceToTrendpack } from "../viz/mod.ts";
import { parseJson } from "../runtime/_json.ts";
import { fc } from "./_deps.ts";
import { traceEvent } from "./_helpers.ts";

// The shape that primes the bug: keys " " then "\\".
const PRIMER = { " ": 0, "\\": 1 };
// A later object whose second key V8 may misread as "\\".
const VICTIM = { " ": 0, '"': 0 };

Deno.test("canonicalizeTrace() keeps escaped one-character keys", () => {
  const trace = [
    traceEvent({ meta: PRIMER }),
    traceEvent({ meta: { x: [VICTIM] } }),
  ] as TraceEvent[];
  const payload = canonicalizeTrace(trace);
  assert.deepEqual(payload.events[0]?.meta, PRIMER);
  assert.deepEqual(payload.events[1]?.meta, { x: [VICTIM] });
  assert.deepEqual(Object.keys((payload.events[1]?.meta as { x: object[] }).x[0]!), [" ", '"']);
});

Deno.test("dozenRunInvarianceGate() reports the drifting events with their own keys", async () => {
  const result = await dozenRunInvarianceGate({
    runs: 2,
    makeTrace: (run) =>
      [
        traceEvent({ meta: PRIMER }),
        traceEvent({ meta: { x: [{ ...VICTIM, '"': run }] } }),
      ] as TraceEvent[],
  });
  assert.equal(result.divergence?.event_index, 1);
  assert.deepEqual(result.divergence?.diff, {
    a: { ...traceEvent(), meta: { x: [{ " ": 0, '"': 0 }] } },
    b: { ...traceEvent(), meta: { x: [{ " ": 0, '"': 1 }] } },
  });
});

Deno.test("ArtifactWriter records extra fields with escaped one-character keys as given", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ers-json-" });
  try {
    const writer = new ArtifactWriter(dir, { durable: false });
    const note = { runId: "R", kind: "note", schema: "Note.v0", obj: {} };
    await writer.writeJson({ ...note, tick: 0, relPath: "notes/R/0.json", extra: PRIMER });
    await writer.writeJson({ ...note, tick: 1, relPath: "notes/R/1.json", extra: VICTIM });
    const { records } = await readRunManifest(dir, "R");
    assert.deepEqual(records.map((record) => record.extra), [PRIMER, VICTIM]);
    assert.match(await Deno.readTextFile(`${dir}/manifests/R.manifest.json`), /\{" ":0,"\\"":0\}/);
    assert.equal((await verifyArtifacts(dir)).ok, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readRunTicks() returns a TrendPack's escaped one-character keys as written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ers-json-" });
  try {
    const provenance = { a: PRIMER, b: VICTIM };
    const trendpack = ersTraceToTrendpack({ trace: [], runId: "R", tick: 0, provenance });
    await new ArtifactWriter(dir, { durable: false }).writeJson({
      runId: "R",
      tick: 0,
      kind: "trendpack",
      schema: "TrendPack.v0",
      obj: trendpack,
      relPath: "viz/R/000000.trendpack.json",
    });
    const [read] = await readRunTicks(dir, await readRunManifest(dir, "R"));
    assert.deepEqual(read?.trendpack.provenance, provenance);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseJson() reads escaped keys right where JSON.parse misreads them", () => {
  const primer = JSON.parse(JSON.stringify(PRIMER));
  assert.deepEqual(Object.keys(primer), [" ", "\\"]);
  assert.deepEqual(Object.keys(parseJson('{" ":0,"\\"":0}') as object), [" ", '"']);
  assert.deepEqual(Object.keys(parseJson('{" ":5,"\\u0041":0}') as object), [" ", "A"]);
});

Deno.test("parseJson() gives what JSON.stringify was given, through the strict parser", () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2, "\t"), (value, space) => {
      // The escaped string sends every text through the strict parser.
      const text = JSON.stringify(["\n", value], null, space);
      assert.equal(JSON.stringify(parseJson(text)), JSON.stringify(["\n", value]));
    }),
    { numRuns: 300 },
  );
});

Deno.test("parseJson() keeps __proto__ an own key and refuses what JSON.parse refuses", () => {
  const parsed = parseJson('{"__proto__":{"x":1},"\\n":2}') as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
  assert.deepEqual(Object.keys(parsed), ["__proto__", "\n"]);
  assert.deepEqual(parseJson('"\\ud800\\u00e9\\/"'), "\ud800\u00e9/");
  const bad = [
    "",
    "[1,]",
    '{"a":1,}',
    "01",
    "1.",
    ".5",
    "-",
    "+1",
    "tru",
    "[1 2]",
    '{"a" 1}',
    "{1:2}",
    "'a'",
    "NaN",
    '"\\x"',
    '"\\u12g4"',
    '"a\tb"',
    '"open',
    "[1] x",
    "[",
    "{",
    '{"a":',
  ];
  for (const fragment of bad) {
    const text = `["\\n",${fragment}]`;
    assert.throws(() => JSON.parse(text), SyntaxError, text);
    assert.throws(() => parseJson(text), SyntaxError, text);
  }
  assert.throws(() => parseJson("[".repeat(600) + '"\\n"' + "]".repeat(600)), /deeper than 512/);
});
