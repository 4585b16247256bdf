/**
 * Promotion: a shadow task that declares `promote: { window }` earns the
 * forecast lane by running clean for `window` ticks, and loses it again when
 * it errors there. The rule is pure: state plus one tick's outcome gives the
 * next state and, at most, one decision. The runtime records the decisions.
 *
 * @module
 */

import { canonicalJsonBytes } from "./canonical_json.ts";
import { sha256Hex } from "./_sha256.ts";
import { codePointSortKey } from "./_code_point.ts";
import {
  type Lane,
  LANES,
  type Status,
  STATUSES,
  type TaskSpec,
  type TraceEvent,
} from "./types.ts";
import { checkNonNegativeInteger, describeValue, rangeError, typeError } from "./_validate.ts";
import { checkPromoteSettings } from "./_promote_check.ts";

export { MAX_PROMOTE_WINDOW } from "./_promote_check.ts";

/**
 * What a task declares to become a promotion candidate: `promote` in
 * {@linkcode bindCallable}'s options or in a pipeline's task.
 *
 * @example A candidate that tolerates one budget skip per window
 * ```ts
 * import { bindCallable, type PromoteInit } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const promote: PromoteInit = { window: 6, maxSkips: 1 };
 * const task = bindCallable({ name: "m", lane: "shadow", priority: 0, costOps: 1, fn: () => 0, promote });
 * assert.deepEqual(task.promote, { window: 6, maxErrors: 0, maxSkips: 1 });
 * ```
 */
export interface PromoteInit {
  /** The canary window, a positive integer number of ticks (at most 1024). */
  window: number;
  /**
   * Most errors a window may hold: at most this many in the last `window`
   * shadow ticks to be promoted; more than this many among the forecast ticks
   * of the last `window` to be demoted. From 0 to `window`.
   *
   * @default {0}
   */
  maxErrors?: number;
  /**
   * Most budget skips the last `window` shadow ticks may hold to be promoted.
   * From 0 to `window`.
   *
   * @default {0}
   */
  maxSkips?: number;
}

/**
 * A task's validated promotion settings, as its {@linkcode TaskSpec} holds them.
 *
 * @example Defaults filled in
 * ```ts
 * import { bindCallable, type PromoteSettings } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const task = bindCallable({
 *   name: "m", lane: "shadow", priority: 0, costOps: 1, fn: () => 0, promote: { window: 3 },
 * });
 * const expected: PromoteSettings = { window: 3, maxErrors: 0, maxSkips: 0 };
 * assert.deepEqual(task.promote, expected);
 * assert.ok(Object.isFrozen(task.promote));
 * ```
 */
export interface PromoteSettings {
  /** The canary window in ticks. */
  readonly window: number;
  /** Most errors a window may hold. */
  readonly maxErrors: number;
  /** Most budget skips a promotion window may hold. */
  readonly maxSkips: number;
}

/**
 * Where a candidate stands: `candidate` (never promoted), `promoted`, or
 * `demoted` (promoted once, back in the shadow lane with a fresh window until
 * it is promoted again).
 *
 * @example The three states
 * ```ts
 * import type { PromotionStatus } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const states: PromotionStatus[] = ["candidate", "promoted", "demoted"];
 * assert.equal(states.length, 3);
 * ```
 */
export type PromotionStatus = "candidate" | "promoted" | "demoted";

/**
 * One tick of a window: the tick and what happened to the task.
 *
 * @example A clean tick
 * ```ts
 * import type { WindowTick } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const tick: WindowTick = { tick: 4, status: "ok" };
 * assert.equal(tick.status, "ok");
 * ```
 */
export interface WindowTick {
  /** The tick. */
  readonly tick: number;
  /** What happened to the task in it. */
  readonly status: Status;
}

/**
 * A candidate's promotion state after some ticks. Immutable; the rule
 * returns a new one.
 *
 * @example The state of a candidate after one clean tick
 * ```ts
 * import { nextPromotionState, type PromotionState } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const settings = { window: 3, maxErrors: 0, maxSkips: 0 };
 * const { state } = nextPromotionState(undefined, {
 *   task: "m", settings, definition: "d1", tick: 0, lane: "shadow", status: "ok",
 * });
 * const expected: PromotionState = {
 *   task: "m", settings, definition: "d1", status: "candidate", lane: "shadow",
 *   window: [{ tick: 0, status: "ok" }], lastTick: 0, lastDecisionTick: null,
 * };
 * assert.deepEqual(state, expected);
 * ```
 */
