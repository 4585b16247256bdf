// The report in a real browser: a report of a demo run, opened from a file in
// headless Chromium (Debian's `chromium`, driven over the DevTools protocol),
// at two window widths. The run id, every task name and the charts must be in
// the rendered DOM, the page must log no error and request nothing but
// itself, and its screenshot must not be blank.
//
// Without a `chromium` on PATH the test is reported and skipped on a
// developer's machine; with `CI` set it fails instead (.ci/run installs it).

import assert from "node:assert/strict";
import { join } from "node:path";
import { readRunManifest, readRunTicks, writeRunReport } from "../mod.ts";
import { Chromium, findChromium, type Page } from "../scripts/_cdp.ts";
import { denoRun } from "./_tree.ts";

const IN_CI = (Deno.env.get("CI") ?? "") !== "";
const WIDTHS = [1280, 420];

const chromium = await findChromium();
if (chromium === undefined) {
  const message = "report browser test: no `chromium` on PATH (Debian package `chromium`)";
  if (IN_CI) throw new Error(`${message}; CI must have it`);
  console.warn(`${message}: skipped`);
}

interface DomFacts {
  h1: string;
  text: string;
  rowTasks: string[];
  costTasks: string[];
  charts: { id: string; width: number; height: number; rects: number }[];
  scrollWidth: number;
  innerWidth: number;
}

const DOM_FACTS = `(() => {
  const charts = ["timeline", "heatmap", "costs-chart"].map((id) => {
    const svg = document.getElementById(id);
    const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
    return { id, width: box.width, height: box.height, rects: svg ? svg.querySelectorAll("rect").length : 0 };
  });
  return {
    h1: document.querySelector("h1")?.textContent ?? "",
    text: document.body.textContent,
    rowTasks: [...document.querySelectorAll("#timeline g.row")].map((g) => g.getAttribute("data-task")),
    costTasks: [...document.querySelectorAll("#costs-chart g.task")].map((g) => g.getAttribute("data-task")),
    charts,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  };
})()`;

/** Distinct colours (up to 4096) and the share of non-white pixels of a PNG, decoded by the browser. */
async function pixelStats(page: Page, png: Uint8Array) {
  let binary = "";
  for (let i = 0; i < png.length; i += 0x8000) {
    binary += String.fromCharCode(...png.subarray(i, i + 0x8000));
  }
  return await page.evaluate<{ width: number; height: number; colours: number; inked: number }>(
    `(async () => {
    const bytes = Uint8Array.from(atob(${JSON.stringify(btoa(binary))}), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const g = canvas.getContext("2d");
    g.drawImage(bitmap, 0, 0);
    const d = g.getImageData(0, 0, bitmap.width, bitmap.height).data;
    const colours = new Set();
    let inked = 0;
    for (let i = 0; i < d.length; i += 4) {
      const rgb = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
      if (colours.size < 4096) colours.add(rgb);
      if (rgb !== 0xffffff) inked++;
    }
    return { width: bitmap.width, height: bitmap.height, colours: colours.size, inked: inked / (d.length / 4) };
  })()`,
  );
}

Deno.test({
  name: "the report of a demo run renders in headless Chromium at two widths, without errors",
  ignore: chromium === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ers_browser_" });
    const browser = await Chromium.launch(chromium);
    try {
      const out = join(dir, "out");
      const made = await denoRun(
        [`--allow-read=${dir}`, `--allow-write=${dir}`],
        new URL("../scripts/ers.ts", import.meta.url),
        ["run", "--out", out, "--run", "DEMO", "--ticks", "24"],
      );
      assert.equal(made.code, 0, made.stderr);
      const file = join(dir, "demo.html");
      await writeRunReport(out, "DEMO", file);
      const ticks = await readRunTicks(out, await readRunManifest(out, "DEMO"));
      const tasks = [...new Set(ticks.flatMap((t) => t.trendpack.timeline.map((e) => e.task)))];
      assert.equal(tasks.length, 6);
      const url = new URL(`file://${file}`).href;
      for (const width of WIDTHS) {
        const page = await browser.newPage(width, 900);
        await page.goto(url);
        const facts = await page.evaluate<DomFacts>(DOM_FACTS);
        assert.match(facts.h1, /^ERS run DEMO$/);
        for (const task of tasks) {
          assert.ok(facts.text.includes(task), `${task} is not in the page's text`);
          assert.ok(facts.rowTasks.includes(task), `${task} has no timeline row`);
          assert.ok(facts.costTasks.includes(task), `${task} has no cost bar`);
        }
        for (const chart of facts.charts) {
          assert.ok(
            chart.width > 100 && chart.height > 50,
            `${chart.id} is not drawn: ${JSON.stringify(chart)}`,
          );
          assert.ok(chart.rects > 10, `${chart.id} has no cells`);
        }
        // Wide charts scroll inside their frame; the page itself never does.
        assert.ok(facts.scrollWidth <= facts.innerWidth, `the page overflows at ${width}px`);
        assert.deepEqual(page.log.errors, [], `console errors at ${width}px`);
        assert.deepEqual(page.log.requests, [url], "the page requested something besides itself");
        const png = await page.screenshot();
        const blank = await browser.newPage(200, 200);
        const pixels = await pixelStats(blank, png);
        assert.equal(pixels.width, width);
        assert.ok(pixels.height > 900, `the page is only ${pixels.height}px tall`);
        assert.ok(pixels.colours > 50, `the screenshot has ${pixels.colours} colours: blank`);
        assert.ok(pixels.inked > 0.05, `only ${pixels.inked} of the screenshot is not white`);
      }
    } finally {
      await browser.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
