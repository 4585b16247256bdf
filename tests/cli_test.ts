// End-to-end tests of the `ers` command line: each runs scripts/ers.ts in a
// subprocess with scoped permissions (never -A) and no terminal, so that a
// permission request is denied rather than prompted.

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import denoJson from "../deno.json" with { type: "json" };
import { type TraceEvent, traceHashSha256 } from "../mod.ts";
import { deno, denoRun, type RunResult, tempDirs } from "./_tree.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const STEADY = "tests/fixtures/steady_pipeline.ts";
const DRIFTING = "tests/fixtures/drifting_pipeline.ts";
// The demo run of ticks 0..23 in mode "cli": any change to the demo pipeline,
// the trace, the TrendPack, the RunIndex or the manifest format changes it.
const DEMO_24_MANIFEST_SHA256 = "fb26a6b71d4d72f9dd74a9847933e1906983b175b78dcb4d674ed32ae8ed340d";

type CliResult = RunResult;

/** Runs `deno run <permissions> scripts/ers.ts <args>` from the repository root. */
function ers(permissions: readonly string[], ...args: string[]): Promise<CliResult> {
  return denoRun(permissions, new URL("../scripts/ers.ts", import.meta.url), args, { cwd: ROOT });
}

/** Asserts a failure reported in exactly one line of stderr, without a stack trace. */
function assertOneLineError(result: CliResult, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, result.stderr);
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, /^ers: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(result.stderr, /^\s+at /m);
}

/**
 * Asserts a refused permission reported as one line naming every refused
 * access, then the `deno run` line and the `deno task` form that grant them.
 */
function assertPermissionError(result: CliResult, flags: string, named: RegExp): void {
  assert.equal(result.code, 1, result.stderr);
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 3, result.stderr);
  assert.match(lines[0]!, /^ers: Deno has not granted /);
  assert.match(lines[0]!, named);
  assert.match(lines[1]!, new RegExp(`^  deno run ${flags} \\S*scripts/ers\\.ts `));
  assert.match(lines[2]!, new RegExp(`^  ERS_DENO_FLAGS='${flags}' deno task ers `));
}

/** Read and write `dir`, and read `alsoRead` (such as a pipeline file). */
function readWrite(dir: string, ...alsoRead: string[]): string[] {
  return [`--allow-read=${[dir, ...alsoRead].join(",")}`, `--allow-write=${dir}`];
}

function denoDirEnv(): Record<string, string> {
  const dir = Deno.env.get("DENO_DIR");
  return dir === undefined ? {} : { DENO_DIR: dir };
}

const withTempDir = tempDirs("ers_cli_");

async function readTrendPack(dir: string, runId: string, tick: number) {
  const stem = String(tick).padStart(6, "0");
  return JSON.parse(await Deno.readTextFile(join(dir, "viz", runId, `${stem}.trendpack.json`)));
}

Deno.test("ers --version prints the version from deno.json, --help lists every command", async () => {
  const version = await ers([], "--version");
  assert.equal(version.code, 0);
  assert.equal(version.stdout, `ers ${denoJson.version}\n`);
  const help = await ers([], "--help");
  assert.equal(help.code, 0);
  for (const command of ["invariance", "run", "verify", "index", "show"]) {
    assert.match(help.stdout, new RegExp(`^  ${command} `, "m"));
  }
});

Deno.test("deno task ers grants no permissions up front but ERS_DENO_FLAGS; deno task compile bakes in read and write", async () => {
  // Lane workers get their own permissions: --unstable-worker-options, and
  // the preload that tells ERS the flag is there (Deno cannot be asked); and
  // Deno loads their modules (ERS's own, and the demo) with the task's read
  // permission: the only access granted up front.
  assert.match(
    denoJson.tasks.ers,
    /deno run --unstable-worker-options --preload "\$ERS_HOME\/scripts\/_worker_options\.ts" --allow-read="\$ERS_HOME\/ers,\$ERS_HOME\/runtime,\$ERS_HOME\/scripts\/_demo_pipeline\.ts" \$ERS_DENO_FLAGS "\$ERS_HOME\/scripts\/ers\.ts"$/,
  );
  const workerOptions = "--unstable-worker-options --preload scripts/_worker_options.ts";
  assert.equal(
    denoJson.tasks.compile,
    `deno compile ${workerOptions} --include runtime/_lane_worker.ts --include runtime/_read_ahead_worker.ts --allow-read --allow-write --output bin/ers scripts/ers.ts`,
  );
  await withTempDir(async (dir) => {
    const task = (...args: string[]) => deno(["task", "--quiet", "ers", ...args], { cwd: ROOT });
    assert.equal((await task("invariance")).code, 0);
    assertPermissionError(await task("verify", dir), `--allow-read=${dir}`, /read access/);
  });
});