export interface PromotionState {
  /** The task. */
  readonly task: string;
  /** The settings it is judged by. */
  readonly settings: PromoteSettings;
  /** The digest of the definition the window was gathered under. */
  readonly definition: string;
  /** Where it stands. */
  readonly status: PromotionStatus;
  /** The lane it runs in from the next tick on. */
  readonly lane: Lane;
  /** The ticks of the current window, oldest first, at most `settings.window`. */
  readonly window: readonly WindowTick[];
  /** The last tick observed. */
  readonly lastTick: number;
  /** The tick of the last promotion or demotion, or `null`. */
  readonly lastDecisionTick: number | null;
}

/**
 * One tick of a candidate, as recorded: its definition then, and the lane it
 * ran in and what happened.
 *
 * @example A tick where the candidate was skipped for lack of budget
 * ```ts
 * import { nextPromotionState, type PromotionStep } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const step: PromotionStep = {
 *   task: "m", settings: { window: 2, maxErrors: 0, maxSkips: 0 }, definition: "d1",
 *   tick: 0, lane: "shadow", status: "skipped_budget",
 * };
 * assert.deepEqual(nextPromotionState(undefined, step).state.window, [{ tick: 0, status: "skipped_budget" }]);
 * ```
 */
export interface PromotionStep {
  /** The task. */
  readonly task: string;
  /** Its promotion settings at this tick. */
  readonly settings: PromoteSettings;
  /** The digest of its definition at this tick (see {@linkcode promotionDefinitionDigest}). */
  readonly definition: string;
  /** The tick; later than every tick observed before. */
  readonly tick: number;
  /** The lane it ran in; the state's lane. */
  readonly lane: Lane;
  /** What happened. */
  readonly status: Status;
}

/**
 * The window a decision was judged on: its ticks and what they held.
 *
 * @example Counts of a clean window
 * ```ts
 * import type { PromotionWindow } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const window: PromotionWindow = { lane: "shadow", ticks: [3, 4, 5], ok: 3, errors: 0, skips: 0 };
 * assert.equal(window.ticks.length, window.ok + window.errors + window.skips);
 * ```
 */
export interface PromotionWindow {
  /** The lane its ticks ran in. */
  lane: Lane;
  /** Its ticks, oldest first. */
  ticks: number[];
  /** How many ended `ok`. */
  ok: number;
  /** How many ended `error`. */
  errors: number;
  /** How many were skipped for lack of budget. */
  skips: number;
}

/**
 * One decision about one task, as PromotionDecision.v0 records it. Made at
 * the end of a tick: `promoted` (rule `clean_shadow_window`) and `demoted`
 * (rule `forecast_errors_over_max`). Made at its start, so that the records
 * alone say what each tick was judged under: `enrolled` (rule
 * `declared_candidate`: first tick as a candidate), `reset` (rule
 * `definition_changed`: the window restarts and no evidence is carried over;
 * the lane stays) and `withdrawn` (rule `promote_removed`: the task no longer
 * declares `promote` and runs in its own lane again).
 *
 * @example A promotion after three clean ticks
 * ```ts
 * import { nextPromotionState, type PromotionDecision } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const settings = { window: 3, maxErrors: 0, maxSkips: 0 };
 * let state;
 * let decision: PromotionDecision | null = null;
 * for (const tick of [0, 1, 2]) {
 *   ({ state, decision } = nextPromotionState(state, {
 *     task: "m", settings, definition: "d1", tick, lane: "shadow", status: "ok",
 *   }));
 * }
 * assert.deepEqual(decision, {
 *   task: "m", decision: "promoted", from: "shadow", to: "forecast", rule: "clean_shadow_window",
 *   window: { lane: "shadow", ticks: [0, 1, 2], ok: 3, errors: 0, skips: 0 },
 *   settings: { window: 3, max_errors: 0, max_skips: 0 }, definition_sha256: "d1",
 * });
 * ```
 */
