import assert from "node:assert/strict";
import {
  ManifestModel,
  type ManifestRecord,
  ManifestTail,
  recordText,
} from "../runtime/_manifest.ts";
import { canonicalJsonBytes } from "../mod.ts";
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