Deno.test("deno task ers resolves relative paths from where it was started, and passes ERS_DENO_FLAGS to Deno", async () => {
  await withTempDir(async (dir) => {
    const config = join(ROOT, "deno.json");
    const task = (env: Record<string, string>, ...args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["task", "--quiet", "--config", config, "ers", ...args],
        cwd: dir,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        // A fresh environment: under `deno task test`, INIT_CWD is already set,
        // and a nested `deno task` keeps it.
        clearEnv: true,
        env: { NO_COLOR: "1", HOME: Deno.env.get("HOME") ?? "", ...denoDirEnv(), ...env },
      }).output();
    const flags = { ERS_DENO_FLAGS: "--allow-read=. --allow-write=." };
    const ran = await task(flags, "run", "--out", "out", "--run", "R", "--ticks", "1");
    assert.equal(ran.code, 0, new TextDecoder().decode(ran.stderr));
    assert.ok((await Deno.stat(join(dir, "out", "manifests", "R.manifest.json"))).isFile);
    const denied = await task({ ERS_DENO_FLAGS: "" }, "verify", "out");
    assert.equal(denied.code, 1);
    assert.match(new TextDecoder().decode(denied.stderr), /--allow-read=out /);
  });
});

Deno.test("ers <command> --help prints the command's usage and permissions and exits 0", async () => {
  for (const command of ["invariance", "run", "verify", "index", "show"]) {
    const result = await ers([], command, "--help");
    assert.equal(result.code, 0, command);
    assert.match(result.stdout, new RegExp(`^Usage: ers ${command}`, "m"));
    assert.match(result.stdout, /^Permissions: /m);
    assert.equal(result.stderr, "");
  }
});

Deno.test("ers with an unknown command or flag, or a bad value, prints usage on stderr and exits 2", async () => {
  const cases: [string[], RegExp][] = [
    [[], /missing command/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["run", "--tick", "3"], /unknown flag --tick; did you mean --ticks\?/],
    [["run", "--output", "x"], /unknown flag --output; did you mean --out\?/],
    [["run", "--run-id", "R", "--ticks", "3"], /missing --out DIR/],
    [["run", "--out", "--run-id", "R", "--ticks", "3"], /--out needs a value DIR/],
    [["run", "--out", "x", "--out", "y", "--run-id", "R", "--ticks", "3"], /--out given twice/],
    [["run", "--out", "x", "--run-id", "R", "--ticks", "0"], /'--ticks' must be an integer from 1/],
    [["run", "--out", "x", "--run-id", "../up", "--ticks", "1"], /'--run-id' must be 1 to 128/],
    [
      ["index", "out", "--run", "R", "--lane", "sideways"],
      /'--lane' must be one of forecast, shadow/,
    ],
    [["index", "out", "--run", "R", "--by", "tick"], /'--by' must be one of task, lane/],
    [["invariance", "--runs", "0"], /^ers: Cannot run 'ers invariance' as '--runs' must be/m],
    [["show", "out", "--run", "R"], /missing --tick N/],
    [["verify"], /missing DIR/],
    [["verify", "a", "b"], /unexpected argument "b"/],
    [["invariance", "--json=yes"], /--json takes no value/],
  ];
  for (const [args, pattern] of cases) {
    const result = await ers([], ...args);
    assert.equal(result.code, 2, args.join(" "));
    assert.equal(result.stdout, "", args.join(" "));
    assert.match(result.stderr, pattern, args.join(" "));
    assert.match(result.stderr, /^Usage: ers /m, args.join(" "));
  }
});

