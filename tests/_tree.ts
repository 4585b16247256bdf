// Snapshots of a directory tree, for byte-for-byte comparisons.
import { join } from "node:path";

/** Every file under `root` as `relative/posix/path -> content`, sorted by path. */
export async function snapshot(root: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  async function walk(dir: string, prefix: string): Promise<void> {
    for await (const entry of Deno.readDir(dir)) {
      const path = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory) await walk(join(dir, entry.name), path);
      else files.set(path, await Deno.readTextFile(join(dir, entry.name)));
    }
  }
  await walk(root, "");
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The outcome of a subprocess. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A `withTempDir(fn)` for a test file: `fn` runs with a fresh temporary
 * directory named `prefix…`, removed afterwards whatever `fn` does.
 */
export function tempDirs(prefix: string): (fn: (dir: string) => Promise<void>) => Promise<void> {
  return async (fn) => {
    const dir = await Deno.makeTempDir({ prefix });
    try {
      await fn(dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  };
}

/** Runs `deno <args>` with no stdin and no colours; returns its exit code and output. */
export async function deno(
  args: readonly string[],
  options: { cwd?: string } = {},
): Promise<RunResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...args],
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/**
 * Runs `deno run <flags> <script> <args>`. `script` is relative to this
 * directory unless it is a URL.
 */
// As the `ers` task runs it, with the read access worker lanes need to load
// ERS's own modules (Deno loads a worker's modules with this permission).
export const WORKER_OPTIONS: readonly string[] = [
  "--unstable-worker-options",
  "--preload",
  new URL("../scripts/_worker_options.ts", import.meta.url).pathname,
  `--allow-read=${
    ["../ers", "../runtime", "../scripts/_demo_pipeline.ts"].map((path) =>
      new URL(path, import.meta.url).pathname
    ).join(",")
  }`,
];

export function denoRun(
  flags: readonly string[],
  script: string | URL,
  args: readonly string[],
  options: { cwd?: string } = {},
): Promise<RunResult> {
  const path = script instanceof URL ? script : new URL(script, import.meta.url);
  return deno(["run", "--quiet", ...WORKER_OPTIONS, ...flags, path.pathname, ...args], options);
}

/** Read and write access to exactly `dir`. */
export function scoped(dir: string): string[] {
  return [`--allow-read=${dir}`, `--allow-write=${dir}`];
}
