// Loading a pipeline file: a module whose default export is a Pipeline.
//
// Permissions: a dynamic import() whose specifier is not a string literal
// needs read access to the file, and to every local module it imports in
// turn; a refusal surfaces as a TypeError "Requires read access to ...".
// Compiled binaries: `deno compile` embeds only the modules it can see when
// it compiles, so a compiled `ers` can import a pipeline file only if it was
// embedded with `deno compile --include FILE`.

import { relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type PreparedPipeline, preparePipeline } from "../ers/mod.ts";
import { type Isolation, type OpenedPipeline, openPipeline } from "../runtime/mod.ts";
import { requestFileRead } from "./_cli_access.ts";
import { CliError, errorLine, messageLine } from "./_cli_errors.ts";

/**
 * How a RunHeader names the built-in demo pipeline of `ers run`.
 *
 * @example A name, not a path
 * ```ts
 * import { DEMO_PIPELINE } from "./_cli_pipeline.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEMO_PIPELINE, "ers:demo");
 * ```
 */
export const DEMO_PIPELINE = "ers:demo";

const READ_REFUSED = /Requires read access to "([^"]+)"/;

/**
 * Imports a pipeline file, after asking Deno for read access to it, and
 * prepares its default export.
 *
 * @param file The file, as the user gave it.
 * @returns The prepared pipeline.
 * @throws {CliError} When the file is missing, cannot be imported (the
 * message names the flag when a permission is missing, or `--include` in a
 * compiled binary), has no default export, or is not a valid Pipeline.
 *
 * @example Load a pipeline file
 * ```ts
 * import { loadPipeline } from "./_cli_pipeline.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const file = `${dir}/p.js`;
 *   await Deno.writeTextFile(file, `export default { tasks: [
 *     { name: "one", lane: "forecast", priority: 0, costOps: 1, fn: () => 1 },
 *   ] };`);
 *   const pipeline = await loadPipeline(file);
 *   assert.deepEqual(pipeline.tasks.map((t) => t.name), ["one"]);
 *   await assert.rejects(loadPipeline(`${dir}/missing.ts`), /does not exist/);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function loadPipeline(file: string): Promise<PreparedPipeline> {
  await requestFileRead(file, "pipeline file");
  const info = await Deno.stat(file).catch(() => undefined);
  if (!info?.isFile) throw new CliError(`Cannot load pipeline ${file} as it does not exist`);
  let module: Record<string, unknown>;
  try {
    module = await import(pathToFileURL(resolve(file)).href);
  } catch (error) {
    throw importError(file, error);
  }
  if (module.default === undefined) {
    throw new CliError(`Cannot load pipeline ${file} as it has no default export`);
  }
  try {
    return preparePipeline(module.default as Parameters<typeof preparePipeline>[0]);
  } catch (error) {
    const validation = error instanceof TypeError || error instanceof RangeError;
    throw new CliError(
      `Invalid pipeline ${file}: ${validation ? messageLine(error) : errorLine(error)}`,
    );
  }
}

// A syntax error as Deno reports it: the message, a code frame, and the
// place, `    at file:///…/x.ts:3:35`.
const SYNTAX_ERROR =
  /^(?:TypeError: )?(SyntaxError: [^\n]*)\n([\s\S]*?)\n\s*at (file:\/\/\S+?):(\d+):(\d+)\s*$/;

// The import failure as a CliError: a syntax error shows file:line:col (the
// path as the user gave it when it is the pipeline file) and the code frame.
function importError(file: string, error: unknown): CliError {
  const message = error instanceof Error ? error.message : String(error);
  const syntax = SYNTAX_ERROR.exec(
    message.replace(/^(TypeError|SyntaxError): (?=SyntaxError)/, ""),
  );
  if (syntax === null) {
    return new CliError(`Cannot load pipeline ${file}: ${importProblem(file, error)}`);
  }
  const [, what, frame, url, line, column] = syntax as unknown as string[];
  const where = url === pathToFileURL(resolve(file)).href
    ? file
    : relative(Deno.cwd(), fileURLToPath(url as string));
  return new CliError(
    `Cannot load pipeline ${file}: ${where}:${line}:${column}: ${what}`,
    (frame as string).split("\n"),
  );
}

function importProblem(file: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (Deno.build.standalone && /Module not found/.test(message)) {
    return `a compiled ers binary imports only the pipeline files embedded in it (deno compile --include ${file}); run this one with deno run scripts/ers.ts`;
  }
  const refused = READ_REFUSED.exec(message);
  if (refused) {
    const path = refused[1] as string;
    return `Deno has not granted read access to ${path}, which it imports: run again with --allow-read=${path}`;
  }
  return errorLine(error);
}

/**
 * The `--isolation` flag of `ers run` and `ers invariance`: where the
 * pipeline's lanes run.
 *
 * @example Worker lanes by default
 * ```ts
 * import { ISOLATION_FLAG } from "./_cli_pipeline.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ISOLATION_FLAG.default, "worker");
 * assert.deepEqual(ISOLATION_FLAG.choices, ["worker", "inline"]);
 * ```
 */