Deno.test("ers invariance passes on the seed scenario with the reference hash, with no permissions", async () => {
  const result = await ers([], "invariance");
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stdout,
    "ERS INVARIANCE: PASS\nhash: ae7e4fe3526ad0e133d2f46de48f5941e5cf24382490e9d25088d8920decfd16\n",
  );
  const json = await ers([], "invariance", "--runs", "3", "--json");
  assert.equal(json.code, 0, json.stderr);
  const verdict = JSON.parse(json.stdout);
  assert.equal(verdict.ok, true);
  assert.equal(verdict.hashes.length, 3);
  assert.equal(verdict.first_mismatch_index, null);
});

Deno.test("ers invariance --pipeline fails a drifting pipeline with the run, event index and both events", async () => {
  const result = await ers([`--allow-read=${DRIFTING}`], "invariance", "--pipeline", DRIFTING);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /^ERS INVARIANCE: FAIL$/m);
  assert.match(result.stdout, /^first mismatch run: 1$/m);
  assert.match(result.stdout, /^event index: 0$/m);
  assert.match(result.stdout, /^! status +"ok" +"error"$/m);
  assert.match(result.stdout, /^ {2}task +"flaky" +"flaky"$/m);
  const json = await ers(
    [`--allow-read=${DRIFTING}`],
    "invariance",
    "--pipeline",
    DRIFTING,
    "--json",
  );
  assert.equal(json.code, 1);
  const verdict = JSON.parse(json.stdout);
  assert.equal(verdict.ok, false);
  assert.equal(verdict.first_mismatch_index, 1);
  assert.equal(verdict.divergence.event_index, 0);
  assert.equal(verdict.divergence.diff.b.status, "error");
});

Deno.test("ers invariance --pipeline reports an unreadable, missing or invalid pipeline file in one line", async () => {
  assertPermissionError(
    await ers([], "invariance", "--pipeline", STEADY),
    `--allow-read=${STEADY}`,
    /read access to the pipeline file/,
  );
  const fixtures = ["--allow-read=tests/fixtures"];
  assertOneLineError(
    await ers(fixtures, "invariance", "--pipeline", "tests/fixtures/invalid_pipeline.ts"),
    1,
    /Invalid pipeline .*'tasks\[1\]\.costOps' must be a non-negative integer: current value is -1$/,
  );
  assertOneLineError(
    await ers(fixtures, "invariance", "--pipeline", "tests/fixtures/no_default_pipeline.ts"),
    1,
    /has no default export$/,
  );
  assertOneLineError(
    await ers(fixtures, "invariance", "--pipeline", "tests/fixtures/absent.ts"),
    1,
    /does not exist$/,
  );
});

