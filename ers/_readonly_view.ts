// A deep, read-only view of a shadow task's context.
//
// The rule:
// - Every write through the view, at any depth, throws a TypeError, in strict
//   and sloppy code alike (the traps throw themselves: a `set` trap that returns
//   false only throws in strict code). Reads see live values, themselves viewed.
// - `Map` and `Set` answer an allow-list: `get`, `has` (a key read through the
//   view finds the real entry), `size`, `forEach`, `keys`, `values`, `entries`
//   and iteration read the real collection and view what they return; the Set
//   operations that call back into their argument (`isSubsetOf`, `union`,
//   `intersection`, ...) run on a fresh Set of the viewed elements, so the
//   caller's code never receives a real element; any other function member
//   throws. `Date` keeps its
//   getters and refuses every `set*` method.
// - Built-ins are returned as they are: the standard constructors and
//   prototypes (Object, Array, Function, Map, Set, Date, Error, Promise, typed
//   arrays, Iterator, ...) and their methods. A task reaches them without the
//   view anyway, so wrapping them would protect nothing, and would break
//   `instanceof Map`, `Array.isArray` and `list.map(...)`. Everything else is a
//   view, user prototypes, classes and functions included:
//   `Object.getPrototypeOf(view.item).x = 1` throws. So `view.item instanceof
//   Item` is false for a user class (the view's prototype is a view of
//   `Item.prototype`); `view.item instanceof view.item.constructor` is true.
// - A method inherited from a user prototype (`view.item.total()`) runs with
//   the view as `this`, so a write through `this` throws; what it returns is
//   viewed (a promise resolves to a view, an iterator or async generator yields
//   views), and so is
//   what `new` builds from a user class reached through the view. Any other
//   function reached through the view, such as an own property of context data
//   (`ctx.bump = () => state.n++`), a `Map` entry or an accessor taken from a
//   property descriptor, may close over real state that no view can guard, so
//   calling it throws.
// - Not guarded: state that code reaches by closure rather than through the
//   context, such as module-level state a task or a method imports, is not the
//   context. Nor are the built-ins themselves, shared by all code: the view
//   guards the context against writes, not against a task that rewrites them.
//
// Tasks run in this realm, next to the view, and may replace any built-in:
// every built-in the view calls while a task runs (`Reflect.*`, `Object.*`,
// Map, Set, WeakMap, Date and String methods, `Proxy`) is captured when this
// module loads (`_intrinsics.ts`) and called through `apply`. Kinds are told by
// internal slots, never by `instanceof` (which asks `Map[Symbol.hasInstance]`);
// a Map's or Set's contents are read with the captured `forEach` (an
// iterator's `next` lives on a prototype a task can change); `Date`'s `toJSON`
// and `Symbol.toPrimitive` are answered here, as the built-ins look up
// `toISOString` and `valueOf` on the real date.
//
// Each proxy wraps an empty stand-in of the same kind (array, Map, Set, Date,
// function, object) rather than the real value, so Proxy invariants never bind
// to the real value's frozen or non-configurable properties, while
// `Array.isArray` and `typeof` answer as they would for the real value.

import {
  append,
  apply,
  bind,
  construct,
  dateGetTime,
  getOwnPropertyDescriptor,
  getPrototypeOf,
  hasOwn,
  isArray,
  isDate,
  isFinite,
  isMap,
  isPrototypeOf,
  isSet,
  listDone,
  mapForEach,
  mapGet,
  mapHas,
  mapSet,
  newList,
  objectToString,
  ownKeys,
  promiseThen,
  ProxyCtor,
  reflectGet,
  reflectHas,
  setForEach,
  setHas,
  startsWith,
  TypeErrorCtor,
  weakMapGet,
  weakMapSet,
  weakSetAdd,
  weakSetHas,
} from "./_intrinsics.ts";

/** Returns a read-only view of `value`; primitives are returned as they are. */
export function readonlyView<T>(value: T): T {
  return new ViewCache().wrap(value, "the context") as T;
}

// deno-lint-ignore no-explicit-any
type AnyFunction = (...args: any[]) => any;
type Kind = "object" | "map" | "set" | "date";

