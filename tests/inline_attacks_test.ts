// Hostile shadow tasks in inline lanes: each replaces a built-in the read-only
// view or the trace assembly could call, then works the view every way it
// can, collecting every object the replaced built-in is handed, and writes to
// each. The caller's context and the trace must stay untouched.

import assert from "node:assert/strict";
import { bindCallable, DeterministicScheduler, type TaskContext } from "../mod.ts";
import { pipelineTick } from "../runtime/mod.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

function makeContext(): TaskContext {
  return {
    list: [1, 2, { deep: true }],
    map: new Map<string, unknown>([["k", { v: 1 }]]),
    set: new Set([1, { s: 2 }]),
    when: new Date(Date.UTC(2020, 0, 1)),
    nested: { a: { b: 1 } },
  };
}

// Every way a shadow task reads its context.
function workTheView(ctx: Any): void {
  JSON.stringify(ctx);
  Object.keys(ctx);
  Reflect.ownKeys(ctx.nested);
  Object.getOwnPropertyDescriptors(ctx.nested);
  Object.hasOwn(ctx, "list");
  void (ctx.map instanceof Map);
  ctx.map.get("k");
  ctx.map.has("k");
  for (const [k, v] of ctx.map) void [k, v];
  [...ctx.map.keys(), ...ctx.map.values(), ...ctx.map.entries()];
  ctx.map.forEach(() => {});
  [...ctx.set, ...ctx.set.entries()];
  ctx.set.union(new Set([9]));
  ctx.when.toISOString();
  ctx.when.toJSON();
  `${ctx.when}`;
  void (+ctx.when);
  ctx.list.map((x: unknown) => x);
}

// Writes to every object handed to the attacker.
function writeEverything(seen: Set<unknown>): void {
  for (const target of seen) {
    if ((typeof target !== "object" && typeof target !== "function") || target === null) continue;
    for (
      const write of [
        (t: Any) => t.set("pwned", 1),
        (t: Any) => t.add("pwned"),
        (t: Any) => t.setTime(0),
        (t: Any) => (t.pwned = 1),
        (t: Any) => t.push("pwned"),
        (t: Any) => (t.status = "error"),
      ]
    ) {
      try {
        write(target);
      } catch {
        // a view refuses; keep trying the others
      }
    }
  }
}

interface Attack {
  name: string;
  /** Installs the attack, collecting what it is handed into `seen`; returns the undo. */
  install(seen: Set<unknown>): () => void;
}

function replaceMethod(holder: Any, key: PropertyKey, name: string): Attack {
  return {
    name,
    install(seen) {
      const original = holder[key];
      const descriptor = Object.getOwnPropertyDescriptor(holder, key)!;
      Object.defineProperty(holder, key, {
        ...descriptor,
        value: function (this: unknown, ...args: unknown[]) {
          seen.add(this);
          for (const arg of args) seen.add(arg);
          return Reflect.apply(original, this, args);
        },
      });
      return () => Object.defineProperty(holder, key, descriptor);
    },
  };
}

function replaceGetter(holder: Any, key: PropertyKey, name: string): Attack {
  return {
    name,
    install(seen) {
      const descriptor = Object.getOwnPropertyDescriptor(holder, key)!;
      Object.defineProperty(holder, key, {
        ...descriptor,
        get(this: unknown) {
          seen.add(this);
          return Reflect.apply(descriptor.get!, this, []);
        },
      });
      return () => Object.defineProperty(holder, key, descriptor);
    },
  };
}

const mapIteratorPrototype = Object.getPrototypeOf(new Map()[Symbol.iterator]());
const setIteratorPrototype = Object.getPrototypeOf(new Set()[Symbol.iterator]());

