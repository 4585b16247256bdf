import assert from "node:assert/strict";
import {
  compareRecords,
  ManifestModel,
  type ManifestRecord,
  ManifestTail,
  recordText,
} from "../runtime/_manifest.ts";
import { isSafeRelPath } from "../runtime/_paths.ts";
import { canonicalJsonBytes } from "../mod.ts";
import { canonicalJsonString } from "../ers/_canonical.ts";
import { isPlainObject } from "../ers/_validate.ts";
import { parseJson } from "../runtime/_json.ts";
import { fc } from "./_deps.ts";

const decoder = new TextDecoder();

function record(
  tick: number,
  kind: string,
  path: string,
  extra?: Record<string, unknown>,
): ManifestRecord {
  return {
    tick,
    kind,
    schema: `${kind}.v0`,
    path,
    sha256: "a".repeat(64),
    bytes: tick * 3 + path.length,
    extra,
  };
}

function fullRewrite(runId: string, records: ManifestRecord[]): string {
  const sorted = [...records].sort((a, b) =>
    a.tick - b.tick || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) ||
    (a.path < b.path ? -1 : 1)
  );
  return `{"records":[${sorted.map(recordText).join(",")}],"run_id":${
    JSON.stringify(runId)
  },"schema":"Manifest.v0"}`;
}

function applyWrite(file: Uint8Array, offset: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.max(file.length, offset + bytes.length));
  out.set(file);
  out.set(bytes, offset);
  return out;
}

Deno.test("ManifestModel.insert() writes, in any arrival order, exactly the bytes of a full sorted rewrite", () => {
  const arrivals = fc.uniqueArray(
    fc.record({
      tick: fc.nat(40),
      kind: fc.constantFrom("trendpack", "runindex", "é"),
      n: fc.nat(3),
    }),
    { selector: (r) => `${r.tick}/${r.kind}/${r.n}`, minLength: 1, maxLength: 60 },
  );
  fc.assert(
    fc.property(arrivals, (list) => {
      const model = new ManifestModel("RUN-ü");
      let file: Uint8Array = new Uint8Array();
      const seen: ManifestRecord[] = [];
      for (const { tick, kind, n } of list) {
        const r = record(
          tick,
          kind,
          `viz/${tick}/${kind}-${n}.json`,
          n % 2 ? { mode: "ü", n } : undefined,
        );
        const write = model.insertAll([r]);
        assert.equal(write.create, seen.length === 0);
        file = write.create ? write.bytes : applyWrite(file, write.offset, write.bytes);
        seen.push(r);
        assert.equal(decoder.decode(file), fullRewrite("RUN-ü", seen));
        assert.equal(file.length, model.byteLength);
      }
    }),
    { numRuns: 200 },
  );
});

Deno.test("ManifestModel.parse() round-trips and refuses torn, edited or unsorted manifests", () => {
  const model = new ManifestModel("R");
  model.insertAll([
    record(0, "trendpack", "viz/R/000000.trendpack.json", { ers: "v0.2", mode: "p" }),
    record(0, "runindex", "run_index/R/000000.runindex.json"),
  ]);
  const bytes = new TextEncoder().encode(model.toText());
  assert.equal(ManifestModel.parse("R", bytes).toText(), model.toText());
  const text = model.toText();
  const bad: [string, RegExp][] = [
    [text.slice(0, -5), /not valid UTF-8 JSON/],
    [text.replace('"run_id":"R"', '"run_id":"S"'), /'run_id' is not "R"/],
    [JSON.stringify(JSON.parse(text), null, 1), /not in canonical form/],
    [text.replace('"sha256":"aaaa', '"sha256":"zzzz'), /sha256 is not 64 hex digits/],
    [
      decoder.decode(
        canonicalJsonBytes({ ...JSON.parse(text), records: JSON.parse(text).records.reverse() }),
      ),
      /records\[1\] is out of order/,
    ],
    [text.replace('"tick":0}', '"tick":0,"zzz":1}'), /records\[0\] has unknown field 'zzz'/],
    [
      text.replace('"path":"run_index/R/000000.runindex.json"', '"path":"../../etc/passwd"'),
      /records\[0\]\.path is not a relative path inside the artifacts directory/,
    ],
  ];
  for (const [candidate, message] of bad) {
    assert.throws(() => ManifestModel.parse("R", new TextEncoder().encode(candidate)), message);
  }
});