// %IteratorPrototype%, reached through an array iterator as every engine
// allows: the global `Iterator` and its helpers (ES2025) are missing from
// older engines (Node 20), so they are used only when present.
const ITERATOR_PROTOTYPE: object = Object.getPrototypeOf(
  Object.getPrototypeOf([][Symbol.iterator]()),
);
const INTRINSICS: WeakSet<object> = collectIntrinsics();
const MAP_MEMBERS = functionMembers(Map.prototype);
const SET_MEMBERS = functionMembers(Set.prototype);
const DATE_MEMBERS = functionMembers(Date.prototype);
const PROMISE_PROTOTYPE = Promise.prototype;
const DATE_TO_ISO_STRING = Date.prototype.toISOString;
const DATE_TO_STRING = Date.prototype.toString;
const DATE_VALUE_OF = Date.prototype.valueOf;
const MapCtor = Map;
const SetCtor = Set;
const DateCtor = Date;
const ITERATOR_MAP: AnyFunction | undefined = nativeIteratorMap();
// Map and Set lookups: a key read through the view is looked up as the real
// value it views; what they return is viewed.
const COLLECTION_LOOKUPS = new Set<PropertyKey>(["get", "has"]);
// Set methods that call back into the caller's argument (`other.has(e)`,
// `other.keys()`): they run on a fresh Set of the viewed elements, so the
// caller's code never receives a real element.
const SET_OPERATIONS = new Set<PropertyKey>([
  "isSubsetOf",
  "isSupersetOf",
  "isDisjointFrom",
  "union",
  "intersection",
  "difference",
  "symmetricDifference",
]);
const COLLECTION_ITERATORS = new Set<PropertyKey>(["keys", "values", "entries", Symbol.iterator]);

// The standard constructors and prototypes, and every function they hold.
function collectIntrinsics(): WeakSet<object> {
  const typedArrays = [
    Object.getPrototypeOf(Int8Array),
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    (globalThis as Record<string, unknown>).Float16Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,
  ];
  const errors = [
    Error,
    EvalError,
    RangeError,
    ReferenceError,
    SyntaxError,
    TypeError,
    URIError,
    AggregateError,
  ];
  const roots: unknown[] = [
    ...[Object, Function, Array, Map, Set, WeakMap, WeakSet, Date, RegExp],
    ...[String, Number, Boolean, Symbol, BigInt, Promise, ArrayBuffer],
    (globalThis as Record<string, unknown>).Iterator,
    ...errors,
    ...typedArrays,
  ];
  const holders: unknown[] = [ITERATOR_PROTOTYPE];
  for (const root of roots) {
    if (typeof root === "function") holders.push(root, root.prototype);
  }
  const found = new WeakSet<object>();
  for (const holder of holders) {
    if (!isObject(holder)) continue;
    found.add(holder);
    for (const descriptor of Object.values(Object.getOwnPropertyDescriptors(holder))) {
      for (const member of [descriptor.value, descriptor.get, descriptor.set]) {
        if (typeof member === "function") found.add(member);
      }
    }
  }
  return found;
}

// `Iterator.prototype.map` where the engine has it.
function nativeIteratorMap(): AnyFunction | undefined {
  const map = Reflect.get(ITERATOR_PROTOTYPE, "map");
  return typeof map === "function" ? map : undefined;
}

// `Iterator.prototype.map` applied to `source`, where the engine has it; else
// the same walk as a generator: reads `next` once, maps each value with its
// index, and closes the source when the consumer stops early.
function mapIterator(
  source: Iterator<unknown>,
  mapper: (value: unknown, index: number) => unknown,
): IterableIterator<unknown> {
  if (ITERATOR_MAP !== undefined) return apply(ITERATOR_MAP, source, [mapper]);
  const next: unknown = source.next;
  // As the native helper does, refuse a source without a callable `next` at once.
  if (typeof next !== "function") {
    throw new TypeError("Cannot map an iterator without a next method");
  }
  return (function* mapped() {
    let done = false;
    try {
      for (let index = 0;; index++) {
        const step = apply(next, source, []) as IteratorResult<unknown>;
        if (step.done) {
          done = true;
          return;
        }
        yield mapper(step.value, index);
      }
    } finally {
      const close: unknown = done ? undefined : reflectGet(source, "return");
      if (typeof close === "function") apply(close, source, []);
    }
  })();
}

function isIterator(value: object): boolean {
  return isPrototypeOf(ITERATOR_PROTOTYPE, value);
}

