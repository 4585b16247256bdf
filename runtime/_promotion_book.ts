// Promotion bookkeeping for the tick orchestrator and the readers: the
// PromotionDecision.v0 record, the replay of the rule over a run's recorded
// ticks, and a per-run cache of the states so that consecutive ticks of one
// process need no replay. The state is always a function of the records: the
// cache holds what a replay would give, and any tick other than the next one
// is replayed from the records.

import {
  advancePromotions,
  type CandidateDefinition,
  MAX_PROMOTE_WINDOW,
  promotionCandidates,
  type PromotionDecision,
  type PromotionEvent,
  promotionLanes,
  type PromotionState,
} from "../ers/promotion.ts";
import { canonicalJsonString } from "../ers/_canonical.ts";
import { type Lane, LANES, type TaskSpec, type TraceEvent } from "../ers/types.ts";
import { isPlainObject } from "../ers/_validate.ts";
import { join } from "node:path";
import { ARTIFACT_LAYOUT, artifactPath } from "./layout.ts";
import { parseJson } from "./_json.ts";
import { readRecordedFile } from "./_read.ts";
import {
  readRunManifest,
  readRunTicks,
  type RunManifest,
  type RunManifestRecord,
} from "./run_reader.ts";
import { RunReadError } from "./errors.ts";

/**
 * A PromotionDecision.v0 artifact: the decisions made at one tick of a run,
 * at `promotions/<run_id>/<tick:06>.promotion.json`, by task name.
 *
 * @example The record of a promotion at tick 2
 * ```ts
 * import { type PromotionRecord, readPromotionHistory } from "@abraxas/ers/runtime";
 * import { preparePipeline } from "@abraxas/ers";
 * import { pipelineTick } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const pipeline = preparePipeline({
 *     tasks: [{ name: "m", lane: "shadow", priority: 0, costOps: 1, fn: () => 1, promote: { window: 3 } }],
 *   });
 *   for (const tick of [0, 1, 2]) await pipelineTick({ pipeline, tick, runId: "R", mode: "demo", artifactsDir: dir });
 *   const record: PromotionRecord = JSON.parse(await Deno.readTextFile(`${dir}/promotions/R/000002.promotion.json`));
 *   assert.equal(record.schema, "PromotionDecision.v0");
 *   assert.deepEqual(record.decisions.map((d) => d.decision), ["promoted"]);
 *   assert.equal((await readPromotionHistory(dir, "R")).length, 2);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface PromotionRecord {
  /** Always `PromotionDecision.v0`. */
  schema: "PromotionDecision.v0";
  /** The run. */
  run_id: string;
  /** The tick the decisions were made at. */
  tick: number;
  /** The decisions, by task name, each task's in the order made. */
  decisions: PromotionDecision[];
}

/** The PromotionDecision.v0 of `decisions` made at `tick` of `runId`. */
export function buildPromotionRecord(
  runId: string,
  tick: number,
  decisions: PromotionDecision[],
): PromotionRecord {
  return { schema: "PromotionDecision.v0", run_id: runId, tick, decisions };
}

/**
 * Raised when a run's recorded promotion decisions do not follow from its
 * recorded ticks: a decision recorded that the rule does not make, or the
 * other way round. The message names the tick; it happens when a record was
 * edited, or when the pipeline changed between processes in a way the records
 * cannot show.
 *
 * @example The tick is on the error
 * ```ts
 * import { PromotionHistoryError } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const error = new PromotionHistoryError("R", 4, "the rule decides nothing, the record holds m promoted");
 * assert.equal(error.name, "PromotionHistoryError");
 * assert.equal(error.tick, 4);
 * assert.match(error.message, /^Cannot follow the promotions of run R at tick 4: /);
 * ```
 */
export class PromotionHistoryError extends Error {
  /** Always `"PromotionHistoryError"`. */
  override name = "PromotionHistoryError";
  /** The first tick whose records do not follow. */
  readonly tick: number;

  /**
   * Creates the error.
   *
   * @param runId The run.
   * @param tick The first tick whose records do not follow.
   * @param problem What does not follow.
   */
  constructor(runId: string, tick: number, problem: string) {
    super(`Cannot follow the promotions of run ${runId} at tick ${tick}: ${problem}`);
    this.tick = tick;
  }
}