const ATTACKS: Attack[] = [
  replaceMethod(Reflect, "get", "Reflect.get"),
  replaceMethod(Reflect, "ownKeys", "Reflect.ownKeys"),
  replaceMethod(Reflect, "getOwnPropertyDescriptor", "Reflect.getOwnPropertyDescriptor"),
  replaceMethod(Reflect, "apply", "Reflect.apply"),
  replaceMethod(Object, "hasOwn", "Object.hasOwn"),
  {
    name: "Map[Symbol.hasInstance]",
    install(seen) {
      Object.defineProperty(Map, Symbol.hasInstance, {
        configurable: true,
        value: (value: unknown) => {
          seen.add(value);
          return false;
        },
      });
      return () => delete (Map as Any)[Symbol.hasInstance];
    },
  },
  replaceMethod(Date.prototype, "toISOString", "Date.prototype.toISOString"),
  replaceMethod(Date.prototype, "valueOf", "Date.prototype.valueOf"),
  replaceMethod(Date.prototype, "toString", "Date.prototype.toString"),
  replaceMethod(Map.prototype, "get", "Map.prototype.get"),
  replaceMethod(Map.prototype, "has", "Map.prototype.has"),
  replaceMethod(Set.prototype, "has", "Set.prototype.has"),
  replaceMethod(Set.prototype, "add", "Set.prototype.add"),
  replaceMethod(WeakMap.prototype, "get", "WeakMap.prototype.get"),
  replaceMethod(WeakSet.prototype, "has", "WeakSet.prototype.has"),
  replaceMethod(mapIteratorPrototype, "next", "%MapIteratorPrototype%.next"),
  replaceMethod(setIteratorPrototype, "next", "%SetIteratorPrototype%.next"),
  replaceMethod(Array.prototype, "push", "Array.prototype.push"),
  replaceMethod(Array.prototype, "map", "Array.prototype.map"),
  replaceMethod(Function.prototype, "bind", "Function.prototype.bind"),
  replaceMethod(String.prototype, "startsWith", "String.prototype.startsWith"),
  replaceGetter(Map.prototype, "size", "Map.prototype.size"),
  {
    name: "Object.prototype.get and .value",
    install(seen) {
      for (const key of ["get", "value", "set"]) {
        // A descriptor with no prototype: the `get` defined first must not
        // make the next definitions inherit it.
        Object.defineProperty(Object.prototype, key, {
          __proto__: null,
          configurable: true,
          get(this: unknown) {
            seen.add(this);
            return undefined;
          },
        } as PropertyDescriptor);
      }
      return () => {
        for (const key of ["get", "value", "set"]) delete (Object.prototype as Any)[key];
      };
    },
  },
  {
    name: "Array.prototype index setters",
    install(seen) {
      for (let i = 0; i < 8; i++) {
        Object.defineProperty(Array.prototype, i, {
          configurable: true,
          set(this: unknown, value: unknown) {
            seen.add(this);
            seen.add(value);
            Object.defineProperty(this, i, {
              value,
              writable: true,
              enumerable: true,
              configurable: true,
            });
          },
        });
      }
      return () => {
        for (let i = 0; i < 8; i++) delete (Array.prototype as Any)[i];
      };
    },
  },
];

for (const attack of ATTACKS) {
  Deno.test(`inline shadow task that replaces ${attack.name} leaves the context and the trace untouched`, async () => {
    const context = makeContext();
    const before = Deno.inspect(context, { depth: 10 });
    const seen = new Set<unknown>();
    const s = new DeterministicScheduler();
    s.add(
      bindCallable({
        name: "oracle:signal",
        lane: "forecast",
        priority: 0,
        costOps: 1,
        fn: () => 1,
      }),
    );
    s.add(bindCallable({
      name: "shadow:attack",
      lane: "shadow",
      priority: 0,
      costOps: 1,
      fn: (ctx) => {
        const undo = attack.install(seen);
        try {
          try {
            workTheView(ctx);
          } catch {
            // the view may refuse a step; the attack goes on
          }
        } finally {
          undo();
        }
        writeEverything(seen);
      },
    }));
    s.add(
      bindCallable({ name: "shadow:reader", lane: "shadow", priority: 1, costOps: 1, fn: () => 2 }),
    );
    const out = await s.runTick({
      tick: 3,
      budgetForecast: { ops: 5 },
      budgetShadow: { ops: 5 },
      context,
    });
    assert.equal(Deno.inspect(context, { depth: 10 }), before);
    assert.ok(!seen.has(context), "the real context was handed to the attacker");
    assert.deepEqual(
      out.trace.map((e) => [e.tick, e.task, e.status]),
      [[3, "oracle:signal", "ok"], [3, "shadow:attack", out.results["shadow:attack"]!.status], [
        3,
        "shadow:reader",
        "ok",
      ]],
    );
    assert.ok(!seen.has(out.trace), "the trace was handed to the attacker");
    assert.equal(out.results["oracle:signal"]?.status, "ok");
    assert.equal(out.results["oracle:signal"]?.value, 1);
  });
}

Deno.test("inline shadow task that replaces Array.prototype.push cannot rewrite the TrendPack", async () => {
  const dir = await Deno.makeTempDir();
  const push = Array.prototype.push;
  try {
    const pipeline = {
      tasks: [
        { name: "oracle:signal", lane: "forecast" as const, priority: 0, costOps: 1, fn: () => 1 },
        {
          name: "shadow:attack",
          lane: "shadow" as const,
          priority: 0,
          costOps: 1,
          fn: () => {
            Array.prototype.push = function (this: Any[], ...items: unknown[]) {
              for (const item of this) {
                if (item && typeof item === "object" && (item as Any).task === "oracle:signal") {
                  try {
                    (item as Any).status = "error";
                  } catch {
                    // frozen
                  }
                }
              }
              return Reflect.apply(push, this, items);
            };
          },
        },
      ],
    };
    const out = await pipelineTick({
      pipeline,
      tick: 0,
      runId: "R",
      mode: "test",
      artifactsDir: dir,
    });
    Array.prototype.push = push;
    assert.equal(out.results["oracle:signal"]?.status, "ok");
    const trendpack = JSON.parse(await Deno.readTextFile(out.artifacts.trendpack));
    assert.ok(!JSON.stringify(trendpack).includes('"error"'), JSON.stringify(trendpack));
  } finally {
    Array.prototype.push = push;
    await Deno.remove(dir, { recursive: true });
  }
});
