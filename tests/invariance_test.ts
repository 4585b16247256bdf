import assert from "node:assert/strict";
import {
  bindCallable,
  DeterministicScheduler,
  dozenRunInvarianceGate,
  type TraceEvent,
} from "../mod.ts";
import { SEED_TRACE_HASH, seedTraceMaker } from "../scripts/_seed.ts";
import { traceEvent } from "./_helpers.ts";

Deno.test("dozenRunInvarianceGate() passes on a deterministic trace with twelve equal hashes", async () => {
  const result = await dozenRunInvarianceGate({ makeTrace: seedTraceMaker() });
  assert.equal(result.ok, true);
  assert.equal(result.hashes.length, 12);
  assert.deepEqual(new Set(result.hashes), new Set([SEED_TRACE_HASH]));
  assert.equal(result.expected_hash, SEED_TRACE_HASH);
  assert.equal(result.first_mismatch_index, null);
  assert.equal(result.divergence, null);
});

Deno.test("dozenRunInvarianceGate() catches a task that throws on every second call", async () => {
  let counter = 0;
  const result = await dozenRunInvarianceGate({
    makeTrace: async () => {
      const s = new DeterministicScheduler();
      s.add(bindCallable({
        name: "task",
        lane: "forecast",
        priority: 0,
        costOps: 1,
        fn: () => {
          counter++;
          if (counter % 2 === 0) throw new Error("Drift induced");
          return { ok: true };
        },
      }));
      return (await s.runTick({ tick: 0, budgetForecast: { ops: 10 }, budgetShadow: { ops: 10 } }))
        .trace;
    },
    runs: 12,
  });
  assert.equal(result.ok, false);
  assert.equal(result.first_mismatch_index, 1);
  assert.equal(result.hashes.length, 12, "every run is made, as the reference does");
  assert.equal(counter, 12);
  assert.equal(result.divergence?.event_index, 0);
  const diff = result.divergence!.diff as { a: TraceEvent; b: TraceEvent };
  assert.equal(diff.a.status, "ok");
  assert.equal(diff.b.status, "error");
  assert.deepEqual(Object.keys(diff.a), [
    "cost_entropy",
    "cost_ops",
    "lane",
    "meta",
    "status",
    "task",
    "tick",
  ]);
});

Deno.test("dozenRunInvarianceGate() reports lengths when one trace is a prefix of the other", async () => {
  const event = traceEvent();
  const result = await dozenRunInvarianceGate({
    makeTrace: (i) => (i === 3 ? [event, event] : [event]),
    runs: 5,
  });
  assert.equal(result.first_mismatch_index, 3);
  assert.deepEqual(result.divergence, { event_index: 1, diff: { a: { _len: 1 }, b: { _len: 2 } } });
});

Deno.test("dozenRunInvarianceGate() refuses bad options, naming the field", async () => {
  await assert.rejects(
    dozenRunInvarianceGate({ makeTrace: () => [], runs: 0 }),
    /'runs' must be an integer from 1 to/,
  );
  await assert.rejects(dozenRunInvarianceGate({ makeTrace: () => [], runs: 1.5 }), RangeError);
  await assert.rejects(
    dozenRunInvarianceGate({ makeTrace: "no" as unknown as () => [] }),
    /'makeTrace' must be a function/,
  );
});
