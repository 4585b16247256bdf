// The records a report draws besides TrendPacks, when the run has them: its
// RunHeader (identity and budgets), the ResultsPacks of ticks with errors
// (error texts), and its PromotionDecision records. Each is read through its
// manifest record (length and SHA-256 checked) and its shape checked; a bad
// one is a RunReadError naming the file, never drawn.

import { isPlainObject } from "../ers/_validate.ts";
import { type Lane, LANES } from "../ers/types.ts";

const LANE_NAMES: readonly string[] = LANES;
import type { ReportPromotion, ReportRunHeader, ReportTickResults } from "../viz/report.ts";
import { mapBounded, READ_CONCURRENCY } from "./_concurrency.ts";
import { parseJson } from "./_json.ts";
import { ARTIFACT_LAYOUT } from "./layout.ts";
import { readRecordedFile } from "./_read.ts";
import { readRunManifest, type RunManifest } from "./run_reader.ts";
import { readTickRecords } from "./_manifest_search.ts";
import { RunReadError } from "./errors.ts";
import type { RunTick } from "../viz/run_events.ts";
import type { ManifestRecord } from "./_manifest.ts";

const RUN_HEADER_SCHEMA = ARTIFACT_LAYOUT.runheader.schema;
const RESULTS_PACK_SCHEMA = ARTIFACT_LAYOUT.resultspack.schema;
const PROMOTION_SCHEMA = ARTIFACT_LAYOUT.promotion.schema;
const DECISIONS: readonly string[] = ["enrolled", "promoted", "demoted", "reset", "withdrawn"];
/** Largest record of these kinds read, in bytes. */
const MAX_EXTRA_BYTES = 16 * 1024 * 1024;

/** What a report draws besides the TrendPacks. */
export interface RunExtras {
  header?: ReportRunHeader;
  results: ReportTickResults[];
  promotions: ReportPromotion[];
}

async function readJson(root: string, record: ManifestRecord): Promise<unknown> {
  if (record.bytes > MAX_EXTRA_BYTES) {
    throw new RunReadError(
      record.path,
      `the manifest records ${record.bytes} bytes, more than ${MAX_EXTRA_BYTES}`,
    );
  }
  const file = await readRecordedFile(root, record);
  if (file.problem !== undefined) throw new RunReadError(record.path, file.problem);
  try {
    return parseJson(new TextDecoder("utf-8", { fatal: true }).decode(file.bytes));
  } catch {
    throw new RunReadError(record.path, "it is not valid UTF-8 JSON");
  }
}

/**
 * Reads the run's RunHeader, the ResultsPacks of the given ticks that hold
 * errors, and the promotion decisions in the range.
 */
export async function readRunExtras(
  root: string,
  manifest: RunManifest,
  ticks: readonly RunTick[],
): Promise<RunExtras> {
  const from = ticks[0]?.tick ?? 0;
  const to = ticks[ticks.length - 1]?.tick ?? -1;
  const erring = new Set(ticks.filter((t) => t.trendpack.stats.errors > 0).map((t) => t.tick));
  const extras: RunExtras = { results: [], promotions: [] };
  const wanted = manifest.records.filter((record) =>
    record.schema === RUN_HEADER_SCHEMA ||
    (record.schema === RESULTS_PACK_SCHEMA && erring.has(record.tick)) ||
    (record.schema === PROMOTION_SCHEMA && record.tick >= from && record.tick <= to)
  );
  // A bounded number read at a time, then taken in manifest (tick) order.
  const values = await mapBounded(wanted, READ_CONCURRENCY, (record) => readJson(root, record));
  wanted.forEach((record, i) => {
    const value = values[i];
    if (record.schema === RUN_HEADER_SCHEMA) {
      extras.header = runHeaderOf(record, value, manifest.run_id);
    } else if (record.schema === RESULTS_PACK_SCHEMA) {
      extras.results.push(resultsOf(record, value, manifest.run_id));
    } else {
      extras.promotions.push(...promotionsOf(record, value, manifest.run_id));
    }
  });
  return extras;
}

/** The error texts by task of one ResultsPack, read and checked as for a report. */
export async function readErrorTexts(
  root: string,
  record: ManifestRecord,
  runId: string,
): Promise<Map<string, string | null>> {
  return (await errorTextsOf(root, [record], runId)).get(record.tick) ?? new Map();
}

