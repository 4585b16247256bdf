// Inside a lane worker. `openPipeline()` starts each worker from a small
// entry module that imports this module, then hands `serveLane()` a dynamic
// import of a second small module that imports the pipeline module:
//
//   import { serveLane } from "<this module>";
//   serveLane(() => import("<blob: import * as pipeline from '<pipeline>'; export { pipeline };>"));
//
// This module's body installs the deterministic sandbox before any code of
// the pipeline module runs. The dynamic import of a blob needs no permission
// (its static imports load as the worker's own graph does), and a module that
// fails to parse or to evaluate rejects it, where it is caught and reported. The
// worker then answers the supervisor's messages (`_lane_protocol.ts`): it runs
// the tasks it is sent by index, in order, with the same in-process placement
// inline lanes use, and replies with their outcomes. Task functions never
// leave this realm.

import { inProcessPlacement, type PreparedPipeline, preparePipeline } from "../ers/mod.ts";
import type { Pipeline, TaskContext, TaskSpec } from "../ers/mod.ts";
import { installSandbox } from "./_sandbox.ts";
import type {
  BatchMessage,
  LaneDescription,
  WorkerMessage,
  WorkerReply,
} from "./_lane_protocol.ts";
import { PROGRESS_CONTEXT } from "./_lane_protocol.ts";
import { sourcesOf } from "./_pipeline_sources.ts";

// The worker's global scope, as a lane worker uses it.
interface WorkerScope {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: MessageEvent<WorkerMessage>) => void) | null;
  addEventListener(
    type: "unhandledrejection",
    listener: (event: PromiseRejectionEvent) => void,
  ): void;
}

const scope = globalThis as unknown as WorkerScope;
// Captured before the pipeline module loads: what the worker needs to talk
// to the supervisor, whatever a task later replaces.
const post: (message: WorkerReply) => void = scope.postMessage.bind(scope);
const realExit = Deno.exit;
const atomicsStore = Atomics.store;
const setPrototypeOf = Reflect.setPrototypeOf;
const ARRAY_PROTOTYPE = Array.prototype;
const freeze = Object.freeze;
const clone = structuredClone;
const realClose = scope.close.bind(scope);
const sandbox = installSandbox();
let progress: Int32Array | undefined;

function describe(thrown: unknown): string {
  try {
    if (thrown instanceof Error) return `${thrown.name}: ${thrown.message}`;
    return String(thrown);
  } catch {
    return "[a thrown value that cannot be described]";
  }
}

let served = false;

// Which task created each promise, so that a stray rejection names the task
// that made it, even when it surfaces after later tasks ran. Deno's promise
// hooks are internal: where they are missing, the last task that ran is named.
const creators = new WeakMap<Promise<unknown>, string>();
const core = (Deno as unknown as Record<symbol, { core?: { setPromiseHooks?: unknown } }>)[
  (Deno as unknown as { internal: symbol }).internal
]?.core;
if (typeof core?.setPromiseHooks === "function") {
  core.setPromiseHooks(
    (promise: Promise<unknown>) => {
      if (served) creators.set(promise, sandbox.state.task);
    },
    undefined,
    undefined,
    undefined,
  );
}

// A stray rejection is reported, naming the task that was running, and never
// ends the worker. Before `serveLane()` runs, it is the pipeline module
// failing to load (its evaluation is a promise that rejected).
scope.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  if (!served) {
    post({
      type: "lane.invalid",
      name: "Error",
      message: `its module failed to load: ${describe(event.reason)}`,
    });
    return;
  }
  post({
    type: "lane.warning",
    tick: sandbox.state.tick,
    task: creators.get(event.promise) ?? sandbox.state.task,
    message: `an unhandled rejection: ${describe(event.reason)}`,
  });
});

// Ending the worker is reported first, so that the supervisor can name the task.
Object.defineProperty(Deno, "exit", {
  configurable: false,
  writable: false,
  value: (code?: number) => {
    post({
      type: "lane.exit",
      task: sandbox.state.task,
      what: `it called Deno.exit(${code ?? 0})`,
    });
    realExit(code);
  },
});
Object.defineProperty(scope, "close", {
  configurable: false,
  writable: false,
  value: () => {
    post({ type: "lane.exit", task: sandbox.state.task, what: "it called close()" });
    realClose();
  },
});

/**
 * Serves one lane of the pipeline module that `load` imports: prepares its
 * default export, reports its description, then runs the batches it is sent.
 */
export async function serveLane(
  load: () => Promise<{ pipeline: Record<string, unknown> }>,
): Promise<void> {
  let module: Record<string, unknown>;
  try {
    module = (await load()).pipeline;
  } catch (error) {
    post({ type: "lane.invalid", name: "Error", message: describe(error) });
    return;
  }
  served = true;
  let prepared: PreparedPipeline;
  try {
    if (module.default === undefined) throw new TypeError("it has no default export");
    prepared = preparePipeline(module.default as Pipeline);
  } catch (error) {
    post({ type: "lane.invalid", name: errorName(error), message: messageOf(error) });
    return;
  }
  sandbox.state.settings = prepared.sandbox;
  sandbox.state.task = "";
  const tasks = prepared.tasks.map((spec, index) => tracked(spec, index));
  scope.onmessage = (event: MessageEvent<WorkerMessage>) => {
    const message = event.data;
    if (message.type === "lane.init") progress = new Int32Array(message.progress);
    else void runBatch(prepared, tasks, message);
  };
  post({ type: "lane.ready", description: descriptionOf(prepared) });
}

