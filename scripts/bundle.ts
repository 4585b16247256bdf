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
  const args = [
    "bundle",
    "--quiet",
    "--no-lock",
    "--platform=browser",
    "--format=esm",
    `--outdir=${out}`,
    ...CORE_ENTRY_POINTS,
  ];
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `Cannot bundle the pure core: deno bundle exited with code ${code}:\n${
        new TextDecoder().decode(stderr)
      }`,
    );
  }
  return CORE_ENTRY_POINTS.map((entry) => `${out}/${entry.replace(/\.ts$/, ".js")}`);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string", default: "dist" } },
    strict: true,
  });
  for (const file of await bundleCore(values.out)) console.log(`wrote ${relative(".", file)}`);
}
