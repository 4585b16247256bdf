/**
 * The built-in demo pipeline of `ers run`: real, deterministic work on a
 * synthetic sensor series, so that a first run shows meaningful TrendPacks.
 *
 * Each tick's context holds 64 integer samples: two sines (integer
 * arithmetic, Bhaskara's approximation, so every platform computes the same
 * numbers) plus integer-hash noise, and now and then a sensor dropout.
 *
 * - `oracle:signal` (forecast) smooths the series with a moving average and
 *   finds its peak; a dropout makes it fail.
 * - `oracle:compress` (forecast) quantizes the smoothed signal and
 *   run-length encodes it.
 * - `oracle:overlay` (forecast) expands the runs back over the raw series and
 *   measures the residual; it refuses an overlay with too many segments.
 * - `shadow:sei` and `shadow:drift` (shadow) only read the context: a
 *   signal energy index and the drift between raw and smoothed means.
 * - `shadow:spectrum` (shadow) is declared too expensive for what the shadow
 *   lane has left, so every TrendPack shows what a budget skip looks like.
 *
 * Its default export is a plain {@linkcode Pipeline}, so the same file also
 * works as `--pipeline scripts/_demo_pipeline.ts`.
 *
 * @module
 */

import type { Pipeline, TaskContext } from "../ers/mod.ts";

/** Samples per tick. */
export const DEMO_SAMPLES = 64;
/** Moving-average window of `oracle:signal`. */
const WINDOW = 8;
/** Quantization step of `oracle:compress`. */
const LEVEL = 250;
/** Most run-length segments `oracle:overlay` accepts. */
const MAX_SEGMENTS = 43;

/** The demo's context for one tick. */
export interface DemoContext extends TaskContext {
  /** The tick. */
  tick: number;
  /** The raw samples; `null` where the sensor dropped out. */
  series: (number | null)[];
  /** Written by `oracle:signal`. */
  signal?: { smoothed: number[]; peak: number; peak_at: number };
  /** Written by `oracle:compress`: `[level, count]` runs. */
  runs?: [number, number][];
}

// sin(degrees) * 1000 for any integer angle, by Bhaskara I's approximation.
function sine1000(degrees: number): number {
  const d = ((degrees % 360) + 360) % 360;
  const x = d % 180;
  const value = Math.trunc((4000 * x * (180 - x)) / (40500 - x * (180 - x)));
  return d < 180 ? value : -value;
}

