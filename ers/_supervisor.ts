// The tick supervisor. For each lane, forecast first, it relays the tick's
// messages in the stable order (a `lane.begin`, then one `lane.run` per task)
// through the lane's pure logic (`laneStep`), hands the tasks that fit to the
// lane's placement as one batch, and assembles the replies into the results
// and the trace itself. `#relay` is the one place every message passes
// through, and where the relay hook observes it. The shadow lane starts from
// the context as the forecast lane left it. Placements that hand that context
// over between themselves (`contextHandoff`) get both batches before any
// message is relayed (which tasks run follows from the budgets alone:
// `runsWithin`), so the forecast lane starts at once and the shadow lane the
// moment the forecast lane is done, without a round trip through here; the
// relay that follows must pick the same runs.
//
// Everything here runs next to task code when lanes are in-process, so it
// calls only captured built-ins (`_intrinsics.ts`): a task that replaces
// `Array.prototype.push` never sees the trace.

import { assert } from "./_assert.ts";
import { Budget } from "./budget.ts";
import {
  append,
  hasOwn,
  type List,
  listDone,
  newList,
  objectCreate,
  promiseThen,
} from "./_intrinsics.ts";
import {
  idleLane,
  type LaneBudget,
  type LaneReply,
  type LaneState,
  laneStep,
  runsWithin,
  settle,
} from "./_lane.ts";
import { HANDED_OFF_CONTEXT, type LaneBatchResult, type LanePlacement } from "./placement.ts";
import type { LaneOrder, RunMessage } from "./_run_order.ts";
import type { Lane, LaneMessage, TaskContext, TaskResult, TraceEvent } from "./types.ts";

/** The outcome of one tick, before the facade shapes it. */
export interface TickOutcome {
  results: Record<string, TaskResult>;
  trace: TraceEvent[];
  remaining: { forecast: Budget; shadow: Budget };
}

/** Observes every relayed message; for tests and diagnostics. */
export type RelayHook = (lane: Lane, message: LaneMessage) => void;

/** Where each lane's task bodies run. */
export interface Placements {
  readonly forecast: LanePlacement;
  readonly shadow: LanePlacement;
}

export class TickSupervisor {
  readonly #placements: Placements;
  readonly #hook: RelayHook | undefined;
  readonly #handedOff: boolean;
  // Each lane's last runs within its budget: the same order and budget give
  // the same runs, tick after tick.
  readonly #runs: Record<Lane, RunsWithin | undefined> = { forecast: undefined, shadow: undefined };

  constructor(placements: Placements, hook?: RelayHook) {
    this.#placements = placements;
    this.#hook = hook;
    const handoff = placements.forecast.contextHandoff;
    this.#handedOff = handoff !== undefined && handoff === placements.shadow.contextHandoff;
  }

  /**
   * Runs one tick. `order` holds each lane's `lane.run` messages already in
   * the stable order; the forecast lane starts from `context`.
   */
  async runTick(
    order: LaneOrder,
    tick: number,
    budgets: { forecast: Budget; shadow: Budget },
    context: TaskContext,
  ): Promise<TickOutcome> {
    const results: Record<string, TaskResult> = objectCreate(null);
    const trace = newList<TraceEvent>();
    const into = { results, trace };
    let forecast: LanePlan;
    let shadow: LanePlan;
    if (this.#handedOff) {
      // Both batches are under way before a message is relayed: which tasks
      // run follows from the budgets alone (`runsWithin`), and the shadow
      // placement takes the context from the forecast placement itself.
      const ran = this.#dispatchBoth(order, tick, budgets, context);
      try {
        forecast = this.#plan("forecast", order.forecast, tick, budgets.forecast, context);
        shadow = this.#plan("shadow", order.shadow, tick, budgets.shadow, HANDED_OFF_CONTEXT);
        assert(sameRuns(forecast.runs, ran.forecastRuns), "the forecast batch is the relayed runs");
        assert(sameRuns(shadow.runs, ran.shadowRuns), "the shadow batch is the relayed runs");
      } catch (error) {
        await settledQuietly(ran.forecast);
        await settledQuietly(ran.shadow);
        throw error;
      }
      // The forecast lane's fault is the tick's; the shadow lane's batch,
      // abandoned with it, must not surface as an unhandled rejection.
      quiet(ran.shadow);
      this.#settle(forecast, isBatch(ran.forecast) ? ran.forecast : await ran.forecast, into);
      this.#settle(shadow, isBatch(ran.shadow) ? ran.shadow : await ran.shadow, into);
    } else {
      forecast = this.#plan("forecast", order.forecast, tick, budgets.forecast, context);
      const forecastRan = this.#dispatch(forecast, context);
      const ran = isBatch(forecastRan) ? forecastRan : await forecastRan;
      this.#settle(forecast, ran, into);
      shadow = this.#plan("shadow", order.shadow, tick, budgets.shadow, ran.context);
      const shadowRan = this.#dispatch(shadow, ran.context);
      this.#settle(shadow, isBatch(shadowRan) ? shadowRan : await shadowRan, into);
    }
    assert(
      trace.length === order.forecast.length + order.shadow.length,
      "one trace event per task",
    );
    return {
      results,
      trace: listDone(trace),
      remaining: {
        forecast: new Budget(forecast.remaining),
        shadow: new Budget(shadow.remaining),
      },
    };
  }

