// Argument checks for values that come from callers. Each failure throws a
// TypeError (wrong type) or RangeError (right type, wrong value) in std's form:
//   Cannot add task as 'costOps' must be a non-negative integer: current value is -1

import { isWellFormed } from "./_code_point.ts";

/** Renders a value for an error message, never throwing. */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
      return `${value}n`;
    case "symbol":
      return value.toString();
    case "function":
      return value.name ? `function ${value.name}` : "an anonymous function";
    case "undefined":
      return "undefined";
    case "boolean":
      return String(value);
    default:
      return describeObject(value as object | null);
  }
}

function describeObject(value: object | null): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  const proto = Object.getPrototypeOf(value);
  if (proto === null || proto === Object.prototype) return "a plain object";
  const name = typeof proto.constructor === "function" ? proto.constructor.name : "";
  return name ? `an instance of ${name}` : "an object";
}

/** Throws a TypeError in std's message form. */
export function typeError(action: string, field: string, rule: string, value: unknown): never {
  throw new TypeError(
    `Cannot ${action} as '${field}' must be ${rule}: current value is ${describeValue(value)}`,
  );
}

/** Throws a RangeError in std's message form. */
export function rangeError(action: string, field: string, rule: string, value: unknown): never {
  throw new RangeError(
    `Cannot ${action} as '${field}' must be ${rule}: current value is ${describeValue(value)}`,
  );
}

/** A non-negative safe integer (0 .. 2^53 - 1). */
export function checkNonNegativeInteger(action: string, field: string, value: unknown): number {
  const rule = "a non-negative integer";
  if (typeof value !== "number") typeError(action, field, rule, value);
  if (!Number.isSafeInteger(value) || value < 0) rangeError(action, field, rule, value);
  return value === 0 ? 0 : value;
}

/** Any safe integer, negative included. */
export function checkInteger(action: string, field: string, value: unknown): number {
  const rule = "an integer";
  if (typeof value !== "number") typeError(action, field, rule, value);
  if (!Number.isSafeInteger(value)) rangeError(action, field, rule, value);
  return value === 0 ? 0 : value;
}

/** A non-empty, well-formed (no lone surrogates) string of at most `maxLength` UTF-16 units. */
export function checkName(
  action: string,
  field: string,
  value: unknown,
  maxLength: number,
): string {
  const rule = `a non-empty string of at most ${maxLength} characters`;
  if (typeof value !== "string") typeError(action, field, rule, value);
  if (value.length === 0 || value.length > maxLength) rangeError(action, field, rule, value);
  if (!isWellFormed(value)) {
    rangeError(action, field, "a well-formed Unicode string (no lone surrogates)", value);
  }
  return value;
}

/** A plain object (`{}` literal or null prototype). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `value`, or `fallback` when it is `undefined` (an explicit `null` stays, to be refused). */
export function orDefault<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}
