import assert from "node:assert/strict";
import { canonicalJsonBytes } from "../mod.ts";
import { fc } from "./_deps.ts";

const decoder = new TextDecoder();
const text = (value: unknown) => decoder.decode(canonicalJsonBytes(value));

interface ParityCase {
  input: string;
  expected: string;
}

Deno.test("canonicalJsonBytes() matches Python's json.dumps on the golden corpus", async () => {
  const cases: ParityCase[] = JSON.parse(
    await Deno.readTextFile(new URL("./testdata/canonical_json_python.json", import.meta.url)),
  );
  assert.ok(cases.length > 400);
  let refused = 0;
  for (const { input, expected } of cases) {
    let hasBigInteger = false;
    const value = JSON.parse(input, (_key, v) => {
      if (typeof v === "number" && Number.isInteger(v) && Math.abs(v) > 2 ** 53) {
        hasBigInteger = true;
      }
      return v;
    });
    if (hasBigInteger) {
      // Python prints these doubles as floats; JavaScript cannot tell them
      // from integers, so ERS refuses them rather than guess.
      assert.throws(() => text(value), /within ±2\^53/);
      refused++;
    } else {
      assert.equal(text(value), expected, `input ${input}`);
    }
  }
  assert.ok(refused < cases.length / 10, `${refused} refused`);
});

Deno.test("canonicalJsonBytes() sorts keys by code point, not UTF-16 unit", () => {
  // U+FFFF sorts before U+10000 by code point, after it by UTF-16 unit.
  assert.equal(text({ "\u{10000}": 1, "\uffff": 2, "a": 3 }), '{"a":3,"\uffff":2,"\u{10000}":1}');
});

Deno.test("canonicalJsonBytes() writes floats as Python's repr", () => {
  assert.equal(
    text([1e-5, 2.5e-7, 1e-4, 0.5, -1.5e-10, 5e-324]),
    "[1e-05,2.5e-07,0.0001,0.5,-1.5e-10,5e-324]",
  );
  assert.equal(text(-0), "0");
  assert.equal(text(2 ** 53), "9007199254740992");
});

Deno.test("canonicalJsonBytes() escapes only what Python escapes", () => {
  assert.equal(
    text('\u0000\u001f\u007f\u2028\u2029"\\\n'),
    '"\\u0000\\u001f\u007f\u2028\u2029\\"\\\\\\n"',
  );
  assert.deepEqual([...canonicalJsonBytes("é")], [0x22, 0xc3, 0xa9, 0x22]);
});

Deno.test("canonicalJsonBytes() leaves out undefined properties and nulls undefined items", () => {
  assert.equal(text({ a: undefined, b: [undefined, 1] }), '{"b":[null,1]}');
});

Deno.test("canonicalJsonBytes() refuses values Python could not write, naming the path", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const cases: [
    unknown,
    ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor,
    RegExp,
  ][] = [
    [{ x: NaN }, RangeError, /'\$\.x' must be a finite number: current value is NaN/],
    [{ x: [Infinity] }, RangeError, /'\$\.x\[0\]'/],
    [{ x: -Infinity }, RangeError, /finite/],
    [{ x: 2 ** 53 + 2 }, RangeError, /within ±2\^53/],
    [{ "odd key": "\ud800" }, RangeError, /'\$\["odd key"\]' must be a well-formed/],
    [{ ["\udc00"]: 1 }, RangeError, /well-formed/],
    [cyclic, TypeError, /'\$\.self' refers back to itself/],
    [{ f: () => 1 }, TypeError, /'\$\.f' must be a JSON value/],
    [{ s: Symbol("s") }, TypeError, /Symbol\(s\)/],
    [{ b: 1n }, TypeError, /1n/],
    [{ d: new Date(0) }, TypeError, /plain object or array: current value is an instance of Date/],
    [{ m: new Map() }, TypeError, /Map/],
    [{ c: new (class Point {})() }, TypeError, /Point/],
    [undefined, TypeError, /'\$' must be a JSON value/],
  ];
  for (const [value, type, message] of cases) {
    assert.throws(() => canonicalJsonBytes(value), (error: unknown) => {
      assert.ok(error instanceof type, `${String(error)} is a ${type.name}`);
      assert.match((error as Error).message, message);
      return true;
    });
  }
});

Deno.test("canonicalJsonBytes() accepts shared (acyclic) references and null-prototype objects", () => {
  const shared = { v: 1 };
  const bare = Object.assign(Object.create(null), { k: shared });
  assert.equal(text([shared, shared, bare]), '[{"v":1},{"v":1},{"k":{"v":1}}]');
});

Deno.test("canonicalJsonBytes() bounds nesting depth", () => {
  let deep: unknown = 0;
  for (let i = 0; i < 600; i++) deep = [deep];
  assert.throws(() => canonicalJsonBytes(deep), /nested deeper than 512 levels/);
});

Deno.test("canonicalJsonBytes() agrees with JSON.stringify on key-sorted integer data", () => {
  const sortKeys = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sortKeys);
    if (value && typeof value === "object") {
      const sorted = Object.keys(value).filter((k) => !/^\d+$/.test(k)).sort();
      return Object.fromEntries(
        sorted.map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
      );
    }
    return value;
  };
  const ascii = fc.string({ unit: fc.constantFrom(..."abcXYZ_:-019 ") });
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 3 }).map(sortKeys), ascii, (value, key) => {
    const safe = JSON.parse(
      JSON.stringify(
        { [`k${key}`]: value },
        (_k, v) => typeof v === "number" ? Math.trunc(v) % 1e9 : v,
      ),
    );
    assert.equal(text(safe), JSON.stringify(sortKeys(safe)));
  }));
});
