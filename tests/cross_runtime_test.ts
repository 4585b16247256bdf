// The pure core gives the same bytes in every runtime it claims: Deno on the
// TypeScript sources, Node (>= 20) on the `deno task bundle` output, Node
// again with the ES2023+ built-ins removed (so every feature-detected
// fallback runs), and headless Chromium on the same bundle served from
// 127.0.0.1. Each computes tests/_parity_work.ts over every golden vector the
// tests hold; Deno's result is checked against the golden values, and every
// other runtime's result must be the same text, byte for byte.
//
// A runtime missing from a developer's machine is reported and its step
// skipped; with `CI` set, a missing runtime fails the test instead.

import assert from "node:assert/strict";
import * as ers from "../ers/mod.ts";
import * as viz from "../viz/mod.ts";
import { bundleCore, bundleModule } from "../scripts/bundle.ts";
import { CHROMIUM_FLAGS } from "../scripts/_cdp.ts";
import { hex, type ParityInputs, type ParityResult, parityWork } from "./_parity_work.ts";

const IN_CI = (Deno.env.get("CI") ?? "") !== "";
const MIN_NODE_MAJOR = 20;
// A guard against a hung browser, not a timing: a healthy run takes seconds.
const BROWSER_GUARD_MS = 120_000;

// Built-ins newer than the engines the core supports, removed before the
// bundle loads in the "legacy" Node run: the core must load and give the same
// bytes without them.
const STRIP_MODERN_BUILTINS = `
const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
for (const key of ["map", "filter", "take", "drop", "flatMap", "reduce", "toArray", "forEach",
  "some", "every", "find"]) delete iteratorPrototype[key];
delete globalThis.Iterator;
delete globalThis.Float16Array;
for (const key of ["isWellFormed", "toWellFormed"]) delete String.prototype[key];
for (const key of ["toSorted", "toReversed", "toSpliced", "with", "findLast", "findLastIndex"]) {
  delete Array.prototype[key];
}
for (const key of ["union", "intersection", "difference", "symmetricDifference",
  "isSubsetOf", "isSupersetOf", "isDisjointFrom"]) delete Set.prototype[key];
delete Promise.withResolvers;
delete Object.groupBy;
delete Map.groupBy;
delete Array.fromAsync;
if (typeof String.prototype.isWellFormed === "function" || typeof globalThis.Iterator !== "undefined" ||
  typeof iteratorPrototype.map === "function") {
  throw new Error("the modern built-ins could not be removed");
}
`;

interface RuntimeAnswer {
  engine: string;
  result: ParityResult;
}

async function readInputs(): Promise<ParityInputs> {
  const read = (name: string) => Deno.readTextFile(new URL(`./testdata/${name}`, import.meta.url));
  return {
    canonicalJson: await read("canonical_json_python.json"),
    traceHashes: await read("trace_hashes_python.json"),
  };
}

/** The core bundle and the work, bundled once into a temporary directory. */
async function buildBundles(dir: string): Promise<void> {
  await bundleCore(dir);
  await bundleModule("tests/_parity_work.ts", `${dir}/work.js`);
  // The work imports only types: its bundle must not carry a copy of the core.
  assert.doesNotMatch(await Deno.readTextFile(`${dir}/work.js`), /class DeterministicScheduler/);
}

/** Says why a runtime's step cannot run; fails instead when running in CI. */
function missing(runtime: string, why: string): true {
  const message = `cross-runtime: ${runtime} is not available (${why}), so the pure core is ` +
    `NOT proven on it here. Install it (.ci/run does) to run this check.`;
  if (IN_CI) throw new Error(`${message} CI must run every runtime.`);
  console.warn(`\n*** SKIPPED: ${message} ***\n`);
  return true;
}

