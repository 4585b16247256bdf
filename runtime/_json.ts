// JSON parsing for anything ERS hashes or compares after reading it back.
//
// V8 (Deno 2.9.6) has a bug in JSON.parse: once any object with keys " " then
// "\\" exists, `JSON.parse('{" ":0,"\\"":0}')` returns the second key as
// "\\". Only escaped keys are misread, and an escape needs a backslash, so a
// text without one goes to the native parser; any other text goes to the
// strict parser below, which gives what a correct JSON.parse gives.

import { MAX_JSON_DEPTH } from "../ers/_canonical.ts";

/** Parses JSON text as a correct `JSON.parse` would; throws SyntaxError on bad input. */
export function parseJson(text: string): unknown {
  if (!text.includes("\\")) return JSON.parse(text);
  return new Parser(text).parseDocument();
}

const WHITESPACE = /[ \t\n\r]*/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
// A JSON string may not hold raw control characters, so the run stops at them.
// deno-lint-ignore no-control-regex
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;
const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

class Parser {
  readonly #text: string;
  #at = 0;

  constructor(text: string) {
    this.#text = text;
  }

  parseDocument(): unknown {
    const value = this.#value(1);
    this.#skipWhitespace();
    if (this.#at !== this.#text.length) this.#fail("unexpected text after the JSON value");
    return value;
  }

  #fail(problem: string): never {
    throw new SyntaxError(`Cannot parse JSON as ${problem} at position ${this.#at}`);
  }

  #skipWhitespace(): void {
    WHITESPACE.lastIndex = this.#at;
    WHITESPACE.test(this.#text);
    this.#at = WHITESPACE.lastIndex;
  }

  #value(depth: number): unknown {
    this.#skipWhitespace();
    const c = this.#text[this.#at];
    if (c === "{" || c === "[") {
      if (depth > MAX_JSON_DEPTH) this.#fail(`it is nested deeper than ${MAX_JSON_DEPTH} levels`);
      return c === "{" ? this.#object(depth) : this.#array(depth);
    }
    if (c === '"') return this.#string();
    for (const [word, value] of [["true", true], ["false", false], ["null", null]] as const) {
      if (this.#text.startsWith(word, this.#at)) {
        this.#at += word.length;
        return value;
      }
    }
    NUMBER.lastIndex = this.#at;
    const match = NUMBER.exec(this.#text);
    if (match === null) this.#fail("a value is expected");
    this.#at = NUMBER.lastIndex;
    return Number(match[0]);
  }

  #object(depth: number): Record<string, unknown> {
    const object: Record<string, unknown> = {};
    this.#at++; // {
    this.#skipWhitespace();
    if (this.#text[this.#at] === "}") {
      this.#at++;
      return object;
    }
    for (;;) {
      this.#skipWhitespace();
      if (this.#text[this.#at] !== '"') this.#fail("a string key is expected");
      const key = this.#string();
      this.#skipWhitespace();
      if (this.#text[this.#at] !== ":") this.#fail("':' is expected");
      this.#at++;
      // A data property, as JSON.parse makes: assigning "__proto__" would set the prototype.
      Object.defineProperty(object, key, {
        value: this.#value(depth + 1),
        writable: true,
        enumerable: true,
        configurable: true,
      });
      if (this.#endOf("}")) return object;
    }
  }

  #array(depth: number): unknown[] {
    const array: unknown[] = [];
    this.#at++; // [
    this.#skipWhitespace();
    if (this.#text[this.#at] === "]") {
      this.#at++;
      return array;
    }
    for (;;) {
      array.push(this.#value(depth + 1));
      if (this.#endOf("]")) return array;
    }
  }

  // After an item: true at the closing bracket, false at a comma.
  #endOf(close: "}" | "]"): boolean {
    this.#skipWhitespace();
    const c = this.#text[this.#at++];
    if (c === close) return true;
    if (c !== ",") {
      this.#at--;
      this.#fail(`',' or '${close}' is expected`);
    }
    return false;
  }

  #string(): string {
    this.#at++; // opening quote
    let out = "";
    for (;;) {
      PLAIN_RUN.lastIndex = this.#at;
      PLAIN_RUN.test(this.#text);
      out += this.#text.slice(this.#at, PLAIN_RUN.lastIndex);
      this.#at = PLAIN_RUN.lastIndex;
      const c = this.#text[this.#at];
      if (c === '"') {
        this.#at++;
        return out;
      }
      if (c !== "\\") {
        this.#fail(
          c === undefined ? "a string is unterminated" : "a raw control character is in a string",
        );
      }
      out += this.#escape();
    }
  }

  #escape(): string {
    const c = this.#text[this.#at + 1];
    if (c === "u") {
      const hex = this.#text.slice(this.#at + 2, this.#at + 6);
      if (!/^[0-9A-Fa-f]{4}$/.test(hex)) this.#fail("a \\u escape needs four hex digits");
      this.#at += 6;
      return String.fromCharCode(parseInt(hex, 16));
    }
    const escaped = c === undefined ? undefined : ESCAPES[c];
    if (escaped === undefined) this.#fail("a string holds an unknown escape");
    this.#at += 2;
    return escaped;
  }
}