// The items of a list we built, one by one, viewed: a generator of our own
// (its body reads only own properties of `items`, which no task can reach).
function* viewedItems(items: readonly unknown[], view: (item: unknown) => unknown) {
  for (let i = 0; i < items.length; i++) yield view(items[i]);
}

// A Map's entries or a Set's values, read with the captured `forEach`.
function contents(kind: "map" | "set", real: object): unknown[] {
  const items = newList<unknown>();
  if (kind === "map") {
    mapForEach(real as Map<unknown, unknown>, (v, k) => append(items, [k, v]));
  } else setForEach(real as Set<unknown>, (v) => append(items, v));
  return listDone(items);
}

// A prototype's own function-valued members (getters under their own name),
// captured once so that a subclass override never runs on the real value.
function functionMembers(prototype: object): Map<PropertyKey, AnyFunction> {
  const members = new Map<PropertyKey, AnyFunction>();
  for (const key of Reflect.ownKeys(prototype)) {
    if (key === "constructor") continue;
    const descriptor = Reflect.getOwnPropertyDescriptor(prototype, key);
    const member = descriptor?.get ?? descriptor?.value;
    if (typeof member === "function") members.set(key, member);
  }
  return members;
}

function isObject(value: unknown): value is object {
  return (typeof value === "object" || typeof value === "function") && value !== null;
}

function denyWrite(what: PropertyKey): never {
  throw new TypeErrorCtor(
    `Cannot modify the context from a shadow task: the shadow lane only observes (write to ${
      String(what)
    })`,
  );
}

function denyCall(what: PropertyKey): never {
  throw new TypeErrorCtor(
    `Cannot call a function stored in the context from a shadow task: the shadow lane only observes (call of ${
      String(what)
    })`,
  );
}

// Whether `value`, read as `key` from `holder`, is a method: a data property
// of a prototype on `holder`'s chain, not an own property nor a getter's result.
function isInheritedMethod(holder: object, key: PropertyKey, value: unknown): boolean {
  if (hasOwn(holder, key)) return false;
  for (let at = getPrototypeOf(holder); at !== null; at = getPrototypeOf(at)) {
    const descriptor = getOwnPropertyDescriptor(at, key);
    if (descriptor !== undefined) return hasOwn(descriptor, "value") && descriptor.value === value;
  }
  return false;
}

/** The views of one context: each real value gets one view per role. */
class ViewCache {
  #views = new WeakMap<object, object>();
  #refused = new WeakMap<object, Map<PropertyKey, object>>();
  #ownViews = new WeakSet<object>();
  #realOf = new WeakMap<object, object>();

