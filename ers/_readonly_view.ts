// A deep, read-only view of a shadow task's context.
//
// Every write through the view, at any depth, throws a TypeError, in strict
// and sloppy code alike (a Proxy `set` trap that returns false only throws in
// strict code, so the traps here throw themselves). Reads see live values.
//
// Each proxy wraps an empty stand-in of the same kind (array, Map, Set, Date,
// object) rather than the real object, so Proxy invariants never bind to the
// real object's frozen or non-configurable properties, while `Array.isArray`
// and `instanceof` still answer as they would for the real value. Inherited
// methods are returned as they are (they see the view as `this`); functions
// stored in the context are wrapped, and what they return is viewed too.

type AnyObject = Record<PropertyKey, unknown>;

/** Returns a read-only view of `value`; primitives are returned as they are. */
export function readonlyView<T>(value: T): T {
  return new ViewCache().wrap(value) as T;
}

function denyWrite(what: PropertyKey | string): never {
  throw new TypeError(
    `Cannot modify the context from a shadow task: the shadow lane only observes (write to ${
      String(what)
    })`,
  );
}

class ViewCache {
  #views = new WeakMap<object, object>();
  #ownViews = new WeakSet<object>();

  wrap(value: unknown): unknown {
    if ((typeof value !== "object" && typeof value !== "function") || value === null) return value;
    if (this.#ownViews.has(value)) return value;
    const cached = this.#views.get(value);
    if (cached) return cached;
    const view = typeof value === "function"
      ? new Proxy(value as AnyFunction, new FunctionHandler(this))
      : new Proxy(standIn(value), new ObjectHandler(value, this));
    this.#views.set(value, view);
    this.#ownViews.add(view);
    return view;
  }
}

function standIn(value: object): object {
  if (Array.isArray(value)) return [];
  if (value instanceof Map) return new Map();
  if (value instanceof Set) return new Set();
  if (value instanceof Date) return new Date(0);
  return {};
}

const MAP_SET_MUTATORS = new Set<PropertyKey>(["set", "add", "delete", "clear"]);

class ReadonlyTraps {
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
}

class ObjectHandler extends ReadonlyTraps implements ProxyHandler<object> {
  #real: AnyObject;
  #cache: ViewCache;

  constructor(real: object, cache: ViewCache) {
    super();
    this.#real = real as AnyObject;
    this.#cache = cache;
  }

  get(_target: object, key: PropertyKey, receiver: unknown): unknown {
    const real = this.#real;
    if (real instanceof Map || real instanceof Set) return this.#collectionMember(key);
    if (real instanceof Date) return this.#dateMember(key);
    const value = Reflect.get(real, key, receiver);
    // Inherited methods (Array.prototype.map, class methods) reach the context
    // only through `this`, which is the view, and return fresh values: they
    // need no wrapper. Own functions may close over real state: wrap them.
    if (typeof value === "function" && !Object.hasOwn(real, key)) return value;
    return this.#cache.wrap(value);
  }

  has(_target: object, key: PropertyKey): boolean {
    return Reflect.has(this.#real, key);
  }

  ownKeys(): ArrayLike<string | symbol> {
    return Reflect.ownKeys(this.#real);
  }

  getOwnPropertyDescriptor(target: object, key: PropertyKey): PropertyDescriptor | undefined {
    const descriptor = Reflect.getOwnPropertyDescriptor(this.#real, key);
    if (descriptor === undefined) return undefined;
    if ("value" in descriptor) descriptor.value = this.#cache.wrap(descriptor.value);
    // Report what the stand-in can honour: only its own fixed properties (an
    // array's `length`) may be reported as non-configurable.
    const fixed = Reflect.getOwnPropertyDescriptor(target, key);
    descriptor.configurable = fixed === undefined ? true : fixed.configurable;
    return descriptor;
  }

  getPrototypeOf(): object | null {
    return Reflect.getPrototypeOf(this.#real);
  }

  #collectionMember(key: PropertyKey): unknown {
    const real = this.#real as unknown as Map<unknown, unknown> | Set<unknown>;
    if (MAP_SET_MUTATORS.has(key)) {
      return () => denyWrite(`${real.constructor.name}.${String(key)}`);
    }
    if (key === "size") return real.size;
    const cache = this.#cache;
    switch (key) {
      case "get":
        return (k: unknown) => cache.wrap((real as Map<unknown, unknown>).get(k));
      case "forEach":
        return (callback: (v: unknown, k: unknown, c: unknown) => void, thisArg?: unknown) =>
          real.forEach((v, k) =>
            callback.call(thisArg, cache.wrap(v), cache.wrap(k), cache.wrap(real))
          );
      case "entries":
      case Symbol.iterator:
      case "keys":
      case "values":
        return () => viewIterator(real, key, cache);
    }
    const member = Reflect.get(real, key, real);
    return typeof member === "function" ? member.bind(real) : cache.wrap(member);
  }

  #dateMember(key: PropertyKey): unknown {
    const real = this.#real as unknown as Date;
    if (typeof key === "string" && key.startsWith("set")) return () => denyWrite(`Date.${key}`);
    const member = Reflect.get(real, key, real);
    return typeof member === "function" ? member.bind(real) : member;
  }
}

function* viewIterator(
  real: Map<unknown, unknown> | Set<unknown>,
  key: PropertyKey,
  cache: ViewCache,
): Generator<unknown> {
  const isMap = real instanceof Map;
  const source = key === "keys"
    ? real.keys()
    : key === "values"
    ? real.values()
    : key === "entries" || !isMap
    ? real.entries()
    : (real as Map<unknown, unknown>).entries();
  for (const item of source) {
    if (key === "keys" || key === "values") yield cache.wrap(item);
    else if (!isMap && key === Symbol.iterator) yield cache.wrap((item as [unknown])[0]);
    else {yield [
        cache.wrap((item as [unknown, unknown])[0]),
        cache.wrap((item as [unknown, unknown])[1]),
      ];}
  }
}

class FunctionHandler extends ReadonlyTraps implements ProxyHandler<AnyFunction> {
  #cache: ViewCache;

  constructor(cache: ViewCache) {
    super();
    this.#cache = cache;
  }

  get(target: AnyFunction, key: PropertyKey, receiver: unknown): unknown {
    const value = Reflect.get(target, key, receiver);
    const fixed = Reflect.getOwnPropertyDescriptor(target, key);
    // A non-configurable, non-writable property must be returned as it is.
    if (fixed && !fixed.configurable && "value" in fixed && !fixed.writable) return value;
    return this.#cache.wrap(value);
  }

  apply(target: AnyFunction, thisArg: unknown, args: unknown[]): unknown {
    const result = Reflect.apply(target, thisArg, args);
    // Iterators and promises keep internal slots that a proxy would hide; what
    // they yield was already read through the view (`this` is the view).
    if (result instanceof Iterator || result instanceof Promise) return result;
    return this.#cache.wrap(result);
  }

  construct(target: AnyFunction, args: unknown[]): object {
    // A new object is not a write to the context; build it from the real
    // constructor so that it is an ordinary, writable value.
    return Reflect.construct(target, args);
  }
}

// deno-lint-ignore no-explicit-any
type AnyFunction = (...args: any[]) => any;