Deno.test("recordText() leaves out an empty extra, as the reference does", () => {
  assert.ok(!recordText(record(1, "k", "p", {})).includes("extra"));
  assert.ok(recordText(record(1, "k", "p", { a: 1 })).includes('"extra":{"a":1}'));
});

Deno.test("ManifestModel.insertAll() writes a batch, in any order, as one write from its first insertion point", () => {
  const batches = fc.array(
    fc.uniqueArray(
      fc.record({ tick: fc.nat(30), kind: fc.constantFrom("trendpack", "runindex") }),
      {
        selector: (r) => `${r.tick}/${r.kind}`,
        minLength: 1,
        maxLength: 4,
      },
    ),
    { minLength: 1, maxLength: 12 },
  );
  fc.assert(
    fc.property(batches, (list) => {
      const model = new ManifestModel("R");
      let file: Uint8Array = new Uint8Array();
      const seen = new Map<string, ManifestRecord>();
      for (const batch of list) {
        const fresh = batch.map(({ tick, kind }) => record(tick, kind, `p/${tick}/${kind}`))
          .filter((r) => !seen.has(r.path));
        if (fresh.length === 0) continue;
        const write = model.insertAll(fresh);
        assert.equal(write.create, seen.size === 0);
        file = write.create ? write.bytes : applyWrite(file, write.offset, write.bytes);
        for (const r of fresh) seen.set(r.path, r);
        assert.equal(decoder.decode(file), fullRewrite("R", [...seen.values()]));
      }
    }),
    { numRuns: 200 },
  );
});

Deno.test("ManifestTail keeping a few records makes, in any arrival order, the same writes as the whole ManifestModel", () => {
  const batches = fc.array(
    fc.uniqueArray(
      fc.record({ tick: fc.nat(30), kind: fc.constantFrom("trendpack", "runindex", "é") }),
      { selector: (r) => `${r.tick}/${r.kind}`, minLength: 1, maxLength: 4 },
    ),
    { minLength: 1, maxLength: 25 },
  );
  fc.assert(
    fc.property(batches, fc.integer({ min: 1, max: 5 }), (list, keep) => {
      const model = new ManifestModel("RUN-ü");
      let tail = new ManifestTail("RUN-ü", keep);
      const recorded = new Set<string>();
      let file: Uint8Array = new Uint8Array();
      for (const batch of list) {
        const records = batch
          .map(({ tick, kind }) => record(tick, kind, `viz/RUN-ü/${tick}-${kind}.json`))
          .filter((r) => !recorded.has(r.path));
        if (records.length === 0) continue;
        // What the store does: a batch sorting before the kept records reads the whole file.
        if (!tail.covers(records)) {
          tail = ManifestTail.of(ManifestModel.parse("RUN-ü", file), keep, model.length);
        }
        const expected = model.insertAll(records);
        assert.deepEqual(tail.insertAll(records), expected);
        file = expected.create ? expected.bytes : applyWrite(file, expected.offset, expected.bytes);
        for (const r of records) recorded.add(r.path);
        assert.equal(tail.byteLength, file.length);
        assert.equal(tail.length, model.length);
        assert.ok(tail.kept <= keep);
        for (const r of model.records()) {
          assert.ok(tail.mayHold(r.path));
          const kept = tail.findKept(r.path);
          if (kept !== undefined) assert.equal(recordText(kept), recordText(r));
        }
      }
      // Rebuilt from the file, the tail continues the same bytes.
      const again = ManifestTail.of(ManifestModel.parse("RUN-ü", file), keep);
      const next = record(31, "trendpack", "viz/RUN-ü/31-trendpack.json");
      assert.deepEqual(again.insertAll([next]), model.insertAll([next]));
    }),
    { numRuns: 300 },
  );
});

