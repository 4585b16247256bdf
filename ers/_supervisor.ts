// The tick supervisor: it posts every task of the tick to its lane's mailbox
// in the stable order, then relays the mail one message at a time, forecast
// lane first, collecting results and the trace. `#relay` is the one place
// every message passes through.

import { assert } from "./_assert.ts";
import type { Budget } from "./budget.ts";
import { LaneActor, type LaneReply } from "./_lane.ts";
import type { LaneOrder } from "./_run_order.ts";
import type { Lane, LaneMessage, TaskContext, TaskResult, TraceEvent } from "./types.ts";

/** The outcome of one tick, before the facade shapes it. */
export interface TickOutcome {
  results: Record<string, TaskResult>;
  trace: TraceEvent[];
  remaining: { forecast: Budget; shadow: Budget };
}

/** Observes every relayed message; for tests and diagnostics. */
export type RelayHook = (lane: Lane, message: LaneMessage) => void;

/** The lanes in the order their mail is relayed. */
export const LANE_ORDER: readonly Lane[] = ["forecast", "shadow"];

export class TickSupervisor {
  readonly #forecast: LaneActor;
  readonly #shadow: LaneActor;
  readonly #hook: RelayHook | undefined;

  constructor(mailboxCapacity: number, hook?: RelayHook) {
    // +1: each lane also receives its `lane.begin` message.
    this.#forecast = new LaneActor("forecast", mailboxCapacity + 1);
    this.#shadow = new LaneActor("shadow", mailboxCapacity + 1);
    this.#hook = hook;
  }

  /**
   * Runs one tick. `order` holds each lane's `lane.run` messages already in
   * the stable order; the shadow lane gets `contexts.shadow`, a read-only view.
   */
  async runTick(
    order: LaneOrder,
    tick: number,
    budgets: { forecast: Budget; shadow: Budget },
    contexts: { forecast: TaskContext; shadow: TaskContext },
  ): Promise<TickOutcome> {
    const forecast = this.#forecast;
    const shadow = this.#shadow;
    try {
      forecast.mailbox.post({
        type: "lane.begin",
        tick,
        budget: budgets.forecast,
        context: contexts.forecast,
      });
      shadow.mailbox.post({
        type: "lane.begin",
        tick,
        budget: budgets.shadow,
        context: contexts.shadow,
      });
      for (const message of order.forecast) forecast.mailbox.post(message);
      for (const message of order.shadow) shadow.mailbox.post(message);
      return await this.#relayAll(order);
    } catch (thrown) {
      // An aborted tick (a throwing relay hook, a broken invariant) leaves no
      // mail behind: the next tick starts from empty mailboxes.
      forecast.mailbox.clear();
      shadow.mailbox.clear();
      throw thrown;
    }
  }

  async #relayAll(order: LaneOrder): Promise<TickOutcome> {
    const forecast = this.#forecast;
    const shadow = this.#shadow;
    const results: Record<string, TaskResult> = Object.create(null);
    const trace: TraceEvent[] = [];
    for (const actor of [forecast, shadow]) {
      while (actor.mailbox.length > 0) {
        let reply = this.#relay(actor);
        if (reply === undefined) continue;
        if (reply instanceof Promise) reply = await reply;
        results[reply.result.name] = reply.result;
        trace.push(reply.event);
      }
    }
    assert(
      trace.length === order.forecast.length + order.shadow.length,
      "one trace event per task",
    );
    return {
      results,
      trace,
      remaining: { forecast: forecast.remaining(), shadow: shadow.remaining() },
    };
  }

  #relay(actor: LaneActor): LaneReply | Promise<LaneReply> | undefined {
    const message = actor.mailbox.take();
    this.#hook?.(actor.lane, message);
    return actor.receive(message);
  }
}