export interface PromotionDecision {
  /** The task. */
  task: string;
  /** What was decided. */
  decision: "enrolled" | "promoted" | "demoted" | "reset" | "withdrawn";
  /** The lane it ran in. */
  from: Lane;
  /** The lane it runs in from the next tick on. */
  to: Lane;
  /** The rule that fired. */
  rule:
    | "declared_candidate"
    | "clean_shadow_window"
    | "forecast_errors_over_max"
    | "definition_changed"
    | "promote_removed";
  /** The window judged (for `reset` and `withdrawn`, the window dropped). */
  window: PromotionWindow;
  /** The settings judged by (for `enrolled` and `reset`, those from this tick on). */
  settings: { window: number; max_errors: number; max_skips: number };
  /** The definition digest it was judged under (for `enrolled` and `reset`, the one from this tick on). */
  definition_sha256: string;
  /** For `reset`: the definition digest the dropped window was gathered under. */
  previous_definition_sha256?: string;
}

/**
 * What {@linkcode nextPromotionState} returns.
 *
 * @example No decision on an ordinary tick
 * ```ts
 * import { nextPromotionState, type PromotionTransition } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const out: PromotionTransition = nextPromotionState(undefined, {
 *   task: "m", settings: { window: 2, maxErrors: 0, maxSkips: 0 }, definition: "d",
 *   tick: 0, lane: "shadow", status: "ok",
 * });
 * assert.equal(out.decision, null);
 * assert.equal(out.reset?.decision, "enrolled");
 * ```
 */
export interface PromotionTransition {
  /** The state after the tick. */
  state: PromotionState;
  /** A promotion or demotion decided at the end of the tick, or `null`. */
  decision: PromotionDecision | null;
  /**
   * The start of a window under a definition at this tick: `enrolled` for
   * the first step, `reset` when the definition changed, else `null`.
   */
  reset: PromotionDecision | null;
}

const ACTION = "advance promotion state";

/**
 * The promotion rule. Given a candidate's state after the previous tick
 * (`undefined` before its first) and one tick's recorded outcome, returns the
 * state after that tick and any decision made at its end:
 *
 * - the first step enrols the candidate (an `enrolled` decision);
 * - when the definition differs from the state's, the window restarts first
 *   (a `reset`), so no evidence gathered under the old one is carried over;
 * - in the shadow lane, once the last `window` ticks hold at most `maxErrors`
 *   errors and at most `maxSkips` skips, the task is `promoted`: it runs in
 *   the forecast lane from the next tick on, with a fresh window;
 * - in the forecast lane, once its ticks within the last `window` hold more
 *   than `maxErrors` errors, it is `demoted`: back to the shadow lane from the
 *   next tick on, with a fresh window.
 *
 * @param state The state after the previous tick, or `undefined`.
 * @param step The tick: definition, settings, lane and status.
 * @returns The next state, and the decision and reset, each or `null`.
 * @throws {TypeError | RangeError} When a field of the step is not valid,
 * naming it (`step.tick` must be a non-negative integer, `step.settings` valid
 * promotion settings), or when the step does not follow the state: another
 * task, a tick not after the last one, a lane other than the state's, or the
 * state's definition with other settings.
 *
 * @example A flaky metric is never promoted
 * ```ts
 * import { nextPromotionState, type PromotionState } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const settings = { window: 3, maxErrors: 0, maxSkips: 0 };
 * let state: PromotionState | undefined;
 * for (let tick = 0; tick < 12; tick++) {
 *   const status = tick % 3 === 2 ? "error" : "ok";
 *   const out = nextPromotionState(state, { task: "m", settings, definition: "d", tick, lane: "shadow", status });
 *   assert.equal(out.decision, null);
 *   state = out.state;
 * }
 * assert.equal(state?.status, "candidate");
 * ```
 */
export function nextPromotionState(
  state: PromotionState | undefined,
  step: PromotionStep,
): PromotionTransition {
  if (typeof step !== "object" || step === null) typeError(ACTION, "step", "an object", step);
  if (typeof step.task !== "string") typeError(ACTION, "step.task", "a string", step.task);
  checkPromoteSettings(ACTION, "step.settings", step.settings);
  if (typeof step.definition !== "string") {
    typeError(ACTION, "step.definition", "a string", step.definition);
  }
  checkNonNegativeInteger(ACTION, "step.tick", step.tick);
  checkMember(ACTION, "step.lane", LANES, step.lane);
  checkMember(ACTION, "step.status", STATUSES, step.status);
  return advance(state, step);
}