Deno.test("ManifestTail fingerprints every recorded path, and no path it was not given among thousands", () => {
  const model = new ManifestModel("R");
  const records = Array.from({ length: 5000 }, (_, i) => record(i, "trendpack", `viz/R/${i}.json`));
  model.insertAll(records);
  const tail = ManifestTail.of(model, 3);
  assert.equal(tail.kept, 3);
  for (const r of records) assert.ok(tail.mayHold(r.path));
  for (let i = 5000; i < 20000; i++) assert.ok(!tail.mayHold(`viz/R/${i}.json`));
  assert.equal(tail.findKept("viz/R/4999.json")?.tick, 4999);
  assert.equal(tail.findKept("viz/R/0.json"), undefined);
});

// ---------------------------------------------------------------------------
// The parse reads a manifest of the common canonical form straight from its
// text, and any other through JSON.parse, the checks, and a comparison with
// the canonical text. These pin down that, either way, it refuses what the
// reference refuses, with the same message.

const SHA_A = "a".repeat(64);
const SHA_B = "0123456789abcdef".repeat(4);
// Records in canonical form: plain, without extra; with a flat extra and
// 2-, 3- and 4-byte characters; at the largest tick; then (R3) with escapes
// and a nested extra, which the text-only read leaves to the checked parse.
const R0 =
  `{"bytes":557,"kind":"runheader","path":"runs/R.runheader.json","schema":"RunHeader.v0","sha256":"${SHA_A}","tick":0}`;
const R1 =
  `{"bytes":1085,"extra":{"ers":"v0.2","mode":"ü","n":-12,"t":true,"z":null},"kind":"trendpack","path":"viz/R/é-😀.json","schema":"TrendPack.v0","sha256":"${SHA_B}","tick":0}`;
const R2 =
  `{"bytes":0,"extra":{"mode":"demo"},"kind":"zz","path":"viz/R/last.json","schema":"S.v0","sha256":"${SHA_A}","tick":9007199254740991}`;
const R3 =
  `{"bytes":1,"extra":{"a":[1,{"b":2,"c":"😀"}],"mode":"ü"},"kind":"zz\\t\\"q\\u001f","path":"viz/R/\\"last\\".json","schema":"S.v0","sha256":"${SHA_B}","tick":9007199254740991}`;
const SUFFIX = `],"run_id":"R","schema":"Manifest.v0"}`;
const PLAIN_BASE = `{"records":[${R0},${R1},${R2}${SUFFIX}`;
const ESCAPED_BASE = `{"records":[${R0},${R1},${R2},${R3}${SUFFIX}`;

// A base manifest with the first `from` replaced by `to`; undefined when it holds no `from`.
function edit(from: string, to: string): (base: string) => string | undefined {
  return (base) => base.includes(from) ? base.replace(from, to) : undefined;
}

