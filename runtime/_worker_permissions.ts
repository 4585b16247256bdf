// Whether Deno accepts the `deno.permissions` option of `new Worker()`.
//
// Without `--unstable-worker-options`, Deno does not throw on that option: it
// ends the whole process (exit code 70), and it offers no way to ask. So ERS
// uses it only when it knows: the `ers` tasks preload scripts/_worker_options.ts
// next to the flag, which marks this realm; or the process's own command line
// (Linux `/proc/self/cmdline`, readable only under --allow-all, never
// prompted for) shows the flag. Otherwise workers inherit the caller's
// permissions and ERS says so.

const FLAGS = ["--unstable-worker-options"];
// Subcommands after whose script every argument belongs to the script.
const SCRIPT_RUNNERS = new Set(["run", "eval", "serve"]);

let known: boolean | undefined;

/** Whether lane workers may be given their own permissions. */
export function workerPermissionOptions(): boolean {
  return known ??= detect();
}

const MARKER = Symbol.for("@abraxas/ers.unstableWorkerOptions");

function detect(): boolean {
  if ((globalThis as Record<symbol, unknown>)[MARKER] === true) return true;
  try {
    const path = "/proc/self/cmdline";
    if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return false;
    return hasFlag(Deno.readTextFileSync(path).split("\0"));
  } catch {
    return false;
  }
}

/** Whether Deno's own arguments (not the script's) include the flag. */
export function hasFlag(argv: readonly string[]): boolean {
  const subcommand = argv[1];
  const stopAtScript = subcommand !== undefined && SCRIPT_RUNNERS.has(subcommand);
  for (const arg of argv.slice(2)) {
    if (arg === "--") return false;
    if (FLAGS.includes(arg)) return true;
    if (stopAtScript && !arg.startsWith("-")) return false;
  }
  return false;
}
