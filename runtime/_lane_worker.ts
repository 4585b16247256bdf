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
// inline lanes use, and replies with their outcomes. The forecast lane runs a
// batch when one comes, then hands the context it left to the shadow lane
// worker over their channel; the shadow lane runs when that hand-over comes
// for the round its supervisor side has set in shared memory. Task functions
// never leave this realm.

import { inProcessPlacement, type PreparedPipeline, preparePipeline } from "../ers/mod.ts";
import type { Pipeline, TaskContext, TaskOutcome, TaskSpec } from "../ers/mod.ts";
import { installSandbox } from "./_sandbox.ts";
import type {
  BatchMessage,
  HandoffMessage,
  LaneDescription,
  WorkerMessage,
  WorkerReply,
} from "./_lane_protocol.ts";
import { PROGRESS_CONTEXT, SLOT, SLOTS } from "./_lane_protocol.ts";
import { sourcesOf } from "./_pipeline_sources.ts";

// The worker's global scope, as a lane worker uses it.
interface WorkerScope {
  postMessage(message: unknown): void;
  close(): void;
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
const atomicsLoad = Atomics.load;
const setPrototypeOf = Reflect.setPrototypeOf;
const ARRAY_PROTOTYPE = Array.prototype;
const freeze = Object.freeze;
const clone = structuredClone;
const realClose = scope.close.bind(scope);
const Int32ArrayCtor = Int32Array;
const Uint8ArrayCtor = Uint8Array;
const Float64ArrayCtor = Float64Array;
// `uncurry(f)(self, ...args)` is `f.call(self, ...args)`, bound now.
const uncurry = Function.prototype.bind.bind(Function.prototype.call) as <A extends unknown[], R>(
  fn: (...args: A) => R,
) => (self: unknown, ...args: A) => R;
const portPost = uncurry(MessagePort.prototype.postMessage as (message: unknown) => void);
const portClose = uncurry(MessagePort.prototype.close);
const portOnMessage = uncurry(
  Object.getOwnPropertyDescriptor(MessagePort.prototype, "onmessage")!.set as (
    listener: (event: MessageEvent<HandoffMessage>) => void,
  ) => void,
);
// Every message of the supervisor side is taken by one listener added now,
// before the pipeline module loads, in the capture phase, and stopped there:
// a listener or an `onmessage` of the pipeline module never sees the channel
// to the other lane worker nor the shared memory those messages carry.
// An event a task dispatches itself is not trusted, and is dropped.
const stopImmediatePropagation = uncurry(Event.prototype.stopImmediatePropagation);
const isTrusted = uncurry(
  Object.getOwnPropertyDescriptor(Event.prototype, "isTrusted")!.get as () => boolean,
);
let onSupervisorMessage: (message: WorkerMessage) => void = () => {};
(scope as unknown as EventTarget).addEventListener("message", (event) => {
  stopImmediatePropagation(event);
  if (isTrusted(event)) onSupervisorMessage((event as MessageEvent<WorkerMessage>).data);
}, { capture: true });
(scope as unknown as EventTarget).addEventListener("messageerror", stopImmediatePropagation, {
  capture: true,
});
// A port delivers its messages through `this.dispatchEvent`: each port this
// worker gets has its own, the real one, so that a task that replaces
// `EventTarget.prototype.dispatchEvent` never gets hold of it.
const dispatchEvent = EventTarget.prototype.dispatchEvent;
const defineProperty = Object.defineProperty;
function sealPort(port: MessagePort): MessagePort {
  defineProperty(port, "dispatchEvent", {
    value: dispatchEvent,
    writable: false,
    configurable: false,
  });
  return port;
}
const sandbox = installSandbox();
const sandboxState = sandbox.state;
const reseed = sandbox.reseed;

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
// The supervisor side hears only this module: a task cannot forge a reply,
// an exit or a warning.
Object.defineProperty(scope, "postMessage", {
  configurable: false,
  writable: false,
  value: () => {
    throw new TypeError(
      `Cannot post a message from task "${sandbox.state.task}" as a lane worker talks only to its supervisor side`,
    );
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
  onSupervisorMessage = (message: WorkerMessage) => {
    if (message.type === "lane.init") {
      shared = new Int32ArrayCtor(message.shared);
      progress = shared;
    } else if (message.type === "lane.peer") listen(sealPort(message.port));
    else if (message.type === "lane.tasks") {
      shadowTasks = { version: message.version, runs: runsOf(tasks, message.indices) };
      drain();
    } else void runForecast(prepared, tasks, message);
  };
  post({ type: "lane.ready", description: descriptionOf(prepared) });
}

// The task with its body wrapped: it marks its progress and reseeds the
// sandbox's generator for (seed, tick, task name) before it runs. A plain
// store suffices for the progress: the supervisor side only polls it.
function tracked(spec: TaskSpec, index: number): TaskSpec {
  const fn = spec.fn;
  const name = spec.name;
  const at = index + 1;
  return Object.freeze({
    ...spec,
    fn: (context: TaskContext) => {
      progress[SLOT.progress] = at;
      sandboxState.task = name;
      reseed();
      return fn(context);
    },
  });
}

type Runs = readonly { type: "lane.run"; task: TaskSpec; meta: { tags: readonly string[] } }[];

// Shared with the supervisor side (`SLOT`); a stand-in until `lane.init`.
let shared: Int32Array | undefined;
let progress: Int32Array<ArrayBufferLike> = new Int32Array(SLOTS);
// The channel to the other lane worker: the forecast lane posts on it, the shadow lane listens.
let peer: MessagePort | undefined;
// The forecast lane's last task list, reused while the same indices come.
let forecastTasks: { indices: Uint32Array; runs: Runs } | undefined;
// The shadow lane's task list.
let shadowTasks: { version: number; runs: Runs } | undefined;
// The shadow lane's hand-over not yet run, and whether a batch is running.
let queued: HandoffMessage | undefined;
let busy = false;

function mark(value: number): void {
  progress[SLOT.progress] = value;
}

// The run messages for the tasks at `indices`, built with captured built-ins
// only: a task of this lane may have replaced `Array.prototype.push` or
// `Array.from` in this realm on an earlier tick.
function runsOf(tasks: readonly TaskSpec[], indices: Uint32Array): Runs {
  const meta = freeze({ tags: freeze([]) });
  const runs: { type: "lane.run"; task: TaskSpec; meta: typeof meta }[] = newList();
  for (let i = 0; i < indices.length; i++) {
    append(runs, freeze({ type: "lane.run", task: tasks[indices[i] as number] as TaskSpec, meta }));
  }
  return freeze(asArray(runs));
}

function sameIndices(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// The shadow lane: listens on its channel to the forecast lane worker.
function listen(port: MessagePort): void {
  if (peer !== undefined) portClose(peer);
  peer = port;
  portOnMessage(port, (event: MessageEvent<HandoffMessage>) => {
    if (port !== peer || !isTrusted(event)) return;
    queued = event.data;
    drain();
  });
}

// Runs the shadow lane's tick once the forecast lane has handed over its
// context, the supervisor side has set that tick, and the task list it
// names has come; one tick at a time. A hand-over of a tick that the
// supervisor side gave up (its forecast lane failed) is dropped.
function drain(): void {
  const handed = queued;
  if (busy || handed === undefined || shared === undefined) return;
  if (atomicsLoad(shared, SLOT.round) !== handed.round) {
    queued = undefined;
    return;
  }
  const runs = shadowTasks;
  if (runs === undefined || runs.version !== atomicsLoad(shared, SLOT.tasks)) return;
  queued = undefined;
  busy = true;
  mark(PROGRESS_CONTEXT);
  void runShadow(handed, runs.runs);
}

// With the language's `finally`, not `Promise.prototype.finally`, which a
// shadow task could replace to leave the lane busy for good.
async function runShadow(handed: HandoffMessage, runs: Runs): Promise<void> {
  try {
    await runLane("shadow", handed, handed.context, runs);
  } finally {
    busy = false;
  }
  drain();
}

// The forecast lane: runs the batch, hands the context it leaves to the
// shadow lane worker, then replies.
async function runForecast(
  prepared: PreparedPipeline,
  tasks: readonly TaskSpec[],
  batch: BatchMessage,
): Promise<void> {
  if (batch.peer !== null) {
    if (peer !== undefined) portClose(peer);
    peer = sealPort(batch.peer);
  }
  if (forecastTasks === undefined || !sameIndices(forecastTasks.indices, batch.indices)) {
    forecastTasks = { indices: batch.indices, runs: runsOf(tasks, batch.indices) };
  }
  let context = batch.context;
  sandbox.state.tick = batch.tick;
  if (context === null) {
    mark(PROGRESS_CONTEXT);
    sandbox.state.task = "context()";
    sandbox.reseed();
    try {
      context = prepared.context(batch.tick);
    } catch (error) {
      post({ type: "lane.context-error", round: batch.round, message: describe(error) });
      return;
    }
  }
  await runLane("forecast", batch, context, forecastTasks.runs);
}

// Runs the lane's tasks in order, with the placement inline lanes use. The
// forecast lane then hands the context over; both reply with the outcomes.
async function runLane(
  lane: "forecast" | "shadow",
  { tick, round }: { tick: number; round: number },
  context: TaskContext,
  runs: Runs,
): Promise<void> {
  sandbox.state.tick = tick;
  // `state.task` keeps naming the last task that ran: a stray rejection it
  // left is reported after it returned.
  const ran = await inProcessPlacement.run({ lane, tick, context, runs });
  // The shadow lane starts the moment the forecast lane hands it the context.
  if (lane === "forecast" && !handOver(tick, round, context)) return;
  reply(round, ran.outcomes);
}

// Posts the context the forecast lane left to the shadow lane worker, or
// reports that it cannot be structured-cloned.
function handOver(tick: number, round: number, context: TaskContext): boolean {
  try {
    if (peer === undefined) throw new Error("there is no channel to the shadow lane worker");
    portPost(peer, { tick, round, context } satisfies HandoffMessage);
    return true;
  } catch (error) {
    post({
      type: "lane.context-error",
      round,
      message: `the forecast lane left a context that cannot be structured-cloned: ${
        messageOf(error)
      }`,
    });
    return false;
  }
}

// Posts the batch's outcomes. Numbers cross as one typed array, far cheaper
// to clone than a list; errors only when a task failed (most ticks, none
// did). A value that cannot be structured-cloned turns its task into an error.
function reply(round: number, outcomes: readonly TaskOutcome[]): void {
  const count = outcomes.length;
  const statuses = new Uint8ArrayCtor(count);
  const numbers = new Float64ArrayCtor(count);
  let values: unknown[] | null = null;
  let failed = false;
  for (let i = 0; i < count; i++) {
    const outcome = outcomes[i]!;
    const value = outcome.value;
    if (outcome.status === "ok") statuses[i] = 1;
    else failed = true;
    if (values === null && typeof value === "number") numbers[i] = value;
    else {
      if (values === null) {
        values = newList();
        for (let j = 0; j < i; j++) append(values, numbers[j]);
      }
      append(values, value);
    }
  }
  let errors: (string | null)[] | null = null;
  if (failed) {
    errors = newList();
    for (let i = 0; i < count; i++) append(errors, outcomes[i]!.error);
    asArray(errors);
  }
  const done: Extract<WorkerReply, { type: "lane.done" }> = {
    type: "lane.done",
    round,
    statuses,
    values: values === null ? null : asArray(values),
    numbers: values === null ? numbers : null,
    errors,
  };
  try {
    post(done);
  } catch {
    post(clonable(done));
  }
}

// The reply with each value that cannot be structured-cloned made its task's error.
function clonable(
  done: Extract<WorkerReply, { type: "lane.done" }>,
): Extract<WorkerReply, { type: "lane.done" }> {
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
  return done;
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