// [case, the edit of a base manifest, the message it is refused with]
const REFUSED: [string, (base: string) => string | undefined, string][] = [
  [
    "space after the opening brace",
    edit('{"records"', '{ "records"'),
    "it is not in canonical form",
  ],
  ["space between records", edit(`${R0},`, `${R0}, `), "it is not in canonical form"],
  ["space before a colon", edit('"tick":0}', '"tick" :0}'), "it is not in canonical form"],
  [
    "tab before a key",
    edit(',"kind":"runheader"', ',\t"kind":"runheader"'),
    "it is not in canonical form",
  ],
  ["a leading space", (base) => ` ${base}`, "it is not in canonical form"],
  ["a trailing newline", (base) => `${base}\n`, "it is not in canonical form"],
  // A decoder drops it, but a writer's offsets would then be 3 bytes short.
  ["a leading byte order mark", (base) => `\ufeff${base}`, "it is not in canonical form"],
  [
    "record keys out of order",
    edit(
      '"kind":"runheader","path":"runs/R.runheader.json"',
      '"path":"runs/R.runheader.json","kind":"runheader"',
    ),
    "it is not in canonical form",
  ],
  [
    "extra keys out of order",
    edit('"ers":"v0.2","mode":"ü"', '"mode":"ü","ers":"v0.2"'),
    "it is not in canonical form",
  ],
  [
    "nested extra keys out of order",
    edit('{"b":2,"c":"😀"}', '{"c":"😀","b":2}'),
    "it is not in canonical form",
  ],
  ["1.0 for an integer", edit('"bytes":557,', '"bytes":557.0,'), "it is not in canonical form"],
  ["an exponent", edit('"bytes":557,', '"bytes":5.57e2,'), "it is not in canonical form"],
  ["a capital exponent", edit('"bytes":557,', '"bytes":557E0,'), "it is not in canonical form"],
  ["-0 for a tick", edit('"tick":0}', '"tick":-0}'), "it is not in canonical form"],
  ["-12.0 in extra", edit('"n":-12', '"n":-12.0'), "it is not in canonical form"],
  ["-0 in extra", edit('"n":-12', '"n":-0'), "it is not in canonical form"],
  ["2.0 in a nested extra", edit('"b":2', '"b":2.0'), "it is not in canonical form"],
  [
    "\\u0074 for t",
    edit('"kind":"trendpack"', '"kind":"\\u0074rendpack"'),
    "it is not in canonical form",
  ],
  [
    "\\/ for /",
    edit('"path":"runs/R.runheader.json"', '"path":"runs\\/R.runheader.json"'),
    "it is not in canonical form",
  ],
  ["\\u00e9 for é", edit("viz/R/é", "viz/R/\\u00e9"), "it is not in canonical form"],
  ["a surrogate pair for 😀", edit("é-😀", "é-\\ud83d\\ude00"), "it is not in canonical form"],
  ["\\u00fc for ü in extra", edit('"mode":"ü"', '"mode":"\\u00fc"'), "it is not in canonical form"],
  ["\\u001F for \\u001f", edit("q\\u001f", "q\\u001F"), "it is not in canonical form"],
  ['\\u0022 for \\"', edit('"viz/R/\\"last', '"viz/R/\\u0022last'), "it is not in canonical form"],
  ["\\u0009 for \\t", edit('"zz\\t', '"zz\\u0009'), "it is not in canonical form"],
  [
    "a record key twice",
    edit('"bytes":557,', '"bytes":557,"bytes":557,'),
    "it is not in canonical form",
  ],
  [
    "a record key twice, the last one canonical",
    edit('"bytes":557,', '"bytes":1,"bytes":557,'),
    "it is not in canonical form",
  ],
  [
    "an extra key twice",
    edit('"mode":"demo"', '"mode":"demo","mode":"demo"'),
    "it is not in canonical form",
  ],
  [
    "the schema twice",
    edit(SUFFIX, '],"run_id":"R","schema":"Manifest.v0","schema":"Manifest.v0"}'),
    "it is not in canonical form",
  ],
  [
    "records twice",
    edit('{"records":[', '{"records":[],"records":['),
    "it is not in canonical form",
  ],
  [
    "an empty extra",
    edit('"bytes":557,', '"bytes":557,"extra":{},'),
    "it is not in canonical form",
  ],
  [
    "run_id before records",
    (base) => `{"run_id":"R",${base.slice(1).replace(',"run_id":"R"', "")}`,
    "it is not in canonical form",
  ],
  [
    "schema first",
    (base) => `{"schema":"Manifest.v0",${base.slice(1).replace(',"schema":"Manifest.v0"}', "}")}`,
    "it is not in canonical form",
  ],
  [
    "an unknown top-level key",
    edit(SUFFIX, '],"run_id":"R","schema":"Manifest.v0","z":1}'),
    "it is not in canonical form",
  ],
  ["an escaped run_id", edit('"run_id":"R"', '"run_id":"\\u0052"'), "it is not in canonical form"],
  [
    "another schema",
    edit('"schema":"Manifest.v0"', '"schema":"Manifest.v1"'),
    `'schema' is not "Manifest.v0"`,
  ],
  [
    "a tick past 2^53 - 1",
    edit("9007199254740991", "9007199254740992"),
    "records[2].tick is not a non-negative integer",
  ],
  [
    "a tick of 17 digits",
    edit("9007199254740991", "90071992547409910"),
    "records[2].tick is not a non-negative integer",
  ],
  [
    "a tick of 1e400",
    edit("9007199254740991", "1e400"),
    "records[2].tick is not a non-negative integer",
  ],
  [
    "a lone surrogate",
    edit('"kind":"runheader"', '"kind":"\\ud800"'),
    `Cannot encode canonical JSON as '$.kind' must be a well-formed Unicode string (no lone surrogates): current value is "\\ud800"`,
  ],
  [
    "a capital in sha256",
    edit(`"${SHA_A}","tick":0}`, `"A${SHA_A.slice(1)}","tick":0}`),
    "records[0].sha256 is not 64 hex digits",
  ],
  [
    "a path with ..",
    edit("runs/R.runheader.json", "runs/../R.json"),
    "records[0].path is not a relative path inside the artifacts directory",
  ],
  ["records out of order", edit(`${R0},${R1}`, `${R1},${R0}`), "records[1] is out of order"],
  [
    "a path twice",
    edit(`${R0},`, `${R0},${R0.replace('"runheader"', '"runheader2"')},`),
    "records[1] repeats path runs/R.runheader.json",
  ],
  ["a torn end", (base) => base.slice(0, -1), "it is not valid UTF-8 JSON (torn or edited)"],
  [
    "a lone surrogate in a record in order",
    edit('"kind":"zz"', '"kind":"zz\\ud800"'),
    `Cannot encode canonical JSON as '$.kind' must be a well-formed Unicode string (no lone surrogates): current value is "zz\\ud800"`,
  ],
  [
    "a path with .. in a record with escapes",
    edit('"path":"viz/R/\\"last', '"path":"../\\"last'),
    "records[3].path is not a relative path inside the artifacts directory",
  ],
  [
    "a tick past 2^53 - 1 in a record with escapes",
    edit(`${SHA_B}","tick":9007199254740991`, `${SHA_B}","tick":9007199254740992`),
    "records[3].tick is not a non-negative integer",
  ],
  [
    "a semicolon after a nested extra",
    edit('"mode":"ü"},"kind":"zz', '"mode":"ü"};"kind":"zz'),
    "it is not valid UTF-8 JSON (torn or edited)",
  ],
  [
    "an extra nested 511 deep",
    (base) => base === PLAIN_BASE ? base.replace(R0, deepR0(511)) : undefined,
    `Cannot encode canonical JSON as '$.extra.d${
      "[0]".repeat(510)
    }' is nested deeper than 512 levels`,
  ],
  [
    "an extra nested 511 deep, in a text with escapes (the parser's limit)",
    (base) => base === ESCAPED_BASE ? base.replace(R0, deepR0(511)) : undefined,
    "it is not valid UTF-8 JSON (torn or edited)",
  ],
  [
    "a leading zero",
    edit('"bytes":557,', '"bytes":0557,'),
    "it is not valid UTF-8 JSON (torn or edited)",
  ],
  ["a missing comma", edit(`${R0},`, R0), "it is not valid UTF-8 JSON (torn or edited)"],
  ["a space for a comma", edit(`${R0},`, `${R0} `), "it is not valid UTF-8 JSON (torn or edited)"],
  ["two commas", edit(`${R0},`, `${R0},,`), "it is not valid UTF-8 JSON (torn or edited)"],
  [
    "extra keys in UTF-16 order, not code point order",
    edit('"t":true,"z":null', '"t":true,"z":null,"😀":1,"ｚ":2'),
    "it is not in canonical form",
  ],
];