Deno.test("ers show and index print each failed task's error text from its ResultsPack", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "out");
    const run = await ers(readWrite(dir), "run", "--out", out, "--run", "DEMO", "--ticks", "18");
    assert.equal(run.code, 0, run.stderr);
    const read = [`--allow-read=${out}`];

    const show = await ers(read, "show", out, "--run", "DEMO", "--tick", "17");
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^order +lane +task +status +cost_ops +cost_entropy +error$/m);
    assert.match(
      show.stdout,
      /^ +0 +forecast +oracle:signal +error +12 +1 +RangeError: sensor dropout at sample 37$/m,
    );
    assert.match(
      show.stdout,
      /^ +1 +forecast +oracle:compress +error .* Error: no signal to compress$/m,
    );
    assert.match(show.stdout, /^ +3 +shadow +shadow:sei +ok +4 +0$/m);
    const json = JSON.parse(
      (await ers(read, "show", out, "--run", "DEMO", "--tick", "5", "--json")).stdout,
    );
    assert.deepEqual(
      json.events.map((e: Record<string, unknown>) => [e.task, e.error]),
      [
        ["oracle:signal", undefined],
        ["oracle:compress", undefined],
        ["oracle:overlay", "RangeError: 44 segments, more than the 43 an overlay holds"],
        ["shadow:sei", undefined],
        ["shadow:drift", undefined],
        ["shadow:spectrum", undefined],
      ],
    );
    // A tick without errors reads no ResultsPack and prints as before.
    const clean = await ers(read, "show", out, "--run", "DEMO", "--tick", "4");
    assert.match(clean.stdout, /^order +lane +task +status +cost_ops +cost_entropy$/m);

    const index = await ers(read, "index", out, "--run", "DEMO", "--status", "error");
    assert.equal(index.code, 0, index.stderr);
    const lines = index.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^tick +order +task +lane +status +cost_ops +cost_entropy +error$/);
    assert.deepEqual(lines.slice(1, -1).map((line) => line.split(/  +/).slice(-1)[0]), [
      "RangeError: 44 segments, more than the 43 an overlay holds",
      "RangeError: 45 segments, more than the 43 an overlay holds",
      "RangeError: sensor dropout at sample 37",
      "Error: no signal to compress",
      "Error: no compressed signal to overlay",
    ]);
    const events = JSON.parse(
      (await ers(read, "index", out, "--run", "DEMO", "--task", "oracle:signal", "--json")).stdout,
    ).events;
    assert.deepEqual(
      events.filter((e: Record<string, unknown>) => "error" in e)
        .map((e: Record<string, unknown>) => [e.tick, e.status, e.error]),
      [[17, "error", "RangeError: sensor dropout at sample 37"]],
    );
  });
});

