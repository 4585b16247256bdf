/**
 * RunHeader.v0: written once per run, it records what makes the run the run
 * it is (its identity, hashed and compared when the run is resumed, replayed
 * or diffed) and where it ran (its environment, informational only).
 *
 * @module
 */

import { canonicalJsonString } from "../ers/_canonical.ts";
import { sha256Hex } from "../ers/_sha256.ts";
import type { PreparedPipeline } from "../ers/pipeline.ts";
import { isPlainObject } from "../ers/_validate.ts";
import { ERS_PROVENANCE_VERSION } from "./layout.ts";
import { sourcesOf } from "./_pipeline_sources.ts";

/**
 * How a run's tasks are executed, as its header records it. Today every
 * tick runs its tasks inline, in the caller's realm, with no sandbox.
 *
 * @example The default
 * ```ts
 * import { DEFAULT_EXECUTION, type RunExecution } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const execution: RunExecution = DEFAULT_EXECUTION;
 * assert.deepEqual(execution, { isolation: "inline", sandbox: null });
 * ```
 */
export interface RunExecution {
  /** `inline` (the caller's realm) or the isolation the pipeline was opened with. */
  readonly isolation: string;
  /** The sandbox settings, or `null` when tasks run unsandboxed. */
  readonly sandbox: Readonly<Record<string, unknown>> | null;
}

/**
 * Tasks run inline, with no sandbox.
 *
 * @example Frozen
 * ```ts
 * import { DEFAULT_EXECUTION } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_EXECUTION.isolation, "inline");
 * assert.ok(Object.isFrozen(DEFAULT_EXECUTION));
 * ```
 */
export const DEFAULT_EXECUTION: RunExecution = Object.freeze({
  isolation: "inline",
  sandbox: null,
});

/**
 * The part of a RunHeader that is hashed and compared: two runs with the same
 * identity must produce the same bytes tick by tick.
 *
 * @example Read from a header
 * ```ts
 * import { buildRunHeader, type RunIdentity } from "@abraxas/ers/runtime";
 * import { preparePipeline } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const pipeline = preparePipeline({ tasks: [] });
 * const header = await buildRunHeader({ runId: "R", firstTick: 0, mode: "demo", pipeline });
 * const identity: RunIdentity = header.identity;
 * assert.deepEqual(identity.budgets.shadow, { ops: 20, entropy: 0 });
 * ```
 */
export interface RunIdentity {
  /** The ERS version, such as `v0.2`. */
  ers: string;
  /** The pipeline digest (see `pipeline_digest_of`). */
  pipeline_sha256: string;
  /**
   * `modules`: SHA-256 over the pipeline module's source and its local
   * imports ({@linkcode pipelineDigest}); `tasks`: over its tasks' fields and
   * function source, when no module was named.
   */
  pipeline_digest_of: "modules" | "tasks";
  /** Both lanes' budgets. */
  budgets: {
    forecast: { ops: number; entropy: number };
    shadow: { ops: number; entropy: number };
  };
  /** The run mode. */
  mode: string;
  /** How tasks run: `inline`, or the isolation the pipeline was opened with. */
  isolation: string;
  /** The sandbox settings, or `null`. */
  sandbox: Record<string, unknown> | null;
}

/**
 * The part of a RunHeader that is informational: two runs never differ by it.
 *
 * @example This process's environment
 * ```ts
 * import { runEnvironment, type RunEnvironment } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const environment: RunEnvironment = runEnvironment();
 * assert.equal(environment.deno, Deno.version.deno);
 * assert.equal(environment.os, Deno.build.os);
 * ```
 */
export interface RunEnvironment {
  /** Deno's version. */
  deno: string;
  /** V8's version. */
  v8: string;
  /** TypeScript's version. */
  typescript: string;
  /** The operating system, as `Deno.build.os`. */
  os: string;
  /** The architecture, as `Deno.build.arch`. */
  arch: string;
}