// The rule, for a step whose fields are valid.
function advance(state: PromotionState | undefined, step: PromotionStep): PromotionTransition {
  let current = state ?? freshState(step);
  let reset: PromotionDecision | null = state === undefined
    ? judged(current, "enrolled", "shadow", "declared_candidate", [])
    : null;
  if (current.task !== step.task) rangeError(ACTION, "step.task", `"${current.task}"`, step.task);
  if (state !== undefined && step.tick <= state.lastTick) {
    rangeError(ACTION, "step.tick", `after tick ${state.lastTick}`, step.tick);
  }
  if (step.lane !== current.lane) {
    rangeError(ACTION, "step.lane", `"${current.lane}", the lane its state gives it`, step.lane);
  }
  if (current.definition === step.definition) {
    if (!sameSettings(current.settings, step.settings)) {
      throw new RangeError(
        `Cannot ${ACTION} as 'step.settings' must be the settings of definition ${
          JSON.stringify(step.definition)
        } (${settingsText(current.settings)}): current value is ${settingsText(step.settings)}`,
      );
    }
  } else {
    reset = judged(current, "reset", current.lane, "definition_changed", current.window);
    reset.definition_sha256 = step.definition;
    reset.settings = settingsRecord(step.settings);
    reset.previous_definition_sha256 = current.definition;
    current = { ...current, settings: step.settings, definition: step.definition, window: [] };
  }
  const window = [...current.window, Object.freeze({ tick: step.tick, status: step.status })]
    .slice(-current.settings.window);
  const next: PromotionState = { ...current, window, lastTick: step.tick };
  const decision = decide(next);
  if (decision === null) return { state: Object.freeze(next), decision, reset };
  const moved: PromotionState = {
    ...next,
    status: decision.decision === "promoted" ? "promoted" : "demoted",
    lane: decision.to,
    window: [],
    lastDecisionTick: step.tick,
  };
  return { state: Object.freeze(moved), decision, reset };
}

// `value` must be one of `members`: a RangeError for another string, else a TypeError.
function checkMember(
  action: string,
  field: string,
  members: readonly string[],
  value: unknown,
): void {
  if (members.includes(value as string)) return;
  const rule = members.length === 2
    ? `"${members[0]}" or "${members[1]}"`
    : `${members.slice(0, -1).map((m) => `"${m}"`).join(", ")} or "${members.at(-1)}"`;
  if (typeof value !== "string") typeError(action, field, rule, value);
  rangeError(action, field, rule, value);
}

function sameSettings(a: PromoteSettings, b: PromoteSettings): boolean {
  return a.window === b.window && a.maxErrors === b.maxErrors && a.maxSkips === b.maxSkips;
}

function settingsText(s: PromoteSettings): string {
  return `window ${describeValue(s.window)}, maxErrors ${describeValue(s.maxErrors)}, maxSkips ${
    describeValue(s.maxSkips)
  }`;
}

function freshState(step: PromotionStep): PromotionState {
  return {
    task: step.task,
    settings: step.settings,
    definition: step.definition,
    status: "candidate",
    lane: "shadow",
    window: [],
    lastTick: -1,
    lastDecisionTick: null,
  };
}

function decide(state: PromotionState): PromotionDecision | null {
  const { window, maxErrors, maxSkips } = state.settings;
  const counts = countWindow(state.lane, state.window);
  if (state.lane === "shadow") {
    const clean = state.window.length === window && counts.errors <= maxErrors &&
      counts.skips <= maxSkips;
    return clean
      ? judged(state, "promoted", "forecast", "clean_shadow_window", state.window)
      : null;
  }
  return counts.errors > maxErrors
    ? judged(state, "demoted", "shadow", "forecast_errors_over_max", state.window)
    : null;
}

function judged(
  state: PromotionState,
  decision: PromotionDecision["decision"],
  to: Lane,
  rule: PromotionDecision["rule"],
  window: readonly WindowTick[],
): PromotionDecision {
  return {
    task: state.task,
    decision,
    from: state.lane,
    to,
    rule,
    window: countWindow(state.lane, window),
    settings: settingsRecord(state.settings),
    definition_sha256: state.definition,
  };
}

function settingsRecord(settings: PromoteSettings): PromotionDecision["settings"] {
  return { window: settings.window, max_errors: settings.maxErrors, max_skips: settings.maxSkips };
}

