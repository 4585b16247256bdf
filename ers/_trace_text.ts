// The canonical JSON text of traces.
//
// Fast path: an event of the shape ERS builds (keys in any order, meta frozen
// or not) is read once, field by field, into a fresh object whose keys are
// already in canonical order. For such values, which hold only safe integers,
// well-formed strings and plain objects and arrays, `JSON.stringify` writes
// exactly the canonical bytes (Python's `sort_keys=True, separators=(",",
// ":"), ensure_ascii=False`), so a whole trace is written by one native call.
// Reading each field once means a getter cannot show the checks one value and
// the encoder another.
//
// General path: anything else is copied by the canonical copier, event by
// event, then checked on the copy, with errors that name the field; the copies
// then go through the canonical encoder.

import { isWellFormed } from "./_code_point.ts";
import { canonicalCopy, canonicalJsonString } from "./_canonical.ts";
import type { AttemptMeta, SkipMeta, TraceEvent } from "./types.ts";
import { isPlainObject, typeError } from "./_validate.ts";

const EVENT_FIELDS = [
  "cost_entropy",
  "cost_ops",
  "lane",
  "meta",
  "status",
  "task",
  "tick",
] as const;
const ACTION = "hash trace";

/** An event copy whose keys are in canonical order and whose values JSON.stringify writes canonically. */
interface CanonicalEvent {
  cost_entropy: number;
  cost_ops: number;
  lane: string;
  meta: AttemptMeta | SkipMeta;
  status: string;
  task: string;
  tick: number;
}

// Copies of meta objects that are frozen all the way down, with data
// properties only (ERS shares one per task across ticks), made once. Other
// meta, unfrozen or read through a getter, is copied at every use, so a later
// change can never go stale.
const frozenMetaCopies = new WeakMap<object, AttemptMeta | SkipMeta>();

/**
 * The canonical copies of a trace's events: what parsing its canonical text
 * would give, built without text. `fast` says every event took the fast path,
 * so `JSON.stringify({ events })` is the canonical text. Copies on the fast
 * path may share frozen meta copies with earlier calls: never hand them out.
 */
export interface TraceCopies {
  events: object[];
  fast: boolean;
}

/** Reads every event of `trace` once into its canonical copy; throws naming the event and field. */
export function traceCopies(trace: readonly TraceEvent[]): TraceCopies {
  if (!Array.isArray(trace)) typeError(ACTION, "trace", "an array of trace events", trace);
  const events = new Array<object>(trace.length);
  let fast = true;
  for (let i = 0; i < trace.length; i++) {
    const event = trace[i];
    const copy = canonicalEvent(event);
    if (copy === undefined) fast = false;
    events[i] = copy ?? checkedEventCopy(event, i);
  }
  return { events, fast };
}

/** The canonical text of copies from {@linkcode traceCopies}. */
export function copiesText(copies: TraceCopies): string {
  if (copies.fast) return JSON.stringify({ events: copies.events });
  return `{"events":[${copies.events.map((event) => canonicalJsonString(event)).join(",")}]}`;
}

/** The canonical text of `{ events: trace }`. */
export function traceText(trace: readonly TraceEvent[]): string {
  return copiesText(traceCopies(trace));
}

// The common case, an event shaped as ERS builds it. Returns undefined
// whenever anything is unusual; the general path then decides.
function canonicalEvent(event: unknown): CanonicalEvent | undefined {
  if (
    typeof event !== "object" || event === null || Object.getPrototypeOf(event) !== Object.prototype
  ) {
    return undefined;
  }
  const { tick, task, lane, status, cost_ops, cost_entropy, meta } = event as TraceEvent;
  // Number.isSafeInteger is false for non-numbers; JSON.stringify writes -0 as
  // 0, as canonical JSON does.
  if (
    !Number.isSafeInteger(tick) || !Number.isSafeInteger(cost_ops) ||
    !Number.isSafeInteger(cost_entropy) || (lane !== "forecast" && lane !== "shadow") ||
    (status !== "ok" && status !== "error" && status !== "skipped_budget") ||
    typeof task !== "string" || Object.keys(event).length !== EVENT_FIELDS.length
  ) return undefined;
  const metaCopy = canonicalMeta(meta);
  if (metaCopy === undefined || !isWellFormed(task)) return undefined;
  return { cost_entropy, cost_ops, lane, meta: metaCopy, status, task, tick };
}