/** Each candidate's state and definition after replaying a run's recorded ticks. */
export interface PromotionReplay {
  /** Each candidate's state, by name. */
  states: ReadonlyMap<string, PromotionState>;
  /** Each candidate's settings and definition, as last recorded, by name. */
  candidates: ReadonlyMap<string, CandidateDefinition>;
  /** Every recorded decision, in order, with its tick. */
  history: PromotionHistoryEntry[];
  /** The tick after the last tick replayed (0 when none). */
  nextTick: number;
}

/**
 * Replays the promotion rule over the recorded ticks of a run before
 * `beforeTick` (all of them when omitted): the candidates and their
 * definitions come from the recorded `enrolled`, `reset` and `withdrawn`
 * decisions, the outcomes from the TrendPacks. Every decision the rule makes
 * must be the one recorded, byte for byte.
 */
export async function replayPromotions(
  artifactsDir: string,
  manifest: RunManifest,
  beforeTick?: number,
): Promise<PromotionReplay> {
  const before = beforeTick ?? Infinity;
  const kept = (r: RunManifestRecord) => r.tick < before;
  const promotionRecords = manifest.records.filter((r) =>
    r.schema === ARTIFACT_LAYOUT.promotion.schema && kept(r)
  );
  const replay: PromotionReplay = {
    states: new Map(),
    candidates: new Map(),
    history: [],
    nextTick: 0,
  };
  const lastTick = manifest.records.filter(kept).reduce((max, r) => Math.max(max, r.tick), -1);
  replay.nextTick = lastTick + 1;
  if (promotionRecords.length === 0) return replay;
  const recorded = new Map<number, PromotionRecord>();
  for (const record of promotionRecords) {
    recorded.set(record.tick, await readPromotionRecord(artifactsDir, record, manifest.run_id));
  }
  const first = promotionRecords[0]?.tick as number;
  const ticks = await readRunTicks(artifactsDir, {
    ...manifest,
    records: manifest.records.filter((r) => r.tick >= first && kept(r)),
  });
  const seen = new Set<number>();
  const candidates = new Map<string, CandidateDefinition>();
  let states: ReadonlyMap<string, PromotionState> = new Map();
  for (const { tick, trendpack } of ticks) {
    seen.add(tick);
    const record = recorded.get(tick);
    for (const decision of record?.decisions ?? []) applyDefinition(candidates, decision);
    const advance = followRecords(manifest.run_id, tick, states, candidates, trendpack.timeline);
    const made = canonicalJsonString(advance.decisions);
    const held = canonicalJsonString(record?.decisions ?? []);
    if (made !== held) {
      throw new PromotionHistoryError(
        manifest.run_id,
        tick,
        `the recorded ticks give the decisions ${made}, the record holds ${held}`,
      );
    }
    states = advance.states;
    for (const decision of advance.decisions) replay.history.push({ tick, ...decision });
  }
  for (const tick of recorded.keys()) {
    if (!seen.has(tick)) {
      throw new PromotionHistoryError(manifest.run_id, tick, "no TrendPack is recorded for it");
    }
  }
  replay.states = states;
  replay.candidates = candidates;
  return replay;
}

// The rule applied to one recorded tick: a TrendPack that puts a candidate in
// another lane than its recorded decisions do, or any other input the rule
// refuses, is a history that does not follow, named by its tick.
function followRecords(
  runId: string,
  tick: number,
  states: ReadonlyMap<string, PromotionState>,
  candidates: ReadonlyMap<string, CandidateDefinition>,
  timeline: readonly PromotionEvent[],
): ReturnType<typeof advancePromotions> {
  for (const event of timeline) {
    if (!candidates.has(event.task)) continue;
    const lane = states.get(event.task)?.lane ?? "shadow";
    if (event.lane !== lane) {
      throw new PromotionHistoryError(
        runId,
        tick,
        `the TrendPack records ${JSON.stringify(event.task)} in the ${event.lane} lane, ` +
          `its recorded decisions put it in the ${lane} lane`,
      );
    }
  }
  try {
    return advancePromotions(states, tick, candidates, timeline);
  } catch (error) {
    if (!(error instanceof RangeError || error instanceof TypeError)) throw error;
    throw new PromotionHistoryError(
      runId,
      tick,
      `the recorded ticks do not follow: ${error.message}`,
    );
  }
}