/**
 * Counts a window's ticks by status.
 *
 * @param lane The lane the ticks ran in.
 * @param window The ticks.
 * @returns The ticks and their counts.
 *
 * @example Two clean ticks and a skip
 * ```ts
 * import { countWindow } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const window = [{ tick: 1, status: "ok" }, { tick: 2, status: "skipped_budget" }, { tick: 3, status: "ok" }] as const;
 * assert.deepEqual(countWindow("shadow", window), { lane: "shadow", ticks: [1, 2, 3], ok: 2, errors: 0, skips: 1 });
 * ```
 */
export function countWindow(lane: Lane, window: readonly WindowTick[]): PromotionWindow {
  const counts: PromotionWindow = { lane, ticks: [], ok: 0, errors: 0, skips: 0 };
  for (const { tick, status } of window) {
    counts.ticks.push(tick);
    if (status === "ok") counts.ok++;
    else if (status === "error") counts.errors++;
    else counts.skips++;
  }
  return counts;
}

/**
 * The SHA-256 of what defines a candidate for promotion: its name, priority,
 * costs, tags and `promote` settings, and the pipeline's digest when one is
 * recorded. A change to any of them restarts its window.
 *
 * @param task A candidate (a task with `promote`).
 * @param pipelineSha256 The pipeline's digest, when one is recorded.
 * @returns The lowercase hex digest.
 * @throws {TypeError} When the task has no `promote` settings.
 *
 * @example A cost change is a new definition
 * ```ts
 * import { bindCallable, promotionDefinitionDigest } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const options = { name: "m", lane: "shadow", priority: 0, costOps: 1, fn: () => 0, promote: { window: 3 } } as const;
 * const before = await promotionDefinitionDigest(bindCallable(options));
 * assert.equal(before, await promotionDefinitionDigest(bindCallable({ ...options, fn: () => 1 })));
 * assert.notEqual(before, await promotionDefinitionDigest(bindCallable({ ...options, costOps: 2 })));
 * assert.notEqual(before, await promotionDefinitionDigest(bindCallable(options), "ab12"));
 * ```
 */
export function promotionDefinitionDigest(
  task: TaskSpec,
  pipelineSha256?: string,
): Promise<string> {
  const promote = task.promote;
  if (promote === undefined) {
    typeError("digest promotion definition", "task.promote", "promotion settings", promote);
  }
  return sha256Hex(canonicalJsonBytes({
    name: task.name,
    priority: task.priority,
    cost_ops: task.costOps,
    cost_entropy: task.costEntropy,
    tags: task.tags,
    promote: settingsRecord(promote),
    pipeline_sha256: pipelineSha256 ?? null,
  }));
}

/**
 * What makes a task a candidate at a tick: its settings and the digest of its
 * definition (see {@linkcode promotionDefinitionDigest}).
 *
 * @example A candidate, ready for {@linkcode advancePromotions}
 * ```ts
 * import type { CandidateDefinition } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const candidate: CandidateDefinition = { settings: { window: 3, maxErrors: 0, maxSkips: 0 }, definition: "d" };
 * assert.equal(candidate.settings.window, 3);
 * ```
 */
export interface CandidateDefinition {
  /** The task's promotion settings. */
  readonly settings: PromoteSettings;
  /** The digest of its definition. */
  readonly definition: string;
}

/**
 * The lane overrides of a tick (for `RunTickOptions.lanes`): each candidate
 * whose state puts it in the forecast lane. A task no longer among
 * `candidates` runs in its own lane.
 *
 * @param states Each candidate's state after the previous tick, by name.
 * @param candidates The tick's candidates, by name.
 * @returns Task name to lane, only for tasks that move.
 *
 * @example A promoted candidate runs in the forecast lane
 * ```ts
 * import { advancePromotions, promotionLanes } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const candidates = new Map([["m", { settings: { window: 1, maxErrors: 0, maxSkips: 0 }, definition: "d" }]]);
 * const trace = [{ tick: 0, task: "m", lane: "shadow", status: "ok", cost_ops: 1, cost_entropy: 0, meta: { tags: [] } }] as const;
 * assert.deepEqual(promotionLanes(new Map(), candidates), {});
 * const { states } = advancePromotions(new Map(), 0, candidates, trace);
 * assert.deepEqual(promotionLanes(states, candidates), { m: "forecast" });
 * assert.deepEqual(promotionLanes(states, new Map()), {});
 * ```
 */