// R0 with an extra holding arrays nested `depth` deep.
function deepR0(depth: number): string {
  return R0.replace('"kind"', `"extra":{"d":${"[".repeat(depth)}${"]".repeat(depth)}},"kind"`);
}

const ACCEPTED: [string, string][] = [
  ["plain records", PLAIN_BASE],
  [
    "extra keys in code point order",
    PLAIN_BASE.replace('"t":true,"z":null', '"t":true,"z":null,"ｚ":2,"😀":1'),
  ],
  ["escapes and a nested extra", ESCAPED_BASE],
  ["no records", `{"records":[${SUFFIX}`],
  ["an extra nested 70 deep (the checked parse)", `{"records":[${deepR0(70)},${R1}${SUFFIX}`],
  ["an extra nested 510 deep", `{"records":[${deepR0(510)}${SUFFIX}`],
  [
    "extra keys the engine lists first, and __proto__",
    `{"records":[${
      R0.replace('"kind"', '"extra":{"10":1,"2":-3,"__proto__":"😀","é":true},"kind"')
    }${SUFFIX}`,
  ],
];

Deno.test("ManifestModel.parse() refuses every spelling of a manifest but the canonical one, naming what is wrong", () => {
  const encoder = new TextEncoder();
  for (const [name, change, message] of REFUSED) {
    let bases = 0;
    for (const base of [PLAIN_BASE, ESCAPED_BASE]) {
      const text = change(base);
      if (text === undefined) continue;
      bases++;
      assert.throws(
        () => ManifestModel.parse("R", encoder.encode(text)),
        (error: Error) => error.message === message,
        `${name}: ${text}`,
      );
    }
    assert.ok(bases > 0, name);
  }
  for (const [name, text] of ACCEPTED) {
    const bytes = encoder.encode(text);
    const model = ManifestModel.parse("R", bytes);
    assert.equal(model.toText(), text, name);
    if (model.length > 0) assert.equal(model.byteLength, bytes.length, name);
    assert.deepEqual(model.records(), (parseJson(text) as { records: unknown }).records, name);
    for (const record of model.records()) assert.equal(model.find(record.path), record, name);
  }
});