/**
 * RunHeader.v0, at `runs/<run_id>.runheader.json`.
 *
 * @example The identity hash covers the identity only
 * ```ts
 * import { buildRunHeader, identitySha256, type RunHeader } from "@abraxas/ers/runtime";
 * import { preparePipeline } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const pipeline = preparePipeline({ tasks: [] });
 * const header: RunHeader = await buildRunHeader({ runId: "R", firstTick: 0, mode: "demo", pipeline });
 * assert.equal(header.identity_sha256, await identitySha256(header.identity));
 * assert.equal(header.schema, "RunHeader.v0");
 * ```
 */
export interface RunHeader {
  /** Always `RunHeader.v0`. */
  schema: "RunHeader.v0";
  /** The run. */
  run_id: string;
  /** The tick the header was written with (the run's first recorded tick). */
  first_tick: number;
  /** What is compared. */
  identity: RunIdentity;
  /** SHA-256 of the identity's canonical JSON. */
  identity_sha256: string;
  /** Where it ran; never compared. */
  environment: RunEnvironment;
  /**
   * The pipeline module as a POSIX path relative to the artifacts directory,
   * a tool's built-in pipeline as `ers:<name>`, or `null` when none was named.
   */
  pipeline_file: string | null;
  /** The modules the digest covers, relative to the pipeline module's directory. */
  pipeline_modules: string[];
}

/**
 * What {@linkcode buildRunHeader} needs.
 *
 * @example With a digest computed once
 * ```ts
 * import { buildRunHeader, type RunHeaderInit } from "@abraxas/ers/runtime";
 * import { preparePipeline } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const init: RunHeaderInit = {
 *   runId: "R", firstTick: 0, mode: "demo", pipeline: preparePipeline({ tasks: [] }),
 *   pipelineDigest: { sha256: "ab".repeat(32), modules: ["p.ts"] }, pipelineFile: "/x/p.ts",
 * };
 * const header = await buildRunHeader(init);
 * assert.equal(header.identity.pipeline_digest_of, "modules");
 * assert.equal(header.pipeline_file, "/x/p.ts");
 * ```
 */
export interface RunHeaderInit {
  /** The run. */
  runId: string;
  /** The tick being written. */
  firstTick: number;
  /** The run mode. */
  mode: string;
  /** The prepared (or opened) pipeline: its budgets, and its tasks when no digest is given. */
  pipeline: Pick<PreparedPipeline, "tasks" | "budgets"> & { readonly context?: unknown };
  /** The pipeline module's digest, from `pipelineDigest()`. */
  pipelineDigest?: { sha256: string; modules: readonly string[] };
  /** The pipeline module, recorded for replay. */
  pipelineFile?: string;
  /**
   * How tasks run.
   *
   * @default {DEFAULT_EXECUTION}
   */
  execution?: RunExecution;
}

/**
 * The environment of this process.
 *
 * @returns Deno, V8 and TypeScript versions, OS and architecture.
 *
 * @example Versions as Deno reports them
 * ```ts
 * import { runEnvironment } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * assert.equal(runEnvironment().v8, Deno.version.v8);
 * ```
 */
export function runEnvironment(): RunEnvironment {
  return {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    os: Deno.build.os,
    arch: Deno.build.arch,
  };
}

/**
 * SHA-256 of an identity's canonical JSON.
 *
 * @param identity The identity.
 * @returns Lowercase hex.
 *
 * @example Key order does not matter
 * ```ts
 * import { buildRunHeader, identitySha256 } from "@abraxas/ers/runtime";
 * import { preparePipeline } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const { identity } = await buildRunHeader({ runId: "R", firstTick: 0, mode: "m", pipeline: preparePipeline({ tasks: [] }) });
 * const reversed = Object.fromEntries(Object.entries(identity).reverse()) as typeof identity;
 * assert.equal(await identitySha256(reversed), await identitySha256(identity));
 * ```
 */
export async function identitySha256(identity: RunIdentity): Promise<string> {
  return await sha256Hex(new TextEncoder().encode(canonicalJsonString(identity, "identity")));
}