export function promotionLanes(
  states: ReadonlyMap<string, PromotionState>,
  candidates: ReadonlyMap<string, CandidateDefinition>,
): Record<string, Lane> {
  const lanes: Record<string, Lane> = Object.create(null);
  for (const [name, state] of states) {
    if (state.lane === "forecast" && candidates.has(name)) lanes[name] = "forecast";
  }
  return { ...lanes };
}

/**
 * What {@linkcode advancePromotions} reads of a trace event: a TraceEvent or a
 * TrendPack timeline entry will do.
 *
 * @example A timeline entry is enough
 * ```ts
 * import { advancePromotions, type PromotionEvent } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const events: PromotionEvent[] = [{ task: "m", lane: "shadow", status: "ok" }];
 * const candidates = new Map([["m", { settings: { window: 1, maxErrors: 0, maxSkips: 0 }, definition: "d" }]]);
 * assert.equal(advancePromotions(new Map(), 0, candidates, events).states.get("m")?.lane, "forecast");
 * ```
 */
export type PromotionEvent = Pick<TraceEvent, "task" | "lane" | "status">;

/**
 * What {@linkcode advancePromotions} returns.
 *
 * @example The decisions of a tick, in task order
 * ```ts
 * import { advancePromotions, type PromotionAdvance } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const advance: PromotionAdvance = advancePromotions(new Map(), 0, new Map(), []);
 * assert.deepEqual(advance.decisions, []);
 * assert.equal(advance.states.size, 0);
 * ```
 */
export interface PromotionAdvance {
  /** Each candidate's state after the tick, by name. */
  states: ReadonlyMap<string, PromotionState>;
  /** The tick's decisions, by task name (code point order), each task's in the order made. */
  decisions: PromotionDecision[];
}

/**
 * Applies the rule to every candidate of one tick, from its trace: enrols new
 * candidates, resets changed ones, withdraws tasks that no longer declare
 * `promote`, then promotes or demotes. Tasks absent from the trace keep their
 * state untouched. Pure; the states given are not changed.
 *
 * @param states Each candidate's state after the previous tick, by name.
 * @param tick The tick.
 * @param candidates The tick's candidates, by name.
 * @param trace The tick's trace, as run with {@linkcode promotionLanes}.
 * @returns The states after the tick and the tick's decisions.
 * @throws {TypeError | RangeError} When an argument is not valid, naming it
 * (`tick`, a candidate's settings, a task twice in `trace`), or when the
 * trace does not follow the states (a candidate that ran in a lane other than
 * its state's, or a tick not after its last).
 *
 * @example Three ticks of a steady candidate with a window of two
 * ```ts
 * import { advancePromotions, bindCallable, DeterministicScheduler, promotionLanes, type PromotionState } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const s = new DeterministicScheduler();
 * s.add(bindCallable({ name: "m", lane: "shadow", priority: 0, costOps: 1, fn: () => 1, promote: { window: 2 } }));
 * const candidates = new Map([["m", { settings: { window: 2, maxErrors: 0, maxSkips: 0 }, definition: "d" }]]);
 * let states: ReadonlyMap<string, PromotionState> = new Map();
 * const seen: string[] = [];
 * for (const tick of [0, 1, 2]) {
 *   const out = await s.runTick({
 *     tick, budgetForecast: { ops: 1 }, budgetShadow: { ops: 1 }, lanes: promotionLanes(states, candidates),
 *   });
 *   const advance = advancePromotions(states, tick, candidates, out.trace);
 *   states = advance.states;
 *   seen.push(`${out.trace[0]?.lane}${advance.decisions.map((d) => ` ${d.decision}`).join("")}`);
 * }
 * assert.deepEqual(seen, ["shadow enrolled", "shadow promoted", "forecast"]);
 * ```
 */
