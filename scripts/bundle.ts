// Writes an ESM bundle of the pure core for runtimes that do not read
// TypeScript (Node, browsers): `deno task bundle` writes dist/ers/mod.js and
// dist/viz/mod.js, each self-contained, with no import of its own. The
// cross-runtime test builds the same bundle through `bundleCore()`, so the
// bundle it proves is the one this task writes.
//
//   deno task bundle            # writes dist/
//   deno task bundle --out DIR  # writes DIR/

import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";

/** The pure core's entry points, bundled one file each under the output directory. */
export const CORE_ENTRY_POINTS: readonly string[] = ["ers/mod.ts", "viz/mod.ts"];

const ROOT = new URL("..", import.meta.url);

/**
 * Bundles {@linkcode CORE_ENTRY_POINTS} with `deno bundle` into `outDir`
 * (`outDir/ers/mod.js`, `outDir/viz/mod.js`); returns the written files'
 * absolute paths. Throws with `deno bundle`'s own output when it fails.
 */
export async function bundleCore(outDir: string): Promise<string[]> {
  const out = resolve(outDir);
  await denoBundle([`--outdir=${out}`, ...CORE_ENTRY_POINTS], "the pure core");
  return CORE_ENTRY_POINTS.map((entry) => `${out}/${entry.replace(/\.ts$/, ".js")}`);
}

/**
 * Bundles one module (`entry`, relative to the repository root) into the
 * file `output`, with the same settings as {@linkcode bundleCore}: the
 * cross-runtime test and the Node benchmark bundle their type-only work
 * modules this way.
 */
export async function bundleModule(entry: string, output: string): Promise<void> {
  await denoBundle([`--output=${resolve(output)}`, entry], entry);
}

async function denoBundle(args: string[], what: string): Promise<void> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--no-lock", "--platform=browser", "--format=esm", ...args],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `Cannot bundle ${what}: deno bundle exited with code ${code}:\n${
        new TextDecoder().decode(stderr)
      }`,
    );
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string", default: "dist" } },
    strict: true,
  });
  for (const file of await bundleCore(values.out)) console.log(`wrote ${relative(".", file)}`);
}
