// A Budget from a Budget or a `{ ops, entropy }` object, with errors naming
// the caller's field (`budgetForecast.ops`, `budgets.shadow.entropy`).

import { Budget } from "./budget.ts";
import { checkNonNegativeInteger, isPlainObject, orDefault, typeError } from "./_validate.ts";

/**
 * A fresh Budget from `value`'s fields, each read once and checked. A Budget
 * instance is checked too: `Object.create(Budget.prototype, ...)` passes
 * `instanceof` without ever running the constructor.
 */
export function budgetFrom(action: string, field: string, value: unknown): Budget {
  if (!(value instanceof Budget) && !isPlainObject(value)) {
    typeError(action, field, "a Budget or { ops, entropy }", value);
  }
  const fields = value as { ops?: unknown; entropy?: unknown };
  return new Budget({
    ops: checkNonNegativeInteger(action, `${field}.ops`, fields.ops),
    entropy: checkNonNegativeInteger(action, `${field}.entropy`, orDefault(fields.entropy, 0)),
  });
}
