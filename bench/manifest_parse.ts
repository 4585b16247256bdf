// `ManifestModel.parse` of the manifest of a 10,000-tick run (30,001 records,
// shaped like an extended-provenance demo run: ResultsPack, RunIndex and
// TrendPack a tick with their `extra`, and the RunHeader), against
// `JSON.parse` of the same text in the same process, and optionally against
// the parse of an older checkout. Also the same manifest with every record's
// `extra` holding an array (each record then read by the slower pattern for
// any canonical record), and with the last record's `extra` nested 70 deep
// (read to the end, then the checked parse: the worst case). Rounds are
// interleaved; prints medians and the median of per-round ratios.
//
//   git -C /work/main archive 743c1a9 | tar -x -C /tmp/mparse_before   # before the fast parse
//   deno run -A bench/manifest_parse.ts [OLD_CHECKOUT] [--rounds N]

import { ManifestModel, type ManifestRecord } from "../runtime/_manifest.ts";
import { median } from "./_fixtures.ts";

const TICKS = 10_000;
const RUN_ID = "RUN";
const args = [...Deno.args];
const roundsAt = args.indexOf("--rounds");
const ROUNDS = roundsAt >= 0 ? Number(args.splice(roundsAt, 2)[1]) : 15;
const oldRoot = args[0];
type Parse = (runId: string, bytes: Uint8Array) => { length: number };
const oldParse: Parse | undefined = oldRoot === undefined ? undefined : (await import(
  new URL("runtime/_manifest.ts", new URL(`file://${oldRoot.replace(/\/?$/, "/")}`)).href
)).ManifestModel.parse;

// A deterministic stand-in for each artifact's digest.
function hex64(seed: number): string {
  let text = "";
  let x = seed * 2654435761 >>> 0;
  while (text.length < 64) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    text += x.toString(16).padStart(8, "0");
  }
  return text;
}

function manifestBytes(
  more: Record<string, unknown> = {},
  lastExtra?: Record<string, unknown>,
): Uint8Array {
  const records: ManifestRecord[] = [{
    tick: 0,
    kind: "runheader",
    schema: "RunHeader.v0",
    path: `runs/${RUN_ID}.runheader.json`,
    sha256: hex64(0),
    bytes: 557,
  }];
  for (let tick = 0; tick < TICKS; tick++) {
    const name = String(tick).padStart(6, "0");
    const at = (kind: string, schema: string, dir: string, extra: Record<string, unknown>) =>
      records.push({
        tick,
        kind,
        schema,
        path: `${dir}/${RUN_ID}/${name}.${kind}.json`,
        sha256: hex64(records.length),
        bytes: 500 + (tick % 600),
        extra,
      });
    at("resultspack", "ResultsPack.v0", "results", { mode: "bench" });
    at("runindex", "RunIndex.v0", "run_index", { mode: "bench" });
    at("trendpack", "TrendPack.v0", "viz", { ers: "v0.2", mode: "bench" });
  }
  for (const record of records) if (record.extra) Object.assign(record.extra, more);
  if (lastExtra) (records.at(-1) as ManifestRecord).extra = lastExtra;
  const model = new ManifestModel(RUN_ID);
  model.insertAll(records);
  return new TextEncoder().encode(model.toText());
}

const bytes = manifestBytes();
const arrays = manifestBytes({ seeds: [1, 2] });
const deep = manifestBytes({}, { d: JSON.parse(`${"[".repeat(70)}${"]".repeat(70)}`) });
const text = new TextDecoder().decode(bytes);
const cases: [string, () => number][] = [
  ["JSON.parse(text)", () => (JSON.parse(text).records as unknown[]).length],
];
for (
  const [name, parse] of [["this checkout", ManifestModel.parse], [oldRoot, oldParse]] as const
) {
  if (parse === undefined) continue;
  cases.push([`ManifestModel.parse (${name})`, () => parse(RUN_ID, bytes).length]);
  cases.push(["  every extra with an array", () => parse(RUN_ID, arrays).length]);
  cases.push(["  the last extra nested 70 deep", () => parse(RUN_ID, deep).length]);
}

const times = cases.map(() => [] as number[]);
for (let round = -2; round < ROUNDS; round++) {
  // Alternate the order each round, so that neither side always runs first.
  const order = cases.map((_, i) => i);
  if (round % 2 !== 0) order.reverse();
  for (const i of order) {
    const start = performance.now();
    const length = (cases[i] as [string, () => number])[1]();
    const ms = performance.now() - start;
    if (length !== 3 * TICKS + 1) throw new Error(`${cases[i]?.[0]} saw ${length} records`);
    if (round >= 0) times[i]?.push(ms);
  }
}

// The median of the per-round ratios of case `i` to case `j`.
function ratio(i: number, j: number): number {
  const base = times[j] as number[];
  return median((times[i] as number[]).map((t, round) => t / (base[round] as number)));
}

console.log(
  `${3 * TICKS + 1} records, ${bytes.length} bytes, ${ROUNDS} interleaved rounds (medians):`,
);
cases.forEach(([name], i) => {
  console.log(
    `  ${name.padEnd(48)} ${median(times[i] as number[]).toFixed(1).padStart(7)} ms  ${
      ratio(i, 0).toFixed(2).padStart(6)
    }x JSON.parse`,
  );
});
if (oldParse !== undefined) {
  console.log(
    `  this checkout / ${oldRoot}: ${ratio(1, 4).toFixed(2)}x, every extra with an array ${
      ratio(2, 5).toFixed(2)
    }x, the last extra nested 70 deep ${ratio(3, 6).toFixed(2)}x`,
  );
}
