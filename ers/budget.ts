/**
 * The immutable budget envelope of one lane for one tick.
 *
 * @module
 */

import { checkNonNegativeInteger, isPlainObject, orDefault, typeError } from "./_validate.ts";

/**
 * Options for {@linkcode Budget}. `runTick()` also takes them in place of a
 * `Budget`.
 *
 * @example Entropy defaults to zero
 * ```ts
 * import { Budget, type BudgetInit } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const init: BudgetInit = { ops: 10 };
 * const budget = new Budget(init);
 * assert.equal(budget.ops, 10);
 * assert.equal(budget.entropy, 0);
 * assert.throws(() => new Budget({ ops: 1.5 }), RangeError);
 * ```
 */
export interface BudgetInit {
  /** Abstract work units available. */
  ops: number;
  /**
   * Abstract complexity units available.
   *
   * @default {0}
   */
  entropy?: number;
}

/**
 * A lane's budget for one tick: `ops` and `entropy`, both non-negative
 * integers. Budgets are immutable; the scheduler returns new ones as
 * `remaining`.
 *
 * @example Checking what a budget can afford
 * ```ts
 * import { Budget } from "@abraxas/ers";
 * import assert from "node:assert/strict";
 *
 * const budget = new Budget({ ops: 10 });
 * assert.equal(budget.entropy, 0);
 * assert.equal(budget.canAfford(10), true);
 * assert.equal(budget.canAfford(11), false);
 * assert.equal(budget.canAfford(1, 1), false);
 * ```
 */
export class Budget {
  /** Abstract work units available. */
  readonly ops: number;
  /** Abstract complexity units available. */
  readonly entropy: number;

  /**
   * Creates a budget.
   *
   * @param init The budget's ops and entropy.
   * @throws {TypeError} When `init` is not a plain object or a Budget, or
   * `ops` or `entropy` is not a number.
   * @throws {RangeError} When `ops` or `entropy` is negative, fractional or
   * beyond 2^53 - 1.
   */
  constructor(init: BudgetInit) {
    if (!isPlainObject(init) && !(init instanceof Budget)) {
      typeError("create budget", "init", "an object with 'ops' and 'entropy'", init);
    }
    this.ops = checkNonNegativeInteger("create budget", "ops", init.ops);
    this.entropy = checkNonNegativeInteger("create budget", "entropy", orDefault(init.entropy, 0));
    Object.freeze(this);
  }

  /**
   * Whether a task costing `ops` and `entropy` fits in this budget.
   *
   * @param ops The task's ops cost.
   * @param entropy The task's entropy cost.
   * @returns `true` when both costs fit.
   *
   * @example Both costs must fit
   * ```ts
   * import { Budget } from "@abraxas/ers";
   * import assert from "node:assert/strict";
   *
   * const budget = new Budget({ ops: 5, entropy: 1 });
   * assert.equal(budget.canAfford(5, 1), true);
   * assert.equal(budget.canAfford(5, 2), false);
   * ```
   */
  canAfford(ops: number, entropy = 0): boolean {
    return ops <= this.ops && entropy <= this.entropy;
  }
}
