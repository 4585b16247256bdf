// Benchmark 2: `traceHashSha256` on the 100,000-event trace `runTick`
// produced, against `JSON.stringify` + TextEncoder + Web Crypto SHA-256 of the
// same events; the same events as an arbitrary caller might build them (keys
// in another order, unfrozen meta); and events whose meta has a second field,
// a shape only the general canonical encoder handles.
//
//   deno bench bench/trace_hash_bench.ts

import { traceHashSha256 } from "../mod.ts";
import {
  arbitraryTrace,
  bareHash,
  generalTrace,
  noopTasks,
  schedulerOf,
  tickOf,
} from "./_fixtures.ts";

const COUNT = 100_000;
const trace = await tickOf(schedulerOf(noopTasks(COUNT)), COUNT);
const arbitrary = arbitraryTrace(trace);
const general = generalTrace(trace);
if (await traceHashSha256(arbitrary) !== await traceHashSha256(trace)) {
  throw new Error("the arbitrary trace must hash as the scheduler's trace does");
}
const group = `hash ${COUNT} events`;

Deno.bench({
  name: "JSON.stringify + TextEncoder + SHA-256",
  group,
  baseline: true,
  fn: async () => {
    await bareHash(trace);
  },
});

Deno.bench({
  name: "traceHashSha256, runTick's trace",
  group,
  fn: async () => {
    await traceHashSha256(trace);
  },
});

Deno.bench({
  name: "traceHashSha256, arbitrary trace (keys shuffled, unfrozen meta)",
  group,
  fn: async () => {
    await traceHashSha256(arbitrary);
  },
});

const generalGroup = `hash ${COUNT} events, general path`;

Deno.bench({
  name: "JSON.stringify + TextEncoder + SHA-256 (meta with a second field)",
  group: generalGroup,
  baseline: true,
  fn: async () => {
    await bareHash(general);
  },
});

Deno.bench({
  name: "traceHashSha256 (meta with a second field: general path)",
  group: generalGroup,
  fn: async () => {
    await traceHashSha256(general);
  },
});