function canonicalMeta(meta: unknown): AttemptMeta | SkipMeta | undefined {
  if (typeof meta !== "object" || meta === null) return undefined;
  const cached = frozenMetaCopies.get(meta);
  if (cached !== undefined) return cached;
  const copy = copyMeta(meta);
  if (copy !== undefined && isFrozenData(meta, "reason" in copy ? "reason" : "tags")) {
    frozenMetaCopies.set(meta, copy);
  }
  return copy;
}

// Whether `meta[key]` can never read differently: `meta` is frozen and `key`
// is a data property, not a getter; for `tags`, the array is frozen too and
// every element is a data property.
function isFrozenData(meta: object, key: "reason" | "tags"): boolean {
  if (!Object.isFrozen(meta)) return false;
  const field = Object.getOwnPropertyDescriptor(meta, key);
  if (field === undefined || !("value" in field)) return false;
  if (key === "reason") return true;
  const tags: unknown = field.value;
  if (!Array.isArray(tags) || !Object.isFrozen(tags)) return false;
  for (let i = 0; i < tags.length; i++) {
    const element = Object.getOwnPropertyDescriptor(tags, i);
    if (element === undefined || !("value" in element)) return false;
  }
  return true;
}

// `{ tags: [...well-formed strings] }` or `{ reason: well-formed string }`,
// copied with one read of each value.
function copyMeta(meta: object): AttemptMeta | SkipMeta | undefined {
  if (Object.getPrototypeOf(meta) !== Object.prototype) return undefined;
  const keys = Object.keys(meta);
  if (keys.length !== 1) return undefined;
  if (keys[0] === "reason") {
    const reason = (meta as SkipMeta).reason;
    return typeof reason === "string" && isWellFormed(reason) ? { reason } : undefined;
  }
  if (keys[0] !== "tags") return undefined;
  const tags: unknown = (meta as AttemptMeta).tags;
  if (!Array.isArray(tags) || Object.getPrototypeOf(tags) !== Array.prototype) return undefined;
  const copy: string[] = [];
  for (let i = 0; i < tags.length; i++) {
    const tag: unknown = tags[i];
    if (typeof tag !== "string" || !isWellFormed(tag)) return undefined;
    copy.push(tag);
  }
  return { tags: copy };
}

// An event off the fast path: copied first (each value read once), then
// checked on the copy, which cannot change under the checks.
function checkedEventCopy(event: unknown, index: number): Record<string, unknown> {
  const at = `trace[${index}]`;
  if (!isPlainObject(event)) typeError(ACTION, at, "a trace event object", event);
  const copy = canonicalCopy(event, at) as Record<string, unknown>;
  for (const field of EVENT_FIELDS) {
    if (!(field in copy)) throw new TypeError(`Cannot ${ACTION} as '${at}.${field}' is missing`);
  }
  for (const key of Object.keys(copy)) {
    if (!(EVENT_FIELDS as readonly string[]).includes(key)) {
      throw new TypeError(`Cannot ${ACTION} as '${at}' has unknown field '${key}'`);
    }
  }
  for (const field of ["tick", "cost_ops", "cost_entropy"] as const) {
    if (typeof copy[field] !== "number") {
      typeError(ACTION, `${at}.${field}`, "a number", copy[field]);
    }
  }
  for (const field of ["task", "lane", "status"] as const) {
    if (typeof copy[field] !== "string") {
      typeError(ACTION, `${at}.${field}`, "a string", copy[field]);
    }
  }
  if (!isPlainObject(copy.meta)) typeError(ACTION, `${at}.meta`, "a plain object", copy.meta);
  return copy;
}