/**
 * The error texts of one tick, when it has errors and a ResultsPack; finds
 * the tick's records without reading the run's manifest whole.
 */
export async function readTickErrorTexts(
  root: string,
  tick: RunTick,
): Promise<Map<string, string | null>> {
  if (tick.trendpack.stats.errors === 0) return new Map();
  const runId = tick.trendpack.run_id;
  const records = (await readTickRecords(root, runId, tick.tick, readRunManifest))
    .filter((record) => record.schema === RESULTS_PACK_SCHEMA);
  return (await errorTextsOf(root, records, runId)).get(tick.tick) ?? new Map();
}

async function errorTextsOf(
  root: string,
  records: readonly ManifestRecord[],
  runId: string,
): Promise<Map<number, Map<string, string | null>>> {
  const values = await mapBounded(records, READ_CONCURRENCY, (record) => readJson(root, record));
  const texts = new Map<number, Map<string, string | null>>();
  records.forEach((record, i) => {
    const { tick, results } = resultsOf(record, values[i], runId);
    texts.set(tick, new Map(results.map((r) => [r.task, r.error])));
  });
  return texts;
}

function runHeaderOf(record: ManifestRecord, value: unknown, runId: string): ReportRunHeader {
  const bad = (problem: string): never => {
    throw new RunReadError(record.path, problem);
  };
  if (!isPlainObject(value) || value.run_id !== runId) {
    return bad(`it is not the RunHeader of run ${runId}`);
  }
  const identity = value.identity;
  if (!isPlainObject(identity)) return bad("'identity' is not an object");
  const header: ReportRunHeader = { path: record.path, sha256: record.sha256, identity };
  const budgets = identity.budgets;
  if (isPlainObject(budgets)) {
    const lanes: NonNullable<ReportRunHeader["budgets"]> = {};
    for (const lane of LANES) {
      const b = budgets[lane];
      if (isPlainObject(b) && isCount(b.ops) && isCount(b.entropy)) {
        lanes[lane] = { ops: b.ops, entropy: b.entropy };
      }
    }
    header.budgets = lanes;
  }
  return header;
}

function resultsOf(record: ManifestRecord, value: unknown, runId: string): ReportTickResults {
  const bad = (problem: string): never => {
    throw new RunReadError(record.path, problem);
  };
  if (!isPlainObject(value) || value.run_id !== runId || value.tick !== record.tick) {
    return bad(`it is not the ResultsPack of run ${runId}, tick ${record.tick}`);
  }
  if (!Array.isArray(value.results)) return bad("'results' is not an array");
  const results: ReportTickResults["results"][number][] = [];
  value.results.forEach((entry: unknown, i: number) => {
    if (!isPlainObject(entry) || typeof entry.task !== "string") bad(`results[${i}] has no task`);
    const e = entry as Record<string, unknown>;
    if (e.error !== null && typeof e.error !== "string") {
      bad(`results[${i}].error is not a string or null`);
    }
    // Only errors are drawn; keep nothing else of a long run in memory.
    if (e.status === "error") {
      results.push({ task: e.task as string, status: "error", error: e.error as string | null });
    }
  });
  return { tick: record.tick, results };
}

function promotionsOf(record: ManifestRecord, value: unknown, runId: string): ReportPromotion[] {
  const bad = (problem: string): never => {
    throw new RunReadError(record.path, problem);
  };
  if (!isPlainObject(value) || value.run_id !== runId || value.tick !== record.tick) {
    return bad(`it is not the PromotionDecision record of run ${runId}, tick ${record.tick}`);
  }
  if (!Array.isArray(value.decisions)) return bad("'decisions' is not an array");
  return value.decisions.map((d: unknown, i: number): ReportPromotion => {
    if (
      !isPlainObject(d) || typeof d.task !== "string" ||
      !DECISIONS.includes(d.decision as string) ||
      !LANE_NAMES.includes(d.from as string) || !LANE_NAMES.includes(d.to as string)
    ) {
      return bad(`decisions[${i}] is not a promotion decision`);
    }
    return {
      tick: record.tick,
      task: d.task,
      decision: d.decision as ReportPromotion["decision"],
      from: d.from as Lane,
      to: d.to as Lane,
      rule: typeof d.rule === "string" ? d.rule : null,
    };
  });
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