export const ISOLATION_FLAG = {
  kind: "string",
  value: "MODE",
  help: "Where lanes run: worker (each in its own sandboxed Web Worker) or inline",
  choices: ["worker", "inline"],
  default: "worker",
} as const;

const DEMO = new URL("./_demo_pipeline.ts", import.meta.url);

/**
 * The read access worker lanes need: Deno loads a worker's modules (ERS's
 * lane worker, in `ers/` and `runtime/`) with this process's read permission.
 * None inline, nor in a compiled binary, which embeds them.
 *
 * @param isolation Where lanes run.
 * @param demo Whether the lanes run the built-in demo.
 * @returns What to pass `requireAccess()`.
 *
 * @example Inline lanes need nothing more
 * ```ts
 * import { laneModuleAccess } from "./_cli_pipeline.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(laneModuleAccess("inline"), []);
 * assert.equal(laneModuleAccess("worker").length, 2);
 * ```
 */
export function laneModuleAccess(
  isolation: Isolation,
  demo = false,
): { access: "read"; path: string; what: string }[] {
  if (isolation === "inline" || Deno.build.standalone) return [];
  return [...["../ers", "../runtime"], ...(demo ? ["./_demo_pipeline.ts"] : [])].map((dir) => ({
    access: "read" as const,
    path: fileURLToPath(new URL(dir, import.meta.url)),
    what: "ERS modules its lane workers load",
  }));
}

/**
 * Opens a pipeline file (the built-in demo when `file` is undefined) with
 * lanes where `isolation` says, reporting a missing, unreadable or invalid
 * file as one {@linkcode CliError}, as {@linkcode loadPipeline} does. Lane
 * warnings go to stderr, one line each.
 *
 * @param file The file, as the user gave it, or `undefined` for the demo.
 * @param isolation `"worker"` or `"inline"`.
 * @returns The opened pipeline; close it when done.
 * @throws {CliError} When the file cannot be opened.
 *
 * @example The demo in worker lanes
 * ```ts
 * import { openCliPipeline } from "./_cli_pipeline.ts";
 * import assert from "node:assert/strict";
 *
 * await using pipeline = await openCliPipeline(undefined, "worker");
 * assert.equal(pipeline.isolation, "worker");
 * assert.equal((await pipeline.runTick(0)).trace.length, pipeline.tasks.length);
 * ```
 */
export async function openCliPipeline(
  file: string | undefined,
  isolation: Isolation,
): Promise<OpenedPipeline> {
  if (file === undefined) return await openPipeline(DEMO, { isolation });
  if (isolation === "inline") {
    await loadPipeline(file); // its messages for a file that cannot be loaded
    return await openPipeline(file, { isolation });
  }
  await requestFileRead(file, "pipeline file");
  const info = await Deno.stat(file).catch(() => undefined);
  if (!info?.isFile) throw new CliError(`Cannot load pipeline ${file} as it does not exist`);
  try {
    return await openPipeline(file, { isolation });
  } catch (error) {
    throw openError(file, error);
  }
}

// A worker lane's refusal as the CliError `loadPipeline` would give.
function openError(file: string, error: unknown): CliError {
  const prefix = `Cannot open pipeline ${pathToFileURL(resolve(file)).href}: `;
  const message = error instanceof Error ? error.message : String(error);
  const rest = message.startsWith(prefix) ? message.slice(prefix.length) : message;
  if (rest === "it has no default export") {
    return new CliError(`Cannot load pipeline ${file} as it has no default export`);
  }
  if (error instanceof TypeError || error instanceof RangeError) {
    return new CliError(`Invalid pipeline ${file}: ${rest.split("\n")[0]}`);
  }
  return importError(file, new Error(rest));
}