async function commandVersion(command: string, args: string[]): Promise<string | undefined> {
  try {
    const { code, stdout } = await new Deno.Command(command, {
      args,
      stdout: "piped",
      stderr: "null",
    }).output();
    return code === 0 ? new TextDecoder().decode(stdout).trim() : undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Node's version when it is at least MIN_NODE_MAJOR, else undefined after saying why. */
async function findNode(): Promise<string | undefined> {
  const version = await commandVersion("node", ["--version"]);
  if (version === undefined) {
    missing("Node", "no `node` on PATH");
    return undefined;
  }
  const major = Number(/^v(\d+)\./.exec(version)?.[1]);
  if (Number.isNaN(major)) {
    missing("Node", `the \`node\` found is not Node: it answered ${JSON.stringify(version)}`);
    return undefined;
  }
  if (major < MIN_NODE_MAJOR) {
    missing("Node", `found ${version}, the core claims Node >= ${MIN_NODE_MAJOR}`);
    return undefined;
  }
  return version;
}

async function findChromium(): Promise<string | undefined> {
  const candidates = [Deno.env.get("ERS_CHROMIUM"), "chromium", "chromium-browser"];
  for (const candidate of candidates) {
    if (candidate && await commandVersion(candidate, ["--version"]) !== undefined) {
      return candidate;
    }
  }
  missing("Chromium", "no `chromium` on PATH (Debian package `chromium`)");
  return undefined;
}

async function runNode(dir: string, preamble: string): Promise<RuntimeAnswer> {
  const url = (path: string) => new URL(`file://${dir}/${path}`).href;
  const script = `${preamble}
import { readFileSync } from "node:fs";
const ers = await import(${JSON.stringify(url("ers/mod.js"))});
const viz = await import(${JSON.stringify(url("viz/mod.js"))});
const { parityWork } = await import(${JSON.stringify(url("work.js"))});
const read = (name) => readFileSync(new URL(name, ${
    JSON.stringify(new URL("./testdata/", import.meta.url).href)
  }), "utf8");
const inputs = {
  canonicalJson: read("canonical_json_python.json"),
  traceHashes: read("trace_hashes_python.json"),
};
const result = await parityWork({ ers, viz }, inputs);
process.stdout.write(JSON.stringify({ engine: "node " + process.version, result }));
`;
  const child = new Deno.Command("node", {
    args: ["--input-type=module", "-e", script],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const { code, stdout, stderr } = await child;
  assert.equal(code, 0, `node failed:\n${new TextDecoder().decode(stderr)}`);
  return JSON.parse(new TextDecoder().decode(stdout));
}

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>ERS cross-runtime parity</title>
<script type="module">
const report = (answer) => fetch("/result", { method: "POST", body: JSON.stringify(answer) });
try {
  const [ers, viz, work] = await Promise.all(
    ["/ers/mod.js", "/viz/mod.js", "/work.js"].map((path) => import(path)),
  );
  const [canonicalJson, traceHashes] = await Promise.all(
    ["/inputs/canonical_json_python.json", "/inputs/trace_hashes_python.json"]
      .map((path) => fetch(path).then((response) => response.text())),
  );
  const result = await work.parityWork({ ers, viz }, { canonicalJson, traceHashes });
  await report({ engine: navigator.userAgent, result });
} catch (error) {
  await report({ error: String(error && error.stack || error) });
}
</script>
`;

// Serves the page, the bundles and the golden files from 127.0.0.1 and takes
// the page's answer back as a POST.
function serveParityPage(
  dir: string,
  onAnswer: (text: string) => void,
): Deno.HttpServer<Deno.NetAddr> {
  const files: Record<string, [string | URL, string]> = {
    "/ers/mod.js": [`${dir}/ers/mod.js`, "text/javascript"],
    "/viz/mod.js": [`${dir}/viz/mod.js`, "text/javascript"],
    "/work.js": [`${dir}/work.js`, "text/javascript"],
  };
  for (const name of ["canonical_json_python.json", "trace_hashes_python.json"]) {
    files[`/inputs/${name}`] = [new URL(`./testdata/${name}`, import.meta.url), "application/json"];
  }
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const { pathname } = new URL(request.url);
    if (request.method === "POST" && pathname === "/result") {
      onAnswer(await request.text());
      return new Response(null, { status: 204 });
    }
    if (pathname === "/") {
      return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    const file = files[pathname];
    if (file === undefined) return new Response("not found", { status: 404 });
    return new Response(await Deno.readFile(file[0]), {
      headers: { "content-type": `${file[1]}; charset=utf-8` },
    });
  });
}

async function runChromium(binary: string, dir: string): Promise<RuntimeAnswer> {
  const answer = Promise.withResolvers<string>();
  const server = serveParityPage(dir, answer.resolve);
  const profile = await Deno.makeTempDir({ prefix: "ers_chromium_profile_" });
  const child = new Deno.Command(binary, {
    args: [
      ...CHROMIUM_FLAGS,
      `--user-data-dir=${profile}`,
      `http://127.0.0.1:${server.addr.port}/`,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const text = await Promise.race([
      answer.promise,
      output.then(({ code, stderr }) => {
        throw new Error(
          `chromium exited (code ${code}) before the page answered:\n${
            new TextDecoder().decode(stderr)
          }`,
        );
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`chromium gave no answer within ${BROWSER_GUARD_MS} ms`)),
          BROWSER_GUARD_MS,
        );
      }),
    ]);
    const parsed = JSON.parse(text);
    if (typeof parsed.error === "string") throw new Error(`the page failed: ${parsed.error}`);
    return parsed;
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    await output;
    await server.shutdown();
    await Deno.remove(profile, { recursive: true });
  }
}

