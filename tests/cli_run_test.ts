// End-to-end tests of what `ers run`, `ers index` and pipeline loading tell
// the user: code frames, gaps, damaged runs, unknown tasks, JSON summaries,
// totals per lane, and Ctrl-C between ticks.

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { verifyArtifacts } from "../mod.ts";
import { denoRun, type RunResult, scoped, snapshot, tempDirs, WORKER_OPTIONS } from "./_tree.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ERS = new URL("../scripts/ers.ts", import.meta.url);

function ers(permissions: readonly string[], ...args: string[]): Promise<RunResult> {
  return denoRun(permissions, ERS, args, { cwd: ROOT });
}

const withTempDir = tempDirs("ers_cli_run_");

Deno.test("ers invariance --pipeline shows file:line:col and the code frame of a syntax error", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "broken.ts");
    await Deno.writeTextFile(file, 'export default {\n  tasks: [\n    { name: "a" ]\n};\n');
    const result = await ers([`--allow-read=${dir}`], "invariance", "--pipeline", file);
    assert.equal(result.code, 1);
    const lines = result.stderr.trimEnd().split("\n");
    assert.equal(
      lines[0],
      `ers: Cannot load pipeline ${file}: ${file}:3:17: SyntaxError: Expected ',', got ']'`,
    );
    assert.deepEqual(lines.slice(1), [
      "  |",
      '3 |     { name: "a" ]',
      "  |                 ~",
    ]);
  });
});

Deno.test("ers run refuses --from past the run's next tick unless --allow-gap", async () => {
  await withTempDir(async (dir) => {
    const run = (...args: string[]) =>
      ers(scoped(dir), "run", "--out", dir, "--run", "G", "--ticks", "1", ...args);
    assert.equal((await run()).code, 0);
    const gap = await run("--from", "5");
    assert.equal(gap.code, 2);
    assert.match(
      gap.stderr,
      /^ers: run G records ticks up to 0: --from 5 would leave ticks 1\.\.4 unrecorded \(pass --allow-gap if that is meant\)$/m,
    );
    assert.equal((await run("--from", "1")).code, 0, "the next tick is no gap");
    const allowed = await run("--from", "5", "--allow-gap");
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /^run G: 1 tick \(5\.\.5\)/);
  });
});

Deno.test("ers run over a damaged run restores a deleted file, and exits 1 naming a changed one", async () => {
  await withTempDir(async (dir) => {
    const run = (...args: string[]) =>
      ers(scoped(dir), "run", "--out", dir, "--run", "D", "--ticks", "3", ...args);
    assert.equal((await run()).code, 0);
    const pristine = await snapshot(dir);
    await Deno.remove(join(dir, "run_index/D/000001.runindex.json"));
    const restored = await run();
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(
      restored.stdout,
      /^restored run_index\/D\/000001\.runindex\.json \(recorded file is missing\)$/m,
    );
    assert.deepEqual(await snapshot(dir), pristine);

    await Deno.writeTextFile(join(dir, "viz/D/000002.trendpack.json"), " ", { append: true });
    const damaged = await run("--json");
    assert.equal(damaged.code, 1);
    const summary = JSON.parse(damaged.stdout);
    assert.equal(summary.damaged[0].path, "viz/D/000002.trendpack.json");
    assert.match(
      damaged.stderr,
      /^ers: run D has 1 damaged artifact that running again cannot repair/,
    );
    assert.match(
      damaged.stderr,
      /^ {2}viz\/D\/000002\.trendpack\.json: length is \d+ bytes, the manifest records \d+$/m,
    );
    assert.equal((await verifyArtifacts(dir)).ok, false, "left as it is, for verify to show");
  });
});

