// The deterministic sandbox of a lane worker: replaces the realm's clock and
// random sources before the pipeline module loads, as Temporal's workflow
// sandbox does. Until the pipeline's own `sandbox` field is known (it is read
// once the module has loaded) both are forbidden, so module-level code can
// use neither. Used only inside a lane worker (runtime/_lane_worker.ts).

import { DeterminismViolationError } from "./lane_errors.ts";
import type { Sandbox } from "../ers/pipeline.ts";

/** What the sandbox answers with: set per task by the lane worker. */
export interface SandboxState {
  /** The pipeline's sandbox settings. */
  settings: Sandbox;
  /** The tick being run. */
  tick: number;
  /** The task being run (or `context()` while the tick's context is made). */
  task: string;
}

const MS_PER_TICK = 1000;

/**
 * Replaces `Date`, `performance.now`, `Math.random`, `crypto.getRandomValues`
 * and `crypto.randomUUID` in this realm. Returns the state they consult and a
 * function that reseeds the generator, called before each task.
 */
export function installSandbox(): { state: SandboxState; reseed(): void } {
  const state: SandboxState = {
    settings: { clock: "forbid", random: "forbid", seed: 0 },
    tick: 0,
    task: "the pipeline module",
  };
  // Reseeded lazily: at the first draw of each task, so tasks that draw
  // nothing cost nothing.
  let stale = true;
  const generator = { next: mulberry32(0) };
  const forbid = (api: string, setting: string, allow: string): never => {
    throw new DeterminismViolationError(api, state.task, setting, allow);
  };
  const now = (api: string): number => {
    if (state.settings.clock === "forbid") forbid(api, "clock", `clock: "tick"`);
    return state.tick * MS_PER_TICK;
  };
  const random32 = (api: string): number => {
    if (state.settings.random === "forbid") forbid(api, "random", `random: "seeded"`);
    if (stale) {
      generator.next = mulberry32(seedOf(state.settings.seed, state.tick, state.task));
      stale = false;
    }
    return generator.next();
  };
  installDate(now);
  // On the prototype as well as the object: `Performance.prototype.now.call()`
  // must not reach the real clock either.
  const performanceNow = () => now("performance.now()");
  for (const holder of [globalThis.performance, Object.getPrototypeOf(globalThis.performance)]) {
    Object.defineProperty(holder, "now", {
      configurable: false,
      writable: false,
      value: performanceNow,
    });
  }
  Object.defineProperty(Object.getPrototypeOf(globalThis.performance), "timeOrigin", {
    configurable: false,
    get: () => now("performance.timeOrigin") * 0,
  });
  Object.defineProperty(Math, "random", {
    configurable: false,
    writable: false,
    value: () => random32("Math.random()") / 0x1_0000_0000,
  });
  installCrypto(random32);
  installClockReaders(now);
  installNoWorker(state);
  return {
    state,
    reseed() {
      stale = true;
    },
  };
}

function installDate(now: (api: string) => number): void {
  const RealDate = Date;
  // deno-lint-ignore no-explicit-any
  function SandboxDate(this: unknown, ...args: any[]): unknown {
    if (new.target === undefined) return new RealDate(now("Date()")).toString();
    const values = args.length === 0 ? [now("new Date()")] : args;
    return Reflect.construct(RealDate, values, new.target);
  }
  Object.defineProperties(SandboxDate, {
    prototype: { value: RealDate.prototype },
    now: { value: () => now("Date.now()"), writable: false, configurable: false },
    UTC: { value: RealDate.UTC, writable: false, configurable: false },
    parse: { value: RealDate.parse, writable: false, configurable: false },
  });
  Object.defineProperty(RealDate.prototype, "constructor", {
    value: SandboxDate,
    writable: false,
    configurable: false,
  });
  Object.defineProperty(globalThis, "Date", {
    value: SandboxDate,
    writable: false,
    configurable: false,
  });
}

function installCrypto(random32: (api: string) => number): void {
  for (const holder of [globalThis.crypto, Object.getPrototypeOf(globalThis.crypto)]) {
    installCryptoOn(holder, random32);
  }
  // A generated key is random bytes: forbidden with the other random sources.
  // With `random: "seeded"` it stays random (it cannot be seeded; the README
  // says so): import a key made of `crypto.getRandomValues()` bytes instead.
  const subtle = Object.getPrototypeOf(globalThis.crypto.subtle);
  const generateKey = subtle.generateKey;
  Object.defineProperty(subtle, "generateKey", {
    configurable: false,
    writable: false,
    value: function (this: SubtleCrypto, ...args: unknown[]) {
      try {
        random32("crypto.subtle.generateKey()");
      } catch (error) {
        return Promise.reject(error);
      }
      return Reflect.apply(generateKey, this, args);
    },
  });
}

