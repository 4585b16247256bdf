// The tick supervisor. For each lane, forecast first, it relays the tick's
// messages in the stable order (a `lane.begin`, then one `lane.run` per task)
// through the lane's pure logic (`laneStep`), hands the tasks that fit to the
// lane's placement as one batch, and assembles the replies into the results
// and the trace itself. `#relay` is the one place every message passes
// through, and where the relay hook observes it. The shadow lane starts from
// the context as the forecast lane left it.
//
// Everything here runs next to task code when lanes are in-process, so it
// calls only captured built-ins (`_intrinsics.ts`): a task that replaces
// `Array.prototype.push` never sees the trace.

import { assert } from "./_assert.ts";
import { Budget } from "./budget.ts";
import { append, hasOwn, type List, listDone, newList, objectCreate } from "./_intrinsics.ts";
import {
  idleLane,
  type LaneBudget,
  type LaneReply,
  type LaneState,
  laneStep,
  settle,
} from "./_lane.ts";
import type { LaneBatchResult, LanePlacement } from "./placement.ts";
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

  constructor(placements: Placements, hook?: RelayHook) {
    this.#placements = placements;
    this.#hook = hook;
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
    const forecast = await this.#runLane("forecast", order.forecast, tick, budgets.forecast, {
      context,
      results,
      trace,
    });
    const shadow = await this.#runLane("shadow", order.shadow, tick, budgets.shadow, {
      context: forecast.context,
      results,
      trace,
    });
    assert(
      trace.length === order.forecast.length + order.shadow.length,
      "one trace event per task",
    );
    return {
      results,
      trace: listDone(trace),
      remaining: { forecast: new Budget(forecast.remaining), shadow: new Budget(shadow.remaining) },
    };
  }

  async #runLane(
    lane: Lane,
    messages: readonly RunMessage[],
    tick: number,
    budget: Budget,
    into: { context: TaskContext; results: Record<string, TaskResult>; trace: List<TraceEvent> },
  ): Promise<{ context: TaskContext; remaining: LaneBudget }> {
    let state = this.#relay(idleLane(lane), {
      type: "lane.begin",
      tick,
      budget,
      context: into.context,
    }).state;
    // Replies known now (budget skips) in their places; `undefined` where a
    // task runs, filled once its placement reports the outcome.
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
    const runs = listDone(building);
    const pending = this.#placements[lane].run({ lane, tick, context: into.context, runs });
    // A batch result of its own, not a promise; asked without `instanceof`,
    // which a task could answer by giving `Promise` a `Symbol.hasInstance`.
    const ran: LaneBatchResult = hasOwn(pending, "outcomes")
      ? pending as LaneBatchResult
      : await pending;
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
    return { context: ran.context, remaining: state.remaining };
  }

  #relay(state: LaneState, message: LaneMessage): ReturnType<typeof laneStep> {
    this.#hook?.(state.lane, message);
    return laneStep(state, message);
  }
}
