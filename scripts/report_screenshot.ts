// Regenerates docs/report.png, the README's picture of `ers report`: runs the
// demo pipeline for 48 ticks into a temporary directory, writes its report,
// and screenshots the whole page at 1280 px in headless Chromium (Debian's
// `chromium`, driven over the DevTools protocol; nothing is downloaded).
//
//   deno task docs:screenshot

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeRunReport } from "../runtime/mod.ts";
import { Chromium, findChromium } from "./_cdp.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = join(ROOT, "docs", "report.png");
const WIDTH = 1280;

const chromium = await findChromium();
if (chromium === undefined) {
  console.error("docs:screenshot: no `chromium` on PATH (Debian package `chromium`)");
  Deno.exit(1);
}
const dir = await Deno.makeTempDir({ prefix: "ers_screenshot_" });
const browser = await Chromium.launch(chromium);
try {
  const artifacts = join(dir, "out");
  const made = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      // The demo's lane workers load ERS's own modules: read the checkout too.
      "--unstable-worker-options",
      "--preload",
      join(ROOT, "scripts", "_worker_options.ts"),
      `--allow-read=${dir},${ROOT}`,
      `--allow-write=${dir}`,
      join(ROOT, "scripts", "ers.ts"),
      "run",
      "--out",
      artifacts,
      "--run",
      "DEMO",
      "--ticks",
      "48",
    ],
    stdin: "null",
  }).output();
  if (!made.success) throw new Error(new TextDecoder().decode(made.stderr));
  const file = join(dir, "DEMO.html");
  await writeRunReport(artifacts, "DEMO", file);
  const page = await browser.newPage(WIDTH, 900);
  await page.goto(new URL(`file://${file}`).href);
  if (page.log.errors.length > 0) throw new Error(page.log.errors.join("\n"));
  const png = await page.screenshot();
  await Deno.mkdir(join(ROOT, "docs"), { recursive: true });
  await Deno.writeFile(OUT, png);
  console.log(`wrote docs/report.png: ${png.length} bytes`);
} finally {
  await browser.close();
  await Deno.remove(dir, { recursive: true });
}