// The clock's other readers: `Intl.DateTimeFormat`'s `format()` and
// `formatToParts()` with no date, `Temporal.Now`, and `performance.mark()` /
// `performance.measure()` with no time of their own read the real clock
// inside the engine, not through `Date.now()`.
function installClockReaders(now: (api: string) => number): void {
  const formats = Intl.DateTimeFormat.prototype;
  const formatOf = Object.getOwnPropertyDescriptor(formats, "format")!.get!;
  const formatToParts = formats.formatToParts;
  Object.defineProperty(formats, "format", {
    configurable: false,
    get(this: Intl.DateTimeFormat) {
      const format = Reflect.apply(formatOf, this, []) as (date?: Date | number) => string;
      return (date?: Date | number) =>
        format(date === undefined ? now("Intl.DateTimeFormat.prototype.format()") : date);
    },
  });
  Object.defineProperty(formats, "formatToParts", {
    configurable: false,
    writable: false,
    value: function (this: Intl.DateTimeFormat, date?: Date | number) {
      const at = date === undefined ? now("Intl.DateTimeFormat.prototype.formatToParts()") : date;
      return Reflect.apply(formatToParts, this, [at]);
    },
  });
  installTemporalNow(now);
  const performance = Object.getPrototypeOf(globalThis.performance);
  const mark = performance.mark;
  const measure = performance.measure;
  Object.defineProperty(performance, "mark", {
    configurable: false,
    writable: false,
    value: function (this: Performance, name: string, options?: PerformanceMarkOptions) {
      const startTime = options?.startTime ?? now("performance.mark()");
      return Reflect.apply(mark, this, [name, { ...options, startTime }]);
    },
  });
  Object.defineProperty(performance, "measure", {
    configurable: false,
    writable: false,
    value: function (this: Performance, name: string, ...args: unknown[]) {
      const [start, end] = args;
      if (start !== null && typeof start === "object") {
        const options = start as PerformanceMeasureOptions;
        if (options.end !== undefined || options.duration !== undefined) {
          return Reflect.apply(measure, this, [name, options]);
        }
        return Reflect.apply(measure, this, [
          name,
          { ...options, end: now("performance.measure()") },
        ]);
      }
      if (end !== undefined) return Reflect.apply(measure, this, [name, start, end]);
      const at = now("performance.measure()");
      return Reflect.apply(measure, this, [name, { start: start ?? 0, end: at }]);
    },
  });
}

function installTemporalNow(now: (api: string) => number): void {
  // deno-lint-ignore no-explicit-any
  const Temporal = (globalThis as any).Temporal;
  if (Temporal?.Now === undefined) return;
  const real = Temporal.Now;
  const instant = (api: string) => Temporal.Instant.fromEpochMilliseconds(now(api));
  const zoned = (api: string, zone?: unknown) =>
    instant(api).toZonedDateTimeISO(zone ?? real.timeZoneId());
  const fake = {
    instant: () => instant("Temporal.Now.instant()"),
    timeZoneId: () => real.timeZoneId(),
    zonedDateTimeISO: (zone?: unknown) => zoned("Temporal.Now.zonedDateTimeISO()", zone),
    plainDateTimeISO: (zone?: unknown) =>
      zoned("Temporal.Now.plainDateTimeISO()", zone).toPlainDateTime(),
    plainDateISO: (zone?: unknown) => zoned("Temporal.Now.plainDateISO()", zone).toPlainDate(),
    plainTimeISO: (zone?: unknown) => zoned("Temporal.Now.plainTimeISO()", zone).toPlainTime(),
  };
  Object.defineProperty(fake, Symbol.toStringTag, { value: "Temporal.Now" });
  Object.defineProperty(Temporal, "Now", {
    configurable: false,
    writable: false,
    value: Object.freeze(fake),
  });
}

// A worker started from a lane worker would have a realm of its own, with
// the real clock and random sources.
function installNoWorker(state: SandboxState): void {
  const refuse = function Worker(): never {
    throw new TypeError(
      `Cannot start a Worker in task ${
        JSON.stringify(state.task)
      } as its realm would have no deterministic sandbox`,
    );
  };
  Object.defineProperty(globalThis, "Worker", {
    configurable: false,
    writable: false,
    value: refuse,
  });
}

function installCryptoOn(crypto: object, random32: (api: string) => number): void {
  const fill = (api: string, bytes: Uint8Array) => {
    for (let i = 0; i < bytes.length; i += 4) {
      const word = random32(api);
      for (let j = 0; j < 4 && i + j < bytes.length; j++) bytes[i + j] = (word >>> (8 * j)) & 0xff;
    }
  };
  Object.defineProperty(crypto, "getRandomValues", {
    configurable: false,
    writable: false,
    value: <T extends ArrayBufferView | null>(array: T): T => {
      if (!ArrayBuffer.isView(array)) {
        throw new TypeError("Cannot fill random values as the argument is not a typed array");
      }
      fill(
        "crypto.getRandomValues()",
        new Uint8Array(array.buffer, array.byteOffset, array.byteLength),
      );
      return array;
    },
  });
  Object.defineProperty(crypto, "randomUUID", {
    configurable: false,
    writable: false,
    value: () => {
      const bytes = new Uint8Array(16);
      fill("crypto.randomUUID()", bytes);
      bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40;
      bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
      const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
        hex.slice(20)
      }`;
    },
  });
}

// A 32-bit seed from (seed, tick, task): FNV-1a over the three, each
// delimited, so that ("a", 12) and ("a1", 2) differ.
function seedOf(seed: number, tick: number, task: string): number {
  let hash = 0x811c9dc5;
  for (const part of [String(seed), String(tick), task]) {
    for (let i = 0; i < part.length; i++) {
      hash ^= part.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    hash ^= 0xff;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

// Mulberry32: a small, fast 32-bit generator; deterministic from its seed.
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}
