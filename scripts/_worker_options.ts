// Preloaded (`deno run --preload`) by the deno.json tasks that also pass
// `--unstable-worker-options`: it tells ERS that Deno accepts a worker's own
// permissions. Deno offers no way to ask (without the flag, the option ends
// the process), so the task line that sets the flag says so here, for this
// process only (a marker on this realm, not inherited by child processes).

(globalThis as Record<symbol, unknown>)[Symbol.for("@abraxas/ers.unstableWorkerOptions")] = true;
