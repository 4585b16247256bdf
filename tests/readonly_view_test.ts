// A shadow task's context is a deep read-only view: every write through it,
// whatever the path (a prototype, a method's result, a Map member, a function
// stored in the context), throws inside the task, which ends as `error` with
// the caller's context untouched; every read still works.

import assert from "node:assert/strict";
import { bindCallable, DeterministicScheduler, type TaskContext, type TaskResult } from "../mod.ts";

// deno-lint-ignore no-explicit-any
type Context = any;

const WRITE = /^TypeError: Cannot modify the context from a shadow task/;
const CALL = /^TypeError: Cannot call a function stored in the context from a shadow task/;

/** Runs each of `tasks` as a shadow task over `context`; returns their results. */
async function runShadow(
  context: TaskContext,
  tasks: Record<string, (ctx: Context) => unknown>,
): Promise<Record<string, TaskResult>> {
  const s = new DeterministicScheduler();
  for (const [name, fn] of Object.entries(tasks)) {
    s.add(bindCallable({ name, lane: "shadow", priority: 0, costOps: 0, fn }));
  }
  const out = await s.runTick({
    tick: 0,
    budgetForecast: { ops: 0 },
    budgetShadow: { ops: 0 },
    context,
  });
  return out.results;
}

const BUILT_IN_PROTOTYPES = new Set<unknown>([
  Object.prototype,
  Function.prototype,
  Array.prototype,
  Map.prototype,
  Set.prototype,
  Date.prototype,
]);

/**
 * Everything a write could reach, deeply: own properties (accessors by their
 * functions), user prototypes, function identities and Map, Set and Date contents.
 */
function snapshot(value: unknown, seen = new Set<object>()): unknown {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return value;
  if (seen.has(value)) return "<seen>";
  seen.add(value);
  const own = Reflect.ownKeys(value).map((key) => {
    const descriptor = Reflect.getOwnPropertyDescriptor(value, key)!;
    const held = "value" in descriptor
      ? snapshot(descriptor.value, seen)
      : [descriptor.get, descriptor.set];
    return [key, held, descriptor.writable, descriptor.configurable];
  });
  const prototype = Reflect.getPrototypeOf(value);
  return {
    identity: typeof value === "function" ? value : undefined,
    own,
    prototype: BUILT_IN_PROTOTYPES.has(prototype) ? prototype : snapshot(prototype, seen),
    contents: value instanceof Map || value instanceof Set
      ? snapshot([...value], seen)
      : value instanceof Date
      ? value.getTime()
      : undefined,
  };
}

/** Asserts that every task ended as an error matching `message`. */
function assertAllFail(results: Record<string, TaskResult>, message: RegExp): void {
  for (const [name, result] of Object.entries(results)) {
    assert.equal(result.status, "error", `${name}: ended ${result.status}`);
    assert.match(result.error ?? "", message, name);
  }
}

class Counter {
  n = 0;
  hello(): string {
    return "hi";
  }
}

function contextWithFunctions() {
  const state = { n: 0 };
  const context = {
    state,
    bump: () => {
      state.n++;
    },
    getState: async () => await Promise.resolve(state),
    *items() {
      yield state;
    },
    handlers: [() => state.n++],
    registry: new Map([["bump", () => state.n++]]),
    get n() {
      return state.n;
    },
    set n(value: number) {
      state.n = value;
    },
  };
  return { state, context };
}

Deno.test("DeterministicScheduler.runTick() makes a shadow task's call of a function stored in the context an error", async () => {
  const { state, context } = contextWithFunctions();
  const before = snapshot(context);
  const results = await runShadow(context, {
    closure: (c) => c.bump(),
    asyncReturn: async (c) => {
      (await c.getState()).n = 100;
    },
    generator: (c) => {
      for (const s of c.items()) s.n = 200;
    },
    arrayElement: (c) => c.handlers[0](),
    arrayForEach: (c) => c.handlers.forEach((f: () => void) => f()),
    boundCopy: (c) => c.bump.bind(null)(),
    viaCall: (c) => Function.prototype.call.call(c.bump, null),
    mapEntry: (c) => c.registry.get("bump")(),
    setterFromDescriptor: (c) => Object.getOwnPropertyDescriptor(c, "n")!.set!.call(c, 5),
  });
  assertAllFail(results, CALL);
  assert.match(results.closure!.error!, /\(call of bump\)$/);
  assert.match(results.arrayElement!.error!, /\(call of 0\)$/);
  assert.match(results.setterFromDescriptor!.error!, /\(call of set n\)$/);
  assert.equal(state.n, 0);
  assert.deepEqual(snapshot(context), before);
});