  // Relays the lane's `lane.begin` and `lane.run` messages: the replies known
  // now (budget skips) in their places, `undefined` where a task runs.
  #plan(
    lane: Lane,
    messages: readonly RunMessage[],
    tick: number,
    budget: Budget,
    context: TaskContext,
  ): LanePlan {
    let state = this.#relay(idleLane(lane), { type: "lane.begin", tick, budget, context }).state;
    const replies = newList<LaneReply | undefined>();
    const building = newList<RunMessage>();
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i] as RunMessage;
      const step = this.#relay(state, message);
      state = step.state;
      const effect = step.effect;
      if (effect.kind === "reply") append(replies, effect.reply);
      else {
        append(replies, undefined);
        append(building, message);
      }
    }
    return { lane, tick, replies, runs: listDone(building), remaining: state.remaining };
  }

  #dispatch(plan: LanePlan, context: TaskContext): LaneBatchResult | Promise<LaneBatchResult> {
    const lane = plan.lane;
    return this.#placements[lane].run({ lane, tick: plan.tick, context, runs: plan.runs });
  }

  // Hands both lanes their batches: the shadow lane's first, with the
  // handed-off context, so that it is set to take the context before the
  // forecast lane can hand it over.
  #dispatchBoth(
    order: LaneOrder,
    tick: number,
    budgets: { forecast: Budget; shadow: Budget },
    context: TaskContext,
  ): HandedOffBatches {
    const shadowRuns = this.#runsWithin("shadow", order.shadow, budgets.shadow);
    const shadow = this.#placements.shadow.run({
      lane: "shadow",
      tick,
      context: HANDED_OFF_CONTEXT,
      runs: shadowRuns,
    });
    const forecastRuns = this.#runsWithin("forecast", order.forecast, budgets.forecast);
    let forecast: LaneBatchResult | Promise<LaneBatchResult>;
    try {
      forecast = this.#placements.forecast.run({
        lane: "forecast",
        tick,
        context,
        runs: forecastRuns,
      });
    } catch (error) {
      quiet(shadow);
      throw error;
    }
    return { forecast, shadow, forecastRuns, shadowRuns };
  }

  #runsWithin(lane: Lane, messages: readonly RunMessage[], budget: Budget): readonly RunMessage[] {
    const last = this.#runs[lane];
    if (
      last !== undefined && last.messages === messages && last.ops === budget.ops &&
      last.entropy === budget.entropy
    ) {
      return last.runs;
    }
    const runs = runsWithin(messages, budget);
    this.#runs[lane] = { messages, ops: budget.ops, entropy: budget.entropy, runs };
    return runs;
  }

  // The lane's results and trace events, in the stable order.
  #settle(
    plan: LanePlan,
    ran: LaneBatchResult,
    into: { results: Record<string, TaskResult>; trace: List<TraceEvent> },
  ): void {
    const { replies, runs, tick } = plan;
    const outcomes = ran.outcomes;
    assert(outcomes.length === runs.length, "one outcome per task run");
    let next = 0;
    for (let i = 0; i < replies.length; i++) {
      let reply = replies[i];
      if (reply === undefined) {
        reply = settle(tick, runs[next] as RunMessage, outcomes[next] as (typeof outcomes)[0]);
        next++;
      }
      into.results[reply.result.name] = reply.result;
      append(into.trace, reply.event);
    }
  }

  #relay(state: LaneState, message: LaneMessage): ReturnType<typeof laneStep> {
    this.#hook?.(state.lane, message);
    return laneStep(state, message);
  }
}

/** A lane's runs within a budget, for the messages they were picked from. */
interface RunsWithin {
  readonly messages: readonly RunMessage[];
  readonly ops: number;
  readonly entropy: number;
  readonly runs: readonly RunMessage[];
}

/** Both lanes' batches under way, and the runs each was given. */
interface HandedOffBatches {
  readonly forecast: LaneBatchResult | Promise<LaneBatchResult>;
  readonly shadow: LaneBatchResult | Promise<LaneBatchResult>;
  readonly forecastRuns: readonly RunMessage[];
  readonly shadowRuns: readonly RunMessage[];
}

function sameRuns(a: readonly RunMessage[], b: readonly RunMessage[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A lane's tick once its messages are relayed. */
interface LanePlan {
  readonly lane: Lane;
  readonly tick: number;
  readonly replies: List<LaneReply | undefined>;
  readonly runs: readonly RunMessage[];
  readonly remaining: LaneBudget;
}

// A batch result of its own, not a promise; asked without `instanceof`,
// which a task could answer by giving `Promise` a `Symbol.hasInstance`.
function isBatch(
  pending: LaneBatchResult | Promise<LaneBatchResult>,
): pending is LaneBatchResult {
  return hasOwn(pending, "outcomes");
}

function ignore(): void {}

// Waits for a batch under way to end, whatever its outcome.
async function settledQuietly(
  pending: LaneBatchResult | Promise<LaneBatchResult>,
): Promise<void> {
  if (isBatch(pending)) return;
  try {
    await pending;
  } catch {
    // the tick fails for another reason
  }
}

// Marks a pending batch's rejection as handled; whoever awaits it still sees it.
function quiet(pending: LaneBatchResult | Promise<LaneBatchResult>): void {
  if (isBatch(pending)) return;
  try {
    promiseThen(pending, undefined, ignore);
  } catch {
    // a thenable that is no promise: awaiting it is all there is
  }
}