Deno.test("ManifestModel.parse() gives each record its own extra, as JSON.parse does", () => {
  for (const extra of ['{"__proto__":1,"m":"x"}', '{"__proto__":1,"m":["x"]}']) {
    const one = R0.replace('"kind"', `"extra":${extra},"kind"`);
    const two = one.replace('"tick":0', '"tick":1').replace("runs/", "other/");
    const text = `{"records":[${one},${two}${SUFFIX}`;
    const [a, b] = ManifestModel.parse("R", new TextEncoder().encode(text)).records();
    assert.ok(a?.extra && b?.extra && a.extra !== b.extra);
    assert.equal(Object.getPrototypeOf(a.extra), Object.prototype);
    assert.deepEqual(Object.keys(a.extra), ["__proto__", "m"]);
    assert.deepEqual(a.extra, b.extra);
    if (Array.isArray(a.extra.m)) assert.notEqual(a.extra.m, b.extra.m);
  }
});

Deno.test("ManifestModel.parse() refuses bytes that are not UTF-8 exactly where a fatal decoder does", () => {
  const fatal = new TextDecoder("utf-8", { fatal: true });
  const at = PLAIN_BASE.indexOf("runheader.json");
  const head = new TextEncoder().encode(PLAIN_BASE.slice(0, at));
  const tail = new TextEncoder().encode(PLAIN_BASE.slice(at));
  const sequences = [
    [0xc0, 0x80], // overlong NUL
    [0xe0, 0x80, 0xaf], // overlong /
    [0xed, 0xa0, 0x80], // a surrogate
    [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
    [0x80], // a lone continuation byte
    [0xe2, 0x82], // a truncated sequence
    [0xff],
    [0xef, 0xbf, 0xbe], // U+FFFE: valid
    [0xf0, 0x9f, 0x98, 0x80], // U+1F600: valid
  ];
  for (const sequence of sequences) {
    const bytes = new Uint8Array([...head, ...sequence, ...tail]);
    let valid = true;
    try {
      fatal.decode(bytes);
    } catch {
      valid = false;
    }
    if (valid) {
      assert.equal(ManifestModel.parse("R", bytes).byteLength, bytes.length);
    } else {
      assert.throws(() => ManifestModel.parse("R", bytes), /not valid UTF-8 JSON/);
    }
  }
});

Deno.test("ManifestModel.parse() reads records too big for the engine's patterns as the checked parse does", () => {
  // Past about 8.4 million units in a string with an escape, or 2.8 million
  // fields in a flat extra, the engine runs out of backtracking stack.
  const encoder = new TextEncoder();
  const long = R0.replace('"kind":"runheader"', `"kind":"\\t${"a".repeat(9_000_000)}"`);
  const text = `{"records":[${long},${R1}${SUFFIX}`;
  const model = ManifestModel.parse("R", encoder.encode(text));
  assert.equal(model.toText(), text);
  assert.equal(model.byteLength, encoder.encode(text).length);
  assert.equal(model.records()[0]?.kind.length, 9_000_001);
  const fields = Array.from({ length: 3_500_000 }, () => '"a":1').join(",");
  const repeated = R1.replace(/"extra":\{[^}]*\}/, `"extra":{${fields}}`);
  assert.throws(
    () => ManifestModel.parse("R", encoder.encode(`{"records":[${R0},${repeated}${SUFFIX}`)),
    (error: Error) => error.message === "it is not in canonical form",
  );
});