Deno.test("DeterministicScheduler.runTick() makes a shadow task's write through a prototype, a class or a method an error", async () => {
  const counter = new Counter();
  const context = { counter, obj: { x: 1 } };
  const before = snapshot(context);
  const results = await runShadow(context, {
    protoOfInstance: (c) => {
      Object.getPrototypeOf(c.counter).hello = () => "pwned";
    },
    constructorPrototype: (c) => {
      c.counter.constructor.prototype.polluted = "yes";
    },
    inheritedFnObject: (c) => {
      c.counter.hello.tag = "mutated";
    },
    defineOnPrototype: (c) => Object.defineProperty(Object.getPrototypeOf(c.counter), "x", {}),
    staticOnClass: (c) => {
      c.counter.constructor.count = 1;
    },
    newInstance: (c) => {
      new c.counter.constructor().n = 1;
    },
    direct: (c) => {
      c.counter.n = 999;
    },
  });
  assertAllFail(results, WRITE);
  assert.equal(counter.hello(), "hi");
  assert.equal(Object.hasOwn(Counter.prototype, "polluted"), false);
  assert.deepEqual(snapshot(context), before);
});

Deno.test("DeterministicScheduler.runTick() lets a shadow task only read a Map, a Set or a Date", async () => {
  const item = { n: 0 };
  const context = {
    set: new Set([item]),
    map: new Map<string, unknown>([["k", { n: 0 }]]),
    date: new Date(5),
  };
  const before = snapshot(context);
  const results = await runShadow(context, {
    mapGetOrInsert: (c) => {
      if (typeof c.map.getOrInsert !== "function") throw new Error("no getOrInsert");
      c.map.getOrInsert("new", 1);
    },
    mapGetOrInsertComputed: (c) => c.map.getOrInsertComputed("added", () => 1),
    mapSet: (c) => c.map.set("k", 1),
    setAdd: (c) => c.set.add(1),
    setClear: (c) => c.set.clear(),
    setUnion: (c) => {
      for (const x of c.set.union(new Set())) x.n = 1;
    },
    setIntersection: (c) => {
      for (const x of c.set.intersection(c.set)) x.n += 10;
    },
    unionResult: (c) => c.set.union(new Set()).add(2),
    mapValue: (c) => {
      c.map.get("k").n = 1;
    },
    mapForEach: (c) =>
      c.map.forEach((v: { n: number }) => {
        v.n = 1;
      }),
    mapEntries: (c) => {
      for (const [, v] of c.map) v.n = 1;
    },
    dateSet: (c) => c.date.setTime(0),
    dateSetYear: (c) => c.date.setFullYear(2000),
  });
  assertAllFail(results, WRITE);
  assert.match(results.mapGetOrInsert!.error!, /\(write to Map\.getOrInsert\)$/);
  assert.match(results.dateSet!.error!, /\(write to Date\.setTime\)$/);
  assert.deepEqual(item, { n: 0 });
  assert.deepEqual(snapshot(context), before);
});

Deno.test("DeterministicScheduler.runTick() lets a shadow task call inherited methods, and views what they return", async () => {
  class Account {
    balance = 10;
    owner = { name: "ada" };
    total(): number {
      return this.balance * 2;
    }
    deposit(amount: number): void {
      this.balance += amount;
    }
    ownerOf(): { name: string } {
      return this.owner;
    }
    async ownerLater(): Promise<{ name: string }> {
      return await Promise.resolve(this.owner);
    }
    *owners(): Generator<{ name: string }> {
      yield this.owner;
    }
  }
  const context = { account: new Account() };
  const before = snapshot(context);
  const results = await runShadow(context, {
    read: (c) => [c.account.total(), c.account.ownerOf().name, c.account instanceof Account],
    readAsync: async (c) => (await c.account.ownerLater()).name,
    readIterator: (c) => [...c.account.owners()].map((o) => o.name),
    deposit: (c) => c.account.deposit(5),
    writeResult: (c) => {
      c.account.ownerOf().name = "eve";
    },
    writeAsyncResult: async (c) => {
      (await c.account.ownerLater()).name = "eve";
    },
    writeIteratorResult: (c) => {
      for (const owner of c.account.owners()) owner.name = "eve";
    },
  });
  assert.deepEqual(results.read?.value, [20, "ada", false]);
  assert.equal(results.readAsync?.value, "ada");
  assert.deepEqual(results.readIterator?.value, ["ada"]);
  const { read: _r, readAsync: _a, readIterator: _i, ...writes } = results;
  assertAllFail(writes, WRITE);
  assert.deepEqual(snapshot(context), before);
});