Deno.test("ers run, verify, index and show read back a known demo run", async (t) => {
  await withTempDir(async (dir) => {
    const out = join(dir, "out");
    // --compat v0.2: the reference's artifacts, whose bytes (and manifest) are known.
    const run = await ers(
      readWrite(dir),
      "run",
      "--out",
      out,
      "--run-id",
      "DEMO",
      "--ticks",
      "24",
      "--compat",
      "v0.2",
    );

    await t.step("run prints a one-line summary and no progress bar off a terminal", () => {
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, "");
      assert.equal(
        run.stdout,
        `run DEMO: 24 ticks (0..23), 10 errors, 24 skipped, 48 artifacts recorded, manifest sha256 ${DEMO_24_MANIFEST_SHA256}\n`,
      );
    });

    await t.step("run is deterministic: another directory records the same manifest", async () => {
      const again = await ers(
        readWrite(dir),
        "run",
        "--out",
        join(dir, "again"),
        "--run-id",
        "DEMO",
        "--ticks",
        "24",
        "--compat",
        "v0.2",
      );
      assert.equal(again.stdout, run.stdout);
    });

    await t.step("run of recorded ticks again changes nothing", async () => {
      const rerun = await ers(
        readWrite(dir),
        "run",
        "--out",
        out,
        "--run-id",
        "DEMO",
        "--ticks",
        "4",
        "--from",
        "20",
        "--compat",
        "v0.2",
      );
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.match(
        rerun.stdout,
        new RegExp(`48 artifacts recorded, manifest sha256 ${DEMO_24_MANIFEST_SHA256}`),
      );
    });

    await t.step("verify finds the run clean and exits 0", async () => {
      const result = await ers([`--allow-read=${out}`], "verify", out);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `OK: 1 run, 48 records, 0 errors, 0 warnings in ${out}\n`);
      const json = JSON.parse(
        (await ers([`--allow-read=${out}`], "verify", out, "--run", "DEMO", "--json")).stdout,
      );
      assert.deepEqual([json.ok, json.runs, json.records, json.errors], [true, ["DEMO"], 48, []]);
    });

    await t.step(
      "index lists every event, and filters by status as the TrendPacks record",
      async () => {
        const table = await ers([`--allow-read=${out}`], "index", out, "--run", "DEMO");
        assert.equal(table.code, 0, table.stderr);
        const lines = table.stdout.trimEnd().split("\n");
        // No ResultsPacks in a --compat v0.2 run: no error column, as before.
        assert.match(lines[0]!, /^tick +order +task +lane +status +cost_ops +cost_entropy$/);
        assert.equal(lines.length, 1 + 24 * 6 + 1);
        assert.equal(lines.at(-1), "144 events in 24 ticks");

        const json = await ers(
          [`--allow-read=${out}`],
          "index",
          out,
          "--run",
          "DEMO",
          "--status",
          "error",
          "--json",
        );
        const { events } = JSON.parse(json.stdout);
        const expected: Record<string, unknown>[] = [];
        for (let tick = 0; tick < 24; tick++) {
          const pack = await readTrendPack(out, "DEMO", tick);
          pack.timeline.forEach((e: TraceEvent, order: number) => {
            if (e.status !== "error") return;
            const { task, lane, status, cost_ops, cost_entropy } = e;
            expected.push({ tick, order, task, lane, status, cost_ops, cost_entropy });
          });
        }
        assert.deepEqual(events, expected);
        assert.deepEqual(
          events.map((e: Record<string, unknown>) => `${e.tick} ${e.task}`),
          [
            "5 oracle:overlay",
            "11 oracle:overlay",
            "17 oracle:signal",
            "17 oracle:compress",
            "17 oracle:overlay",
            "21 oracle:overlay",
            "22 oracle:signal",
            "22 oracle:compress",
            "22 oracle:overlay",
            "23 oracle:overlay",
          ],
        );
      },
    );

    await t.step("index combines lane and task filters", async () => {
      const json = await ers(
        [`--allow-read=${out}`],
        "index",
        out,
        "--run",
        "DEMO",
        "--lane",
        "shadow",
        "--task",
        "shadow:sei",
        "--json",
      );
      const { events, filter } = JSON.parse(json.stdout);
      assert.deepEqual(filter, { lane: "shadow", task: "shadow:sei" });
      assert.equal(events.length, 24);
      assert.ok(events.every((e: TraceEvent) => e.task === "shadow:sei" && e.status === "ok"));
      const none = await ers(
        [`--allow-read=${out}`],
        "index",
        out,
        "--run",
        "DEMO",
        "--lane",
        "forecast",
        "--task",
        "shadow:sei",
      );
      assert.equal(none.stdout.trimEnd().split("\n").at(-1), "0 events in 24 ticks");
    });

    await t.step("index --by task totals runs, statuses and ops spent per task", async () => {
      const json = await ers(
        [`--allow-read=${out}`],
        "index",
        out,
        "--run",
        "DEMO",
        "--by",
        "task",
        "--json",
      );
      const { tasks, ticks } = JSON.parse(json.stdout);
      assert.equal(ticks, 24);
      const row = (t: Record<string, unknown>) =>
        [t.task, t.lane, t.runs, t.ok, t.errors, t.skipped, t.spent_ops, t.spent_entropy].join(" ");
      assert.deepEqual(tasks.map(row), [
        "oracle:compress forecast 24 22 2 0 240 24",
        "oracle:overlay forecast 24 18 6 0 384 48",
        "oracle:signal forecast 24 22 2 0 288 24",
        "shadow:drift shadow 24 24 0 0 96 0",
        "shadow:sei shadow 24 24 0 0 96 0",
        "shadow:spectrum shadow 24 0 0 24 0 0",
      ]);
      const table = await ers(
        [`--allow-read=${out}`],
        "index",
        out,
        "--run",
        "DEMO",
        "--by",
        "task",
      );
      assert.match(table.stdout, /^shadow:spectrum +shadow +24 +0 +0 +24 +0 +0$/m);
      assert.match(table.stdout, /^6 tasks in 24 ticks$/m);
    });

    await t.step("show prints one tick's order, lanes, statuses and spend", async () => {
      const result = await ers(
        [`--allow-read=${out}`],
        "show",
        out,
        "--run",
        "DEMO",
        "--tick",
        "17",
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^run DEMO, tick 17 \(engine abraxas, ers v0\.2, mode cli\)$/m);
      assert.match(result.stdout, /^viz\/DEMO\/000017\.trendpack\.json sha256 [0-9a-f]{64}$/m);
      const order = [...result.stdout.matchAll(/^ +(\d) +(forecast|shadow) +(\S+) +(\S+)/gm)]
        .map((m) => `${m[1]} ${m[3]} ${m[4]}`);
      assert.deepEqual(order, [
        "0 oracle:signal error",
        "1 oracle:compress error",
        "2 oracle:overlay error",
        "3 shadow:sei ok",
        "4 shadow:drift ok",
        "5 shadow:spectrum skipped_budget",
      ]);
      assert.match(result.stdout, /^forecast +3 +0 +3 +0 +38 +4$/m);
      assert.match(result.stdout, /^shadow +3 +2 +0 +1 +8 +0$/m);
      // No ResultsPack in a --compat v0.2 run: printed as before, no error texts.
      assert.match(
        result.stdout,
        /^order +lane +task +status +cost_ops +cost_entropy$/m,
      );
      assert.doesNotMatch(result.stdout, /Error/);
      const json = JSON.parse(
        (await ers([`--allow-read=${out}`], "show", out, "--run", "DEMO", "--tick", "5", "--json"))
          .stdout,
      );
      const pack = await readTrendPack(out, "DEMO", 5);
      assert.ok(!Array.isArray(json), "one object, not an array");
      assert.equal(json.tick, 5);
      assert.deepEqual(json.provenance, pack.provenance);
      assert.deepEqual(
        json.events.map((e: TraceEvent) => e.status),
        pack.timeline.map((e: TraceEvent) => e.status),
      );
      assert.ok(json.events.every((e: Record<string, unknown>) => !("error" in e)));
      assert.deepEqual(
        json.lanes.map((l: Record<string, number>) => [l.spent_ops, l.spent_entropy]),
        [[pack.budget.forecast.spent_ops, pack.budget.forecast.spent_entropy], [
          pack.budget.shadow.spent_ops,
          pack.budget.shadow.spent_entropy,
        ]],
      );
    });

    await t.step("a missing run, tick or directory is a one-line error with exit 1", async () => {
      const read = [`--allow-read=${dir}`];
      assertOneLineError(
        await ers(read, "index", out, "--run", "NOPE"),
        1,
        /No manifest for run NOPE in /,
      );
      assertOneLineError(
        await ers(read, "show", out, "--run", "DEMO", "--tick", "99"),
        1,
        /records no TrendPack for tick 99$/,
      );
      assertOneLineError(await ers(read, "verify", join(dir, "absent")), 1, /is not a directory$/);
      assertOneLineError(
        await ers(read, "verify", out, "--run", "NOPE"),
        1,
        /No manifest for run NOPE/,
      );
    });
  });
});