Deno.test("ers run --json prints one summary object", async () => {
  await withTempDir(async (dir) => {
    const result = await ers(
      scoped(dir),
      "run",
      "--out",
      dir,
      "--run",
      "J",
      "--ticks",
      "2",
      "--json",
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    const summary = JSON.parse(result.stdout);
    const manifest = await Deno.readFile(join(dir, "manifests/J.manifest.json"));
    const sha256 = Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", manifest)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    assert.deepEqual(summary, {
      run_id: "J",
      from: 0,
      ticks: 2,
      interrupted: false,
      errors: 0,
      skipped: 2,
      records: 7, // two ticks of TrendPack, ResultsPack and RunIndex, and the RunHeader
      manifest_sha256: sha256,
      restored: [],
      damaged: [],
    });
  });
});

Deno.test("ers index names an unknown --task and exits 1; --by lane totals per lane", async () => {
  await withTempDir(async (dir) => {
    assert.equal(
      (await ers(scoped(dir), "run", "--out", dir, "--run", "I", "--ticks", "3")).code,
      0,
    );
    const read = [`--allow-read=${dir}`];
    const unknown = await ers(read, "index", dir, "--run", "I", "--task", "nosuch");
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'ers: Run I has no task named "nosuch"\n');
    const lanes = await ers(read, "index", dir, "--run", "I", "--by", "lane", "--json");
    assert.equal(lanes.code, 0, lanes.stderr);
    const json = JSON.parse(lanes.stdout);
    assert.deepEqual(json.lanes.map((l: { lane: string }) => l.lane), ["forecast", "shadow"]);
    const byTask = JSON.parse(
      (await ers(read, "index", dir, "--run", "I", "--by", "task", "--json")).stdout,
    );
    for (const lane of json.lanes) {
      const tasks = byTask.tasks.filter((t: { lane: string }) => t.lane === lane.lane);
      const sum = (key: string) =>
        tasks.reduce((n: number, t: Record<string, number>) => n + t[key]!, 0);
      assert.equal(lane.spent_ops, sum("spent_ops"));
      assert.equal(lane.runs, sum("runs"));
    }
    const table = await ers(read, "index", dir, "--run", "I", "--by", "lane");
    assert.match(table.stdout, /^lane +runs +ok +errors +skipped +spent_ops +spent_entropy$/m);
    assert.match(table.stdout, /^2 lanes in 3 ticks$/m);
  });
});

async function assertStopsOnSigint(...flags: string[]): Promise<void> {
  await withTempDir(async (dir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        ...WORKER_OPTIONS,
        ...scoped(dir),
        ERS.pathname,
        "run",
        "--out",
        dir,
        "--run",
        "C",
        "--ticks",
        "1000000",
        ...flags,
      ],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const manifest = join(dir, "manifests/C.manifest.json");
    while (!(await Deno.stat(manifest).then(() => true, () => false))) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill("SIGINT");
    const output = await child.output();
    const stdout = new TextDecoder().decode(output.stdout);
    assert.equal(output.code, 130, new TextDecoder().decode(output.stderr));
    const match = /^run C: (\d+) ticks? \(0\.\.(\d+)\),.* recorded, manifest sha256 [0-9a-f]{64}$/m
      .exec(stdout);
    assert.ok(match, stdout);
    assert.ok(Number(match[1]) < 1_000_000);
    assert.match(
      stdout,
      new RegExp(`^interrupted: ticks ${Number(match[2]) + 1}\\.\\. were not run$`, "m"),
    );
    const report = await verifyArtifacts(dir);
    assert.equal(report.ok, true);
    assert.deepEqual(report.warnings, [], "no stray temporary file");
    // TrendPack, ResultsPack and RunIndex per tick, and the run's RunHeader.
    assert.equal(report.records, 3 * Number(match[1]) + 1);
  });
}

Deno.test("ers run stops between ticks on SIGINT, prints the summary and leaves no temporary file", async () => {
  await assertStopsOnSigint();
});

Deno.test("ers run --sync-every records every tick run before SIGINT and leaves no temporary file", async () => {
  await assertStopsOnSigint("--sync-every", "7");
});