Deno.test("DeterministicScheduler.runTick() lets a shadow task read nested objects, arrays, Maps, Sets and Dates", async () => {
  const context = {
    list: [1, { x: 2 }],
    frozen: Object.freeze([3, 4]),
    map: new Map([["k", { deep: 1 }]]),
    set: new Set([1, 2]),
    date: new Date(5),
    obj: { a: { b: 1 } },
  };
  const results = await runShadow(context, {
    arrays: (c) => [
      Array.isArray(c.list),
      c.list.map((x: unknown) => typeof x),
      c.list[1].x,
      Object.keys(c.frozen),
    ],
    map: (c) => [
      c.map instanceof Map,
      [...c.map.keys()],
      c.map.get("k").deep,
      c.map.has("k"),
      c.map.size,
      [...c.map.values()].map((v: { deep: number }) => v.deep),
    ],
    set: (c) => [
      c.set instanceof Set,
      [...c.set],
      c.set.isSubsetOf(new Set([1, 2, 3])),
      c.set.isDisjointFrom(new Set([3])),
      [...c.set.union(new Set([3]))],
      [...c.set.difference(new Set([1]))],
    ],
    date: (c) => [c.date instanceof Date, c.date.getTime(), c.date.toISOString(), +c.date],
    json: (c) => JSON.stringify(c),
    spread: (c) => JSON.stringify({ ...c.obj }),
  });
  assert.deepEqual(results.arrays?.value, [true, ["number", "object"], 2, ["0", "1"]]);
  assert.deepEqual(results.map?.value, [true, ["k"], 1, true, 1, [1]]);
  assert.deepEqual(results.set?.value, [true, [1, 2], true, true, [1, 2, 3], [2]]);
  assert.deepEqual(results.date?.value, [true, 5, "1970-01-01T00:00:00.005Z", 5]);
  assert.equal(results.json?.value, JSON.stringify(context));
  assert.equal(results.spread?.value, '{"a":{"b":1}}');
});

Deno.test("DeterministicScheduler.runTick() gives a shadow task built-in constructors, prototypes and methods as they are", async () => {
  // A task reaches these without the view, so the view does not wrap them:
  // `Object.prototype` is no more the context through `view.obj.constructor`
  // than through `Object`.
  const context = { obj: { x: 1 }, list: [1], map: new Map() };
  const results = await runShadow(context, {
    builtIns: (c) => [
      c.obj.constructor === Object,
      Object.getPrototypeOf(c.obj) === Object.prototype,
      Object.getPrototypeOf(c.list) === Array.prototype,
      c.list.map === Array.prototype.map,
      c.map.constructor === Map,
    ],
  });
  assert.deepEqual(results.builtIns?.value, [true, true, true, true, true]);
});

Deno.test("a shadow task cannot reach a real Set element through a Set operation's callback", async () => {
  const inner = { n: 0 };
  const context = { s: new Set([inner]) };
  const bump = { size: 100, has: (e: { n: number }) => (e.n++, true), keys: () => [].values() };
  const results = await runShadow(context, {
    isSubsetOf: (ctx) => ctx.s.isSubsetOf(bump),
    intersection: (ctx) => ctx.s.intersection(bump),
    difference: (ctx) => ctx.s.difference(bump),
    isDisjointFrom: (ctx) => ctx.s.isDisjointFrom(bump),
    union: (ctx) => [...ctx.s.union(new Set([1]))].length,
  });
  for (const name of ["isSubsetOf", "intersection", "difference", "isDisjointFrom"]) {
    assert.match(results[name]?.error ?? "", WRITE, name);
  }
  assert.equal(results.union?.value, 2);
  assert.equal(inner.n, 0);
});

Deno.test("a shadow task finds Map and Set entries by keys read through the view", async () => {
  const key = { id: 1 };
  const results = await runShadow({ key, m: new Map([[key, "found"]]), s: new Set([key]) }, {
    read: (ctx) => [ctx.m.get(ctx.key), ctx.m.has(ctx.key), ctx.s.has(ctx.key)],
  });
  assert.deepEqual(results.read?.value, ["found", true, true]);
});

Deno.test("an async generator method of a context object yields views", async () => {
  class Feed {
    async *items() {
      yield { n: 1 };
    }
  }
  const results = await runShadow({ feed: new Feed() }, {
    read: async (ctx) => {
      const seen = [];
      for await (const item of ctx.feed.items()) seen.push(item.n);
      return seen;
    },
    write: async (ctx) => {
      for await (const item of ctx.feed.items()) item.n = 2;
    },
  });
  assert.deepEqual(results.read?.value, [1]);
  assert.match(results.write?.error ?? "", WRITE);
});
