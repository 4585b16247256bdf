// The canonical JSON text of trace events, one string per event. A fast path
// writes events shaped as ERS builds them without sorting keys; anything else
// goes through the general canonical encoder, with checks that name the field.

import { canonicalJsonString, jsonNumber, jsonString } from "./_canonical.ts";
import type { TraceEvent } from "./types.ts";
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

// Meta objects ERS itself builds are frozen all the way down and shared by
// every event of a task, so their JSON text can be cached safely.
const frozenMetaJson = new WeakMap<object, string>();

/** Joins per-event texts into the canonical trace text. */
export function joinTrace(texts: readonly string[]): string {
  return `{"events":[${texts.join(",")}]}`;
}

/** The canonical JSON text of each event, in order. */
export function traceEventTexts(trace: readonly TraceEvent[]): string[] {
  if (!Array.isArray(trace)) typeError(ACTION, "trace", "an array of trace events", trace);
  const texts = new Array<string>(trace.length);
  for (let i = 0; i < trace.length; i++) {
    const event = trace[i];
    texts[i] = fastEventText(event) ?? checkedEventText(event, i);
  }
  return texts;
}

// The common case, an event as ERS builds it, written without sorting keys.
// Returns undefined whenever anything is unusual; the general path then decides.
function fastEventText(event: unknown): string | undefined {
  if (
    typeof event !== "object" || event === null || Object.getPrototypeOf(event) !== Object.prototype
  ) {
    return undefined;
  }
  const e = event as TraceEvent;
  const { tick, task, lane, status, cost_ops: ops, cost_entropy: entropy, meta } = e;
  if (
    typeof tick !== "number" || !Number.isSafeInteger(tick) || typeof ops !== "number" ||
    !Number.isSafeInteger(ops) || typeof entropy !== "number" || !Number.isSafeInteger(entropy) ||
    typeof task !== "string" || typeof lane !== "string" || typeof status !== "string" ||
    Object.keys(e).length !== EVENT_FIELDS.length
  ) return undefined;
  const metaText = fastMetaText(meta);
  if (metaText === undefined || !task.isWellFormed()) return undefined;
  return `{"cost_entropy":${entropy === 0 ? 0 : entropy},"cost_ops":${ops === 0 ? 0 : ops},"lane":${
    jsonString(lane)
  },"meta":${metaText},"status":${jsonString(status)},"task":${JSON.stringify(task)},"tick":${
    tick === 0 ? 0 : tick
  }}`;
}

function fastMetaText(meta: unknown): string | undefined {
  if (typeof meta !== "object" || meta === null) return undefined;
  const cached = frozenMetaJson.get(meta);
  if (cached !== undefined) return cached;
  if (!isDeeplyFrozenMeta(meta)) return undefined;
  const text = canonicalJsonString(meta); // immutable: computed once, then cached
  frozenMetaJson.set(meta, text);
  return text;
}

// `{ tags: [...strings] }` or `{ reason: string }`, frozen at every level.
function isDeeplyFrozenMeta(meta: object): boolean {
  if (!Object.isFrozen(meta) || Object.getPrototypeOf(meta) !== Object.prototype) return false;
  const keys = Object.keys(meta);
  if (keys.length !== 1) return false;
  const value = (meta as Record<string, unknown>)[keys[0] as string];
  if (keys[0] === "reason") return typeof value === "string";
  return keys[0] === "tags" && Array.isArray(value) && Object.isFrozen(value) &&
    value.every((tag) => typeof tag === "string");
}

function checkedEventText(event: unknown, index: number): string {
  const at = `trace[${index}]`;
  if (!isPlainObject(event)) typeError(ACTION, at, "a trace event object", event);
  for (const field of EVENT_FIELDS) {
    if (!(field in event) || event[field] === undefined) {
      throw new TypeError(`Cannot ${ACTION} as '${at}.${field}' is missing`);
    }
  }
  for (const key of Object.keys(event)) {
    if (!(EVENT_FIELDS as readonly string[]).includes(key) && event[key] !== undefined) {
      throw new TypeError(`Cannot ${ACTION} as '${at}' has unknown field '${key}'`);
    }
  }
  for (const field of ["tick", "cost_ops", "cost_entropy"] as const) {
    if (typeof event[field] !== "number") {
      typeError(ACTION, `${at}.${field}`, "a number", event[field]);
    }
    jsonNumber(event[field] as number, `${at}.${field}`);
  }
  for (const field of ["task", "lane", "status"] as const) {
    if (typeof event[field] !== "string") {
      typeError(ACTION, `${at}.${field}`, "a string", event[field]);
    }
  }
  if (!isPlainObject(event.meta)) typeError(ACTION, `${at}.meta`, "a plain object", event.meta);
  return canonicalJsonString(event, at);
}