// A fixed-seed linear congruential generator: the same records on every run.
function lcg(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 2 ** 32) * n);
  };
}

const PIECES = [
  "a",
  "trendpack",
  "é",
  "😀",
  "\u2028",
  "\x7f",
  "\t",
  '"',
  "\\",
  "/",
  "\u0000",
  "ü/",
  "10",
  "2",
  "__proto__",
  " ",
  "\ud800",
];

function generatedRecord(rand: (n: number) => number, i: number): ManifestRecord {
  const pick = <T>(items: readonly T[]): T => items[rand(items.length)] as T;
  const text = () => Array.from({ length: rand(4) }, () => pick(PIECES)).join("");
  const value = (depth: number): unknown => {
    switch (rand(depth > 2 ? 5 : 7)) {
      case 0:
        return text();
      case 1:
        return pick([0, -0, 7, -12, 0.5, 1e21, 2.5e-7, 2 ** 53, 123456789012345, 1234567890123456]);
      case 2:
        return pick([true, false, null]);
      case 3:
      case 4:
        return pick(["bench", "v0.2", "demo"]);
      case 5:
        return Array.from({ length: rand(3) }, () => value(depth + 1));
      default: {
        const object: Record<string, unknown> = {};
        for (let k = rand(4); k > 0; k--) {
          Object.defineProperty(object, pick([text(), "b", "a", "10", "2", "__proto__"]), {
            value: value(depth + 1),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return object;
      }
    }
  };
  const record: ManifestRecord = {
    tick: pick([0, 1, i, 9007199254740991]),
    kind: pick(["trendpack", "runindex", "k😀", text()]),
    schema: pick(["TrendPack.v0", text()]),
    path: pick([`viz/R/${i}.json`, `é/${i}`, `😀/${i}`, `a/"${i}"`, `${text()}x/${i}`]),
    sha256: Array.from({ length: 64 }, () => "0123456789abcdef"[rand(16)]).join(""),
    bytes: pick([0, 557, 9007199254740991]),
  };
  const extra = rand(4);
  if (extra > 0) record.extra = (extra === 1 ? {} : value(1)) as Record<string, unknown>;
  return record;
}

// The definition of a record's text, the reference's.
function referenceText(record: ManifestRecord): string {
  const { extra, ...rest } = record;
  return canonicalJsonString(extra && Object.keys(extra).length > 0 ? { ...rest, extra } : rest);
}

function outcome(make: () => string): string {
  try {
    return make();
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

Deno.test("recordText() is the generic canonical JSON of every generated record, or refuses it alike", () => {
  const rand = lcg(12);
  let encoded = 0;
  for (let i = 0; i < 600; i++) {
    const record = generatedRecord(rand, i);
    const expected = outcome(() => referenceText(record));
    assert.equal(outcome(() => recordText(record)), expected, expected);
    if (!expected.includes("Error: ")) encoded++;
  }
  assert.ok(encoded > 300, `only ${encoded} of 600 generated records encode`);
});

Deno.test("recordText() writes only a record's own enumerable fields, each read once, as the generic encoder does", () => {
  const fields = { kind: "k", schema: "S.v0", path: "viz/R/a.json", sha256: SHA_A, bytes: 1 };
  let reads = 0;
  const odd: ManifestRecord[] = [
    Object.assign(Object.create({ tick: 5 }), fields),
    Object.defineProperty({ ...fields }, "tick", { value: 3, enumerable: false }) as ManifestRecord,
    {
      ...fields,
      get tick() {
        return reads++;
      },
    },
  ];
  for (const record of odd) {
    const expected = outcome(() => referenceText(record));
    reads = 0;
    assert.equal(outcome(() => recordText(record)), expected, expected);
  }
});

Deno.test("ManifestModel.parse() round-trips manifests of generated records, with their UTF-8 length", () => {
  const rand = lcg(7);
  const encoder = new TextEncoder();
  for (let m = 0; m < 60; m++) {
    const records = new Map<string, ManifestRecord>();
    for (let i = 0; i < 10; i++) {
      const record = generatedRecord(rand, i);
      if (outcome(() => referenceText(record)).includes("Error: ")) continue;
      const { extra } = record;
      if (extra !== undefined && !isPlainObject(extra)) continue;
      if (extra && Object.keys(extra).length === 0) delete record.extra;
      if (!isSafeRelPath(record.path)) continue;
      records.set(record.path, record);
    }
    // Every other manifest ends with a record the text-only read leaves to the checked parse.
    if (m % 2 === 1) {
      const deep = JSON.parse(`${"[".repeat(70)}${"]".repeat(70)}`);
      records.set("zz", { ...record(1e12, "zz", "zz"), extra: { d: deep } });
    }
    const sorted = [...records.values()].sort(compareRecords);
    const text = `{"records":[${sorted.map(referenceText).join(",")}${SUFFIX}`;
    const bytes = encoder.encode(text);
    const model = ManifestModel.parse("R", bytes);
    assert.equal(model.toText(), text);
    if (model.length > 0) assert.equal(model.byteLength, bytes.length);
    assert.deepEqual(model.records(), (parseJson(text) as { records: unknown }).records);
  }
});

Deno.test("ManifestTail.of() keeps copies of a parsed manifest's records, which share its text", () => {
  const text = `{"records":[${R0},${R1},${R2}${SUFFIX}`;
  const model = ManifestModel.parse("R", new TextEncoder().encode(text));
  const tail = ManifestTail.of(model, 2);
  for (const record of model.records().slice(1)) {
    const kept = tail.findKept(record.path);
    assert.ok(kept !== undefined && kept !== record);
    assert.deepEqual(kept, record);
  }
});