function applyDefinition(
  candidates: Map<string, CandidateDefinition>,
  decision: PromotionDecision,
): void {
  if (decision.decision === "withdrawn") {
    candidates.delete(decision.task);
  } else if (decision.decision === "enrolled" || decision.decision === "reset") {
    const { window, max_errors, max_skips } = decision.settings;
    candidates.set(decision.task, {
      settings: Object.freeze({ window, maxErrors: max_errors, maxSkips: max_skips }),
      definition: decision.definition_sha256,
    });
  }
}

// Largest PromotionDecision.v0 read back: 1024 tasks with full windows fit.
const MAX_PROMOTION_RECORD_BYTES = 64 * 1024 * 1024;

async function readPromotionRecord(
  root: string,
  record: RunManifestRecord,
  runId: string,
): Promise<PromotionRecord> {
  const bad = (problem: string): never => {
    throw new RunReadError(record.path, problem);
  };
  if (record.bytes > MAX_PROMOTION_RECORD_BYTES) {
    bad(`the manifest records ${record.bytes} bytes, more than ${MAX_PROMOTION_RECORD_BYTES}`);
  }
  const file = await readRecordedFile(root, record);
  if (file.problem !== undefined) bad(file.problem);
  let text = "";
  let value: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(file.bytes);
    value = parseJson(text);
  } catch {
    bad("it is not valid UTF-8 JSON");
  }
  // Written as canonical JSON: anything else (a key twice, 3.0 for 3, a lone
  // surrogate, spaces) was not written by ERS.
  if (!isCanonical(value, text)) bad("it is not canonical JSON");
  if (!isPlainObject(value)) return bad("it is not a JSON object");
  const extra = Object.keys(value).find((key) => !RECORD_KEYS.has(key));
  if (extra !== undefined) bad(`${JSON.stringify(extra)} is not a PromotionDecision.v0 field`);
  if (value.schema !== "PromotionDecision.v0") bad(`'schema' is not "PromotionDecision.v0"`);
  if (value.run_id !== runId) bad(`'run_id' is not ${JSON.stringify(runId)}`);
  if (value.tick !== record.tick) bad(`'tick' is not ${record.tick}, the tick its record holds`);
  const decisions = value.decisions;
  if (!Array.isArray(decisions) || decisions.length === 0) {
    return bad("'decisions' is not a non-empty array");
  }
  decisions.forEach((decision, i) => {
    const problem = decisionProblem(decision);
    if (problem !== undefined) bad(`decisions[${i}]${problem}`);
  });
  return value as unknown as PromotionRecord;
}

function isCanonical(value: unknown, text: string): boolean {
  try {
    return canonicalJsonString(value) === text;
  } catch {
    return false;
  }
}

const RECORD_KEYS = new Set(["schema", "run_id", "tick", "decisions"]);
const DECISION_KEYS = new Set([
  "task",
  "decision",
  "from",
  "to",
  "rule",
  "window",
  "settings",
  "definition_sha256",
  "previous_definition_sha256",
]);
const DECISIONS = new Set(["enrolled", "promoted", "demoted", "reset", "withdrawn"]);
const LANE_NAMES = new Set<string>(LANES);
const SHA256_HEX = /^[0-9a-f]{64}$/;

function decisionProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return " is not an object";
  const extra = Object.keys(value).find((key) => !DECISION_KEYS.has(key));
  if (extra !== undefined) return `.${extra} is not a PromotionDecision.v0 field`;
  if (typeof value.task !== "string") return ".task is not a string";
  if (!DECISIONS.has(value.decision as string)) return ".decision is not a known decision";
  if (!LANE_NAMES.has(value.from as string) || !LANE_NAMES.has(value.to as string)) {
    return ".from or .to is not forecast or shadow";
  }
  if (typeof value.rule !== "string") return ".rule is not a string";
  for (const key of ["definition_sha256", "previous_definition_sha256"]) {
    const digest = value[key];
    if (Object.hasOwn(value, key) && (typeof digest !== "string" || !SHA256_HEX.test(digest))) {
      return `.${key} is not a SHA-256 (64 lowercase hex digits)`;
    }
  }
  if (!Object.hasOwn(value, "definition_sha256")) return ".definition_sha256 is missing";
  const settings = value.settings;
  if (
    !isPlainObject(settings) || !isCount(settings.window) ||
    !isCount(settings.max_errors) || !isCount(settings.max_skips)
  ) return ".settings is not { window, max_errors, max_skips }";
  if (settings.window === 0 || settings.window > MAX_PROMOTE_WINDOW) {
    return `.settings.window must be an integer from 1 to ${MAX_PROMOTE_WINDOW}`;
  }
  for (const key of ["max_errors", "max_skips"]) {
    if ((settings[key] as number) > settings.window) {
      return `.settings.${key} must be at most window (${settings.window})`;
    }
  }
  const window = value.window;
  if (
    !isPlainObject(window) || !LANE_NAMES.has(window.lane as string) ||
    !Array.isArray(window.ticks) ||
    !window.ticks.every(isCount) || !isCount(window.ok) || !isCount(window.errors) ||
    !isCount(window.skips)
  ) return ".window is not { lane, ticks, ok, errors, skips }";
  return undefined;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/**
 * One recorded decision and the tick it was made at.
 *
 * @example A promotion, as history lists it
 * ```ts
 * import type { PromotionHistoryEntry } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const entry: PromotionHistoryEntry = {
 *   tick: 5, task: "m", decision: "promoted", from: "shadow", to: "forecast", rule: "clean_shadow_window",
 *   window: { lane: "shadow", ticks: [3, 4, 5], ok: 3, errors: 0, skips: 0 },
 *   settings: { window: 3, max_errors: 0, max_skips: 0 }, definition_sha256: "ab".repeat(32),
 * };
 * assert.equal(entry.window.ticks.at(-1), entry.tick);
 * ```
 */
export interface PromotionHistoryEntry extends PromotionDecision {
  /** The tick the decision was made at. */
  tick: number;
}

/** What a tick needs to run its candidates and record their decisions. */
export interface TickPromotion {
  /** Lane overrides for the tick, or `undefined` when no task moves. */
  readonly lanes: Readonly<Record<string, Lane>> | undefined;
  /**
   * Judges the tick's trace: the decisions to record and the states after
   * it, to remember once they are written. Throws PromotionHistoryError when
   * the tick is recorded already with other decisions.
   */
  judge(trace: readonly TraceEvent[]): {
    decisions: PromotionDecision[];
    remember(): Promise<void>;
  };
}

interface Book {
  nextTick: number;
  states: ReadonlyMap<string, PromotionState>;
  // The size of the run's manifest as this process left it, and what it
  // recorded. A manifest only grows (records are added, never removed): a
  // smaller or missing one has lost records the states were built on.
  manifestBytes: number;
  view: RunView;
}

// What a tick needs to know of a run's manifest.
interface RunView {
  /** The last recorded tick (-1 when none). */
  lastTick: number;
  /** The ticks with a TrendPack. */
  ticks: ReadonlySet<number>;
  /** The PromotionDecision.v0 records, by tick. */
  promotions: ReadonlyMap<number, RunManifestRecord>;
}

const NO_RUN: RunView = { lastTick: -1, ticks: new Set(), promotions: new Map() };

// States after the last tick a process wrote, per (artifacts root, run).
const MAX_BOOKS = 64;
const books = new Map<string, Book>();

/**
 * Prepares tick `tick` of a run: the candidates of `tasks` with their
 * definition digests (over the pipeline's digest too, when the run's header
 * records one), the states after the previous tick (kept from this
 * process's last tick of the run while its manifest has lost nothing, else
 * replayed from the records) and the lane overrides they give. Throws
 * PromotionHistoryError, before anything runs, for a tick that is not
 * recorded while later ones are: running it would change the decisions
 * recorded after it.
 */