Deno.test("ers verify names each tampered or missing file on its own line and exits 1", async () => {
  await withTempDir(async (dir) => {
    const made = await ers(
      readWrite(dir, STEADY),
      "run",
      "--out",
      dir,
      "--run-id",
      "S",
      "--ticks",
      "3",
      "--pipeline",
      STEADY,
    );
    assert.equal(made.code, 0, made.stderr);
    await Deno.writeTextFile(join(dir, "notes.txt"), "not an artifact");
    const warned = await ers([`--allow-read=${dir}`], "verify", dir);
    assert.equal(warned.code, 0, "warnings alone pass");
    assert.equal(warned.stderr, "", "no progress line when stderr is piped");
    assert.match(warned.stdout, /^warning notes\.txt: no manifest record names this file$/m);

    await Deno.writeTextFile(join(dir, "viz/S/000001.trendpack.json"), " ", { append: true });
    await Deno.remove(join(dir, "run_index/S/000002.runindex.json"));
    const result = await ers([`--allow-read=${dir}`], "verify", dir);
    assert.equal(result.code, 1);
    const lines = result.stdout.trimEnd().split("\n");
    assert.match(
      lines[0]!,
      /^error {3}run_index\/S\/000001\.runindex\.json: RunIndex hashes\.trendpack_sha256 is [0-9a-f]{64}, but viz\/S\/000001\.trendpack\.json hashes to/,
    );
    assert.equal(lines[1], "error   run_index/S/000002.runindex.json: recorded file is missing");
    assert.match(
      lines[2]!,
      /^error {3}viz\/S\/000001\.trendpack\.json: length is \d+ bytes, the manifest records \d+$/,
    );
    assert.equal(lines[3], "warning notes.txt: no manifest record names this file");
    assert.equal(lines[4], `FAIL: 1 run, 10 records, 3 errors, 1 warning in ${dir}`);
    const json = JSON.parse((await ers([`--allow-read=${dir}`], "verify", dir, "--json")).stdout);
    assert.equal(json.ok, false);
    assert.equal(json.errors.length, 3);

    assertOneLineError(
      await ers([`--allow-read=${dir}`], "index", dir, "--run", "S"),
      1,
      /Cannot read recorded artifact viz\/S\/000001\.trendpack\.json: length is/,
    );
  });
});