export function advancePromotions(
  states: ReadonlyMap<string, PromotionState>,
  tick: number,
  candidates: ReadonlyMap<string, CandidateDefinition>,
  trace: readonly PromotionEvent[],
): PromotionAdvance {
  checkNonNegativeInteger(ADVANCE, "tick", tick);
  const next = new Map(states);
  const made: { key: string; decisions: PromotionDecision[] }[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < trace.length; i++) {
    const event = trace[i] as PromotionEvent;
    const state = states.get(event.task);
    const candidate = candidates.get(event.task);
    if (candidate === undefined && state === undefined) continue;
    checkEvent(event, i, seen);
    if (candidate === undefined) {
      const dropped = state as PromotionState;
      next.delete(event.task);
      const withdrawn = judged(dropped, "withdrawn", event.lane, "promote_removed", dropped.window);
      made.push({ key: codePointSortKey(event.task), decisions: [withdrawn] });
      continue;
    }
    checkCandidate(event.task, candidate);
    const step = advance(state, {
      task: event.task,
      settings: candidate.settings,
      definition: candidate.definition,
      tick,
      lane: event.lane,
      status: event.status,
    });
    next.set(event.task, step.state);
    const decisions = [step.reset, step.decision].filter((d) => d !== null);
    if (decisions.length > 0) made.push({ key: codePointSortKey(event.task), decisions });
  }
  made.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { states: next, decisions: made.flatMap((m) => m.decisions) };
}

const ADVANCE = "advance promotions";

function checkEvent(event: PromotionEvent, i: number, seen: Set<string>): void {
  if (seen.has(event.task)) {
    rangeError(ADVANCE, `trace[${i}].task`, "a task not already in the trace", event.task);
  }
  seen.add(event.task);
  checkMember(ADVANCE, `trace[${i}].lane`, LANES, event.lane);
  checkMember(ADVANCE, `trace[${i}].status`, STATUSES, event.status);
}

function checkCandidate(name: string, candidate: CandidateDefinition): void {
  const field = `candidates.get(${JSON.stringify(name)})`;
  if (typeof candidate !== "object" || candidate === null) {
    typeError(ADVANCE, field, "an object { settings, definition }", candidate);
  }
  checkPromoteSettings(ADVANCE, `${field}.settings`, candidate.settings);
  if (typeof candidate.definition !== "string") {
    typeError(ADVANCE, `${field}.definition`, "a string", candidate.definition);
  }
}

/**
 * The candidates among `tasks` (those with `promote`), with their settings
 * and definition digests, ready for {@linkcode promotionLanes} and
 * {@linkcode advancePromotions}.
 *
 * @param tasks Validated tasks, such as a prepared pipeline's.
 * @param pipelineSha256 The pipeline's digest, when one is recorded.
 * @returns Each candidate's settings and definition digest, by name.
 *
 * @example Only tasks with promote are candidates
 * ```ts
 * import { preparePipeline, promotionCandidates } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const { tasks } = preparePipeline({
 *   tasks: [
 *     { name: "f", lane: "forecast", priority: 0, costOps: 1, fn: () => 0 },
 *     { name: "m", lane: "shadow", priority: 0, costOps: 1, fn: () => 0, promote: { window: 5 } },
 *   ],
 * });
 * const candidates = await promotionCandidates(tasks);
 * assert.deepEqual([...candidates.keys()], ["m"]);
 * assert.equal(candidates.get("m")?.settings.window, 5);
 * assert.match(candidates.get("m")?.definition ?? "", /^[0-9a-f]{64}$/);
 * ```
 */
export async function promotionCandidates(
  tasks: readonly TaskSpec[],
  pipelineSha256?: string,
): Promise<Map<string, CandidateDefinition>> {
  const candidates = new Map<string, CandidateDefinition>();
  for (const task of tasks) {
    if (task.promote === undefined) continue;
    candidates.set(task.name, {
      settings: task.promote,
      definition: await cachedDigest(task, pipelineSha256),
    });
  }
  return candidates;
}

// Frozen tasks digest the same every time: a prepared pipeline's tasks are
// digested once per pipeline digest, not once per tick.
const digestCache = new WeakMap<TaskSpec, Map<string | undefined, Promise<string>>>();

function cachedDigest(task: TaskSpec, pipelineSha256: string | undefined): Promise<string> {
  if (!Object.isFrozen(task) || !Object.isFrozen(task.tags) || !Object.isFrozen(task.promote)) {
    return promotionDefinitionDigest(task, pipelineSha256);
  }
  let byPipeline = digestCache.get(task);
  if (byPipeline === undefined) digestCache.set(task, byPipeline = new Map());
  let digest = byPipeline.get(pipelineSha256);
  if (digest === undefined) {
    digest = promotionDefinitionDigest(task, pipelineSha256);
    byPipeline.set(pipelineSha256, digest);
  }
  return digest;
}