Deno.test("ers run --no-fsync writes the same bytes as a durable run", async () => {
  await withTempDir(async (dir) => {
    const durable = join(dir, "durable");
    const fast = join(dir, "fast");
    const run = (out: string, ...flags: string[]) =>
      ers(scoped(dir), "run", "--out", out, "--run", "F", "--ticks", "3", "--json", ...flags);
    const a = JSON.parse((await run(durable)).stdout);
    const b = JSON.parse((await run(fast, "--no-fsync")).stdout);
    assert.equal(b.manifest_sha256, a.manifest_sha256);
    assert.deepEqual(await snapshot(fast), await snapshot(durable));
  });
});

Deno.test("ers run --sync-every writes the same bytes as a durable run, whatever N", async () => {
  await withTempDir(async (dir) => {
    const run = (out: string, ...flags: string[]) =>
      ers(scoped(dir), "run", "--out", join(dir, out), "--run", "G", "--json", ...flags);
    const a = JSON.parse((await run("durable", "--ticks", "12")).stdout);
    for (const n of ["1", "5", "100"]) {
      const result = await run(n, "--ticks", "12", "--sync-every", n);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).manifest_sha256, a.manifest_sha256);
      assert.deepEqual(await snapshot(join(dir, n)), await snapshot(join(dir, "durable")));
    }
    // Resumed in groups over a durable start: still the same bytes.
    const split = join(dir, "split");
    assert.equal((await run("split", "--ticks", "4")).code, 0);
    const resumed = await run("split", "--ticks", "8", "--from", "4", "--sync-every", "3");
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(await snapshot(split), await snapshot(join(dir, "durable")));
  });
});

Deno.test("ers run --sync-every refuses a bad N and --no-fsync, naming the flag", async () => {
  await withTempDir(async (dir) => {
    const run = (...flags: string[]) =>
      ers(scoped(dir), "run", "--out", dir, "--run", "G", "--ticks", "2", ...flags);
    for (const n of ["0", "-1", "1.5", "x", "10001"]) {
      const result = await run(`--sync-every=${n}`);
      assert.equal(result.code, 2, n);
      assert.match(result.stderr, /'--sync-every' must be an integer from 1 to 10000/, n);
    }
    const both = await run("--sync-every", "10", "--no-fsync");
    assert.equal(both.code, 2);
    assert.match(both.stderr, /^ers: --sync-every and --no-fsync cannot be combined/);
    await assert.rejects(Deno.stat(join(dir, "manifests")), Deno.errors.NotFound);
  });
});

Deno.test("ers run --sync-every records the ticks before an error, then reports it", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "out");
    const pipeline = async (name: string, body: string) => {
      const file = join(dir, name);
      await Deno.writeTextFile(
        file,
        `export default { tasks: [{ name: "v", lane: "forecast", priority: 0, costOps: 1, fn: () => { ${body} } }] };\n`,
      );
      return file;
    };
    const run = (file: string, ...flags: string[]) =>
      ers(
        scoped(dir),
        "run",
        "--out",
        out,
        "--run",
        "E",
        "--pipeline",
        file,
        "--isolation",
        "inline",
        "--compat",
        "v0.2",
        ...flags,
      );
    // Ticks 3 and 4 recorded with the task passing; a group of ticks 0..4
    // with it failing drifts at tick 3.
    const first = await run(await pipeline("a.ts", "return 1;"), "--from", "3", "--ticks", "2");
    assert.equal(first.code, 0, first.stderr);
    const failing = await pipeline("b.ts", 'throw new Error("no");');
    const second = await run(failing, "--ticks", "5", "--sync-every", "100");
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, /^ers: Cannot rewrite recorded artifact viz\/E\/000003/m);
    const report = await verifyArtifacts(out);
    assert.equal(report.ok, true);
    assert.deepEqual(report.warnings, [], "no stray or unrecorded file");
    // TrendPack and RunIndex of ticks 0..2 (the group) and 3..4 (the first run).
    assert.equal(report.records, 10);
  });
});