Deno.test("ers run names every permission it was refused in one message, with the line to copy", async () => {
  await withTempDir(async (dir) => {
    const allowed = join(dir, "allowed");
    const elsewhere = join(dir, "elsewhere");
    const scoped = [`--allow-read=${dir}`, `--allow-write=${allowed}`];
    assertPermissionError(
      await ers(scoped, "run", "--out", elsewhere, "--run-id", "R", "--ticks", "1"),
      `--allow-write=${elsewhere}`,
      new RegExp(
        `^ers: Deno has not granted write access to the artifacts directory ${elsewhere};`,
      ),
    );
    assertPermissionError(
      await ers([], "run", "--out", allowed, "--run-id", "R", "--ticks", "1", "--pipeline", STEADY),
      `--allow-read=${allowed},${STEADY} --allow-write=${allowed}`,
      /read and write access to the artifacts directory .*, nor read access to the pipeline file/,
    );
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), [], "nothing was written");
    const granted = await ers(scoped, "run", "--out", allowed, "--run-id", "R", "--ticks", "1");
    assert.equal(granted.code, 0, granted.stderr);
  });
});

Deno.test("ers verify, index and show name the --allow-read flag when read access is refused", async () => {
  await withTempDir(async (dir) => {
    for (
      const args of [["verify", dir], ["index", dir, "--run", "R"], [
        "show",
        dir,
        "--run",
        "R",
        "--tick",
        "0",
      ]]
    ) {
      assertPermissionError(await ers([], ...args), `--allow-read=${dir}`, /read access/);
    }
  });
});

Deno.test("ers run refuses to rewrite recorded ticks with other results", async () => {
  await withTempDir(async (dir) => {
    const first = await ers(
      readWrite(dir, STEADY),
      "run",
      "--out",
      dir,
      "--run-id",
      "R",
      "--ticks",
      "2",
      "--pipeline",
      STEADY,
      "--compat",
      "v0.2",
    );
    assert.equal(first.code, 0, first.stderr);
    assertOneLineError(
      await ers(
        readWrite(dir),
        "run",
        "--out",
        dir,
        "--run-id",
        "R",
        "--ticks",
        "2",
        "--compat",
        "v0.2",
      ),
      1,
      /Cannot rewrite recorded artifact viz\/R\/000000\.trendpack\.json/,
    );
  });
});

Deno.test("ers run and ers invariance --pipeline run the same pipeline file to the same trace", async () => {
  await withTempDir(async (dir) => {
    const permissions = readWrite(dir, STEADY);
    const run = await ers(
      permissions,
      "run",
      "--out",
      dir,
      "--run-id",
      "S",
      "--ticks",
      "4",
      "--mode",
      "e2e",
      "--pipeline",
      STEADY,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /^run S: 4 ticks \(0\.\.3\), 2 errors, 4 skipped, 13 artifacts recorded, /,
    );
    const gate = await ers(
      [`--allow-read=${STEADY}`],
      "invariance",
      "--pipeline",
      STEADY,
      "--json",
    );
    assert.equal(gate.code, 0, gate.stderr);
    const verdict = JSON.parse(gate.stdout);
    assert.equal(verdict.ok, true);
    const tick0 = await readTrendPack(dir, "S", 0);
    assert.equal(tick0.provenance.mode, "e2e");
    const trace = tick0.timeline.map((e: Omit<TraceEvent, "tick">) => ({ tick: 0, ...e }));
    assert.equal(await traceHashSha256(trace), verdict.expected_hash);
  });
});
