/**
 * The 12-run invariance check on the seed scenario. Needs no permissions.
 *
 * ```sh
 * deno task invariance
 * ```
 *
 * Prints `ERS INVARIANCE: PASS` and the trace hash and exits 0, or prints
 * FAIL with the drifting run, the event index and both events, and exits 1.
 *
 * @module
 */

import { dozenRunInvarianceGate } from "../ers/mod.ts";
import { invarianceReport } from "./_report.ts";
import { seedTraceMaker } from "./_seed.ts";

if (import.meta.main) {
  const result = await dozenRunInvarianceGate({ makeTrace: seedTraceMaker(), runs: 12 });
  for (const line of invarianceReport(result)) console.log(line);
  if (!result.ok) Deno.exitCode = 1;
}