// A 32-bit integer hash (lowbias32), uniform enough for noise.
function hash32(n: number): number {
  let x = n >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * The raw samples of a tick: two sines, noise, and one dropout on about one
 * tick in eleven. Deterministic: integers only, no clock, no randomness.
 *
 * @param tick The tick.
 * @returns {@linkcode DEMO_SAMPLES} samples, `null` at a dropout.
 *
 * @example Same tick, same samples
 * ```ts
 * import { DEMO_SAMPLES, demoSeries } from "./_demo_pipeline.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(demoSeries(3).length, DEMO_SAMPLES);
 * assert.deepEqual(demoSeries(3), demoSeries(3));
 * assert.notDeepEqual(demoSeries(3), demoSeries(4));
 * ```
 */
export function demoSeries(tick: number): (number | null)[] {
  const dropout = hash32(tick * 7919 + 1) % 11 === 0 ? hash32(tick) % DEMO_SAMPLES : -1;
  return Array.from({ length: DEMO_SAMPLES }, (_, i) => {
    if (i === dropout) return null;
    const slow = sine1000((i + tick) * 22);
    const fast = sine1000((i * 3 + tick * 5) * 17) >> 1;
    const surge = (hash32(tick) % 4) * 150;
    const noise = (hash32(tick * DEMO_SAMPLES + i) % 301) - 150;
    return slow + fast + surge + noise;
  });
}

function signal(ctx: TaskContext): unknown {
  const c = ctx as DemoContext;
  const at = c.series.indexOf(null);
  if (at >= 0) throw new RangeError(`sensor dropout at sample ${at}`);
  const raw = c.series as number[];
  const smoothed = raw.map((_, i) => {
    const window = raw.slice(Math.max(0, i - WINDOW + 1), i + 1);
    return Math.trunc(window.reduce((a, b) => a + b, 0) / window.length);
  });
  const peak = Math.max(...smoothed);
  c.signal = { smoothed, peak, peak_at: smoothed.indexOf(peak) };
  return { peak, peak_at: c.signal.peak_at };
}

function compress(ctx: TaskContext): unknown {
  const c = ctx as DemoContext;
  if (c.signal === undefined) throw new Error("no signal to compress");
  const runs: [number, number][] = [];
  for (const value of c.signal.smoothed) {
    const level = Math.round(value / LEVEL) * LEVEL;
    const last = runs.at(-1);
    if (last !== undefined && last[0] === level) last[1]++;
    else runs.push([level, 1]);
  }
  c.runs = runs;
  return { segments: runs.length, ratio: Math.trunc((100 * runs.length) / DEMO_SAMPLES) };
}

function overlay(ctx: TaskContext): unknown {
  const c = ctx as DemoContext;
  if (c.runs === undefined) throw new Error("no compressed signal to overlay");
  if (c.runs.length > MAX_SEGMENTS) {
    throw new RangeError(
      `${c.runs.length} segments, more than the ${MAX_SEGMENTS} an overlay holds`,
    );
  }
  const expanded = c.runs.flatMap(([level, count]) => Array<number>(count).fill(level));
  const residual = (c.series as number[]).reduce(
    (sum, v, i) => sum + Math.abs(v - expanded[i]!),
    0,
  );
  return { segments: c.runs.length, mean_residual: Math.trunc(residual / DEMO_SAMPLES) };
}

function sei(ctx: TaskContext): unknown {
  const s = (ctx as DemoContext).signal;
  if (s === undefined) return { sei: null };
  const energy = s.smoothed.reduce((sum, v) => sum + Math.abs(v), 0);
  return { sei: Math.trunc(energy / s.smoothed.length), peak: s.peak };
}

function drift(ctx: TaskContext): unknown {
  const c = ctx as DemoContext;
  if (c.signal === undefined) return { drift: null };
  const raw = c.series as number[];
  const mean = (xs: readonly number[]) => Math.trunc(xs.reduce((a, b) => a + b, 0) / xs.length);
  return { drift: mean(raw) - mean(c.signal.smoothed) };
}

/**
 * The demo pipeline: three forecast tasks, three shadow metrics (one
 * deliberately over budget), and a context made from {@linkcode demoSeries}.
 *
 * @example The demo is deterministic and shows a skip
 * ```ts
 * import { preparePipeline } from "@abraxas/ers";
 * import demoPipeline from "./_demo_pipeline.ts";
 * import assert from "node:assert/strict";
 *
 * const pipeline = preparePipeline(demoPipeline);
 * const runTick = (tick: number) =>
 *   pipeline.scheduler().runTick({
 *     tick, budgetForecast: pipeline.budgets.forecast, budgetShadow: pipeline.budgets.shadow,
 *     context: pipeline.context(tick),
 *   });
 * const out = await runTick(1);
 * assert.equal(out.results["oracle:signal"]?.status, "ok");
 * assert.equal(out.results["shadow:spectrum"]?.status, "skipped_budget");
 * assert.deepEqual((await runTick(1)).trace, out.trace);
 * ```
 */
const demoPipeline: Pipeline = {
  tasks: [
    {
      name: "oracle:signal",
      lane: "forecast",
      priority: 0,
      costOps: 12,
      costEntropy: 1,
      fn: signal,
    },
    {
      name: "oracle:compress",
      lane: "forecast",
      priority: 1,
      costOps: 10,
      costEntropy: 1,
      fn: compress,
    },
    {
      name: "oracle:overlay",
      lane: "forecast",
      priority: 2,
      costOps: 16,
      costEntropy: 2,
      fn: overlay,
    },
    { name: "shadow:sei", lane: "shadow", priority: 0, costOps: 4, fn: sei, tags: ["metric"] },
    { name: "shadow:drift", lane: "shadow", priority: 1, costOps: 4, fn: drift, tags: ["metric"] },
    {
      name: "shadow:spectrum",
      lane: "shadow",
      priority: 2,
      costOps: 8,
      fn: () => ({}),
      tags: ["metric"],
    },
  ],
  budgets: { forecast: { ops: 50, entropy: 4 }, shadow: { ops: 12, entropy: 0 } },
  context: (tick: number): DemoContext => ({ tick, series: demoSeries(tick) }),
};

export default demoPipeline;
