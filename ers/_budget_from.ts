// A Budget from a Budget or a `{ ops, entropy }` object, with errors naming
// the caller's field (`budgetForecast.ops`, `budgets.shadow.entropy`).

import { Budget } from "./budget.ts";
import { checkNonNegativeInteger, isPlainObject, orDefault, typeError } from "./_validate.ts";

/** Returns `value` when it is a Budget, else a Budget made from it. */
export function budgetFrom(action: string, field: string, value: unknown): Budget {
  if (value instanceof Budget) return value;
  if (!isPlainObject(value)) typeError(action, field, "a Budget or { ops, entropy }", value);
  return new Budget({
    ops: checkNonNegativeInteger(action, `${field}.ops`, value.ops),
    entropy: checkNonNegativeInteger(action, `${field}.entropy`, orDefault(value.entropy, 0)),
  });
}
