/**
 * Promotion records: the PromotionDecision.v0 artifacts a run writes at the
 * ticks where a candidate's lifecycle changes, and the status and history
 * read back from them. The state is a deterministic function of the run's
 * recorded ticks: reading it replays the rule over the recorded TrendPacks
 * and checks that every recorded decision follows.
 *
 * @module
 */

import {
  countWindow,
  type PromotionDecision,
  type PromotionStatus,
  type PromotionWindow,
} from "../ers/promotion.ts";
import { compareCodePoints } from "../ers/_code_point.ts";
import { isPlainObject, typeError } from "../ers/_validate.ts";
import type { Lane } from "../ers/types.ts";
import { type PromotionHistoryEntry, replayPromotions } from "./_promotion_book.ts";
import { readRunManifest } from "./run_reader.ts";

export {
  type PromotionHistoryEntry,
  PromotionHistoryError,
  type PromotionRecord,
} from "./_promotion_book.ts";

/**
 * Options for {@linkcode readPromotionHistory}.
 *
 * @example One task's decisions
 * ```ts
 * import type { PromotionHistoryOptions } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const options: PromotionHistoryOptions = { task: "shadow:sei" };
 * assert.equal(options.task, "shadow:sei");
 * ```
 */
export interface PromotionHistoryOptions {
  /** Only this task's decisions. */
  task?: string;
}

/**
 * A run's promotion decisions in the order made (tick, then task), after
 * checking that they follow from its recorded ticks. Needs read access.
 *
 * @param artifactsDir The artifacts directory.
 * @param runId The run.
 * @param options Only one task's decisions.
 * @returns The decisions with their ticks; empty for a run without candidates.
 * @throws {TypeError} When `options` or `options.task` is not valid, naming it.
 * @throws {Deno.errors.NotFound} When the run has no manifest.
 * @throws {PromotionHistoryError} When a recorded decision does not follow.
 * @throws {RunReadError} When a recorded artifact cannot be read as recorded.
 *
 * @example A candidate enrolled at tick 0 and promoted at tick 1
 * ```ts
 * import { preparePipeline } from "@abraxas/ers";
 * import { pipelineTick, readPromotionHistory } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const pipeline = preparePipeline({
 *     tasks: [{ name: "m", lane: "shadow", priority: 0, costOps: 1, fn: () => 1, promote: { window: 2 } }],
 *   });
 *   for (const tick of [0, 1, 2]) await pipelineTick({ pipeline, tick, runId: "R", mode: "demo", artifactsDir: dir });
 *   const history = await readPromotionHistory(dir, "R", { task: "m" });
 *   assert.deepEqual(history.map((d) => `${d.tick} ${d.decision} ${d.to}`), ["0 enrolled shadow", "1 promoted forecast"]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function readPromotionHistory(
  artifactsDir: string,
  runId: string,
  options: PromotionHistoryOptions = {},
): Promise<PromotionHistoryEntry[]> {
  const action = "read promotion history";
  if (!isPlainObject(options)) typeError(action, "options", "an object", options);
  const task = options.task;
  if (task !== undefined && typeof task !== "string") {
    typeError(action, "options.task", "a string", task);
  }
  const replay = await replayPromotions(artifactsDir, await readRunManifest(artifactsDir, runId));
  return task === undefined ? replay.history : replay.history.filter((d) => d.task === task);
}

/**
 * Where one candidate stands after a run's last recorded tick.
 *
 * @example A candidate four clean ticks into a window of six
 * ```ts
 * import type { PromotionCandidateStatus } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const status: PromotionCandidateStatus = {
 *   task: "m", status: "candidate", lane: "shadow",
 *   window: { lane: "shadow", ticks: [0, 1, 2, 3], ok: 4, errors: 0, skips: 0 },
 *   settings: { window: 6, max_errors: 0, max_skips: 0 }, last_decision_tick: null,
 *   definition_sha256: "ab".repeat(32),
 * };
 * assert.equal(`${status.window.ok}/${status.settings.window}`, "4/6");
 * ```
 */
export interface PromotionCandidateStatus {
  /** The task. */
  task: string;
  /** `candidate`, `promoted` or `demoted`. */
  status: PromotionStatus;
  /** The lane it runs in from the next tick on. */
  lane: Lane;
  /** Its current window so far. */
  window: PromotionWindow;
  /** Its settings. */
  settings: PromotionDecision["settings"];
  /** The tick of its last promotion or demotion, or `null`. */
  last_decision_tick: number | null;
  /** The definition its window is gathered under. */
  definition_sha256: string;
}

/**
 * A run's candidates after its last recorded tick.
 *
 * @example No candidates
 * ```ts
 * import type { PromotionStatusReport } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const report: PromotionStatusReport = { run_id: "R", next_tick: 12, candidates: [] };
 * assert.equal(report.candidates.length, 0);
 * ```
 */
export interface PromotionStatusReport {
  /** The run. */
  run_id: string;
  /** The tick after the last recorded one: the tick the status is for. */
  next_tick: number;
  /** One entry per candidate, by task name. */
  candidates: PromotionCandidateStatus[];
}

/**
 * Where each candidate of a run stands after its last recorded tick: its
 * state, the lane it runs in next, its window so far and its last decision,
 * replayed from the records. Needs read access.
 *
 * @param artifactsDir The artifacts directory.
 * @param runId The run.
 * @returns The run's candidates, by task name.
 * @throws {Deno.errors.NotFound} When the run has no manifest.
 * @throws {PromotionHistoryError} When a recorded decision does not follow.
 * @throws {RunReadError} When a recorded artifact cannot be read as recorded.
 *
 * @example Promoted after two clean ticks, then one tick in the forecast lane
 * ```ts
 * import { preparePipeline } from "@abraxas/ers";
 * import { pipelineTick, readPromotionStatus } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const pipeline = preparePipeline({
 *     tasks: [{ name: "m", lane: "shadow", priority: 0, costOps: 1, fn: () => 1, promote: { window: 2 } }],
 *   });
 *   for (const tick of [0, 1, 2]) await pipelineTick({ pipeline, tick, runId: "R", mode: "demo", artifactsDir: dir });
 *   const report = await readPromotionStatus(dir, "R");
 *   assert.equal(report.next_tick, 3);
 *   assert.deepEqual(report.candidates.map((c) => [c.task, c.status, c.lane, c.window.ticks, c.last_decision_tick]), [
 *     ["m", "promoted", "forecast", [2], 1],
 *   ]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function readPromotionStatus(
  artifactsDir: string,
  runId: string,
): Promise<PromotionStatusReport> {
  const replay = await replayPromotions(artifactsDir, await readRunManifest(artifactsDir, runId));
  const candidates = [...replay.states.values()].map((state): PromotionCandidateStatus => ({
    task: state.task,
    status: state.status,
    lane: state.lane,
    window: countWindow(state.lane, state.window),
    settings: {
      window: state.settings.window,
      max_errors: state.settings.maxErrors,
      max_skips: state.settings.maxSkips,
    },
    last_decision_tick: state.lastDecisionTick,
    definition_sha256: state.definition,
  }));
  candidates.sort((a, b) => compareCodePoints(a.task, b.task));
  return { run_id: runId, next_tick: replay.nextTick, candidates };
}
