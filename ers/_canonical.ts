// Canonical JSON: the bytes of Python's
//   json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
// for the JSON-shaped subset of JavaScript values. See `canonical_json.ts`.

import { compareCodePoints, isWellFormed } from "./_code_point.ts";
import { describeValue, typeError } from "./_validate.ts";

/** Deepest nesting of arrays and objects accepted, counting the root as 1. */
export const MAX_JSON_DEPTH = 512;

const MAX_EXACT_INTEGER = 2 ** 53;
const ACTION = "encode canonical JSON";

/** Encodes a number exactly as Python's `json.dumps` prints the same value. */
export function jsonNumber(value: number, path = "$"): string {
  if (!Number.isFinite(value)) {
    throw new RangeError(
      `Cannot ${ACTION} as '${path}' must be a finite number: current value is ${value}`,
    );
  }
  if (Number.isInteger(value)) {
    if (value > MAX_EXACT_INTEGER || value < -MAX_EXACT_INTEGER) {
      throw new RangeError(
        `Cannot ${ACTION} as '${path}' must be an integer within ±2^53: current value is ${value}`,
      );
    }
    return value === 0 ? "0" : String(value);
  }
  // Non-integers are below 2^53 in magnitude, where JavaScript and Python both
  // print the shortest round-trip digits in plain notation, down to 1e-4.
  // Below that Python switches to exponent form with a signed, two-digit exponent.
  if (value >= 1e-4 || value <= -1e-4) return String(value);
  const exponential = value.toExponential(); // shortest digits, e.g. "2.5e-7"
  const at = exponential.indexOf("e");
  const exponent = Number(exponential.slice(at + 1));
  const magnitude = Math.abs(exponent);
  return `${exponential.slice(0, at)}e${exponent < 0 ? "-" : "+"}${
    magnitude < 10 ? "0" : ""
  }${magnitude}`;
}

/** Encodes a string as a JSON string literal; lone surrogates are refused. */
export function jsonString(value: string, path = "$"): string {
  if (!isWellFormed(value)) {
    throw new RangeError(
      `Cannot ${ACTION} as '${path}' must be a well-formed Unicode string (no lone surrogates): current value is ${
        describeValue(value)
      }`,
    );
  }
  // JSON.stringify escapes exactly what Python escapes with ensure_ascii=False:
  // `"`, `\`, \b \f \n \r \t, and other C0 controls as lowercase \u00xx.
  return JSON.stringify(value);
}

/**
 * Returns the canonical JSON text of `value`; throws naming the path of the
 * first bad value, starting from `rootName` (such as `obj` or `trace[3]`).
 */
export function canonicalJsonString(value: unknown, rootName = "$"): string {
  if (value === undefined) typeError(ACTION, rootName, "a JSON value", value);
  return new Encoder().encode(value, rootName, 1);
}

/**
 * Returns what parsing the canonical JSON text of `value` gives, built
 * directly, never through text: a deep copy of plain objects and arrays whose
 * keys are inserted in code point order (the engine still lists array-index
 * keys such as "2" and "10" first, in numeric order), `-0` as `0`, undefined
 * properties left out and undefined array items as `null`. Each value is read
 * once. Throws as {@linkcode canonicalJsonString} does, naming the path.
 *
 * JSON.parse is not used because V8 (Deno 2.9.6) can return an escaped
 * one-character key as "\\" once an object with the same earlier keys and a
 * "\\" key exists.
 */
export function canonicalCopy(value: unknown, rootName = "$"): unknown {
  if (value === undefined) typeError(ACTION, rootName, "a JSON value", value);
  return new Copier().copy(value, rootName, 1);
}

// What both walkers check on entering an array or object; returns its kind.
function enterContainer(
  ancestors: Set<object>,
  value: object,
  path: string,
  depth: number,
): "array" | "object" {
  if (depth > MAX_JSON_DEPTH) {
    throw new RangeError(
      `Cannot ${ACTION} as '${path}' is nested deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  if (ancestors.has(value)) {
    throw new TypeError(`Cannot ${ACTION} as '${path}' refers back to itself (a cycle)`);
  }
  const proto = Object.getPrototypeOf(value);
  if (Array.isArray(value) && proto === Array.prototype) return "array";
  if (proto === Object.prototype || proto === null) return "object";
  return typeError(ACTION, path, "a plain object or array", value);
}

class Encoder {
  #ancestors = new Set<object>();

  encode(value: unknown, path: string, depth: number): string {
    switch (typeof value) {
      case "string":
        return jsonString(value, path);
      case "number":
        return jsonNumber(value, path);
      case "boolean":
        return value ? "true" : "false";
      case "object":
        if (value === null) return "null";
        return this.#container(value, path, depth);
      default: // undefined (only reachable inside arrays), function, symbol, bigint
        if (value === undefined) return "null";
        return typeError(ACTION, path, "a JSON value", value);
    }
  }

  #container(value: object, path: string, depth: number): string {
    const kind = enterContainer(this.#ancestors, value, path, depth);
    this.#ancestors.add(value);
    const text = kind === "array"
      ? this.#array(value as readonly unknown[], path, depth)
      : this.#object(value as Record<string, unknown>, path, depth);
    this.#ancestors.delete(value);
    return text;
  }

  #array(value: readonly unknown[], path: string, depth: number): string {
    let text = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) text += ",";
      text += this.encode(value[i], `${path}[${i}]`, depth + 1);
    }
    return text + "]";
  }

  #object(value: Record<string, unknown>, path: string, depth: number): string {
    const keys = Object.keys(value).sort(compareCodePoints);
    let text = "{";
    let first = true;
    for (const key of keys) {
      const item = value[key];
      if (item === undefined) continue; // left out, as JSON.stringify does
      const itemPath = `${path}${propertyPath(key)}`;
      text += `${first ? "" : ","}${jsonString(key, itemPath)}:${
        this.encode(item, itemPath, depth + 1)
      }`;
      first = false;
    }
    return text + "}";
  }
}

class Copier {
  #ancestors = new Set<object>();

  copy(value: unknown, path: string, depth: number): unknown {
    switch (typeof value) {
      case "string":
        jsonString(value, path);
        return value;
      case "number":
        jsonNumber(value, path);
        return value === 0 ? 0 : value;
      case "boolean":
        return value;
      case "object":
        if (value === null) return null;
        return this.#container(value, path, depth);
      default:
        if (value === undefined) return null;
        return typeError(ACTION, path, "a JSON value", value);
    }
  }

  #container(value: object, path: string, depth: number): unknown {
    const kind = enterContainer(this.#ancestors, value, path, depth);
    this.#ancestors.add(value);
    const copy = kind === "array"
      ? this.#array(value as readonly unknown[], path, depth)
      : this.#object(value as Record<string, unknown>, path, depth);
    this.#ancestors.delete(value);
    return copy;
  }

  #array(value: readonly unknown[], path: string, depth: number): unknown[] {
    const copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      copy[i] = this.copy(value[i], `${path}[${i}]`, depth + 1);
    }
    return copy;
  }

  #object(value: Record<string, unknown>, path: string, depth: number): Record<string, unknown> {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort(compareCodePoints)) {
      const item = value[key];
      if (item === undefined) continue;
      const itemPath = `${path}${propertyPath(key)}`;
      jsonString(key, itemPath);
      // A data property, as JSON.parse makes: assigning "__proto__" would set the prototype.
      Object.defineProperty(copy, key, {
        value: this.copy(item, itemPath, depth + 1),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
    return copy;
  }
}

function propertyPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
