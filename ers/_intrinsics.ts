// Built-ins captured when ERS loads, before any task runs.
//
// Code that runs next to task code in one realm (the read-only view, the
// trace and result assembly) must not call anything a task can replace:
// `Array.prototype.push = ...` or `Reflect.get = ...` in a task would
// otherwise receive ERS's own objects (the trace, the real context). Every
// method is captured here and called through `apply`, so a later change to the
// global or the prototype never reaches ERS.

// deno-lint-ignore no-explicit-any
type AnyFunction = (...args: any[]) => any;

/** `Reflect.apply`, captured. */
export const apply: typeof Reflect.apply = Reflect.apply;
/** `Reflect.construct`, captured. */
export const construct: typeof Reflect.construct = Reflect.construct;
/** `Reflect.get`, captured. */
export const reflectGet: typeof Reflect.get = Reflect.get;
/** `Reflect.has`, captured. */
export const reflectHas: typeof Reflect.has = Reflect.has;
/** `Reflect.ownKeys`, captured. */
export const ownKeys: typeof Reflect.ownKeys = Reflect.ownKeys;
/** `Reflect.getOwnPropertyDescriptor`, captured. */
export const getOwnPropertyDescriptor: typeof Reflect.getOwnPropertyDescriptor =
  Reflect.getOwnPropertyDescriptor;
/** `Reflect.getPrototypeOf`, captured. */
export const getPrototypeOf: typeof Reflect.getPrototypeOf = Reflect.getPrototypeOf;
/** `Reflect.setPrototypeOf`, captured. */
export const setPrototypeOf: typeof Reflect.setPrototypeOf = Reflect.setPrototypeOf;
/** `Reflect.defineProperty`, captured. */
export const defineProperty: typeof Reflect.defineProperty = Reflect.defineProperty;
/** `Object.hasOwn`, captured. */
export const hasOwn: typeof Object.hasOwn = Object.hasOwn;
/** `Object.freeze`, captured. */
export const freeze: typeof Object.freeze = Object.freeze;
/** `Object.create`, captured. */
export const objectCreate: typeof Object.create = Object.create;
/** `Array.isArray`, captured. */
export const isArray: typeof Array.isArray = Array.isArray;
/** `Number.isFinite`, captured. */
export const isFinite: typeof Number.isFinite = Number.isFinite;
/** `JSON.stringify`, captured. */
export const jsonStringify: typeof JSON.stringify = JSON.stringify;
/** The `Proxy` constructor, captured. */
export const ProxyCtor: ProxyConstructor = Proxy;
/** The `TypeError` constructor, captured. */
export const TypeErrorCtor: TypeErrorConstructor = TypeError;

/** `fn` as a function of its receiver: `uncurry(f)(self, ...args)` is `f.apply(self, args)`. */
function uncurry<F extends AnyFunction>(
  fn: F,
): (self: unknown, ...args: Parameters<F>) => ReturnType<F> {
  return (self, ...args) => apply(fn, self, args);
}

function getter(prototype: object, key: PropertyKey): AnyFunction {
  return getOwnPropertyDescriptor(prototype, key)?.get as AnyFunction;
}

/** `Object.prototype.toString`, uncurried. */
export const objectToString: (self: unknown) => string = uncurry(Object.prototype.toString);
/** `Object.prototype.isPrototypeOf`, uncurried. */
export const isPrototypeOf: (self: unknown, value: object) => boolean = uncurry(
  Object.prototype.isPrototypeOf,
);
/** `Function.prototype.bind`, uncurried. */
export const bind: (self: unknown, thisArg: unknown) => AnyFunction = uncurry(
  Function.prototype.bind,
);
/** `String.prototype.startsWith`, uncurried. */
export const startsWith: (self: string, search: string) => boolean = uncurry(
  String.prototype.startsWith,
);
/** `Promise.prototype.then`, uncurried. */
export const promiseThen: (
  self: unknown,
  onFulfilled?: AnyFunction,
  onRejected?: AnyFunction,
) => Promise<unknown> = uncurry(Promise.prototype.then);
/** `Promise.resolve`, bound to `Promise`. */
export const promiseResolve: <T>(value: T) => Promise<Awaited<T>> = apply(
  Function.prototype.bind,
  Promise.resolve,
  [Promise],
);