// The task with its body wrapped: it marks its progress and reseeds the
// sandbox's generator for (seed, tick, task name) before it runs.
function tracked(spec: TaskSpec, index: number): TaskSpec {
  const fn = spec.fn;
  return Object.freeze({
    ...spec,
    fn: (context: TaskContext) => {
      if (progress !== undefined) atomicsStore(progress, 0, index + 1);
      sandbox.state.task = spec.name;
      sandbox.reseed();
      return fn(context);
    },
  });
}

async function runBatch(
  prepared: PreparedPipeline,
  tasks: readonly TaskSpec[],
  batch: BatchMessage,
): Promise<void> {
  sandbox.state.tick = batch.tick;
  let context = batch.context;
  if (context === null) {
    if (progress !== undefined) atomicsStore(progress, 0, PROGRESS_CONTEXT);
    sandbox.state.task = "context()";
    sandbox.reseed();
    try {
      context = prepared.context(batch.tick);
    } catch (error) {
      post({ type: "lane.context-error", message: describe(error) });
      return;
    }
  }
  // Built with captured built-ins only: a task of this lane may have replaced
  // `Array.prototype.push` or `Array.from` in this realm on an earlier tick.
  const meta = freeze({ tags: freeze([]) });
  const runs: { type: "lane.run"; task: TaskSpec; meta: typeof meta }[] = newList();
  for (let i = 0; i < batch.indices.length; i++) {
    append(runs, { type: "lane.run", task: tasks[batch.indices[i] as number] as TaskSpec, meta });
  }
  // `state.task` keeps naming the last task that ran: a stray rejection it
  // left is reported after it returned.
  const ran = await inProcessPlacement.run({
    lane: batch.lane,
    tick: batch.tick,
    context,
    runs: asArray(runs),
  });
  const outcomes = ran.outcomes;
  const statuses = new Uint8Array(outcomes.length);
  const values: unknown[] = newList();
  // Numbers cross as one typed array, far cheaper to clone than a list.
  const numbers = new Float64Array(outcomes.length);
  let failed = false;
  let allNumbers = true;
  for (let i = 0; i < outcomes.length; i++) {
    const outcome = outcomes[i]!;
    const value = outcome.value;
    if (outcome.status === "ok") statuses[i] = 1;
    else failed = true;
    append(values, value);
    if (typeof value === "number") numbers[i] = value;
    else allNumbers = false;
  }
  asArray(values);
  // The errors are sent only when a task failed: most ticks, none did.
  let errors: (string | null)[] | null = null;
  if (failed) {
    errors = newList();
    for (let i = 0; i < outcomes.length; i++) append(errors, outcomes[i]!.error);
    asArray(errors);
  }
  reply(batch, {
    type: "lane.done",
    statuses,
    values: allNumbers ? null : values,
    numbers: allNumbers ? numbers : null,
    errors,
    context: batch.returnContext ? context : null,
  });
}

// Posts the batch's reply. A value that cannot be structured-cloned turns its
// task into an error; a context that cannot be is reported as such.
function reply(batch: BatchMessage, done: Extract<WorkerReply, { type: "lane.done" }>): void {
  try {
    post(done);
    return;
  } catch {
    // find what cannot cross, below
  }
  const values = done.values ?? [];
  for (let i = 0; i < values.length; i++) {
    try {
      clone(values[i]);
    } catch (error) {
      if (done.errors === null) {
        const errors: (string | null)[] = newList();
        for (let j = 0; j < values.length; j++) append(errors, null);
        done.errors = asArray(errors);
      }
      done.statuses[i] = 0;
      values[i] = null;
      done.errors[i] = `DataCloneError: the task's value cannot leave its lane worker (${
        messageOf(error)
      })`;
    }
  }
  try {
    clone(done.context);
  } catch (error) {
    post({
      type: "lane.context-error",
      message: `the ${batch.lane} lane left a context that cannot be structured-cloned: ${
        messageOf(error)
      }`,
    });
    return;
  }
  post(done);
}

function descriptionOf(prepared: PreparedPipeline): LaneDescription {
  const sources = sourcesOf(prepared);
  return {
    tasks: prepared.tasks.map((task) => ({
      name: task.name,
      lane: task.lane,
      priority: task.priority,
      costOps: task.costOps,
      costEntropy: task.costEntropy,
      tags: [...task.tags],
      ...(task.promote === undefined ? {} : { promote: structuredClone(task.promote) }),
    })),
    budgets: {
      forecast: { ops: prepared.budgets.forecast.ops, entropy: prepared.budgets.forecast.entropy },
      shadow: { ops: prepared.budgets.shadow.ops, entropy: prepared.budgets.shadow.entropy },
    },
    sandbox: { ...prepared.sandbox },
    limits: { ...prepared.limits },
    permissions: structuredClone(prepared.permissions) as LaneDescription["permissions"],
    sources: { tasks: [...sources.tasks], context: sources.context },
  };
}

function errorName(error: unknown): string {
  return error instanceof RangeError
    ? "RangeError"
    : error instanceof TypeError
    ? "TypeError"
    : "Error";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Lists with no prototype while they are filled: a task of this lane may
// have put setters on `Array.prototype` on an earlier tick.
function newList<T>(): T[] {
  const list: T[] = [];
  setPrototypeOf(list, null);
  return list;
}

function append<T>(list: T[], value: T): void {
  list[list.length] = value;
}

function asArray<T>(list: T[]): T[] {
  setPrototypeOf(list, ARRAY_PROTOTYPE);
  return list;
}