  /** The real value a view views, or `value` itself when it is not a view. */
  unwrap(value: unknown): unknown {
    return isObject(value) ? weakMapGet(this.#realOf, value) ?? value : value;
  }

  /** A view of `value`; a function is one whose calls throw, naming `name`. */
  wrap(value: unknown, name: PropertyKey): unknown {
    if (!isObject(value) || this.#passes(value)) return value;
    if (typeof value !== "function") return this.#viewOf(value, name, true);
    let byName = weakMapGet(this.#refused, value) as Map<PropertyKey, object> | undefined;
    if (byName === undefined) weakMapSet(this.#refused, value, byName = new MapCtor());
    let view = mapGet(byName, name) as object | undefined;
    if (view === undefined) mapSet(byName, name, view = this.#create(value, name, false));
    return view;
  }

  /** The view of `value`, read as `key` from `holder`: methods stay callable. */
  member(holder: object, key: PropertyKey, value: unknown): unknown {
    if (
      typeof value === "function" && !this.#passes(value) && isInheritedMethod(holder, key, value)
    ) return this.#viewOf(value, key, true);
    return this.wrap(value, key);
  }

  /** The view of what a method returned. */
  result(value: unknown, name: PropertyKey): unknown {
    if (!isObject(value) || this.#passes(value)) return value;
    const wrap = (item: unknown) => this.wrap(item, name);
    if (isPrototypeOf(PROMISE_PROTOTYPE, value)) return promiseThen(value, wrap);
    if (isIterator(value)) return mapIterator(value as Iterator<unknown>, wrap);
    if (objectToString(value) === "[object AsyncGenerator]") {
      return viewedAsync(value as AsyncIterable<unknown>, wrap);
    }
    return this.wrap(value, name);
  }

  // Built-ins and our own views are returned as they are.
  #passes(value: object): boolean {
    return weakSetHas(INTRINSICS, value) || weakSetHas(this.#ownViews, value);
  }

  #viewOf(value: object, name: PropertyKey, callable: boolean): object {
    let view = weakMapGet(this.#views, value) as object | undefined;
    if (view === undefined) {
      weakMapSet(this.#views, value, view = this.#create(value, name, callable));
    }
    return view;
  }

  #create(real: object, name: PropertyKey, callable: boolean): object {
    const kind = kindOf(real);
    const view = new ProxyCtor(
      standIn(real, kind),
      new ViewHandler(real, this, name, callable, kind),
    );
    weakSetAdd(this.#ownViews, view);
    weakMapSet(this.#realOf, view, real);
    return view;
  }
}

// An async generator's values, viewed, from a fresh generator of our own (a
// view of the real one could not reach its internal slots).
async function* viewedAsync(source: AsyncIterable<unknown>, wrap: (item: unknown) => unknown) {
  for await (const item of source) yield wrap(item);
}

// By internal slot: a Proxy of a Map, or an object whose prototype is
// `Map.prototype`, is an "object" (the built-in members refuse it anyway).
function kindOf(real: object): Kind {
  if (isMap(real)) return "map";
  if (isSet(real)) return "set";
  if (isDate(real)) return "date";
  return "object";
}

function standIn(real: object, kind: Kind): object {
  // A bound function is callable, constructible when its target is, and has
  // no non-configurable property (unlike a function's `prototype`).
  if (typeof real === "function") return bind(function standIn() {}, null);
  if (isArray(real)) return [];
  if (kind === "map") return new MapCtor();
  if (kind === "set") return new SetCtor();
  if (kind === "date") return new DateCtor(0);
  return {};
}

class ViewHandler implements ProxyHandler<object> {
  readonly #real: object;
  readonly #cache: ViewCache;
  readonly #name: PropertyKey;
  readonly #callable: boolean;
  readonly #kind: Kind;

  constructor(real: object, cache: ViewCache, name: PropertyKey, callable: boolean, kind: Kind) {
    this.#real = real;
    this.#cache = cache;
    this.#name = name;
    this.#callable = callable;
    this.#kind = kind;
  }

  get(_target: object, key: PropertyKey, receiver: unknown): unknown {
    const kind = this.#kind;
    if (kind === "map" || kind === "set") return this.#collectionMember(kind, key, receiver);
    if (kind === "date" && mapHas(DATE_MEMBERS, key)) return this.#dateMember(key);
    return this.#cache.member(this.#real, key, reflectGet(this.#real, key, receiver));
  }

  has(_target: object, key: PropertyKey): boolean {
    return reflectHas(this.#real, key);
  }

  ownKeys(): ArrayLike<string | symbol> {
    return ownKeys(this.#real);
  }

  getOwnPropertyDescriptor(target: object, key: PropertyKey): PropertyDescriptor | undefined {
    const real = getOwnPropertyDescriptor(this.#real, key);
    if (real === undefined) return undefined;
    const cache = this.#cache;
    // A descriptor of our own with no prototype: a `get` or `value` a task put
    // on `Object.prototype` is neither read here nor by the engine.
    const descriptor: PropertyDescriptor = { __proto__: null } as PropertyDescriptor;
    descriptor.enumerable = real.enumerable;
    if (hasOwn(real, "value")) {
      descriptor.value = cache.wrap(real.value, key);
      descriptor.writable = real.writable;
    } else {
      descriptor.get = cache.wrap(real.get, `get ${String(key)}`) as never;
      descriptor.set = cache.wrap(real.set, `set ${String(key)}`) as never;
    }
    // Report what the stand-in can honour: only its own fixed properties (an
    // array's `length`) are non-configurable, and those are writable.
    const fixed = getOwnPropertyDescriptor(target, key);
    descriptor.configurable = fixed === undefined || fixed.configurable === true;
    if (!descriptor.configurable && hasOwn(real, "value")) descriptor.writable = fixed?.writable;
    return descriptor;
  }

  getPrototypeOf(): object | null {
    return this.#cache.wrap(getPrototypeOf(this.#real), "a prototype") as object | null;
  }

  apply(_target: object, thisArg: unknown, args: unknown[]): unknown {
    if (!this.#callable) denyCall(this.#name);
    const result = apply(this.#real as AnyFunction, thisArg, args);
    return this.#cache.result(result, `the result of ${String(this.#name)}()`);
  }

  construct(_target: object, args: unknown[]): object {
    if (!this.#callable) denyCall(this.#name);
    const result = construct(this.#real as AnyFunction, args);
    return this.#cache.result(result, `the result of new ${String(this.#name)}()`) as object;
  }

  set(_target: object, key: PropertyKey): boolean {
    return denyWrite(key);
  }

  defineProperty(_target: object, key: PropertyKey): boolean {
    return denyWrite(key);
  }

  deleteProperty(_target: object, key: PropertyKey): boolean {
    return denyWrite(key);
  }

  setPrototypeOf(): boolean {
    return denyWrite("the prototype");
  }

  preventExtensions(): boolean {
    return denyWrite("extensibility");
  }

  // The allow-list of Map and Set members, each bound to the real collection
  // through the built-in method itself, so that a subclass override never
  // sees the real collection as `this`.
  #collectionMember(kind: "map" | "set", key: PropertyKey, receiver: unknown): unknown {
    const real = this.#real;
    const cache = this.#cache;
    const intrinsic = mapGet(kind === "map" ? MAP_MEMBERS : SET_MEMBERS, key) as
      | AnyFunction
      | undefined;
    const entry = kind === "map" ? "a Map entry" : "a Set entry";
    const view = (item: unknown) => cache.wrap(item, entry);
    const refuse = () => denyWrite(`${kind === "map" ? "Map" : "Set"}.${String(key)}`);
    if (intrinsic === undefined) {
      // Not a built-in member: data reads as usual, `constructor` included.
      const value = reflectGet(real, key, receiver);
      return typeof value === "function" && key !== "constructor"
        ? refuse
        : cache.member(real, key, value);
    }
    if (key === "size") return apply(intrinsic, real, []);
    if (setHas(COLLECTION_LOOKUPS, key)) {
      return (item: unknown) => view(apply(intrinsic, real, [cache.unwrap(item)]));
    }
    if (kind === "set" && setHas(SET_OPERATIONS, key)) {
      return (...args: unknown[]) => {
        const viewed = new SetCtor(viewedItems(contents("set", real), view));
        return view(apply(intrinsic, viewed, args));
      };
    }
    if (setHas(COLLECTION_ITERATORS, key)) {
      return () => viewedItems(contents(kind, real), itemView(kind, key, view));
    }
    if (key === "forEach") {
      const self = cache.wrap(real, entry);
      return (callback: AnyFunction, thisArg?: unknown) =>
        apply(intrinsic, real, [
          (v: unknown, k: unknown) => apply(callback, thisArg, [view(v), view(k), self]),
        ]);
    }
    return refuse;
  }

  // Date's own methods, bound to the real date; every `set*` method throws.
  // `toJSON` and `Symbol.toPrimitive` look up `toISOString` and `valueOf` on
  // their receiver, where a task may have replaced them: they are answered
  // from the captured methods instead.
  #dateMember(key: PropertyKey): unknown {
    if (typeof key === "string" && startsWith(key, "set")) return () => denyWrite(`Date.${key}`);
    const real = this.#real;
    if (key === "toJSON") {
      return () => isFinite(dateGetTime(real)) ? apply(DATE_TO_ISO_STRING, real, []) : null;
    }
    if (key === Symbol.toPrimitive) {
      return (hint: unknown) => {
        if (hint !== "string" && hint !== "default" && hint !== "number") {
          throw new TypeErrorCtor(`Invalid hint: ${String(hint)}`);
        }
        return apply(hint === "number" ? DATE_VALUE_OF : DATE_TO_STRING, real, []);
      };
    }
    const intrinsic = mapGet(DATE_MEMBERS, key) as AnyFunction;
    return (...args: unknown[]) => apply(intrinsic, real, args);
  }
}

// How one item of a collection's contents (a Map's `[key, value]`, a Set's
// value) is viewed by the iterator `key`.
function itemView(
  kind: "map" | "set",
  key: PropertyKey,
  view: (item: unknown) => unknown,
): (item: unknown) => unknown {
  if (kind === "set") return key === "entries" ? (v) => [view(v), view(v)] : view;
  if (key === "keys") return (pair) => view((pair as [unknown, unknown])[0]);
  if (key === "values") return (pair) => view((pair as [unknown, unknown])[1]);
  return (pair) => [view((pair as [unknown, unknown])[0]), view((pair as [unknown, unknown])[1])];
}