/** `Map.prototype.get`, uncurried. */
export const mapGet: (self: Map<unknown, unknown>, key: unknown) => unknown = uncurry(
  Map.prototype.get,
);
/** `Map.prototype.has`, uncurried. */
export const mapHas: (self: Map<unknown, unknown>, key: unknown) => boolean = uncurry(
  Map.prototype.has,
);
/** `Map.prototype.set`, uncurried. */
export const mapSet: (self: Map<unknown, unknown>, key: unknown, value: unknown) => unknown =
  uncurry(Map.prototype.set);
/** `Map.prototype.forEach`, uncurried. */
export const mapForEach: (
  self: Map<unknown, unknown>,
  callback: (value: unknown, key: unknown) => void,
) => void = uncurry(Map.prototype.forEach);
/** The `Map.prototype.size` getter, uncurried: throws for anything but a Map. */
export const mapSize: (self: unknown) => number = uncurry(getter(Map.prototype, "size"));
/** `Set.prototype.has`, uncurried. */
export const setHas: (self: Set<unknown>, value: unknown) => boolean = uncurry(Set.prototype.has);
/** `Set.prototype.add`, uncurried. */
export const setAdd: (self: Set<unknown>, value: unknown) => unknown = uncurry(Set.prototype.add);
/** `Set.prototype.forEach`, uncurried. */
export const setForEach: (self: Set<unknown>, callback: (value: unknown) => void) => void = uncurry(
  Set.prototype.forEach,
);
/** The `Set.prototype.size` getter, uncurried: throws for anything but a Set. */
export const setSize: (self: unknown) => number = uncurry(getter(Set.prototype, "size"));
/** `WeakMap.prototype.get`, uncurried. */
export const weakMapGet: (self: WeakMap<object, unknown>, key: object) => unknown = uncurry(
  WeakMap.prototype.get,
);
/** `WeakMap.prototype.set`, uncurried. */
export const weakMapSet: (self: WeakMap<object, unknown>, key: object, value: unknown) => unknown =
  uncurry(WeakMap.prototype.set);
/** `WeakSet.prototype.has`, uncurried. */
export const weakSetHas: (self: WeakSet<object>, value: object) => boolean = uncurry(
  WeakSet.prototype.has,
);
/** `WeakSet.prototype.add`, uncurried. */
export const weakSetAdd: (self: WeakSet<object>, value: object) => unknown = uncurry(
  WeakSet.prototype.add,
);
/** `Date.prototype.getTime`, uncurried: throws for anything but a Date. */
export const dateGetTime: (self: unknown) => number = uncurry(Date.prototype.getTime);

/** Whether `value` is a Map, by its internal slot (a Proxy or a faked prototype is not). */
export function isMap(value: object): boolean {
  return hasSlot(mapSize, value);
}

/** Whether `value` is a Set, by its internal slot. */
export function isSet(value: object): boolean {
  return hasSlot(setSize, value);
}

/** Whether `value` is a Date, by its internal slot. */
export function isDate(value: object): boolean {
  return hasSlot(dateGetTime, value);
}

function hasSlot(probe: (self: unknown) => unknown, value: object): boolean {
  try {
    probe(value);
    return true;
  } catch {
    return false;
  }
}

const ARRAY_PROTOTYPE: object = Array.prototype;

declare const LIST: unique symbol;

/**
 * An array ERS builds next to task code: made by `newList`, its prototype is
 * `null` until `listDone`, so storing an item by index runs no setter a task
 * put on `Array.prototype` or `Object.prototype`. Only `append` adds to it.
 */
export type List<T> = T[] & { readonly [LIST]: true };

/** A new empty `List`: an array whose prototype is `null`. */
export function newList<T>(): List<T> {
  const list = [] as unknown as List<T>;
  setPrototypeOf(list, null);
  return list;
}

/**
 * Appends `value` to `list` by index. The list has no prototype, so no setter
 * a task put on `Array.prototype` (or `Object.prototype`) runs, and
 * `Array.prototype.push` is never called.
 */
export function append<T>(list: List<T>, value: T): void {
  list[list.length] = value;
}

/**
 * `list` as an ordinary array: gives it the `Array.prototype` captured when
 * ERS loaded. Call once, when the list is complete; append to it no more.
 */
export function listDone<T>(list: List<T>): T[] {
  setPrototypeOf(list, ARRAY_PROTOTYPE);
  return list;
}
