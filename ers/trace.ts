/**
 * Canonical trace payloads, bytes and SHA-256 hashes.
 *
 * @module
 */

import { sha256Hex } from "./_sha256.ts";
import { traceCopies, traceText } from "./_trace_text.ts";
import { canonicalCopy } from "./_canonical.ts";
import type { TraceEvent } from "./types.ts";

/**
 * The canonical payload of a trace: its events with keys in canonical order.
 *
 * @example The payload serializes to the canonical bytes
 * ```ts
 * import {
 *   canonicalizeTrace,
 *   type CanonicalTrace,
 *   type TraceEvent,
 *   traceJsonBytes,
 * } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const trace: TraceEvent[] = [{
 *   tick: 0, task: "t", lane: "shadow", status: "skipped_budget", cost_ops: 4, cost_entropy: 0,
 *   meta: { reason: "budget" },
 * }];
 * const payload: CanonicalTrace = canonicalizeTrace(trace);
 * assert.equal(payload.events.length, 1);
 * assert.equal(JSON.stringify(payload), new TextDecoder().decode(traceJsonBytes(trace)));
 * ```
 */
export interface CanonicalTrace {
  /** The events, in execution order. */
  events: TraceEvent[];
}

const encoder = new TextEncoder();

/**
 * Returns the canonical payload `{ events }` of a trace: a deep copy of each
 * event with its keys, and the keys of everything inside, in code point order
 * (array-index keys such as "2" and "10" excepted: JavaScript lists them
 * first, in numeric order). It equals what parsing {@linkcode traceJsonBytes}
 * gives, but is built without a text round trip.
 *
 * @param trace Trace events, as `runTick()` returns them.
 * @returns A JSON-safe copy, ready for `JSON.stringify` or comparison.
 * @throws {TypeError | RangeError} When an event lacks a field, has an unknown
 * one, or holds a value canonical JSON refuses; the message names the path.
 *
 * @example Keys come out sorted
 * ```ts
 * import { canonicalizeTrace } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const payload = canonicalizeTrace([{
 *   tick: 0, task: "t", lane: "forecast", status: "ok", cost_ops: 1, cost_entropy: 0, meta: { tags: [] },
 * }]);
 * assert.deepEqual(Object.keys(payload.events[0]!), [
 *   "cost_entropy", "cost_ops", "lane", "meta", "status", "task", "tick",
 * ]);
 * ```
 */
export function canonicalizeTrace(trace: readonly TraceEvent[]): CanonicalTrace {
  // Built directly, never by parsing the canonical text: V8's JSON.parse can
  // misread escaped one-character keys. The copier also unshares fast-path meta.
  const events = traceCopies(trace).events.map((event) => canonicalCopy(event));
  return { events: events as TraceEvent[] };
}

/**
 * Returns the canonical JSON bytes of `{ events: trace }`, byte-identical to
 * the reference implementation's `trace_json_bytes`.
 *
 * @param trace Trace events.
 * @returns UTF-8 bytes.
 * @throws {TypeError | RangeError} As {@linkcode canonicalizeTrace}.
 *
 * @example An empty trace
 * ```ts
 * import { traceJsonBytes } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new TextDecoder().decode(traceJsonBytes([])), '{"events":[]}');
 * ```
 */
export function traceJsonBytes(trace: readonly TraceEvent[]): Uint8Array<ArrayBuffer> {
  return encoder.encode(traceText(trace));
}

/**
 * Returns the SHA-256 of {@linkcode traceJsonBytes} as lowercase hex: the
 * trace's identity for drift detection.
 *
 * @param trace Trace events.
 * @returns 64 lowercase hex digits.
 * @throws {TypeError | RangeError} As {@linkcode canonicalizeTrace}.
 *
 * @example The hash of an empty trace
 * ```ts
 * import { traceHashSha256 } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const hash = await traceHashSha256([]);
 * assert.match(hash, /^[0-9a-f]{64}$/);
 * ```
 */
export function traceHashSha256(trace: readonly TraceEvent[]): Promise<string> {
  return sha256Hex(traceJsonBytes(trace));
}