/** Asserts `actual` is the same text as `expected`, naming the first label that differs. */
function assertSameBytes(runtime: RuntimeAnswer, expected: ParityResult): void {
  const actual = runtime.result;
  if (JSON.stringify(actual) === JSON.stringify(expected)) return;
  const shorten = (value: string | undefined) =>
    value === undefined || value.length <= 200 ? value : `${value.slice(0, 200)}…`;
  for (let i = 0; i < Math.max(actual.length, expected.length); i++) {
    const [label, value] = actual[i] ?? [];
    const [wantLabel, wantValue] = expected[i] ?? [];
    if (label !== wantLabel || value !== wantValue) {
      assert.fail(
        `${runtime.engine} differs from Deno at entry ${i} (${wantLabel ?? "none"}):\n` +
          `  deno: ${shorten(wantValue)}\n  ${runtime.engine}: ${label} ${shorten(value)}`,
      );
    }
  }
  assert.fail(`${runtime.engine} differs from Deno`);
}

/** Deno's own result must be the golden values: the reference's and Python's. */
async function assertGolden(result: ParityResult, inputs: ParityInputs): Promise<void> {
  const byLabel = new Map(result);
  const seeds: Record<string, string> = {
    "invariance": "ae7e4fe3526ad0e133d2f46de48f5941e5cf24382490e9d25088d8920decfd16",
    "api": "40a36b81f8b42f9e5a42fbaee681ddce75f2ff10bc8358875684cc827fccaab2",
    "integration-tick-0": "32a12734d371e5f86855cfd625aac785bff278352c2d21e7873dc3cf0282e002",
    "integration-tick-1": "f82f970c4265de359a98bec85127b52b8e1085793cdb07641b2f9e4a1f69f1ca",
    "integration-tick-2": "0b8b25e4aea72c2fee1e769b33e2f7b51cbbc5d0790a2c999252b21c8057a5b4",
  };
  for (const [name, sha256] of Object.entries(seeds)) {
    assert.equal(byLabel.get(`seed/${name}/sha256`), sha256, name);
  }
  const traces = JSON.parse(inputs.traceHashes) as { name: string; sha256: string }[];
  assert.equal(traces.length, 5);
  for (const { name, sha256 } of traces) {
    assert.equal(byLabel.get(`python/${name}/sha256`), sha256, name);
  }
  const cases = JSON.parse(inputs.canonicalJson) as { expected: string }[];
  let refused = 0;
  cases.forEach(({ expected }, i) => {
    const value = byLabel.get(`canonical/${i}`) ?? "";
    if (value.startsWith("RangeError: ") && /within ±2\^53/.test(value)) refused++;
    else assert.equal(value, hex(new TextEncoder().encode(expected)), `canonical case ${i}`);
  });
  assert.ok(refused < cases.length / 10, `${refused} refused`);
  for (const [label, value] of result) {
    if (!label.endsWith("/sha256") || label.startsWith("canonical/")) continue;
    const bytes = byLabel.get(label.replace(/sha256$/, "trace-bytes")) ?? "";
    const digest = await crypto.subtle.digest(
      "SHA-256",
      Uint8Array.from(
        bytes.match(/../g) ?? [],
        (pair) => parseInt(pair, 16),
      ),
    );
    assert.equal(hex(new Uint8Array(digest)), value, `${label} is the hash of its bytes`);
  }
}

Deno.test("the pure core gives byte-identical results in Deno, Node and headless Chromium", async (t) => {
  const inputs = await readInputs();
  const expected = await parityWork({ ers, viz }, inputs);
  await t.step("Deno computes every golden vector as the reference and Python do", async () => {
    await assertGolden(expected, inputs);
  });
  const node = await findNode();
  const chromium = await findChromium();
  const dir = await Deno.makeTempDir({ prefix: "ers_cross_runtime_" });
  try {
    await buildBundles(dir);
    await t.step({
      name: `Node ${node ?? "(missing)"} on the bundle gives Deno's bytes`,
      ignore: node === undefined,
      fn: async () => assertSameBytes(await runNode(dir, ""), expected),
    });
    await t.step({
      name: "Node without ES2023+ built-ins (Iterator, Set methods, isWellFormed, ...) " +
        "loads the bundle and gives Deno's bytes",
      ignore: node === undefined,
      fn: async () => {
        const answer = await runNode(dir, STRIP_MODERN_BUILTINS);
        assertSameBytes({ ...answer, engine: `${answer.engine} (stripped)` }, expected);
      },
    });
    await t.step({
      name: "headless Chromium on the bundle, served from 127.0.0.1, gives Deno's bytes",
      ignore: chromium === undefined,
      fn: async () => {
        const answer = await runChromium(chromium as string, dir);
        assert.match(answer.engine, /Chrom/);
        assertSameBytes(answer, expected);
      },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
