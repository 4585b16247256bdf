// openPipeline(): lanes as actors in Web Workers, inside a deterministic
// sandbox, with the faults a hostile or broken task can cause. Each pipeline
// here is a module written to a temporary directory, as a user writes one.

import assert from "node:assert/strict";
import {
  DeterminismViolationError,
  LaneCrashError,
  type LaneWarning,
  openPipeline,
  type OpenPipelineOptions,
  pipelineTick,
  TaskTimeoutError,
} from "../runtime/mod.ts";
import { hasFlag } from "../runtime/_worker_permissions.ts";
import { denoRun, scoped, snapshot } from "./_tree.ts";

/** Writes `source` as a pipeline module and calls `body` with its path. */
async function withModule(
  source: string,
  body: (file: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/pipeline.js`;
    await Deno.writeTextFile(file, source);
    await body(file, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A pipeline module of `tasks` (JS source of an array) plus extra fields. */
function pipelineSource(tasks: string, extra = ""): string {
  return `export default { tasks: ${tasks}, budgets: { forecast: { ops: 100 }, shadow: { ops: 100 } }, ${extra} };`;
}

const task = (name: string, lane: string, fn: string, priority = 0) =>
  `{ name: ${
    JSON.stringify(name)
  }, lane: "${lane}", priority: ${priority}, costOps: 1, fn: ${fn} }`;

function quiet(warnings: LaneWarning[] = []): OpenPipelineOptions {
  return { onWarning: (warning) => warnings.push(warning) };
}

Deno.test("openPipeline() worker and inline lanes give the same trace and results", async () => {
  const source = pipelineSource(
    `[${
      task("a", "forecast", "(ctx) => { ctx.seen = [...(ctx.seen ?? []), 'a']; return ctx.n * 2; }")
    },
      ${task("b", "forecast", "(ctx) => ctx.seen.join(',')", 1)},
      ${task("s", "shadow", "(ctx) => ctx.seen.length")},
      ${task("boom", "shadow", "() => { throw new RangeError('no'); }", 1)}]`,
    "context: (tick) => ({ n: tick, when: new Date(Date.UTC(2020, 0, tick + 1)) }),",
  );
  await withModule(source, async (file) => {
    await using worker = await openPipeline(file, quiet());
    await using inline = await openPipeline(file, { ...quiet(), isolation: "inline" });
    for (const tick of [0, 1, 7]) {
      const [w, i] = [await worker.runTick(tick), await inline.runTick(tick)];
      assert.deepEqual(w.trace, i.trace);
      assert.deepEqual(w.results, i.results);
      assert.deepEqual(w.remaining, i.remaining);
      assert.equal(w.results.b?.value, "a");
      assert.equal(w.results.s?.value, 1);
      assert.equal(w.results.boom?.error, "RangeError: no");
    }
    assert.equal(worker.isolation, "worker");
    assert.equal(inline.isolation, "inline");
    assert.equal(inline.workerPermissions, null);
  });
});

Deno.test("openPipeline() worker lanes return numbers, other values and errors as inline lanes do, tick after tick", async () => {
  // A lane whose values are all numbers replies with one typed array; a lane
  // with another value or an error replies with lists. Both must read back
  // exactly as inline lanes give them, including -0, NaN and the infinities.
  const source = pipelineSource(
    `[${task("zero", "forecast", "() => -0")}, ${task("nan", "forecast", "() => NaN", 1)},
      ${task("inf", "forecast", "(ctx) => ctx.n % 2 === 0 ? -Infinity : 2.5", 2)},
      ${task("big", "forecast", "() => Number.MAX_VALUE", 3)},
      ${task("text", "shadow", "(ctx) => ctx.n % 2 === 0 ? 'even' : 3")},
      ${
      task(
        "fail",
        "shadow",
        "(ctx) => { if (ctx.n % 3 === 0) throw new Error('third'); return 4; }",
        1,
      )
    }]`,
    "context: (tick) => ({ n: tick }),",
  );
  await withModule(source, async (file) => {
    await using worker = await openPipeline(file, quiet());
    await using inline = await openPipeline(file, { ...quiet(), isolation: "inline" });
    for (const tick of [0, 1, 2, 3, 4]) {
      const [w, i] = [await worker.runTick(tick), await inline.runTick(tick)];
      assert.deepEqual(w.trace, i.trace);
      assert.deepEqual(w.results, i.results);
      assert.ok(Object.is(w.results.zero?.value, -0));
      assert.ok(Number.isNaN(w.results.nan?.value));
      assert.equal(w.results.inf?.value, tick % 2 === 0 ? -Infinity : 2.5);
      assert.equal(w.results.big?.value, Number.MAX_VALUE);
      assert.equal(w.results.text?.value, tick % 2 === 0 ? "even" : 3);
      assert.equal(w.results.fail?.status, tick % 3 === 0 ? "error" : "ok");
      assert.equal(w.results.fail?.error, tick % 3 === 0 ? "Error: third" : null);
    }
  });
});

Deno.test("openPipeline() gives the forecast lane a clone: the caller's context is never written", async () => {
  const source = pipelineSource(
    `[${
      task(
        "write",
        "forecast",
        "(ctx) => { ctx.list.push(3); ctx.map.set('k', 2); return ctx.list.length; }",
      )
    },
      ${
      task(
        "read",
        "shadow",
        "(ctx) => [ctx.list.length, ctx.map.get('k'), ctx.when.getUTCFullYear()]",
      )
    }]`,
  );
  await withModule(source, async (file) => {
    await using pipeline = await openPipeline(file, quiet());
    const context = {
      list: [1, 2],
      map: new Map([["k", 1]]),
      when: new Date(Date.UTC(2021, 5, 1)),
    };
    const out = await pipeline.runTick(0, context);
    assert.equal(out.results.write?.value, 3);
    assert.deepEqual(out.results.read?.value, [3, 2, 2021]);
    assert.deepEqual(context.list, [1, 2]);
    assert.equal(context.map.get("k"), 1);
  });
});

Deno.test("openPipeline() makes the shadow lane's context deeply read-only in its worker, Map, Set and Date included", async () => {
  const writes = [
    "(ctx) => { ctx.x = 1; }",
    "(ctx) => { ctx.nested.list.push(1); }",
    "(ctx) => { ctx.map.set('k', 9); }",
    "(ctx) => { ctx.map.clear(); }",
    "(ctx) => { ctx.set.add(9); }",
    "(ctx) => { ctx.set.delete(1); }",
    "(ctx) => { ctx.when.setTime(0); }",
    "(ctx) => { delete ctx.nested; }",
  ];
  const source = pipelineSource(
    `[${writes.map((fn, i) => task(`w${i}`, "shadow", fn, i)).join(",")},
      ${
      task(
        "after",
        "shadow",
        "(ctx) => [ctx.map.get('k'), ctx.set.has(1), ctx.when.getTime(), ctx.nested.list.length]",
        99,
      )
    }]`,
    "context: () => ({ nested: { list: [1] }, map: new Map([['k', 1]]), set: new Set([1]), when: new Date(5) }),",
  );
  await withModule(source, async (file) => {
    await using pipeline = await openPipeline(file, quiet());
    const out = await pipeline.runTick(0);
    for (let i = 0; i < writes.length; i++) {
      assert.equal(out.results[`w${i}`]?.status, "error", writes[i]);
      assert.match(out.results[`w${i}`]?.error ?? "", /^TypeError: Cannot modify the context/);
    }
    assert.deepEqual(out.results.after?.value, [1, true, 5, 1]);
  });
});

Deno.test("openPipeline() worker lanes keep a shadow task's module state and built-ins away from the forecast lane", async () => {
  // What inline lanes cannot guard: a shadow task that writes module state a
  // forecast task reads, or replaces a built-in the forecast lane uses.
  const source = `
    const state = { flag: "clean" };
    export default {
      tasks: [
        { name: "forecast", lane: "forecast", priority: 0, costOps: 1, fn: () => [state.flag, [1].map((x) => x + 1)[0]] },
        { name: "shadow", lane: "shadow", priority: 0, costOps: 1, fn: () => {
          state.flag = "tampered";
          Array.prototype.map = () => ["tampered"];
          Array.prototype.push = () => 0;
        } },
      ],
    };`;
  await withModule(source, async (file) => {
    await using worker = await openPipeline(file, quiet());
    await worker.runTick(0);
    const second = await worker.runTick(1);
    assert.deepEqual(second.results.forecast?.value, ["clean", 2]);
    assert.deepEqual(second.trace.map((e) => [e.task, e.status]), [["forecast", "ok"], [
      "shadow",
      "ok",
    ]]);
    const map = Array.prototype.map;
    const push = Array.prototype.push;
    try {
      await using inline = await openPipeline(file, { ...quiet(), isolation: "inline" });
      await inline.runTick(0);
      assert.equal(
        Array.prototype.map === map,
        false,
        "inline: the shadow task reached this realm",
      );
      Array.prototype.map = map;
      Array.prototype.push = push;
      assert.deepEqual((await inline.runTick(1)).results.forecast?.value, ["tampered", 2]);
    } finally {
      Array.prototype.map = map;
      Array.prototype.push = push;
    }
  });
});

Deno.test("openPipeline() worker lanes keep serving ticks when tasks replace the promise and typed-array built-ins of their realm", async () => {
  const spoil =
    "Promise.prototype.finally = function () { return this; }; for (const name of ['Float64Array', 'Uint8Array', 'Int32Array']) globalThis[name] = function () { throw new Error('spoiled'); };";
  const source = pipelineSource(
    `[${task("f", "forecast", `(ctx) => { ${spoil} ctx.n = (ctx.n ?? 0) + 1; return ctx.n; }`)}, ${
      task("s", "shadow", `(ctx) => { ${spoil} return ctx.n * 10; }`)
    }]`,
  );
  await withModule(source, async (file) => {
    await using pipeline = await openPipeline(file, quiet());
    const values = [];
    for (let tick = 0; tick < 3; tick++) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`tick ${tick} stalled`)), 20_000);
      });
      try {
        const out = await Promise.race([pipeline.runTick(tick, { n: tick }), stalled]);
        values.push([out.results.f?.value, out.results.s?.value]);
      } finally {
        clearTimeout(timer);
      }
    }
    assert.deepEqual(values, [[1, 10], [2, 20], [3, 30]]);
  });
});

Deno.test("openPipeline() keeps the channel between lane workers and their shared memory away from the pipeline module: a forged hand-over never reaches the shadow lane", async () => {
  // Module code listens to the worker's messages every way it can, and
  // replaces the dispatch a MessagePort delivers through, to grab the channel
  // to the other lane worker and the shared memory; the forecast task then
  // forges a hand-over of another context and writes the shadow lane's round.
  const source = `
    const got = { messages: 0, ports: [], shared: null, round: -1 };
    const grab = (event) => {
      const data = event.data;
      got.messages++;
      if (data?.peer) got.ports.push(data.peer);
      if (data?.port) got.ports.push(data.port);
      if (data?.shared) got.shared = new Int32Array(data.shared);
      if (typeof data?.round === "number") got.round = data.round;
    };
    if ("onmessage" in globalThis) { // only in a lane worker
      addEventListener("message", grab);
      addEventListener("message", grab, { capture: true });
      onmessage = grab;
      const dispatch = EventTarget.prototype.dispatchEvent;
      EventTarget.prototype.dispatchEvent = function (event) {
        if (this instanceof MessagePort) got.ports.push(this);
        return dispatch.call(this, event);
      };
    }
    const seen = () => got.messages + got.ports.length + (got.shared === null ? 0 : 1);
    export default {
      tasks: [
        { name: "f", lane: "forecast", priority: 0, costOps: 1, fn: (ctx) => {
          for (const port of got.ports) {
            port.postMessage({ tick: ctx.tick, round: got.round, context: { n: 999, tick: ctx.tick } });
            port.postMessage({ tick: ctx.tick, round: got.round + 1, context: { n: 998, tick: ctx.tick } });
          }
          if (got.shared !== null) got.shared[1] = got.round + 1;
          try {
            postMessage({ type: "lane.done", round: got.round, statuses: new Uint8Array(1), values: [7], numbers: null, errors: ["forged"] });
          } catch { /* a lane worker refuses it; inline, there is no postMessage */ }
          ctx.n += 1;
          return seen();
        } },
        { name: "s", lane: "shadow", priority: 0, costOps: 1, fn: (ctx) => [ctx.n, seen()] },
      ],
    };`;
  await withModule(source, async (file) => {
    await using worker = await openPipeline(file, quiet());
    await using inline = await openPipeline(file, { ...quiet(), isolation: "inline" });
    for (let tick = 0; tick < 4; tick++) {
      const [w, i] = [
        await worker.runTick(tick, { n: tick, tick }),
        await inline.runTick(tick, { n: tick, tick }),
      ];
      assert.deepEqual(w.results, i.results, `tick ${tick}`);
      assert.deepEqual(w.trace, i.trace, `tick ${tick}`);
      assert.deepEqual(w.results.s?.value, [tick + 1, 0]);
      assert.equal(w.results.f?.value, 0);
    }
  });
});

Deno.test("openPipeline() lane workers take only the messages their supervisor side posts: a task that dispatches a forged batch never feeds the shadow lane", async () => {
  // The forecast task dispatches, on its worker's global scope, batches of
  // every round it can guess with another context, and a memory of its own.
  const source = `
    const forge = (ctx) => {
      if (!("onmessage" in globalThis)) return; // only in a lane worker
      const shared = new SharedArrayBuffer(12);
      dispatchEvent(new MessageEvent("message", { data: { type: "lane.init", shared } }));
      for (let round = 0; round < 12; round++) {
        dispatchEvent(new MessageEvent("message", { data: {
          type: "lane.batch", tick: ctx.tick, round, context: { n: 999, tick: ctx.tick },
          indices: new Uint32Array(0), peer: null,
        } }));
      }
    };
    export default {
      tasks: [
        { name: "f", lane: "forecast", priority: 0, costOps: 1, fn: (ctx) => { forge(ctx); ctx.n += 1; return ctx.n; } },
        { name: "s", lane: "shadow", priority: 0, costOps: 1, fn: (ctx) => ctx.n },
      ],
    };`;
  await withModule(source, async (file) => {
    await using worker = await openPipeline(file, quiet());
    await using inline = await openPipeline(file, { ...quiet(), isolation: "inline" });
    for (let tick = 0; tick < 4; tick++) {
      const [w, i] = [
        await worker.runTick(tick, { n: tick, tick }),
        await inline.runTick(tick, { n: tick, tick }),
      ];
      assert.deepEqual(w.results, i.results, `tick ${tick}`);
      assert.deepEqual([w.results.f?.value, w.results.s?.value], [tick + 1, tick + 1]);
    }
  });
});

Deno.test("openPipeline() ends a shadow lane worker that stops listening and does not take the context, and starts a fresh one", async () => {
  // Setting `onmessage` no longer stops the lane worker's own listener; a
  // timer that never yields, left by the shadow task, does stop it.
  const source = pipelineSource(
    `[${task("f", "forecast", "(ctx) => { if (ctx.how === 'exit') Deno.exit(1); return 1; }")}, ${
      task(
        "s",
        "shadow",
        "(ctx) => { self.onmessage = null; if (ctx.how === 'spin') setTimeout(() => { for (;;); }, 0); return 2; }",
      )
    }]`,
    "limits: { taskTimeoutMs: 300 },",
  );
  await withModule(source, async (file) => {
    await using pipeline = await openPipeline(file, quiet());
    assert.equal((await pipeline.runTick(0)).results.s?.value, 2);
    await assert.rejects(pipeline.runTick(1, { how: "exit" }), LaneCrashError);
    assert.equal((await pipeline.runTick(2, { how: "spin" })).results.s?.value, 2);
    // The shadow worker spins once its timer fires: it never takes the context.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const error = await pipeline.runTick(3).then(() => undefined, (e) => e);
    assert.ok(error instanceof LaneCrashError, String(error));
    assert.deepEqual([error.lane, error.tick, error.task], ["shadow", 3, null]);
    assert.match(error.message, /did not take the forecast lane's context within 300 ms/);
    const out = await pipeline.runTick(4);
    assert.deepEqual([out.results.f?.value, out.results.s?.value], [1, 2]);
  });
});

Deno.test("openPipeline() sandbox forbids the clock and randomness by default, naming the API", async () => {
  const apis = {
    "Date.now()": "() => Date.now()",
    "new Date()": "() => new Date()",
    "Date()": "() => Date()",
    "performance.now()": "() => performance.now()",
    "performance.now()#proto": "() => Performance.prototype.now.call(performance)",
    "Math.random()": "() => Math.random()",
    "crypto.getRandomValues()": "() => crypto.getRandomValues(new Uint8Array(4))",
    "crypto.randomUUID()": "() => crypto.randomUUID()",
    // The engine's own readers of the clock and random sources.
    "Intl.DateTimeFormat.prototype.format()": "() => new Intl.DateTimeFormat('en').format()",
    "Intl.DateTimeFormat.prototype.formatToParts()":
      "() => new Intl.DateTimeFormat('en').formatToParts()",
    "Temporal.Now.instant()": "() => Temporal.Now.instant()",
    "Temporal.Now.plainDateISO()": "() => Temporal.Now.plainDateISO('UTC')",
    "performance.mark()": "() => performance.mark('m').startTime",
    "performance.measure()": "() => performance.measure('m').duration",
    "crypto.subtle.generateKey()":
      "() => crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, true, ['sign'])",
  };
  const allowed = {
    fixed: "() => new Date(2020, 0, 1).getFullYear()",
    utc: "() => Date.UTC(2020, 0, 1)",
    parse: "() => Date.parse('2020-01-01T00:00:00Z')",
    instance: "() => new Date(0) instanceof Date",
    format: "() => new Intl.DateTimeFormat('en', { timeZone: 'UTC' }).format(0)",
    measured: "() => performance.measure('m', { start: 1, end: 3 }).duration",
    worker: "() => new Worker('data:text/javascript,postMessage(Date.now())', { type: 'module' })",
  };
  const entries = [...Object.entries(apis), ...Object.entries(allowed)];
  const source = pipelineSource(
    `[${entries.map(([name, fn], i) => task(name, "forecast", fn, i)).join(",")}]`,
  );
  await withModule(source, async (file) => {
    await using pipeline = await openPipeline(file, quiet());
    const out = await pipeline.runTick(3);
    for (const name of Object.keys(apis)) {
      const api = name.split("#")[0]!;
      assert.equal(out.results[name]?.status, "error", name);
      assert.ok(
        out.results[name]?.error?.startsWith(
          `DeterminismViolationError: ${api} is forbidden in task ${JSON.stringify(name)}`,
        ),
        out.results[name]?.error ?? "",
      );
    }
    assert.deepEqual(
      Object.keys(allowed).map((name) => out.results[name]?.value),
      [2020, Date.UTC(2020, 0, 1), Date.UTC(2020, 0, 1), true, "1/1/1970", 2, null],
    );
    // A worker started from a lane worker would have neither sandbox.
    assert.match(
      out.results.worker?.error ?? "",
      /^TypeError: Cannot start a Worker in task "worker"/,
    );
  });
});

Deno.test("openPipeline() sandbox 'tick' clock and 'seeded' random are the same on every run and differ per tick and task", async () => {
  const source = pipelineSource(
    `[${task("clock", "forecast", "() => [Date.now(), new Date().getTime(), performance.now()]")},
      ${
      task(
        "r1",
        "forecast",
        "() => [Math.random(), crypto.randomUUID(), [...crypto.getRandomValues(new Uint8Array(3))]]",
        1,
      )
    },
      ${task("r2", "forecast", "() => Math.random()", 2)},
      ${
      task(
        "clock2",
        "forecast",
        "() => [new Intl.DateTimeFormat('en', { timeZone: 'UTC', timeStyle: 'medium' }).format(), Temporal.Now.instant().epochMilliseconds, performance.mark('m').startTime, performance.measure('m', { start: 1000 }).duration]",
        3,
      )
    },
      ${task("r3", "shadow", "() => Math.random()")}]`,
    `sandbox: { clock: "tick", random: "seeded", seed: 9 },`,
  );
  await withModule(source, async (file) => {
    const runs = [];
    for (let run = 0; run < 2; run++) {
      await using pipeline = await openPipeline(file, quiet());
      assert.deepEqual(pipeline.sandbox, { clock: "tick", random: "seeded", seed: 9 });
      runs.push([await pipeline.runTick(4), await pipeline.runTick(5)]);
    }
    // deno-lint-ignore no-explicit-any
    type Out = any;
    const [[a4, a5], [b4, b5]] = runs as [[Out, Out], [Out, Out]];
    assert.deepEqual(a4.results, b4.results);
    assert.deepEqual(a5.results, b5.results);
    assert.deepEqual(a4.results.clock.value, [4000, 4000, 4000]);
    assert.deepEqual(a4.results.clock2.value, ["12:00:04 AM", 4000, 4000, 3000]);
    assert.notDeepEqual(a4.results.r1.value, a5.results.r1.value);
    assert.notEqual(a4.results.r1.value[0], a4.results.r2.value);
    assert.match(
      a4.results.r1.value[1],
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    assert.ok(a4.results.r3.value >= 0 && a4.results.r3.value < 1);
  });
});

Deno.test("openPipeline() refuses a module that reads the clock while it loads, naming the API", async () => {
  await withModule(`const t = Date.now();\n${pipelineSource("[]")}`, async (file) => {
    await assert.rejects(
      openPipeline(file, quiet()),
      /Date\.now\(\) is forbidden in task "the pipeline module"/,
    );
  });
  assert.equal(
    new DeterminismViolationError("Math.random()", "t", "random", "").api,
    "Math.random()",
  );
});

Deno.test("openPipeline() times out a task that never settles, naming task and tick, and stays usable", async () => {
  const source = pipelineSource(
    `[${
      task(
        "spin",
        "forecast",
        "(ctx) => { if (ctx.hang === 'sync') for (;;) {} if (ctx.hang === 'async') return new Promise(() => {}); return 'done'; }",
      )
    },
      ${task("watch", "shadow", "() => 'seen'")}]`,
    "limits: { taskTimeoutMs: 250 },",
  );
  await withModule(source, async (file) => {
    await using pipeline = await openPipeline(file, quiet());
    assert.equal(pipeline.limits.taskTimeoutMs, 250);
    for (const hang of ["sync", "async"]) {
      const error = await pipeline.runTick(3, { hang }).then(() => undefined, (e) => e);
      assert.ok(error instanceof TaskTimeoutError, String(error));
      assert.deepEqual([error.task, error.tick, error.timeoutMs], ["spin", 3, 250]);
      const next = await pipeline.runTick(4, { hang: "no" });
      assert.deepEqual(next.trace.map((e) => [e.tick, e.task, e.status]), [[4, "spin", "ok"], [
        4,
        "watch",
        "ok",
      ]]);
    }
  });
});

Deno.test("openPipeline() worker lanes hand the forecast lane's context to the shadow lane, whose timeout starts only then, and start over after a forecast fault", async () => {
  // Each forecast task waits `ctx.wait` ms, within the 250 ms limit: the
  // shadow lane, waiting 450 ms for the context, has no timeout of its own.
  const slow = (exit: string) =>
    `(ctx) => { ${exit} return new Promise((done) => setTimeout(() => { ctx.sum = (ctx.sum ?? 0) + ctx.n; done(ctx.sum); }, ctx.wait)); }`;
  const source = pipelineSource(
    `[${task("f1", "forecast", slow("if (ctx.how === 'exit') Deno.exit(1);"))}, ${
      task("f2", "forecast", slow(""), 1)
    }, ${task("f3", "forecast", slow(""), 2)}, ${task("read", "shadow", "(ctx) => ctx.sum")}]`,
    "limits: { taskTimeoutMs: 250 }, context: (tick) => { if (tick === 9) throw new Error('no context'); return { n: tick, wait: 0 }; },",
  );
  await withModule(source, async (file) => {
    await using pipeline = await openPipeline(file, quiet());
    const sums = [(await pipeline.runTick(2, { n: 2, wait: 150 })).results.read?.value];
    await assert.rejects(pipeline.runTick(9), /Cannot run tick 9: Error: no context/);
    sums.push((await pipeline.runTick(2)).results.read?.value);
    await assert.rejects(pipeline.runTick(2, { how: "exit" }), LaneCrashError);
    sums.push((await pipeline.runTick(2)).results.read?.value);
    sums.push((await pipeline.runTick(3)).results.read?.value);
    assert.deepEqual(sums, [6, 6, 6, 9]);
  });
});

Deno.test("openPipeline() turns Deno.exit(), close() and an escaped error into a LaneCrashError naming the task", async () => {
  const source = pipelineSource(
    `[${
      task(
        "quit",
        "forecast",
        "(ctx) => { if (ctx.how === 'exit') Deno.exit(0); if (ctx.how === 'close') self.close(); if (ctx.how === 'throw') { setTimeout(() => { throw new Error('escaped'); }); return new Promise(() => {}); } return 'stayed'; }",
      )
    },
      ${
      task("watch", "shadow", "(ctx) => { if (ctx.how === 'shadow') Deno.exit(3); return 'seen'; }")
    }]`,
  );
  await withModule(source, async (file) => {
    await using pipeline = await openPipeline(file, quiet());
    for (
      const [how, name, lane, what] of [
        ["exit", "quit", "forecast", /Deno\.exit\(0\)/],
        ["close", "quit", "forecast", /close\(\)/],
        ["throw", "quit", "forecast", /escaped/],
        ["shadow", "watch", "shadow", /Deno\.exit\(3\)/],
      ] as const
    ) {
      const error = await pipeline.runTick(1, { how }).then(() => undefined, (e) => e);
      assert.ok(error instanceof LaneCrashError, `${how}: ${error}`);
      assert.deepEqual([error.task, error.tick, error.lane], [name, 1, lane]);
      assert.match(error.message, what);
      const next = await pipeline.runTick(2, { how: "none" });
      assert.deepEqual(next.results.quit?.value, "stayed");
      assert.deepEqual(next.results.watch?.value, "seen");
    }
  });
});

Deno.test("openPipeline() reports a stray unhandled rejection naming the task, and the tick goes on", async () => {
  const source = pipelineSource(
    `[${
      task(
        "stray",
        "forecast",
        "async () => { Promise.reject(new Error('nobody listens')); await null; return 'fine'; }",
      )
    },
      ${task("after", "forecast", "() => 'also fine'", 1)}]`,
  );
  await withModule(source, async (file) => {
    const warnings: LaneWarning[] = [];
    await using pipeline = await openPipeline(file, quiet(warnings));
    const out = await pipeline.runTick(6);
    assert.equal(out.results.stray?.value, "fine");
    assert.equal(out.results.after?.value, "also fine");
    await pipeline.runTick(7);
    const stray = warnings.filter((w) => w.task === "stray");
    assert.ok(stray.length >= 1, JSON.stringify(warnings));
    assert.deepEqual([stray[0]?.lane, stray[0]?.tick], ["forecast", 6]);
    assert.match(stray[0]?.message ?? "", /unhandled rejection: Error: nobody listens/);
  });
});

Deno.test("openPipeline() names a context or a value that cannot be structured-cloned", async () => {
  const source = pipelineSource(
    `[${task("fn", "forecast", "() => () => 1")}, ${task("ok", "forecast", "() => 1", 1)}]`,
  );
  await withModule(source, async (file) => {
    await using pipeline = await openPipeline(file, quiet());
    await assert.rejects(pipeline.runTick(0, { f: () => 1 }), TypeError);
    const out = await pipeline.runTick(0);
    assert.equal(out.results.fn?.status, "error");
    assert.match(
      out.results.fn?.error ?? "",
      /^DataCloneError: the task's value cannot leave its lane worker/,
    );
    assert.equal(out.results.ok?.value, 1);
  });
});

Deno.test("openPipeline() rejects a bad argument or pipeline, naming it", async () => {
  await assert.rejects(openPipeline("", quiet()), TypeError);
  await assert.rejects(openPipeline(42 as unknown as string, quiet()), TypeError);
  await assert.rejects(openPipeline("x.js", { isolation: "thread" as "worker" }), RangeError);
  await assert.rejects(openPipeline("/nonexistent/pipeline.js", quiet()), /Cannot open pipeline/);
  await withModule(pipelineSource(`[${task("a", "sideways", "() => 1")}]`), async (file) => {
    await assert.rejects(openPipeline(file, quiet()), /tasks\[0\]\.lane/);
    await assert.rejects(
      openPipeline(file, { ...quiet(), isolation: "inline" }),
      /tasks\[0\]\.lane/,
    );
  });
  await withModule(pipelineSource("[]", `sandbox: { clock: "wall" },`), async (file) => {
    await assert.rejects(openPipeline(file, quiet()), RangeError);
  });
  await withModule(pipelineSource("[]", `limits: { taskTimeoutMs: 0 },`), async (file) => {
    await assert.rejects(openPipeline(file, quiet()), /limits\.taskTimeoutMs/);
  });
  await withModule(pipelineSource("[]", `permissions: { disk: true },`), async (file) => {
    await assert.rejects(openPipeline(file, quiet()), /permissions/);
  });
  await withModule("export const x = 1;", async (file) => {
    await assert.rejects(openPipeline(file, quiet()), /no default export/);
  });
});

Deno.test("openPipeline() runs a shadow task in the forecast lane for a tick when overridden", async () => {
  const source = pipelineSource(
    `[${task("candidate", "shadow", "(ctx) => { ctx.touched = true; return 'wrote'; }")},
      ${task("check", "forecast", "(ctx) => ctx.touched === true", 1)}]`,
  );
  await withModule(source, async (file) => {
    await using pipeline = await openPipeline(file, quiet());
    const promoted = await pipeline.runTick(0, {}, { lanes: { candidate: "forecast" } });
    assert.deepEqual(promoted.trace.map((e) => [e.task, e.lane, e.status]), [
      ["candidate", "forecast", "ok"],
      ["check", "forecast", "ok"],
    ]);
    assert.equal(promoted.results.check?.value, true);
    const plain = await pipeline.runTick(1, {});
    assert.equal(plain.results.candidate?.status, "error");
    assert.equal(plain.results.check?.value, false);
  });
});

Deno.test("openPipeline() gives lane workers only the declared permissions", async () => {
  await withModule(
    pipelineSource(
      `[${task("read", "forecast", "(ctx) => Deno.readTextFileSync(ctx.path)")},
        ${task("env", "forecast", "() => Deno.env.get('HOME') !== undefined", 1)}]`,
      "permissions: __PERMISSIONS__,",
    ),
    async (file, dir) => {
      const data = `${dir}/data.txt`;
      await Deno.writeTextFile(data, "hello");
      const source = await Deno.readTextFile(file);
      const cases = [
        [`"none"`, "error", "error"],
        [`{ read: [${JSON.stringify(dir)}] }`, "ok", "error"],
        [`{ read: true, env: ["HOME"] }`, "ok", "ok"],
      ] as const;
      for (const [i, [permissions, read, env]] of cases.entries()) {
        const variant = `${dir}/pipeline_${i}.js`;
        await Deno.writeTextFile(variant, source.replace("__PERMISSIONS__", permissions));
        await using pipeline = await openPipeline(variant, quiet());
        assert.equal(pipeline.workerPermissions, "declared");
        const out = await pipeline.runTick(0, { path: data });
        assert.equal(out.results.read?.status, read, `${permissions}: ${out.results.read?.error}`);
        if (read === "error") {
          assert.match(out.results.read?.error ?? "", /NotCapable|Requires read access/);
        }
        assert.equal(out.results.env?.status, env, `${permissions}: ${out.results.env?.error}`);
      }
    },
  );
});

Deno.test("openPipeline() without --unstable-worker-options inherits permissions and says so once", async () => {
  await withModule(
    pipelineSource(`[${task("read", "forecast", "(ctx) => Deno.readTextFileSync(ctx.path)")}]`),
    async (file, dir) => {
      await Deno.writeTextFile(`${dir}/data.txt`, "inherited");
      const script = `${dir}/main.ts`;
      const runtime = new URL("../runtime/mod.ts", import.meta.url).href;
      await Deno.writeTextFile(
        script,
        `import { openPipeline } from ${JSON.stringify(runtime)};
         for (let i = 0; i < 2; i++) {
           await using p = await openPipeline(${JSON.stringify(file)});
           console.log(p.workerPermissions, (await p.runTick(0, { path: ${
          JSON.stringify(`${dir}/data.txt`)
        } })).results.read?.value);
         }`,
      );
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", "--no-lock", "--allow-read", script],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      assert.equal(stdout, "inherited inherited\ninherited inherited\n");
      assert.equal(stderr.match(/inherit this process's permissions/g)?.length, 1, stderr);
    },
  );
  assert.equal(hasFlag(["deno", "run", "--unstable-worker-options", "x.ts"]), true);
  assert.equal(hasFlag(["deno", "run", "x.ts", "--unstable-worker-options"]), false);
  assert.equal(hasFlag(["deno", "test", "a_test.ts", "--unstable-worker-options"]), true);
});

Deno.test("pipelineTick() writes the same bytes from worker and inline lanes", async () => {
  const demo = new URL("../scripts/_demo_pipeline.ts", import.meta.url);
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  try {
    for (const [i, isolation] of (["worker", "inline"] as const).entries()) {
      await using pipeline = await openPipeline(demo, { ...quiet(), isolation });
      for (let tick = 0; tick < 12; tick++) {
        await pipelineTick({ pipeline, tick, runId: "R", mode: "test", artifactsDir: dirs[i]! });
      }
    }
    const files = async (dir: string) => {
      const found: Record<string, string> = {};
      for await (const entry of Deno.readDir(`${dir}/viz/R`)) {
        found[entry.name] = await Deno.readTextFile(`${dir}/viz/R/${entry.name}`);
      }
      return found;
    };
    const [worker, inline] = [await files(dirs[0]!), await files(dirs[1]!)];
    assert.equal(Object.keys(worker).length, 12);
    assert.deepEqual(worker, inline);
    assert.equal(
      await Deno.readTextFile(`${dirs[0]}/manifests/R.manifest.json`),
      await Deno.readTextFile(`${dirs[1]}/manifests/R.manifest.json`),
    );
  } finally {
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
});

// The RunHeader records the isolation (and so do the RunIndexes and the
// manifest that hash it); every other artifact is the same bytes, and the
// reference set (--compat v0.2) is the same bytes throughout.
Deno.test("ers run and ers invariance give the same bytes and hash with --isolation worker and inline", async () => {
  const dir = await Deno.makeTempDir();
  const ers = new URL("../scripts/ers.ts", import.meta.url);
  const steady = new URL("./fixtures/steady_pipeline.ts", import.meta.url).pathname;
  try {
    const outputs: Record<string, string> = {};
    const perTick = async (out: string) =>
      [...(await snapshot(out))].filter(([path]) => /^(viz|results)\//.test(path));
    for (const isolation of ["worker", "inline"]) {
      for (const pipeline of [[], ["--pipeline", steady]]) {
        for (const compat of [[], ["--compat", "v0.2"]]) {
          const name = `${isolation}${pipeline.length}${compat.length}`;
          const base = `${dir}/worker${pipeline.length}${compat.length}`;
          const run = await denoRun([...scoped(dir), `--allow-read=${steady}`], ers, [
            ...["run", "--out", `${dir}/${name}`, "--run", "R", "--ticks", "6"],
            ...["--isolation", isolation, ...pipeline, ...compat],
          ]);
          assert.equal(run.code, 0, run.stderr);
          assert.equal(run.stderr, "");
          if (compat.length > 0) {
            assert.deepEqual(await snapshot(`${dir}/${name}`), await snapshot(base));
            outputs[`${isolation} run ${pipeline.length}`] = run.stdout;
          } else {
            assert.deepEqual(await perTick(`${dir}/${name}`), await perTick(base));
            assert.ok((await perTick(base)).length >= 12);
          }
        }
      }
      const gate = await denoRun([`--allow-read=${steady}`], ers, [
        "invariance",
        "--pipeline",
        steady,
        "--isolation",
        isolation,
      ]);
      assert.equal(gate.code, 0, gate.stderr);
      outputs[`${isolation} invariance`] = gate.stdout;
    }
    assert.equal(outputs["worker run 0"], outputs["inline run 0"]);
    assert.equal(outputs["worker run 2"], outputs["inline run 2"]);
    assert.equal(outputs["worker invariance"], outputs["inline invariance"]);
    assert.match(outputs["worker invariance"]!, /^ERS INVARIANCE: PASS$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
