/**
 * The pipeline digest: SHA-256 over a pipeline module's source and the local
 * modules it imports, in a stable order, so that an edit to any of them
 * changes a run's identity.
 *
 * @module
 */

import { dirname, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Hex } from "../ers/_sha256.ts";
import { typeError } from "../ers/_validate.ts";
import { requireAccess, withPermissionHint } from "./_fs.ts";

/**
 * Most modules one digest covers; a pipeline importing more is refused.
 *
 * @example Room for a large pipeline
 * ```ts
 * import { MAX_DIGEST_MODULES } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_DIGEST_MODULES, 4096);
 * ```
 */
export const MAX_DIGEST_MODULES = 4096;
/**
 * Most bytes of source one digest covers.
 *
 * @example 64 MiB
 * ```ts
 * import { MAX_DIGEST_BYTES } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_DIGEST_BYTES, 64 * 2 ** 20);
 * ```
 */
export const MAX_DIGEST_BYTES = 64 * 1024 * 1024;

/**
 * What {@linkcode pipelineDigest} hashed.
 *
 * @example The modules, entry first
 * ```ts
 * import { pipelineDigest, type PipelineDigest } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/p.ts`, `export default { tasks: [] };`);
 *   const digest: PipelineDigest = await pipelineDigest(`${dir}/p.ts`);
 *   assert.deepEqual(digest.modules, ["p.ts"]);
 *   assert.match(digest.sha256, /^[0-9a-f]{64}$/);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface PipelineDigest {
  /** SHA-256, lowercase hex, over every module in `modules` order. */
  sha256: string;
  /**
   * The modules hashed: POSIX paths relative to the entry module's
   * directory, the entry first, then the others sorted by code unit.
   */
  modules: string[];
}

// Static imports and re-exports (`import x from "./a.ts"`, `export * from
// "./b.ts"`, `import "./c.ts"`) and dynamic imports of a string literal.
// Type-only imports are left out: they do not change what runs.
const IMPORT_PATTERN =
  /\b(?:import|export)\s+(type\s+)?(?:[\w*${}\s,]+?\s+from\s+)?["']([^"'\n]+)["']|\bimport\s*\(\s*["']([^"'\n]+)["']\s*\)/g;

/**
 * Hashes a pipeline module and, transitively, the local modules it imports
 * (relative specifiers such as `./steps.ts` or `../lib/x.ts`, and `file:`
 * URLs); remote and registry imports (`npm:`, `jsr:`, `https:`) are not
 * followed. Each module contributes its path relative to the entry's
 * directory, its length and its bytes, so moving the whole pipeline
 * directory keeps the digest. A specifier that names no file (for example
 * one inside a comment) is skipped.
 *
 * @param file The entry module: a path or a `file:` URL.
 * @returns The digest and the modules it covers.
 * @throws {TypeError} When `file` is not a string or URL.
 * @throws {Deno.errors.NotFound} When the entry module does not exist.
 * @throws {RangeError} When the modules number more than
 * {@linkcode MAX_DIGEST_MODULES} or hold more than {@linkcode MAX_DIGEST_BYTES}.
 * @throws {ArtifactPermissionError} When read access is missing, naming the flag.
 *
 * @example An edit to an imported module changes the digest
 * ```ts
 * import { pipelineDigest } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/steps.ts`, `export const step = () => 1;`);
 *   await Deno.writeTextFile(`${dir}/p.ts`, `import { step } from "./steps.ts";
 * export default { tasks: [{ name: "s", lane: "forecast", priority: 0, costOps: 1, fn: step }] };`);
 *   const before = await pipelineDigest(`${dir}/p.ts`);
 *   assert.deepEqual(before.modules, ["p.ts", "steps.ts"]);
 *   await Deno.writeTextFile(`${dir}/steps.ts`, `export const step = () => 2;`);
 *   assert.notEqual((await pipelineDigest(`${dir}/p.ts`)).sha256, before.sha256);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function pipelineDigest(file: string | URL): Promise<PipelineDigest> {
  const action = "digest pipeline";
  if (file instanceof URL) file = fileURLToPath(file);
  if (typeof file !== "string" || file.length === 0) {
    typeError(action, "file", "a path or file: URL", file);
  }
  const entry = resolve(file.startsWith("file:") ? fileURLToPath(file) : file);
  requireAccess("read", entry);
  return await withPermissionHint(entry, async () => {
    const base = dirname(entry);
    const sources = new Map<string, Uint8Array>();
    await collect(entry, sources, action);
    const others = [...sources.keys()].filter((path) => path !== entry)
      .map((path) => [toPosix(relative(base, path)), path] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const ordered = [[toPosix(relative(base, entry)), entry] as const, ...others];
    const encoder = new TextEncoder();
    const parts: Uint8Array[] = [];
    let length = 0;
    for (const [name, path] of ordered) {
      const bytes = sources.get(path) as Uint8Array;
      const head = encoder.encode(`${name}\n${bytes.length}\n`);
      parts.push(head, bytes);
      length += head.length + bytes.length;
    }
    const all = new Uint8Array(length);
    let at = 0;
    for (const part of parts) {
      all.set(part, at);
      at += part.length;
    }
    return { sha256: await sha256Hex(all), modules: ordered.map(([name]) => name) };
  });
}

async function collect(
  entry: string,
  sources: Map<string, Uint8Array>,
  action: string,
): Promise<void> {
  const queue = [entry];
  let total = 0;
  const decoder = new TextDecoder();
  while (queue.length > 0) {
    const path = queue.shift() as string;
    if (sources.has(path)) continue;
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (error) {
      if (path !== entry && (error instanceof Deno.errors.NotFound || isDirectoryError(error))) {
        continue;
      }
      if (error instanceof Deno.errors.NotFound) {
        throw new Deno.errors.NotFound(`Cannot ${action} as ${path} does not exist`);
      }
      throw error;
    }
    total += bytes.length;
    if (sources.size + 1 > MAX_DIGEST_MODULES || total > MAX_DIGEST_BYTES) {
      throw new RangeError(
        `Cannot ${action} as it imports more than ${MAX_DIGEST_MODULES} local modules or ${MAX_DIGEST_BYTES} bytes of source: current module is ${path}`,
      );
    }
    sources.set(path, bytes);
    for (const specifier of localImports(decoder.decode(bytes))) {
      queue.push(
        specifier.startsWith("file:")
          ? fileURLToPath(specifier)
          : resolve(dirname(path), specifier),
      );
    }
  }
}

function isDirectoryError(error: unknown): boolean {
  return error instanceof Deno.errors.IsADirectory ||
    (error instanceof Error && /directory/i.test(error.message));
}

function localImports(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(IMPORT_PATTERN)) {
    if (match[1] !== undefined) continue; // import type / export type
    const specifier = match[2] ?? match[3];
    if (specifier === undefined) continue;
    if (
      specifier.startsWith("./") || specifier.startsWith("../") || specifier.startsWith("file:")
    ) {
      found.push(specifier.split(/[?#]/)[0] as string);
    }
  }
  return found;
}

function toPosix(path: string): string {
  return path.split(sep).join("/");
}