export async function openTickPromotion(
  rootKey: string,
  artifactsDir: string,
  runId: string,
  tick: number,
  tasks: readonly TaskSpec[],
  pipelineSha256?: string,
): Promise<TickPromotion> {
  const candidates = await promotionCandidates(tasks, pipelineSha256);
  const key = `${rootKey}\u0000${runId}`;
  const manifestPath = join(rootKey, artifactPath("manifest", runId));
  const book = books.get(key);
  const kept = book !== undefined && book.nextTick === tick &&
    await manifestBytes(manifestPath) >= book.manifestBytes;
  const { states, view } = kept ? book : await recordedPast(artifactsDir, runId, tick);
  const recorded = await recordedAt(artifactsDir, runId, tick, view, candidates.size > 0);
  const lanes = promotionLanes(states, candidates);
  return {
    lanes: Object.keys(lanes).length === 0 ? undefined : lanes,
    judge(trace) {
      const advance = advancePromotions(states, tick, candidates, trace);
      if (recorded !== undefined) checkAsRecorded(runId, tick, advance.decisions, recorded);
      return {
        decisions: advance.decisions,
        async remember() {
          books.delete(key);
          const bytes = await manifestBytes(manifestPath);
          if (books.size >= MAX_BOOKS) books.delete(books.keys().next().value as string);
          // Only the last tick matters of a tick added: the next is after it.
          const after = view.lastTick < tick ? { ...view, lastTick: tick } : view;
          books.set(key, {
            nextTick: tick + 1,
            states: advance.states,
            manifestBytes: bytes,
            view: after,
          });
        },
      };
    },
  };
}

// The size of a run's manifest; 0 when there is none (yet: a group-commit
// writer records nothing before its first flush).
async function manifestBytes(path: string): Promise<number> {
  try {
    return (await Deno.lstat(path)).size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
}

// The states before `tick`, replayed from the records, and what the run records.
async function recordedPast(
  artifactsDir: string,
  runId: string,
  tick: number,
): Promise<{ states: ReadonlyMap<string, PromotionState>; view: RunView }> {
  let manifest: RunManifest;
  try {
    manifest = await readRunManifest(artifactsDir, runId);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { states: new Map(), view: NO_RUN };
    throw error;
  }
  const states = (await replayPromotions(artifactsDir, manifest, tick)).states;
  const view = { lastTick: -1, ticks: new Set<number>(), promotions: new Map() };
  for (const record of manifest.records) {
    view.lastTick = Math.max(view.lastTick, record.tick);
    if (record.schema === ARTIFACT_LAYOUT.trendpack.schema) view.ticks.add(record.tick);
    if (record.schema === ARTIFACT_LAYOUT.promotion.schema) {
      view.promotions.set(record.tick, record);
    }
  }
  return { states, view };
}

// When promotion is in play (candidates now, or decisions recorded) and the
// run records ticks from `tick` on, the tick must be recorded already, and
// may run again only to make the decisions it recorded: those are returned.
async function recordedAt(
  artifactsDir: string,
  runId: string,
  tick: number,
  view: RunView,
  hasCandidates: boolean,
): Promise<PromotionDecision[] | undefined> {
  if (view.lastTick < tick || (!hasCandidates && view.promotions.size === 0)) return undefined;
  if (!view.ticks.has(tick)) {
    throw new PromotionHistoryError(
      runId,
      tick,
      `tick ${tick} is not recorded, but ticks up to ${view.lastTick} are: running it now would ` +
        `change the promotion decisions recorded after it (resume from tick ${view.lastTick + 1})`,
    );
  }
  const record = view.promotions.get(tick);
  return record === undefined
    ? []
    : (await readPromotionRecord(artifactsDir, record, runId)).decisions;
}

function checkAsRecorded(
  runId: string,
  tick: number,
  decisions: PromotionDecision[],
  recorded: PromotionDecision[],
): void {
  const made = canonicalJsonString(decisions);
  const held = canonicalJsonString(recorded);
  if (made !== held) {
    throw new PromotionHistoryError(
      runId,
      tick,
      `this pipeline decides ${made}, the record holds ${held}: a recorded tick runs again ` +
        "only with the decisions it recorded",
    );
  }
}