/**
 * Builds the RunHeader of a run about to record `firstTick`.
 *
 * @param init The run, tick, mode, pipeline, and optionally its module digest.
 * @returns The header (write it as canonical JSON).
 *
 * @example Without a module, the tasks are digested
 * ```ts
 * import { buildRunHeader } from "@abraxas/ers/runtime";
 * import { preparePipeline } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const task = (fn: () => number) => ({ name: "t", lane: "forecast" as const, priority: 0, costOps: 1, fn });
 * const one = await buildRunHeader({ runId: "R", firstTick: 0, mode: "m", pipeline: preparePipeline({ tasks: [task(() => 1)] }) });
 * const two = await buildRunHeader({ runId: "R", firstTick: 0, mode: "m", pipeline: preparePipeline({ tasks: [task(() => 2)] }) });
 * assert.equal(one.identity.pipeline_digest_of, "tasks");
 * assert.notEqual(one.identity.pipeline_sha256, two.identity.pipeline_sha256);
 * ```
 */
export async function buildRunHeader(init: RunHeaderInit): Promise<RunHeader> {
  const { pipeline } = init;
  const execution = init.execution ?? DEFAULT_EXECUTION;
  const digest = init.pipelineDigest ?? { sha256: await tasksDigest(pipeline), modules: [] };
  const identity: RunIdentity = {
    ers: ERS_PROVENANCE_VERSION,
    pipeline_sha256: digest.sha256,
    pipeline_digest_of: init.pipelineDigest === undefined ? "tasks" : "modules",
    budgets: {
      forecast: { ops: pipeline.budgets.forecast.ops, entropy: pipeline.budgets.forecast.entropy },
      shadow: { ops: pipeline.budgets.shadow.ops, entropy: pipeline.budgets.shadow.entropy },
    },
    mode: init.mode,
    isolation: execution.isolation,
    sandbox: execution.sandbox === null ? null : structuredClone({ ...execution.sandbox }),
  };
  return {
    schema: "RunHeader.v0",
    run_id: init.runId,
    first_tick: init.firstTick,
    identity,
    identity_sha256: await identitySha256(identity),
    environment: runEnvironment(),
    pipeline_file: init.pipelineFile ?? null,
    pipeline_modules: [...digest.modules],
  };
}

type DigestedPipeline = RunHeaderInit["pipeline"];
const taskDigests = new WeakMap<DigestedPipeline, Promise<string>>();

// SHA-256 over each task's fields and function source, and the context
// maker's source: what identifies a pipeline that names no module. An
// opened pipeline's sources are the real ones its lanes loaded, so a prepared,
// an inline and a worker pipeline of one module digest alike.
function tasksDigest(pipeline: DigestedPipeline): Promise<string> {
  let digest = taskDigests.get(pipeline);
  if (digest === undefined) {
    const sources = sourcesOf(pipeline);
    const text = canonicalJsonString({
      tasks: pipeline.tasks.map((task, index) => ({
        name: task.name,
        lane: task.lane,
        priority: task.priority,
        cost_ops: task.costOps,
        cost_entropy: task.costEntropy,
        tags: [...task.tags],
        fn: sources.tasks[index],
      })),
      context: sources.context,
    });
    digest = sha256Hex(new TextEncoder().encode(text));
    taskDigests.set(pipeline, digest);
  }
  return digest;
}

/**
 * Checks that a parsed JSON value has the RunHeader.v0 shape.
 *
 * @param value A parsed JSON value.
 * @returns Whether it is a RunHeader.
 *
 * @example A header, and something else
 * ```ts
 * import { buildRunHeader, isRunHeader } from "@abraxas/ers/runtime";
 * import { preparePipeline } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const header = await buildRunHeader({ runId: "R", firstTick: 0, mode: "m", pipeline: preparePipeline({ tasks: [] }) });
 * assert.equal(isRunHeader(JSON.parse(JSON.stringify(header))), true);
 * assert.equal(isRunHeader({ schema: "RunHeader.v0" }), false);
 * ```
 */
export function isRunHeader(value: unknown): value is RunHeader {
  if (!isPlainObject(value) || value.schema !== "RunHeader.v0") return false;
  const identity = value.identity;
  return typeof value.run_id === "string" && Number.isSafeInteger(value.first_tick) &&
    isPlainObject(identity) && typeof identity.pipeline_sha256 === "string" &&
    typeof identity.mode === "string" && isPlainObject(identity.budgets) &&
    typeof value.identity_sha256 === "string" && isPlainObject(value.environment) &&
    (value.pipeline_file === null || typeof value.pipeline_file === "string") &&
    Array.isArray(value.pipeline_modules);
}
